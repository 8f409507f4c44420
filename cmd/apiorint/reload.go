package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/fsnotify/fsnotify"
)

// settle is how long KNOWLEDGE_DIR must stay quiet after a change before it is reloaded:
// an editor saving, or a deploy copying files, makes several changes at once.
const settle = 500 * time.Millisecond

// A reloader loads and indexes the knowledge again when KNOWLEDGE_DIR changes or on SIGHUP,
// in the background, and puts the new index in service at once. Knowledge that does not
// load leaves the old one in service.
type reloader struct {
	getenv func(string) string
	log    *slog.Logger
	live   *index.Live
	report func(error) // counts each reload
}

// watch starts reloading on changes below dir (when set) and on SIGHUP, until ctx ends or
// stop is called.
func (r *reloader) watch(ctx context.Context, dir string) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	hup, stopHUP := sighup()
	changed := make(chan struct{}, 1)
	var w *fsnotify.Watcher
	if dir != "" {
		if w, err = fsnotify.NewWatcher(); err != nil {
			cancel()
			stopHUP()
			return nil, err
		}
		if err := addTree(w, dir); err != nil {
			w.Close()
			cancel()
			stopHUP()
			return nil, err
		}
	}
	done := make(chan struct{}, 2)
	if w != nil {
		go func() {
			defer func() { done <- struct{}{} }()
			r.debounce(ctx, w, changed)
		}()
	} else {
		done <- struct{}{}
	}
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				r.log.Info("SIGHUP: reloading the knowledge")
				r.reload(ctx)
			case <-changed:
				r.reload(ctx)
			}
		}
	}()
	return func() {
		cancel()
		stopHUP()
		if w != nil {
			w.Close()
		}
		<-done
		<-done
	}, nil
}

// addTree watches dir and every directory below it: fsnotify watches one directory each.
func addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return w.Add(path)
		}
		return nil
	})
}

// debounce turns the events of w into one signal on changed once they settle.
func (r *reloader) debounce(ctx context.Context, w *fsnotify.Watcher, changed chan<- struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// The directories watched: a directory moved in or out makes one event, and its name
	// ("v1.2") does not say that it is one.
	dirs := make(map[string]bool)
	for _, d := range w.WatchList() {
		dirs[d] = true
	}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			isDir := dirs[ev.Name]
			if ev.Has(fsnotify.Create) {
				if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
					// A new directory is watched too, with whatever it already holds.
					isDir = true
					addTree(w, ev.Name)
					for _, d := range w.WatchList() {
						dirs[d] = true
					}
				}
			} else if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				delete(dirs, ev.Name)
			}
			if isDir || relevant(ev.Name) {
				timer.Reset(settle)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			r.log.Warn("watching KNOWLEDGE_DIR", "err", err)
		case <-timer.C:
			select {
			case changed <- struct{}{}:
			default: // a reload is pending already
			}
		}
	}
}

// relevant reports whether a change to path can change the knowledge: a Markdown file, or a
// directory (which may hold some). An editor's swap and backup files cannot.
func relevant(path string) bool {
	base := filepath.Base(path)
	if strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") {
		return false
	}
	ext := filepath.Ext(base)
	return strings.EqualFold(ext, ".md") || ext == ""
}

// reload loads and indexes the knowledge and puts it in service, unless it did not change
// or does not load; the index it replaces is closed once the questions it answers are done.
func (r *reloader) reload(ctx context.Context) {
	start := time.Now()
	ix, err := loadIndex(ctx, r.getenv, r.log, r.live.Hash())
	switch {
	case errors.Is(err, index.ErrUnchanged):
		r.log.Debug("knowledge unchanged", "hash", r.live.Hash())
		return
	case ctx.Err() != nil:
		if ix != nil {
			ix.Close() // built, but stopped before it could serve
		}
		return
	case err != nil:
		r.log.Error("knowledge reload failed: the knowledge in service stays", "err", err)
		r.report(err)
		return
	}
	if err := r.live.Swap(ix); err != nil {
		r.log.Warn("closing the replaced index", "err", err)
	}
	r.log.Info("knowledge reloaded", "sections", ix.Size(), "hash", ix.Hash(), "took", time.Since(start).Round(time.Millisecond))
	r.report(nil)
	afterLoad(ctx, r.log) // the knowledge in service, and so what is live, has changed
}
