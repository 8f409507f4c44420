package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
)

// runWith runs the program in-process with args and a getenv built from env (the real
// environment is never read) and returns its output and error.
func runWith(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	err = run(context.Background(), append([]string{"apiorint"}, args...), mapEnv(env),
		strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// with returns a copy of base with the pairs of kv set.
func with(base map[string]string, kv ...string) map[string]string {
	env := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// exitCode is the status main would exit with for err.
func exitCode(err error) int {
	var e exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e.code
	default:
		return 1
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func takenPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// eventually polls cond until it holds or timeout passes, and reports whether it held.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer is the program's stderr, which the test reads while the program writes it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the log lines that hold every one of subs.
func (b *logBuffer) lines(subs ...string) []string {
	var out []string
	for _, line := range strings.Split(b.String(), "\n") {
		if line != "" && contains(line, subs...) {
			out = append(out, line)
		}
	}
	return out
}

// secret is the signing secret the served bot and the test's requests share.
const secret = "test-signing-secret"

// httpEnv is the environment of `apiorint serve` in HTTP mode against fake, on a free
// loopback port, recording nothing (tests must never write apiorint.db into the source tree).
func httpEnv(t *testing.T, fake *fakeslack.Server) map[string]string {
	return map[string]string{
		"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": fake.APIURL,
		"LISTEN_ADDR": "127.0.0.1:" + freePort(t), "DATABASE_URL": "off",
	}
}

// A served is `apiorint serve` running in-process.
type served struct {
	t      *testing.T
	url    string
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
	err    error
	exited bool
}

// startServe runs `apiorint serve` with env until the test ends, and waits until /healthz
// says it is running.
func startServe(t *testing.T, env map[string]string, timeout time.Duration) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{t: t, url: "http://" + env["LISTEN_ADDR"], logs: &logBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		s.done <- run(ctx, []string{"apiorint", "serve"}, mapEnv(env), strings.NewReader(""), io.Discard, s.logs)
	}()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	deadline := time.Now().Add(timeout)
	for {
		if code, _ := s.health(); code == http.StatusOK {
			return s
		}
		select {
		case err := <-s.done:
			s.exited, s.err = true, err
			t.Fatalf("serve stopped before it was healthy: %v\n%s", err, s.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not healthy after %v\n%s", timeout, s.logs)
		}
	}
}

// stop cancels the context as SIGTERM would and returns what run returned.
func (s *served) stop() error {
	if s.exited {
		return s.err
	}
	s.cancel()
	select {
	case s.err = <-s.done:
	case <-time.After(30 * time.Second):
		s.err = errors.New("did not stop within 30 s of the cancel")
	}
	s.exited = true
	return s.err
}

// health is GET /healthz: the status and the JSON body.
type health struct {
	Status    string `json:"status"`
	Sections  int    `json:"sections"`
	Knowledge string `json:"knowledge"`
}

func (s *served) health() (int, health) {
	var h health
	res, err := http.Get(s.url + "/healthz")
	if err != nil {
		return 0, h
	}
	defer res.Body.Close()
	json.NewDecoder(res.Body).Decode(&h)
	return res.StatusCode, h
}

// command sends a signed /apiorint slash command, as Slack would, and returns the status
// and the body.
func (s *served) command(text string) (int, string, error) {
	body := []byte(url.Values{
		"command": {"/apiorint"}, "text": {text}, "user_id": {"U1"}, "channel_id": {"C1"}, "team_id": {"T0FAKE"},
		"response_url": {"https://hooks.slack.com/commands/T0FAKE/1/x"}, "trigger_id": {"1.2"},
	}.Encode())
	req, err := http.NewRequest(http.MethodPost, s.url+"/slack/commands", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fakeslack.SignRequest(req, secret, body)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, "", err
	}
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, string(out), fmt.Errorf("status %s: %s", res.Status, out)
	}
	return res.StatusCode, string(out), nil
}

// bound scales a time limit meant for a normal build for the race detector, which slows
// parsing and indexing about tenfold.
func bound(d time.Duration) time.Duration {
	if raceEnabled {
		return 10 * d
	}
	return d
}
