package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge/synthetic"
)

// The section the reload test adds, changes and deletes, and the question it answers. (Not
// "Webhooks": the question reader takes webhooks for APIs, so the article would answer.)
const (
	pigeonQuestion = "how does the pigeon relay work?"
	pigeonV1       = "# Pigeon Relay\n\nThe pigeon relay carries messages between offices every morning; pigeons rest on weekends.\n"
	pigeonV2       = "# Pigeon Relay\n\nThe pigeon relay now flies twice a day, carrying parcels as well as messages; pigeons rest on weekends.\n"
	pigeonV1Text   = "carries messages between offices every morning"
	pigeonV2Text   = "now flies twice a day"
	// A question the loop asks throughout, and the title of its answer.
	loopQuestion = "what is an api"
	loopTitle    = "What Is An API?"
)

// TestReload runs `apiorint serve` in HTTP mode against the fake Slack and edits its
// KNOWLEDGE_DIR while it serves: a new file is answerable, a change replaces the answer, a
// broken file keeps the knowledge in service, a deleted file's answer is gone; /healthz says
// which knowledge is in service. Slash commands sent all along never fail. With INDEX_PATH,
// each reload replaces the index on disk, safely. It logs how long each change took to
// land: from the write to /healthz's new hash, and to the first answer that shows it.
func TestReload(t *testing.T) {
	tests := []struct {
		name      string
		sections  int  // synthetic sections besides the article
		indexPath bool // keep the index on disk
		slow      bool // skipped with -short
	}{
		{name: "1,000 sections", sections: 1000},
		{name: "1,000 sections, INDEX_PATH", sections: 1000, indexPath: true},
		{name: "20,000 sections", sections: 20000, slow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow && testing.Short() {
				t.Skip("each reload indexes 20,000 sections")
			}
			testReload(t, tt.sections, tt.indexPath)
		})
	}
}

func testReload(t *testing.T, sections int, indexPath bool) {
	root := t.TempDir()
	t.Chdir(root)
	kdir := filepath.Join(root, "knowledge")
	if err := synthetic.WriteDir(kdir, synthetic.Generate(1, sections)); err != nil {
		t.Fatal(err)
	}
	fake := fakeslack.New()
	defer fake.Close()
	env := with(httpEnv(t, fake), "KNOWLEDGE_DIR", kdir)
	ipath := filepath.Join(root, "idx", "index")
	if indexPath {
		env["INDEX_PATH"] = ipath
	}
	s := startServe(t, env, bound(60*time.Second))

	// landed waits until the answer to question satisfies ok, and returns the reply.
	landed := func(question string, ok func(string) bool) (string, bool) {
		var body string
		landed := eventually(bound(30*time.Second), func() bool {
			_, b, err := s.command(question)
			body = b
			return err == nil && ok(b)
		})
		return body, landed
	}
	hash := func() string { _, h := s.health(); return h.Knowledge }
	has := func(subs ...string) func(string) bool {
		return func(body string) bool { return contains(body, subs...) }
	}
	lacks := func(sub string) func(string) bool {
		return func(body string) bool {
			return !strings.Contains(body, sub) && strings.Contains(body, `"response_type":"ephemeral"`)
		}
	}
	if _, body, err := s.command(pigeonQuestion); err != nil || !lacks("Pigeon Relay")(body) {
		t.Fatalf("before knowing of pigeons: %v %s", err, body)
	}

	// Slash commands all through the reloads: every one answered, at once, and right.
	stopLoop := make(chan struct{})
	var sent atomic.Int64
	var failuresMu sync.Mutex
	var failures []string
	var slowest time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// 100 a second: far more than Slack sends one bot, and it leaves the CPU to the
		// reloads whose latency is measured.
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopLoop:
				return
			case <-tick.C:
			}
			start := time.Now()
			code, body, err := s.command(loopQuestion)
			took := time.Since(start)
			sent.Add(1)
			failuresMu.Lock()
			slowest = max(slowest, took)
			// Slack gives up on a slash command after 3 s.
			if code != http.StatusOK || err != nil || strings.Contains(body, "went wrong") || !strings.Contains(body, loopTitle) || took > 3*time.Second {
				failures = append(failures, fmt.Sprintf("%d after %v: %v %.200s", code, took, err, body))
			}
			failuresMu.Unlock()
		}
	}()

	pigeon, broken := filepath.Join(kdir, "pigeon.md"), filepath.Join(kdir, "broken.md")
	initial := hash()
	var marker string // the INDEX_PATH marker's content after the last reload
	readMarker := func() string { b, _ := os.ReadFile(filepath.Join(ipath, ".apiorint-index")); return string(b) }
	if indexPath {
		marker = readMarker()
	}
	steps := []struct {
		name   string
		change func() error
		fails  bool              // the reload fails: the old knowledge stays
		answer func(string) bool // what the answer to pigeonQuestion must satisfy once it landed
	}{
		{"add a file", func() error { return os.WriteFile(pigeon, []byte(pigeonV1), 0o644) }, false, has("Pigeon Relay", pigeonV1Text)},
		{"change it", func() error { return os.WriteFile(pigeon, []byte(pigeonV2), 0o644) },
			false, func(b string) bool { return has("Pigeon Relay", pigeonV2Text)(b) && !strings.Contains(b, pigeonV1Text) }},
		{"write a file of NUL bytes", func() error { return os.WriteFile(broken, []byte("# Broken\n\n\x00\x00\x00\n"), 0o644) },
			true, has("Pigeon Relay", pigeonV2Text)},
		{"delete both", func() error { os.Remove(broken); return os.Remove(pigeon) }, false, lacks("Pigeon Relay")},
		{"write a file that is not UTF-8", func() error { return os.WriteFile(broken, []byte("# Broken\n\n\xff\xfe\n"), 0o644) },
			true, lacks("Pigeon Relay")},
		// A new directory is watched too, with what was written into it before the watch.
		{"fix it; add a file in a new directory", func() error {
			os.Remove(broken)
			if err := os.MkdirAll(filepath.Join(kdir, "team", "ops"), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(kdir, "team", "ops", "pigeon.md"), []byte(pigeonV1), 0o644)
		}, false, has("Pigeon Relay", pigeonV1Text)},
		{"remove the directory", func() error { return os.RemoveAll(filepath.Join(kdir, "team")) }, false, lacks("Pigeon Relay")},
		// A directory moved in or out makes one event, named after it: "v1.2" is a directory
		// all the same.
		{"move in a directory named v1.2", func() error {
			mkfile(t, filepath.Join(root, "staging", "v1.2", "pigeon.md"), pigeonV1)
			return os.Rename(filepath.Join(root, "staging", "v1.2"), filepath.Join(kdir, "v1.2"))
		}, false, has("Pigeon Relay", pigeonV1Text)},
		{"move it out", func() error { return os.Rename(filepath.Join(kdir, "v1.2"), filepath.Join(root, "staging", "v1.2")) },
			false, lacks("Pigeon Relay")},
	}
	for _, step := range steps {
		before, sentBefore := hash(), sent.Load()
		failedBefore := len(s.logs.lines("knowledge reload failed", filepath.Base(broken)))
		start := time.Now()
		if err := step.change(); err != nil {
			t.Fatal(err)
		}
		if step.fails {
			// The failure is logged with the file, and the knowledge in service stays.
			if !eventually(bound(30*time.Second), func() bool {
				return len(s.logs.lines("knowledge reload failed", filepath.Base(broken))) > failedBefore
			}) {
				t.Fatalf("%s: no log line says the reload failed:\n%s", step.name, s.logs)
			}
			if h := hash(); h != before {
				t.Errorf("%s: knowledge %s in service, want %s still", step.name, h, before)
			}
			if body, ok := landed(pigeonQuestion, step.answer); !ok {
				t.Errorf("%s: the old answer is not served: %s", step.name, body)
			}
			t.Logf("%s: reload failure logged after %v", step.name, time.Since(start).Round(time.Millisecond))
		} else {
			if !eventually(bound(30*time.Second), func() bool { h := hash(); return h != "" && h != before }) {
				t.Fatalf("%s: /healthz still says %s\n%s", step.name, before, s.logs)
			}
			tookHash := time.Since(start)
			body, ok := landed(pigeonQuestion, step.answer)
			if !ok {
				t.Fatalf("%s: the answer did not change: %s", step.name, body)
			}
			t.Logf("%s: %d sections: new knowledge on /healthz after %v, answerable after %v", step.name, sections,
				tookHash.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		}
		if sent.Load() == sentBefore {
			t.Errorf("%s: no slash command was answered while it reloaded", step.name)
		}
		if indexPath {
			checkIndexPath(t, step.name, ipath, marker, !step.fails)
			marker = readMarker()
		}
	}
	if h := hash(); h != initial {
		t.Errorf("the knowledge dir is back as it was, but /healthz says %s, not %s", h, initial)
	}
	if indexPath {
		// The index on disk is the knowledge in service: another process reopens it as is.
		out, logs, err := runWith(t, env, "", "ask", "what is an api")
		if err != nil || !strings.Contains(out, loopTitle) || !strings.Contains(logs, "index reopened") {
			t.Errorf("ask with the same INDEX_PATH: %v\n%s\n%s", err, out, logs)
		}
	}

	close(stopLoop)
	wg.Wait()
	t.Logf("%d slash commands during the reloads, the slowest answered in %v", sent.Load(), slowest.Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("%d of %d slash commands failed, first: %s", len(failures), sent.Load(), failures[0])
	}
	if err := s.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// checkIndexPath checks the index at path after a reload: marked as apiorint's, replaced (its
// marker changed) when the reload succeeded and untouched when it failed, and no temporary
// build directory left beside it.
func checkIndexPath(t *testing.T, step, path, markerBefore string, replaced bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(path, ".apiorint-index"))
	if err != nil {
		t.Errorf("%s: no marker: %v", step, err)
	}
	if changed := string(b) != markerBefore; changed != replaced {
		t.Errorf("%s: marker changed %v, want %v: %q → %q", step, changed, replaced, markerBefore, b)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".building-*"))
	if len(left) > 0 {
		t.Errorf("%s: left behind: %v", step, left)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s: beside the index: %v", step, names)
	}
}

// TestReloadOnSIGHUP: SIGHUP reloads the knowledge, which picks up what the watch cannot see:
// here a file KNOWLEDGE_DIR links to, changed where it lives.
func TestReloadOnSIGHUP(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	kdir, elsewhere := filepath.Join(root, "knowledge"), filepath.Join(root, "elsewhere")
	mkfile(t, filepath.Join(elsewhere, "pigeon.md"), pigeonV1)
	os.Mkdir(kdir, 0o755)
	if err := os.Symlink(filepath.Join(elsewhere, "pigeon.md"), filepath.Join(kdir, "pigeon.md")); err != nil {
		t.Fatal(err)
	}
	fake := fakeslack.New()
	defer fake.Close()
	s := startServe(t, with(httpEnv(t, fake), "KNOWLEDGE_DIR", kdir), bound(30*time.Second))
	if _, body, err := s.command(pigeonQuestion); err != nil || !strings.Contains(body, pigeonV1Text) {
		t.Fatalf("before: %v %s", err, body)
	}
	_, before := s.health()
	mkfile(t, filepath.Join(elsewhere, "pigeon.md"), pigeonV2)
	// The served bot handles SIGHUP (it is healthy, so it listens for it): this process
	// does not die of it.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !eventually(bound(10*time.Second), func() bool { _, h := s.health(); return h.Knowledge != "" && h.Knowledge != before.Knowledge }) {
		t.Fatalf("SIGHUP did not reload:\n%s", s.logs)
	}
	if len(s.logs.lines("SIGHUP")) == 0 {
		t.Errorf("no log line says SIGHUP:\n%s", s.logs)
	}
	if _, body, err := s.command(pigeonQuestion); err != nil || !strings.Contains(body, pigeonV2Text) {
		t.Errorf("after: %v %s", err, body)
	}
}

// TestReloadRunsAfterLoad: what main runs once knowledge is in service (tuning the
// collector to what is live) runs again after each reload that changed the knowledge, and
// not after one that changed nothing or failed.
func TestReloadRunsAfterLoad(t *testing.T) {
	kdir := t.TempDir()
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(kdir, "pigeons.md"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(pigeonV1)
	getenv := mapEnv(map[string]string{"KNOWLEDGE_DIR": kdir})
	log := slog.New(slog.DiscardHandler)
	ix, err := loadIndex(context.Background(), getenv, log, "")
	if err != nil {
		t.Fatal(err)
	}
	live := index.NewLive(ix)
	defer live.Close()
	var runs int
	ctx := withAfterLoad(context.Background(), func(*slog.Logger) { runs++ })
	r := &reloader{getenv: getenv, log: log, live: live, report: func(error) {}}

	steps := []struct {
		name string
		text string // written before the reload
		want int    // runs after it
	}{
		{"unchanged", pigeonV1, 0},
		{"changed", pigeonV2, 1},
		{"broken", "\x00", 1},
		{"changed again", pigeonV1, 2},
	}
	for _, s := range steps {
		write(s.text)
		r.reload(ctx)
		if runs != s.want {
			t.Errorf("after %s: ran %d times, want %d", s.name, runs, s.want)
		}
	}
}
