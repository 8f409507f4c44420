package store

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenURL(t *testing.T) {
	tests := []struct {
		url     string
		dialect dialect
		what    string // the store's description; "" when open fails
		errHas  string // in the error
	}{
		{url: "", dialect: sqlite, what: "sqlite:apiorint.db"},
		{url: "sqlite:data/records.db", dialect: sqlite, what: "sqlite:data/records.db"},
		{url: "sqlite:///var/lib/apiorint.db", dialect: sqlite, what: "sqlite:/var/lib/apiorint.db"},
		{url: "sqlite://records.db", dialect: sqlite, what: "sqlite:records.db"},
		{url: "postgres://bot:s3cret@db.internal:5432/apiorint?sslmode=require", dialect: postgres, what: "postgres://bot:xxxxx@db.internal:5432/apiorint?sslmode=require"},
		{url: "postgresql://bot@db.internal/apiorint", dialect: postgres, what: "postgresql://bot@db.internal/apiorint"},
		{url: "sqlite:", errHas: "DATABASE_URL"},
		{url: "sqlite:records.db?_pragma=foo", errHas: "'?'"},
		{url: "mysql://bot:s3cret@db/apiorint", errHas: "expected sqlite:PATH"},
		{url: "records.db", errHas: "sqlite:records.db"},
		{url: "postgres://bot:s3cret@db:99999/apiorint", errHas: "DATABASE_URL postgres://bot:xxxxx@"},
		{url: "postgres://bot:s3cret@db:notaport/apiorint", errHas: "not a valid URL"},
		{url: "postgres://bot:s3cret@db/apiorint?sslmode=sometimes", errHas: "sslmode"},
		{url: "postgres://bot:s3cret@db/%zz", errHas: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := open(tt.url)
			if tt.what == "" {
				if err == nil {
					s.Close()
					t.Fatalf("open succeeded, want an error with %q", tt.errHas)
				}
				if msg := err.Error(); !strings.Contains(msg, tt.errHas) || !strings.Contains(msg, "DATABASE_URL") || strings.Contains(msg, "s3cret") {
					t.Errorf("error %q: want DATABASE_URL and %q in it, and no password", msg, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.dialect != tt.dialect || s.what != tt.what {
				t.Errorf("open = %v %q, want %v %q", s.dialect, s.what, tt.dialect, tt.what)
			}
		})
	}
}

func TestOpenOff(t *testing.T) {
	for _, open := range []func(context.Context, string) (Store, error){Open, OpenLazy} {
		if s, err := open(context.Background(), "off"); s != nil || !errors.Is(err, ErrOff) {
			t.Errorf("open(off) = %v, %v; want nil, ErrOff", s, err)
		}
	}
}

func TestOpenSQLiteMissingDirectory(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "no", "such", "dir", "records.db")
	s, err := Open(context.Background(), url)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded")
	}
	if errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("error %q: want a configuration error naming DATABASE_URL", err)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// An unreachable server fails Open fast, with ErrUnavailable and no password; OpenLazy
// returns a store whose calls fail the same way.
func TestOpenUnreachable(t *testing.T) {
	url := "postgres://bot:s3cret@" + closedPort(t) + "/apiorint?sslmode=disable"
	start := time.Now()
	s, err := Open(context.Background(), url)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded")
	}
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open: %v; want ErrUnavailable, without the password", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Open took %v", took)
	}

	lazy, err := OpenLazy(context.Background(), url)
	if err != nil {
		t.Fatalf("OpenLazy: %v", err)
	}
	defer lazy.Close()
	err = lazy.Save(context.Background(), Batch{Questions: []Question{{ID: "q", Outcome: OutcomeNone}}})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Save: %v; want ErrUnavailable", err)
	}
	if _, err := lazy.Gaps(context.Background(), time.Time{}, 0); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Gaps: %v; want ErrUnavailable", err)
	}
}

// A lazy store on a PostgreSQL server that is down when the bot starts: the Recorder
// keeps what is asked meanwhile, and once the server is up, the store migrates and the
// Recorder catches up.
func TestOpenLazyCatchesUp(t *testing.T) {
	target, err := url.Parse(postgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := closedPort(t)
	lazyURL := *target
	lazyURL.Host = addr
	s, err := OpenLazy(context.Background(), lazyURL.String())
	if err != nil {
		t.Fatalf("OpenLazy: %v", err)
	}
	defer s.Close()

	logs := &logBuffer{}
	r := NewRecorder(s, RecorderOptions{FlushEvery: 5 * time.Millisecond, Logger: slogTo(logs)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)
	for i := range 5 {
		r.Question(Question{ID: string(rune('a' + i)), Text: "asked while down", Outcome: OutcomeNone})
	}
	eventually(t, "a failed attempt", func() bool { return r.Stats().Failed > 0 })
	if r.Stats().StoreUp {
		t.Error("StoreUp while the server is down")
	}

	// The server comes up at the address the store was given.
	stop := proxy(t, addr, target.Host)
	defer stop()
	eventually(t, "the records written", func() bool { return r.Stats().Written == 5 })
	gaps, err := s.Gaps(context.Background(), time.Time{}, 0)
	if err != nil || len(gaps) != 1 || gaps[0].Asked != 5 {
		t.Errorf("Gaps = %+v, %v; want the 5 questions", gaps, err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if logs.count("recording failed") != 1 || logs.count("recording resumed") != 1 {
		t.Errorf("logs:\n%s\nwant one failure and one resumption", logs)
	}
}

// proxy forwards connections to addr on to target until stop is called.
func proxy(t *testing.T, addr, target string) (stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skip(err)
		}
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Go(func() { io.Copy(up, c); up.Close() })
			wg.Go(func() { io.Copy(c, up); c.Close() })
		}
	})
	return func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}
