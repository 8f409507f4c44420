package main

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
)

// snapshot records everything below root, byte for byte: path → mode, size and content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%v %d %v", info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			entry += " " + string(b)
		}
		out[path] = entry
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIndexPathRefused: INDEX_PATH naming something apiorint did not make stops `serve` and
// `ask` with one line naming INDEX_PATH and what is there, and leaves it exactly as it was.
func TestIndexPathRefused(t *testing.T) {
	t.Chdir(t.TempDir())
	fake := fakeslack.New()
	defer fake.Close()
	tests := []struct {
		name string
		// make fills root and returns the INDEX_PATH to use.
		make func(t *testing.T, root string) string
		want []string // in the error, besides INDEX_PATH and the path
	}{
		{"a directory of user files", func(t *testing.T, root string) string {
			dir := filepath.Join(root, "notes")
			mkfile(t, filepath.Join(dir, "todo.txt"), "buy milk\n")
			mkfile(t, filepath.Join(dir, "thesis.md"), "# Chapter 1\n\nIrreplaceable.\n")
			return dir
		}, []string{"directory of 2 entries", "thesis.md", "todo.txt"}},
		{"a home-like directory", func(t *testing.T, root string) string {
			home := filepath.Join(root, "home", "user")
			mkfile(t, filepath.Join(home, ".bashrc"), "export PS1='$ '\n")
			mkfile(t, filepath.Join(home, "src", "main.go"), "package main\n")
			mkfile(t, filepath.Join(home, "Documents", "a.txt"), "a\n")
			mkfile(t, filepath.Join(home, "Documents", "b.txt"), "b\n")
			return home
		}, []string{"directory of 3 entries"}},
		{"a regular file", func(t *testing.T, root string) string {
			f := filepath.Join(root, "index.db")
			mkfile(t, f, "precious bytes\x00\x01\x02")
			return f
		}, []string{"file (17 bytes)"}},
		{"an empty file", func(t *testing.T, root string) string {
			f := filepath.Join(root, "empty")
			mkfile(t, f, "")
			return f
		}, []string{"file (0 bytes)"}},
		{"a read-only directory", func(t *testing.T, root string) string {
			// As root the permissions do not stop a removal: only the check does.
			dir := filepath.Join(root, "ro")
			mkfile(t, filepath.Join(dir, "keep.txt"), "keep\n")
			os.Chmod(dir, 0o555)
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			return dir
		}, []string{"directory", "keep.txt"}},
		{"a symbolic link to a directory of user files", func(t *testing.T, root string) string {
			dir := filepath.Join(root, "real")
			mkfile(t, filepath.Join(dir, "data.txt"), "data\n")
			link := filepath.Join(root, "link")
			if err := os.Symlink(dir, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, []string{"symbolic link"}},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"serve", "ask"} {
			t.Run(tt.name+"/"+cmd, func(t *testing.T) {
				root := t.TempDir()
				path := tt.make(t, root)
				before := snapshot(t, root)
				env := map[string]string{"INDEX_PATH": path, "DATABASE_URL": "off", "KNOWLEDGE_DIR": ""}
				args := []string{"ask", "what is an api"}
				if cmd == "serve" {
					env = with(httpEnv(t, fake), "INDEX_PATH", path)
					args = []string{"serve"}
				}
				start := time.Now()
				out, _, err := runWith(t, env, "", args...)
				if err == nil {
					t.Fatalf("%s started with INDEX_PATH=%s; output: %s", cmd, path, out)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "INDEX_PATH "+path+" ") || strings.Contains(msg, "\n") || !contains(msg, tt.want...) {
					t.Errorf("error %q: want one line starting with INDEX_PATH %s and holding %q", msg, path, tt.want)
				}
				if exitCode(err) == 0 {
					t.Errorf("exit status 0")
				}
				if took := time.Since(start); took > 5*time.Second {
					t.Errorf("took %v to refuse", took)
				}
				if out != "" {
					t.Errorf("answered anyway: %s", out)
				}
				after := snapshot(t, root)
				if !maps.Equal(before, after) {
					t.Errorf("changed what it refused:\nbefore %v\nafter  %v", before, after)
				}
			})
		}
	}
}

// TestIndexPathAccepted: a missing path or an empty directory is built in (and marked as
// apiorint's), and the index apiorint made there is used again on the next start. Beside
// it, an old temporary build directory is removed only if apiorint marked it.
func TestIndexPathAccepted(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name string
		make func(t *testing.T, root string) string
	}{
		{"missing", func(t *testing.T, root string) string { return filepath.Join(root, "a", "index") }},
		{"empty directory", func(t *testing.T, root string) string {
			dir := filepath.Join(root, "index")
			os.Mkdir(dir, 0o755)
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := tt.make(t, root)
			prefix := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".building-")
			mkfile(t, filepath.Join(prefix+"crashed", ".apiorint-index"), "apiorint-index\n")
			mkfile(t, filepath.Join(prefix+"crashed", "index", "store"), "half an index")
			mkfile(t, filepath.Join(prefix+"mine", "notes.txt"), "not apiorint's\n")
			old := time.Now().Add(-24 * time.Hour)
			for _, p := range []string{prefix + "crashed", prefix + "mine"} {
				os.Chtimes(p, old, old)
			}
			mine := snapshot(t, prefix+"mine")
			// Twice: built the first time, reopened the second.
			for i, want := range []string{"building index", "index reopened"} {
				out, logs, err := runWith(t, map[string]string{"INDEX_PATH": path, "DATABASE_URL": "off"}, "", "ask", "what is an api")
				if err != nil || !strings.Contains(out, "What Is An API?") {
					t.Fatalf("start %d: %v\n%s", i+1, err, out)
				}
				if !strings.Contains(logs, want) {
					t.Errorf("start %d: log lacks %q:\n%s", i+1, want, logs)
				}
				if _, err := os.Stat(filepath.Join(path, ".apiorint-index")); err != nil {
					t.Errorf("start %d: no marker: %v", i+1, err)
				}
				if left, _ := filepath.Glob(prefix + "*"); len(left) != 1 || left[0] != prefix+"mine" {
					t.Errorf("start %d: beside the index: %v, want only the unmarked one", i+1, left)
				}
				if !maps.Equal(mine, snapshot(t, prefix+"mine")) {
					t.Errorf("start %d: changed a directory apiorint did not make", i+1)
				}
			}
		})
	}
}

func mkfile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
