package redisstate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apiorint/apiorint/bot/redisstate"
)

// redisURL is the Redis that the tests share, from APIORINT_TEST_REDIS.
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("APIORINT_TEST_REDIS")
	if u == "" {
		t.Skip("APIORINT_TEST_REDIS is not set: set it to a Redis this test may write to, e.g. APIORINT_TEST_REDIS=redis://127.0.0.1:6379/0")
	}
	return u
}

// testPrefix returns a key prefix of t's own, and deletes every key under it when t ends
// (redis_rate puts its own "rate:" in front of ours).
func testPrefix(t testing.TB, url string) string {
	t.Helper()
	prefix := "apiorint-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		rdb := rawClient(t, url)
		ctx := context.Background()
		for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
			keys := scan(t, rdb, pattern)
			for chunk := range slices.Chunk(keys, 1000) {
				if err := rdb.Del(ctx, chunk...).Err(); err != nil {
					t.Errorf("deleting the test's keys: %v", err)
				}
			}
		}
	})
	return prefix
}

// rawClient is a plain go-redis client, to look at what the package wrote.
func rawClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func scan(t testing.TB, rdb *redis.Client, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("SCAN %s: %v", pattern, err)
	}
	return keys
}

func open(t testing.TB, url string, opts redisstate.Options) *redisstate.Client {
	t.Helper()
	c, err := redisstate.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func TestFirstSeen(t *testing.T) {
	url := redisURL(t)
	type call struct {
		keys []string
		want bool
	}
	tests := []struct {
		name  string
		calls []call
	}{
		{"first then duplicate", []call{
			{[]string{"Ev1"}, true},
			{[]string{"Ev1"}, false},
		}},
		{"one of two keys already set", []call{
			{[]string{"C1/1700000000.000100"}, true},
			// A mention that also arrives as a message: new event id, same channel+ts.
			{[]string{"Ev2", "C1/1700000000.000100"}, false},
			// The new key was marked all the same, so a retry of that delivery is a duplicate.
			{[]string{"Ev2"}, false},
		}},
		{"empty keys are ignored", []call{
			{nil, true},
			{[]string{""}, true},
			{[]string{"", "Ev3"}, true},
			{[]string{"Ev3", ""}, false},
			{[]string{""}, true},
		}},
		{"a key repeated in one call", []call{
			{[]string{"Ev4", "Ev4"}, true},
			{[]string{"Ev4"}, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := open(t, url, redisstate.Options{Prefix: testPrefix(t, url)})
			for i, call := range tt.calls {
				first, err := c.FirstSeen(t.Context(), call.keys...)
				if err != nil {
					t.Fatalf("call %d: FirstSeen(%q): %v", i, call.keys, err)
				}
				if first != call.want {
					t.Errorf("call %d: FirstSeen(%q) = %v, want %v", i, call.keys, first, call.want)
				}
			}
			if c.Status() != "ok" || c.Errors() != 0 {
				t.Errorf("Status() = %q, Errors() = %d; want ok, 0", c.Status(), c.Errors())
			}
		})
	}
}

func TestFirstSeenKeysExpire(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := testPrefix(t, url)
	c := open(t, url, redisstate.Options{Prefix: prefix})
	if _, err := c.FirstSeen(t.Context(), "Ev1", "", "C1/1700000000.000100"); err != nil {
		t.Fatal(err)
	}
	rdb := rawClient(t, url)
	keys := scan(t, rdb, prefix+"*")
	if len(keys) != 2 {
		t.Fatalf("keys under the prefix: %q, want two (an empty key writes nothing)", keys)
	}
	for _, k := range keys {
		ttl, err := rdb.TTL(t.Context(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < 10*time.Minute || ttl > 15*time.Minute {
			t.Errorf("TTL %s = %s, want between 10 and 15 minutes", k, ttl)
		}
	}
}

// Two replicas receive the same 1,000 events at the same time: each is handled once.
func TestFirstSeenAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := testPrefix(t, url)
	replicas := []*redisstate.Client{
		open(t, url, redisstate.Options{Prefix: prefix}),
		open(t, url, redisstate.Options{Prefix: prefix}),
	}
	const events = 1000
	var firsts atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range events {
		for _, c := range replicas {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				first, err := c.FirstSeen(t.Context(), fmt.Sprint("Ev", i), fmt.Sprint("C1/", i))
				if err != nil {
					t.Error(err)
					return
				}
				if first {
					firsts.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if n := firsts.Load(); n != events {
		t.Errorf("%d events tried by two replicas: %d firsts, want %d", events, n, events)
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	c := open(t, url, redisstate.Options{Prefix: testPrefix(t, url), Rate: 10, Burst: 1})
	start := time.Now()
	for range 10 {
		if err := c.Wait(t.Context(), "C1"); err != nil {
			t.Fatal(err)
		}
	}
	// The first post goes at once, the nine others 100 ms apart.
	if took := time.Since(start); took < 800*time.Millisecond || took > 3*time.Second {
		t.Errorf("10 posts at 10/s with burst 1 took %s, want about 900ms", took)
	}
	if c.Errors() != 0 {
		t.Errorf("Errors() = %d, want 0: the shared limiter was not used", c.Errors())
	}
}

func TestWaitChannelsAreIndependent(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	c := open(t, url, redisstate.Options{Prefix: testPrefix(t, url), Rate: 1, Burst: 1})
	if err := c.Wait(t.Context(), "busy"); err != nil {
		t.Fatal(err)
	}
	// "busy" must now wait a second; the others must not wait for it.
	start := time.Now()
	for i := range 20 {
		if err := c.Wait(t.Context(), fmt.Sprint("C", i)); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("first posts to 20 other channels took %s, want no waiting", took)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := c.Wait(ctx, "busy"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a busy channel past the deadline = %v, want context.DeadlineExceeded", err)
	}
}

// TestWaitFailsFastPastTheDeadline: posts to a flooded channel that cannot get their turn
// before their deadline fail at once, rather than holding their place (and a slot of the
// reply queue) until it passes.
func TestWaitFailsFastPastTheDeadline(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	c := open(t, url, redisstate.Options{Prefix: testPrefix(t, url), Rate: 1, Burst: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	type result struct {
		err  error
		took time.Duration
	}
	results := make(chan result, 5)
	for range 5 {
		go func() {
			err := c.Wait(ctx, "flood")
			results <- result{err, time.Since(start)}
		}()
	}
	posted := 0
	for range 5 {
		r := <-results
		switch {
		case r.err == nil:
			posted++
		case !errors.Is(r.err, context.DeadlineExceeded):
			t.Errorf("Wait = %v, want context.DeadlineExceeded", r.err)
		case r.took > 1300*time.Millisecond:
			// At once, or after its one wait when the post before it had already gone.
			t.Errorf("a post that could not make its deadline failed only after %s, near the deadline", r.took)
		}
	}
	// At one a second within 1.5 s: the first at once, the second a second later.
	if posted != 2 {
		t.Errorf("%d posts went out, want 2", posted)
	}
}

// Two replicas posting in turn to one channel are spaced as one.
func TestWaitSharedAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := testPrefix(t, url)
	opts := redisstate.Options{Prefix: prefix, Rate: 10, Burst: 1}
	replicas := []*redisstate.Client{open(t, url, opts), open(t, url, opts)}
	start := time.Now()
	for i := range 10 {
		if err := replicas[i%2].Wait(t.Context(), "C1"); err != nil {
			t.Fatal(err)
		}
	}
	// Each replica alone would have waited 4 × 100 ms.
	if took := time.Since(start); took < 800*time.Millisecond || took > 3*time.Second {
		t.Errorf("10 posts from two replicas at a shared 10/s took %s, want about 900ms", took)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		opts redisstate.Options
		want string
	}{
		{"nothing listening", "redis://:secret@127.0.0.1:1/0", redisstate.Options{}, "REDIS_URL"},
		{"bad port", "redis://:secret@127.0.0.1:notaport/0", redisstate.Options{}, "REDIS_URL"},
		{"bad scheme", "http://:secret@127.0.0.1:6379/0", redisstate.Options{}, "REDIS_URL"},
		{"bad database", "redis://:secret@127.0.0.1:6379/zero", redisstate.Options{}, "REDIS_URL"},
		{"TTL too short", "redis://:secret@127.0.0.1:1/0", redisstate.Options{TTL: time.Minute}, "TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c, err := redisstate.Open(t.Context(), tt.url, tt.opts)
			if err == nil {
				c.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
			t.Logf("Open(%q): %v", tt.url, err)
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%q) = %q, want an error naming %s and without the password", tt.url, err, tt.want)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Open took %s to fail", took)
			}
		})
	}
}

// A syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A redisServer is a redis-server process of the test's own, which it may stop and start.
type redisServer struct {
	t    *testing.T
	bin  string
	port string
	dir  string
	cmd  *exec.Cmd
}

func newRedisServer(t *testing.T) *redisServer {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (not on PATH): it is needed to stop and restart a Redis under the client")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	s := &redisServer{t: t, bin: bin, port: port, dir: t.TempDir()}
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) url() string { return "redis://127.0.0.1:" + s.port + "/0" }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", s.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+s.port, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %s did not start: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

func TestRedisGoesAwayAndComesBack(t *testing.T) {
	t.Parallel()
	srv := newRedisServer(t)
	srv.start()
	var logs syncBuffer
	c := open(t, srv.url(), redisstate.Options{
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		Rate:       10,
		Burst:      1,
		ProbeEvery: 100 * time.Millisecond,
	})
	ctx := t.Context()
	if first, err := c.FirstSeen(ctx, "Ev1"); !first || err != nil {
		t.Fatalf("FirstSeen before the outage = %v, %v; want true, nil", first, err)
	}

	srv.stop()
	start := time.Now()
	if _, err := c.FirstSeen(ctx, "Ev2"); err == nil {
		t.Fatal("FirstSeen with Redis stopped succeeded, want an error")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("FirstSeen took %s to fail, want under 1s", took)
	}
	if got := c.Status(); got != "down" {
		t.Errorf("Status() with Redis stopped = %q, want down", got)
	}
	if _, err := c.FirstSeen(ctx, "Ev3"); !errors.Is(err, redisstate.ErrDown) {
		t.Errorf("FirstSeen while down = %v, want ErrDown", err)
	}
	// Posting goes on, spaced by this process alone.
	start = time.Now()
	for range 5 {
		if err := c.Wait(ctx, "C1"); err != nil {
			t.Fatalf("Wait while down: %v", err)
		}
	}
	if took := time.Since(start); took < 350*time.Millisecond || took > 3*time.Second {
		t.Errorf("5 posts at 10/s while down took %s, want about 400ms", took)
	}
	if c.Errors() == 0 {
		t.Error("Errors() = 0 after a failed command")
	}

	// Stay down long enough for go-redis's own dial breaker to open (a pool's worth of
	// failed probe dials), so that coming back goes through it too.
	time.Sleep(time.Second)
	if got := c.Status(); got != "down" {
		t.Errorf("Status() with Redis stopped = %q, want down", got)
	}

	srv.start()
	start = time.Now()
	for deadline := time.Now().Add(5 * time.Second); c.Status() != "ok"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Status() still down 5s after Redis came back")
		}
	}
	t.Logf("Status() ok %s after Redis came back", time.Since(start).Round(time.Millisecond))
	for i, want := range []bool{true, false} {
		if first, err := c.FirstSeen(ctx, "Ev4"); first != want || err != nil {
			t.Errorf("FirstSeen #%d after Redis came back = %v, %v; want %v, nil", i+1, first, err, want)
		}
	}
	if err := c.Wait(ctx, "C2"); err != nil {
		t.Errorf("Wait after Redis came back: %v", err)
	}

	out := logs.String()
	t.Logf("logs:\n%s", out)
	if n := strings.Count(out, "redis is down"); n != 1 || !strings.Contains(out, "level=WARN") {
		t.Errorf("want one WARN \"redis is down\", got %d in:\n%s", n, out)
	}
	if n := strings.Count(out, "redis is back"); n != 1 {
		t.Errorf("want one \"redis is back\", got %d in:\n%s", n, out)
	}
}

func TestCloseStopsTheProbe(t *testing.T) {
	t.Parallel()
	srv := newRedisServer(t)
	srv.start()
	c, err := redisstate.Open(t.Context(), srv.url(), redisstate.Options{ProbeEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.stop()
	if _, err := c.FirstSeen(t.Context(), "Ev1"); err == nil {
		t.Fatal("FirstSeen with Redis stopped succeeded")
	}
	done := make(chan error)
	go func() { done <- c.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return while the probe was running")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// BenchmarkFirstSeen is one dedupe check as the bot makes it (event id and channel+ts):
// one pipelined round trip to Redis.
func BenchmarkFirstSeen(b *testing.B) {
	url := redisURL(b)
	c := open(b, url, redisstate.Options{Prefix: testPrefix(b, url)})
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := c.FirstSeen(ctx, "s:Ev"+strconv.Itoa(i), "s:C1/"+strconv.Itoa(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := strconv.FormatInt(n.Add(1), 10)
				if _, err := c.FirstSeen(ctx, "p:Ev"+i, "p:C1/"+i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkWait is one shared-rate check on a channel with room: one EVALSHA round trip.
func BenchmarkWait(b *testing.B) {
	url := redisURL(b)
	c := open(b, url, redisstate.Options{Prefix: testPrefix(b, url)})
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if err := c.Wait(ctx, "C"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}
