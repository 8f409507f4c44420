package index_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2"
)

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
	ans, err := ix.Search(context.Background(), index.Query{Text: question})
	if err != nil || len(ans.Results) == 0 || ans.Results[0].Title != want {
		t.Errorf("%q: got %q, want %q (%v)", question, titles(ans), want, err)
	}
}

func TestPersistentIndex(t *testing.T) {
	lib, err := knowledge.Load("")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "idx")

	ix, log := open(t, lib, path)
	if !strings.Contains(log, "building index") {
		t.Errorf("first start: %s", log)
	}
	answers(t, ix, "scalability", "Scalability And Flexibility")
	ix.Close()

	ix, log = open(t, lib, path)
	if !strings.Contains(log, "index reopened") {
		t.Errorf("second start did not reopen: %s", log)
	}
	answers(t, ix, "scalability", "Scalability And Flexibility")
	ix.Close()

	changed := lib
	changed.Sections = append(append([]knowledge.Section(nil), lib.Sections...),
		knowledge.Section{ID: "runbook", Title: "Runbook", Path: []string{"Runbook"}, Body: "Restart the widget.", Source: "runbook.md"})
	ix, log = open(t, changed, path)
	if !strings.Contains(log, "knowledge changed") {
		t.Errorf("changed knowledge was not rebuilt: %s", log)
	}
	answers(t, ix, "widget", "Runbook")
	ix.Close()

	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".idx.building-*")); len(left) > 0 {
		t.Errorf("build leftovers: %q", left)
	}
}

// TestPersistentIndexDamaged damages the index on disk in the ways a crash or a full disk
// can, and expects it rebuilt with the right answers, never wrong ones.
func TestPersistentIndexDamaged(t *testing.T) {
	lib, err := knowledge.Load("")
	if err != nil {
		t.Fatal(err)
	}
	damage := map[string]func(t *testing.T, path string){
		"truncated files": func(t *testing.T, path string) {
			filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					os.Truncate(p, 10)
				}
				return nil
			})
		},
		"emptied directory": func(t *testing.T, path string) {
			os.RemoveAll(path)
			os.Mkdir(path, 0o755)
		},
		"a file where the directory was": func(t *testing.T, path string) {
			os.RemoveAll(path)
			os.WriteFile(path, []byte("garbage"), 0o644)
		},
		"a crashed build beside it": func(t *testing.T, path string) {
			left := filepath.Join(filepath.Dir(path), ".idx.building-123")
			os.MkdirAll(filepath.Join(left, "index"), 0o755)
			old := time.Now().Add(-time.Hour)
			os.Chtimes(left, old, old)
		},
	}
	for name, damage := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "idx")
			ix, _ := open(t, lib, path)
			ix.Close()
			damage(t, path)
			ix, log := open(t, lib, path)
			defer ix.Close()
			answers(t, ix, "what is middleware", "Types Of Integrations")
			if name != "a crashed build beside it" && !strings.Contains(log, "rebuild") && !strings.Contains(log, "building") {
				t.Errorf("not rebuilt: %s", log)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".idx.building-*")); len(left) > 0 {
				t.Errorf("build leftovers: %q", left)
			}
		})
	}
}

// TestPersistentIndexLocked holds the index open, as another running bot would: this one
// must not wait forever nor touch it, and still answer.
func TestPersistentIndexLocked(t *testing.T) {
	lib, err := knowledge.Load("")
	if err != nil {
		t.Fatal(err)
	}
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
