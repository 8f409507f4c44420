package index_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
)

// slowdown stretches the time bounds of these tests: 10 under the race detector.
var slowdown time.Duration = 1

// TestHugeSections indexes sections no one should write but someone will: a 10 MB "word"
// took a minute and gigabytes to index, and a 10 MB line of words made the first answer take
// seconds. The bounds are generous, for a slow CI machine; the times are logged.
func TestHugeSections(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 20 MB of text")
	}
	const size = 10 << 20
	words := "quokka marsupial island habitat burrow forage nocturnal "
	tests := []struct {
		name     string
		body     string
		question string // answered by the huge section
	}{
		{"one 10 MB word", strings.Repeat("x", size), "huge notes"},
		{"a 10 MB line of words", strings.Repeat(words, size/len(words)), "where do quokka burrow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := articleLibrary(t)
			lib.Sections = append(lib.Sections, knowledge.Section{
				ID: "huge-notes", Title: "Huge Notes", Path: []string{"Huge Notes"}, Body: tt.body, Source: "huge.md",
			})
			start := time.Now()
			ix, err := index.New(context.Background(), lib, index.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			took := time.Since(start)
			t.Logf("indexed in %v", took)
			if took > 30*time.Second*slowdown {
				t.Errorf("indexing took %v, want well under 30s", took)
			}
			for _, q := range []struct{ question, want string }{
				{tt.question, "Huge Notes"},
				{"what is an api", "What Is An API?"},
				{"which one scales better?", "Scalability And Flexibility"},
			} {
				start := time.Now()
				ans, err := ix.Search(context.Background(), q.question, 0)
				took := time.Since(start)
				t.Logf("%q answered in %v", q.question, took)
				if err != nil || len(ans.Results) == 0 || ans.Results[0].Title != q.want {
					t.Errorf("%q: %s %q, %v; want %q", q.question, ans.Match, titles(ans), err, q.want)
				}
				if took > time.Second*slowdown {
					t.Errorf("%q took %v, want < 1s", q.question, took)
				}
			}
		})
	}
}

// cancelOnFirstLook is a context that New cancels itself by looking at it: the first time
// New asks whether to stop, it is told to, in the middle of its work.
type cancelOnFirstLook struct {
	context.Context
	cancel context.CancelFunc
	once   sync.Once
	at     time.Time
}

func (c *cancelOnFirstLook) look() {
	c.once.Do(func() { c.at = time.Now(); c.cancel() })
}

func (c *cancelOnFirstLook) Err() error            { c.look(); return c.Context.Err() }
func (c *cancelOnFirstLook) Done() <-chan struct{} { c.look(); return c.Context.Done() }

// TestCancelDuringBuild cancels the build of 20,000 sections midway: New must return
// context.Canceled promptly, and leave nothing behind at INDEX_PATH.
func TestCancelDuringBuild(t *testing.T) {
	lib := withSynthetic(t, 20000)
	tests := []struct {
		name string
		path bool
	}{
		{"in memory", false},
		{"at a path", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			var (
				ctx      context.Context
				canceled func() time.Time
				opts     index.Options
			)
			if !tt.path {
				c := &cancelOnFirstLook{Context: parent, cancel: cancel}
				// once.Do orders the read of c.at after its write.
				ctx, canceled = c, func() time.Time { c.once.Do(func() {}); return c.at }
			} else {
				// Cancelled once the build is visibly under way: its temporary directory
				// exists beside the path.
				dir := t.TempDir()
				opts.Path = filepath.Join(dir, "idx")
				var at time.Time
				done := make(chan struct{})
				go func() {
					defer close(done)
					for parent.Err() == nil {
						if left, _ := filepath.Glob(filepath.Join(dir, ".idx.building-*")); len(left) > 0 {
							at = time.Now()
							cancel()
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
				ctx, canceled = parent, func() time.Time { <-done; return at }
			}
			opts.Logger = slog.New(slog.DiscardHandler)

			ix, err := index.New(ctx, lib, opts)
			returned := time.Now()
			if err == nil {
				ix.Close()
				t.Fatal("New finished the build it was told to stop")
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			at := canceled()
			if at.IsZero() {
				t.Fatal("New returned before it was cancelled")
			}
			after := returned.Sub(at)
			t.Logf("returned %v after the cancel", after)
			if after > 5*time.Second*slowdown {
				t.Errorf("returned %v after the cancel, want < 5s", after)
			}
			if opts.Path != "" {
				if _, err := os.Lstat(opts.Path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s after a cancelled build: %v, want nothing", opts.Path, err)
				}
				if left := leftovers(t, opts.Path); len(left) > 0 {
					t.Errorf("build leftovers: %q", left)
				}
			}
		})
	}
}
