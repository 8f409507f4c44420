package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
)

// manyHeadings writes into a new directory one file of n "# x" sections and returns the
// directory. Each section's text is words words drawn from a small vocabulary plus one word of
// its own, so that indexing has work to do; words = 0 gives the bare "# x\n\ny\n\n".
func manyHeadings(t *testing.T, n, words int) string {
	t.Helper()
	vocab := strings.Fields("the api integration service request response data system user token cache queue " +
		"event server client webhook payload endpoint schema latency retry timeout batch stream")
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for i := range n {
		if words == 0 {
			b.WriteString("# x\n\ny\n\n")
			continue
		}
		b.WriteString("# x\n\n")
		for range words {
			b.WriteString(vocab[rng.IntN(len(vocab))])
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "w%d.\n\n", i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.md"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestStopDuringLongStart: SIGTERM (the context passed to run ending) while serve is still
// loading and indexing a large KNOWLEDGE_DIR stops it within seconds, with an error (a
// non-zero exit), and a long indexing says how far it got while it runs.
func TestStopDuringLongStart(t *testing.T) {
	t.Chdir(t.TempDir())
	fake := fakeslack.New()
	defer fake.Close()
	// 100,000 sections of 30 words: about 22 MB, which takes several seconds to index.
	kdir := manyHeadings(t, 100_000, 30)
	progress := func(logs *logBuffer) bool { return len(logs.lines("msg=indexing", "sections=", "per_second=")) > 0 }
	tests := []struct {
		name string
		slow bool // skipped with -short
		// cancelWhen returns once it is time to cancel.
		cancelWhen func(t *testing.T, logs *logBuffer, done <-chan error)
	}{
		{name: "while loading", cancelWhen: func(t *testing.T, logs *logBuffer, done <-chan error) {
			time.Sleep(200 * time.Millisecond) // "shortly after start" is the point: nothing to wait for
		}},
		{name: "at the first progress line", slow: true, cancelWhen: func(t *testing.T, logs *logBuffer, done <-chan error) {
			// Progress is logged every 2 s of indexing: wait for the first line.
			deadline := time.After(60 * time.Second)
			for !progress(logs) {
				select {
				case err := <-done:
					t.Fatalf("finished (%v) before saying how far it got:\n%s", err, logs)
				case <-deadline:
					t.Fatalf("no progress line in 60 s:\n%s", logs)
				case <-time.After(10 * time.Millisecond):
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.slow && testing.Short() {
				t.Skip("indexes for several seconds")
			}
			env := with(httpEnv(t, fake), "KNOWLEDGE_DIR", kdir)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			logs := &logBuffer{}
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"apiorint", "serve"}, mapEnv(env), strings.NewReader(""), io.Discard, logs)
			}()
			tt.cancelWhen(t, logs, done)
			cancel()
			cancelled := time.Now()
			select {
			case err := <-done:
				took := time.Since(cancelled)
				t.Logf("run returned %v after the cancel", took.Round(time.Millisecond))
				if err == nil {
					t.Fatal("run returned nil: a start cut short must exit non-zero")
				}
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped while") || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q: want one line saying it stopped, wrapping context.Canceled", err)
				}
			case <-time.After(bound(5 * time.Second)):
				// The one 22 MB file is parsed in one go: about 1 s here, ten under -race.
				t.Fatalf("still running %v after the cancel:\n%s", bound(5*time.Second), logs)
			}
			if fake.Calls("auth.test") != 0 {
				t.Error("went on to connect to Slack")
			}
			if res, err := http.Get("http://" + env["LISTEN_ADDR"] + "/healthz"); err == nil {
				res.Body.Close()
				t.Error("listening after it stopped")
			}
		})
	}
}

// TestManyIdenticalHeadings: 100,000 sections all titled "x" (each needs an ID of its own)
// load, index and answer within a bound generous enough for a slow machine.
func TestManyIdenticalHeadings(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 100,000 sections")
	}
	t.Chdir(t.TempDir())
	fake := fakeslack.New()
	defer fake.Close()
	env := with(httpEnv(t, fake), "KNOWLEDGE_DIR", manyHeadings(t, 100_000, 0))
	start := time.Now()
	s := startServe(t, env, 60*time.Second)
	t.Logf("healthy after %v", time.Since(start).Round(time.Millisecond))
	if _, h := s.health(); h.Sections < 100_000 {
		t.Errorf("/healthz: %+v, want at least 100,000 sections", h)
	}
	if _, body, err := s.command("what is an api"); err != nil || !strings.Contains(body, "What Is An API?") {
		t.Errorf("answer: %v %s", err, body)
	}
}
