package index_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// marker is the file that marks a directory as apiorint's (index.markerFile).
const marker = ".apiorint-index"

// open opens the index at path and returns what it logged.
func open(t *testing.T, lib knowledge.Library, path string) (*index.Index, string) {
	t.Helper()
	var log bytes.Buffer
	ix, err := index.New(context.Background(), lib, index.Options{Path: path, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatalf("open %s: %v\n%s", path, err, log.String())
	}
	return ix, log.String()
}

func answers(t *testing.T, ix *index.Index, question, want string) {
	t.Helper()
	ans, err := ix.Search(context.Background(), question, 0)
	if err != nil || len(ans.Results) == 0 || ans.Results[0].Title != want {
		t.Errorf("%q: got %q, want %q (%v)", question, titles(ans), want, err)
	}
}

// withRunbook is the article and one more section, which only it answers ("widget").
func withRunbook(lib knowledge.Library) knowledge.Library {
	lib.Sections = append(slices.Clone(lib.Sections),
		knowledge.Section{ID: "runbook", Title: "Runbook", Path: []string{"Runbook"}, Body: "Restart the widget.", Source: "runbook.md"})
	return lib
}

// leftovers returns the temporary build directories beside path.
func leftovers(t *testing.T, path string) []string {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".building-*"))
	if err != nil {
		t.Fatal(err)
	}
	return left
}

func wantMarked(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(path, marker)); err != nil {
		t.Errorf("the index at %s is not marked: %v", path, err)
	}
}

func TestPersistentIndex(t *testing.T) {
	lib := articleLibrary(t)
	path := filepath.Join(t.TempDir(), "idx")

	ix, log := open(t, lib, path)
	if !strings.Contains(log, "building index") {
		t.Errorf("first start: %s", log)
	}
	answers(t, ix, "scalability", "Scalability And Flexibility")
	ix.Close()
	wantMarked(t, path)

	ix, log = open(t, lib, path)
	if !strings.Contains(log, "index reopened") {
		t.Errorf("second start did not reopen: %s", log)
	}
	answers(t, ix, "scalability", "Scalability And Flexibility")
	ix.Close()

	ix, log = open(t, withRunbook(lib), path)
	if !strings.Contains(log, "knowledge changed") {
		t.Errorf("changed knowledge was not rebuilt: %s", log)
	}
	answers(t, ix, "widget", "Runbook")
	ix.Close()
	wantMarked(t, path)

	if left := leftovers(t, path); len(left) > 0 {
		t.Errorf("build leftovers: %q", left)
	}
}

// TestPersistentIndexDamaged damages an index apiorint made (it keeps its marker) in the
// ways a crash or a full disk can, and expects it rebuilt with the right answers, never
// wrong ones.
func TestPersistentIndexDamaged(t *testing.T) {
	lib := articleLibrary(t)
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated files", func(t *testing.T, path string) {
			filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && d.Name() != marker {
					os.Truncate(p, 10)
				}
				return nil
			})
		}},
		{"files deleted, the marker left", func(t *testing.T, path string) {
			entries, _ := os.ReadDir(path)
			for _, e := range entries {
				if e.Name() != marker {
					os.RemoveAll(filepath.Join(path, e.Name()))
				}
			}
		}},
		{"garbage in its metadata", func(t *testing.T, path string) {
			os.WriteFile(filepath.Join(path, "index_meta.json"), []byte("{not json"), 0o644)
		}},
		{"emptied directory", func(t *testing.T, path string) {
			os.RemoveAll(path)
			os.Mkdir(path, 0o755)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "idx")
			ix, _ := open(t, lib, path)
			ix.Close()
			tt.damage(t, path)
			ix, log := open(t, lib, path)
			defer ix.Close()
			answers(t, ix, "what is middleware", "Types Of Integrations")
			if !strings.Contains(log, "rebuild") && !strings.Contains(log, "building") {
				t.Errorf("not rebuilt: %s", log)
			}
			wantMarked(t, path)
			if left := leftovers(t, path); len(left) > 0 {
				t.Errorf("build leftovers: %q", left)
			}
		})
	}
}

// TestPersistentIndexBuilt: where there is nothing to lose — a missing path, an empty
// directory, or an index an earlier version made before indexes were marked — an index is
// built, marked, and answers.
func TestPersistentIndexBuilt(t *testing.T) {
	lib := articleLibrary(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (path string)
		log   string
	}{
		{"a missing path", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "idx")
		}, "building index"},
		{"a missing path in a missing directory", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "var", "lib", "idx")
		}, "building index"},
		{"an empty directory", func(t *testing.T, dir string) string {
			mkdir(t, filepath.Join(dir, "idx"), 0o755)
			return filepath.Join(dir, "idx")
		}, "building index"},
		{"an index of the previous version", func(t *testing.T, dir string) string {
			// Unmarked, but a Bleve index holding apiorint's content hash: the marker did not
			// exist yet.
			path := filepath.Join(dir, "idx")
			idx, err := bleve.NewUsing(path, bleve.NewIndexMapping(), scorch.Name, scorch.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := idx.Index("old", map[string]any{"title": "Old", "body": "what an old version indexed"}); err != nil {
				t.Fatal(err)
			}
			if err := idx.SetInternal([]byte("apiorint:content-hash"), []byte("an old hash")); err != nil {
				t.Fatal(err)
			}
			if err := idx.Close(); err != nil {
				t.Fatal(err)
			}
			return path
		}, "knowledge changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			ix, log := open(t, lib, path)
			defer ix.Close()
			if !strings.Contains(log, tt.log) {
				t.Errorf("log %q, want %q", log, tt.log)
			}
			answers(t, ix, "what is middleware", "Types Of Integrations")
			wantMarked(t, path)
			if left := leftovers(t, path); len(left) > 0 {
				t.Errorf("build leftovers: %q", left)
			}
		})
	}
}

// A tree is what a directory holds: for each path below it, its mode and a file's bytes or
// a link's target.
type tree map[string]string

func snapshot(t *testing.T, root string) tree {
	t.Helper()
	s := tree{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info() // of the link itself: WalkDir does not follow links
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		what := info.Mode().String()
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			what += " " + string(b)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			what += " -> " + target
		}
		s[rel] = what
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// diff says how after differs from before.
func (before tree) diff(after tree) string {
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(before)) {
		switch got, ok := after[p]; {
		case !ok:
			fmt.Fprintf(&b, "\n  removed %s", p)
		case got != before[p]:
			fmt.Fprintf(&b, "\n  changed %s: %.60q → %.60q", p, before[p], got)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(after)) {
		if _, ok := before[p]; !ok {
			fmt.Fprintf(&b, "\n  added %s", p)
		}
	}
	return b.String()
}

func mkdir(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
}

// TestPersistentIndexNotOurs points INDEX_PATH at what apiorint did not make: New must
// refuse it with ErrNotOurs, say what is there, and leave every byte and mode as it was.
func TestPersistentIndexNotOurs(t *testing.T) {
	lib := articleLibrary(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (path string)
		want  string // in the error: what is there
	}{
		{"a directory of a user's files", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "stuff")
			write(t, filepath.Join(path, "notes.txt"), "my notes\n", 0o644)
			write(t, filepath.Join(path, "photos", "cat.jpg"), "\xff\xd8\xff\xe0 not really a cat", 0o600)
			return path
		}, "directory of 2 entries that apiorint did not make (notes.txt, photos)"},
		{"a regular file", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "thesis.pdf")
			write(t, path, "%PDF-1.7 four years of work", 0o644)
			return path
		}, "it is a file (27 bytes), not a directory"},
		{"a file where the index was", func(t *testing.T, dir string) string {
			// Once refused as damage and rebuilt over: the file may be anyone's now.
			path := filepath.Join(dir, "idx")
			ix, _ := open(t, lib, path)
			ix.Close()
			if err := os.RemoveAll(path); err != nil {
				t.Fatal(err)
			}
			write(t, path, "garbage", 0o644)
			return path
		}, "it is a file (7 bytes), not a directory"},
		{"a read-only directory with files", func(t *testing.T, dir string) string {
			// The tests run as root, for whom read-only is no protection: only the bot's
			// own rule stands between these files and deletion.
			path := filepath.Join(dir, "archive")
			write(t, filepath.Join(path, "2019.csv"), "year,total\n2019,42\n", 0o444)
			write(t, filepath.Join(path, "2020.csv"), "year,total\n2020,43\n", 0o444)
			mkdir(t, path, 0o555)
			t.Cleanup(func() { os.Chmod(path, 0o755) })
			return path
		}, "directory of 2 entries that apiorint did not make (2019.csv, 2020.csv)"},
		{"a home directory", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "home", "user")
			write(t, filepath.Join(path, ".bashrc"), "export PATH=$HOME/bin:$PATH\n", 0o644)
			write(t, filepath.Join(path, "Documents", "notes.txt"), "remember the milk\n", 0o644)
			write(t, filepath.Join(path, ".ssh", "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0o600)
			mkdir(t, filepath.Join(path, ".ssh"), 0o700)
			return path
		}, "directory of 3 entries that apiorint did not make (.bashrc, .ssh, Documents)"},
		{"a directory holding only a hidden file", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "project")
			write(t, filepath.Join(path, ".git"), "gitdir: ../elsewhere\n", 0o644)
			return path
		}, "that apiorint did not make (.git)"},
		{"someone else's Bleve index", func(t *testing.T, dir string) string {
			// A Bleve index, but without apiorint's content hash: not one of ours.
			path := filepath.Join(dir, "search")
			idx, err := bleve.NewUsing(path, bleve.NewIndexMapping(), scorch.Name, scorch.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := idx.Index("doc", map[string]any{"body": "their data"}); err != nil {
				t.Fatal(err)
			}
			if err := idx.Close(); err != nil {
				t.Fatal(err)
			}
			return path
		}, "that apiorint did not make"},
		{"a symbolic link to a directory", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "real", "data.db"), "precious", 0o644)
			path := filepath.Join(dir, "link")
			if err := os.Symlink(filepath.Join(dir, "real"), path); err != nil {
				t.Fatal(err)
			}
			return path
		}, "it is a symbolic link"},
		{"a symbolic link to an index apiorint made", func(t *testing.T, dir string) string {
			// Even our own index is not replaced through a link: renaming the link would
			// not replace what it points to.
			real := filepath.Join(dir, "real")
			ix, _ := open(t, lib, real)
			ix.Close()
			path := filepath.Join(dir, "link")
			if err := os.Symlink(real, path); err != nil {
				t.Fatal(err)
			}
			return path
		}, "it is a symbolic link"},
		{"a dangling symbolic link", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "link")
			if err := os.Symlink(filepath.Join(dir, "gone"), path); err != nil {
				t.Fatal(err)
			}
			return path
		}, "it is a symbolic link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			before := snapshot(t, dir)

			var log bytes.Buffer
			ix, err := index.New(context.Background(), lib, index.Options{Path: path, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			switch {
			case err == nil:
				ix.Close()
				t.Errorf("New accepted %s:\n%s", path, log.String())
			case ix != nil:
				t.Errorf("New returned an index with its error")
			case !errors.Is(err, index.ErrNotOurs):
				t.Errorf("error %v does not wrap ErrNotOurs", err)
			case !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if d := before.diff(snapshot(t, dir)); d != "" {
				t.Errorf("what was there changed:%s", d)
			}
		})
	}
}

// TestPersistentIndexLeftovers: beside the index, the temporary directories of builds that
// crashed are removed once they are old, and only when they carry the marker; anything else
// with a look-alike name is left exactly as it is.
func TestPersistentIndexLeftovers(t *testing.T) {
	lib := articleLibrary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "idx")
	elsewhere := t.TempDir()

	old := time.Now().Add(-time.Hour)
	age := func(p string, when time.Time) {
		t.Helper()
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	crashed := filepath.Join(dir, ".idx.building-111")
	write(t, filepath.Join(crashed, marker), "apiorint-index-4 \n", 0o644)
	write(t, filepath.Join(crashed, "index", "root.bolt"), "half an index", 0o644)
	age(crashed, old)

	// Marked but young: another process may be building it right now.
	building := filepath.Join(dir, ".idx.building-222")
	write(t, filepath.Join(building, marker), "apiorint-index-4 \n", 0o644)

	lookalike := filepath.Join(dir, ".idx.building-333")
	write(t, filepath.Join(lookalike, "index", "mine.txt"), "not apiorint's", 0o644)
	age(lookalike, old)

	file := filepath.Join(dir, ".idx.building-444")
	write(t, file, "a file, not a directory", 0o644)
	age(file, old)

	// A link to a marked directory: the link is not a directory apiorint made here.
	write(t, filepath.Join(elsewhere, "target", marker), "apiorint-index-4 \n", 0o644)
	write(t, filepath.Join(elsewhere, "target", "keep.txt"), "keep", 0o644)
	link := filepath.Join(dir, ".idx.building-555")
	if err := os.Symlink(filepath.Join(elsewhere, "target"), link); err != nil {
		t.Fatal(err)
	}

	before := snapshot(t, dir)
	beforeElsewhere := snapshot(t, elsewhere)
	ix, _ := open(t, lib, path)
	defer ix.Close()
	answers(t, ix, "what is middleware", "Types Of Integrations")

	after := snapshot(t, dir)
	for p := range before {
		top := strings.Split(p, string(filepath.Separator))[0]
		_, kept := after[p]
		switch {
		case top == filepath.Base(crashed) && kept:
			t.Errorf("the crashed build's %s is still there", p)
		case top != filepath.Base(crashed) && after[p] != before[p]:
			t.Errorf("%s changed or was removed: %q → %q", p, before[p], after[p])
		}
	}
	if d := beforeElsewhere.diff(snapshot(t, elsewhere)); d != "" {
		t.Errorf("what a leftover links to changed:%s", d)
	}
}

// TestPersistentIndexLocked holds the index open for writing, as another running bot of an
// older version would: this one must not wait forever nor touch it, and still answer.
func TestPersistentIndexLocked(t *testing.T) {
	lib := articleLibrary(t)
	path := filepath.Join(t.TempDir(), "idx")
	ix, _ := open(t, lib, path)
	ix.Close()
	holder, err := bleve.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()

	ix, log := open(t, lib, path)
	defer ix.Close()
	if !strings.Contains(log, "locked") {
		t.Errorf("log: %s", log)
	}
	answers(t, ix, "what is middleware", "Types Of Integrations")
	if n, err := holder.DocCount(); err != nil || n == 0 {
		t.Errorf("the other process's index was touched: %d docs, %v", n, err)
	}
}

// TestReloadAtPath: the index in service stays open (read-only) at INDEX_PATH while the
// knowledge is reloaded. The new index must replace it on disk without waiting on the
// old one's lock, the old one must keep answering until it is swapped out, and the new
// answers are served after the swap.
func TestReloadAtPath(t *testing.T) {
	lib := articleLibrary(t)
	path := filepath.Join(t.TempDir(), "idx")
	served, _ := open(t, lib, path)
	live := index.NewLive(served)
	t.Cleanup(func() { live.Close() })

	changed := withRunbook(lib)
	next, log := open(t, changed, path)
	// Waiting on the lock would time out and build in memory, saying "locked".
	if !strings.Contains(log, "knowledge changed") || strings.Contains(log, "locked") {
		t.Errorf("not rebuilt in place: %s", log)
	}
	if next.Hash() == served.Hash() {
		t.Errorf("same hash %s for changed knowledge", next.Hash())
	}

	// The old index answers from what it held, though its files were replaced.
	answers(t, served, "what is middleware", "Types Of Integrations")
	first := func(ans index.Answer, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Results) == 0 {
			return ""
		}
		return ans.Results[0].Title
	}
	if got := first(live.Search(context.Background(), "widget", 0)); got == "Runbook" {
		t.Error("the index in service knew the new section before the swap")
	}
	if err := live.Swap(next); err != nil {
		t.Fatalf("swap: %v", err)
	}
	if got := first(live.Search(context.Background(), "widget", 0)); got != "Runbook" {
		t.Errorf("after the swap: %q, want Runbook", got)
	}
	if !isClosed(served) {
		t.Error("the replaced index is still open")
	}
	if live.Size() != next.Size() || live.Hash() != next.Hash() {
		t.Errorf("in service: %d sections, %s; want %d, %s", live.Size(), live.Hash(), next.Size(), next.Hash())
	}
	if left := leftovers(t, path); len(left) > 0 {
		t.Errorf("build leftovers: %q", left)
	}
	wantMarked(t, path)

	// What is on disk now is the new index: the next start reopens it.
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	again, log := open(t, changed, path)
	defer again.Close()
	if !strings.Contains(log, "index reopened") {
		t.Errorf("the reloaded index was not kept: %s", log)
	}
}

// TestUnless: New builds nothing for the knowledge already in service.
func TestUnless(t *testing.T) {
	lib := articleLibrary(t)
	served, err := index.New(context.Background(), lib, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	tests := []struct {
		name      string
		lib       knowledge.Library
		atPath    bool
		unchanged bool // ErrUnchanged expected
	}{
		{"same knowledge, in memory", lib, false, true},
		{"same knowledge, at a path", lib, true, true},
		{"changed knowledge", withRunbook(lib), false, false},
		{"changed knowledge, at a path", withRunbook(lib), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := index.Options{Unless: served.Hash()}
			if tt.atPath {
				opts.Path = filepath.Join(t.TempDir(), "idx")
			}
			ix, err := index.New(context.Background(), tt.lib, opts)
			if tt.unchanged {
				if !errors.Is(err, index.ErrUnchanged) || ix != nil {
					t.Fatalf("got %v, %v; want nil, ErrUnchanged", ix, err)
				}
				if opts.Path != "" {
					// Nothing built: the path is still missing.
					if _, err := os.Lstat(opts.Path); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("%s: %v, want it missing", opts.Path, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			if ix.Hash() == served.Hash() {
				t.Errorf("hash %s for changed knowledge", ix.Hash())
			}
			answers(t, ix, "widget", "Runbook")
		})
	}
	// The same knowledge hashes the same, in memory or on disk.
	ix, _ := open(t, lib, filepath.Join(t.TempDir(), "idx"))
	defer ix.Close()
	if ix.Hash() != served.Hash() {
		t.Errorf("hash %s at a path, %s in memory", ix.Hash(), served.Hash())
	}
}

// isClosed reports whether ix was closed: a question that needs its Bleve index fails.
func isClosed(ix *index.Index) bool {
	_, err := ix.Search(context.Background(), "what is middleware", 0)
	return err != nil
}

// TestPersistentIndexTrailingSlash: "/data/index/" is the directory /data/index, built beside
// it and reopened, like "/data/index".
func TestPersistentIndexTrailingSlash(t *testing.T) {
	lib := articleLibrary(t)
	path := filepath.Join(t.TempDir(), "idx") + string(filepath.Separator)
	for range 2 {
		ix, err := index.New(context.Background(), lib, index.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if ans, err := ix.Search(context.Background(), "what is middleware", 0); err != nil || len(ans.Results) == 0 {
			t.Errorf("no answer: %v", err)
		}
		ix.Close()
	}
	if entries, _ := os.ReadDir(path); len(entries) == 0 {
		t.Error("nothing at the path")
	}
}
