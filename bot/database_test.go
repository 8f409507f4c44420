package bot_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/bot/store"
	"github.com/jackc/pgx/v5"
)

// testPostgres returns a URL of the PostgreSQL that APIORINT_TEST_POSTGRES names, in a
// schema of the test's own (dropped when it ends), or skips the test.
func testPostgres(t *testing.T) *url.URL {
	t.Helper()
	base := os.Getenv("APIORINT_TEST_POSTGRES")
	if base == "" {
		t.Skip("APIORINT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): skipping the tests on a real PostgreSQL")
	}
	var raw [6]byte
	rand.Read(raw[:])
	schema := "apiorint_bot_test_" + hex.EncodeToString(raw[:])
	admin := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("APIORINT_TEST_POSTGRES: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	admin("CREATE SCHEMA " + schema)
	t.Cleanup(func() { admin("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u
}

// A proxy forwards TCP connections to a server until it is cut: the database going away
// and coming back, without stopping the shared server.
type proxy struct {
	target string
	ln     net.Listener
	addr   string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// cut closes the proxy and every connection through it: the server is gone.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore serves again on the same address.
func (p *proxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// TestDatabaseDownMidRun: the database goes away while the bot runs: answers go on, and the
// questions asked meanwhile are recorded once it is back.
func TestDatabaseDownMidRun(t *testing.T) {
	direct := testPostgres(t)
	p := newProxy(t, direct.Host)
	via := *direct
	via.Host = p.addr
	s, err := store.Open(context.Background(), via.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := store.NewRecorder(s, store.RecorderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rec.Run(ctx)
	h := start(t, httpMode, nil, bot.Options{Recorder: rec, Reports: s})

	ask := func(i int) {
		t.Helper()
		start := time.Now()
		code, res := h.command(fmt.Sprintf("what is an api %d", i))
		if code != http.StatusOK || headerOf(t, res["blocks"]) != "What Is An API?" || time.Since(start) > time.Second {
			t.Fatalf("question %d: status %d after %v: %v", i, code, time.Since(start), res)
		}
	}
	for i := range 3 {
		ask(i)
	}
	p.cut()
	for i := 3; i < 10; i++ {
		ask(i) // answered while nothing can be recorded
	}
	eventually(t, "the recorder to notice the database is down", func() bool { return !rec.Stats().StoreUp })
	p.restore(t)
	check, err := store.Open(context.Background(), direct.String())
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	eventually(t, "every question to be recorded", func() bool {
		st, err := check.Stats(context.Background(), time.Now().Add(-time.Hour))
		return err == nil && st.Total == 10
	})
	if rec.Stats().Failed == 0 {
		t.Error("no failed write counted while the database was down")
	}
}

// TestReplicasShareRecords: two replicas record to one PostgreSQL; the gap report sees the
// questions of both.
func TestReplicasShareRecords(t *testing.T) {
	u := testPostgres(t)
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	var replicas []*harness
	var recorders []*store.Recorder
	for range 2 {
		s, err := store.Open(context.Background(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		rec := store.NewRecorder(s, store.RecorderOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go rec.Run(ctx)
		recorders = append(recorders, rec)
		replicas = append(replicas, startOn(t, fake, httpMode, nil, bot.Options{Recorder: rec, Reports: s}, func(*bot.Config) {}))
	}
	replicas[0].command("how do I paginate results from the api?")
	replicas[1].command("how do I paginate results from the api?")
	replicas[1].command("lasagna recipe please")
	for i, r := range replicas {
		r.finish()
		if err := recorders[i].Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	s, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gaps, err := s.Gaps(context.Background(), time.Now().Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) != 2 || gaps[0].Asked != 2 || gaps[0].Outcome != store.OutcomeClosest || gaps[1].Outcome != store.OutcomeNone {
		t.Errorf("gaps %+v, want the pagination question twice (closest), then lasagna (none)", gaps)
	}
}

// eventually fails t unless cond holds within a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
