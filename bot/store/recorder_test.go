package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gatedStore is a real store whose Save waits until open is closed.
type gatedStore struct {
	Store
	entered chan struct{} // told when a Save starts waiting
	open    chan struct{}
}

func newGatedStore(s Store) *gatedStore {
	return &gatedStore{Store: s, entered: make(chan struct{}, 1), open: make(chan struct{})}
}

func (g *gatedStore) Save(ctx context.Context, b Batch) error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.open:
		return g.Store.Save(ctx, b)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flakyStore is a real store whose Save fails while down is set, as a database that is
// down or locked.
type flakyStore struct {
	Store
	down atomic.Bool
}

var errDown = errors.New("database down (test)")

func (f *flakyStore) Save(ctx context.Context, b Batch) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Save(ctx, b)
}

// rows counts the rows of a table.
func rows(t testing.TB, s *sqlStore, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func question(i int) Question {
	return Question{ID: fmt.Sprintf("q%d", i), Surface: SurfaceDM, User: "U1", Text: fmt.Sprintf("question %d", i), Outcome: OutcomeNone}
}

func vote(i int) Vote {
	return Vote{AnswerID: fmt.Sprintf("q%d", i), User: "U1", Value: -1, Question: fmt.Sprintf("question %d", i)}
}

// run starts r.Run and returns a channel closed when it returns.
func run(ctx context.Context, r *Recorder) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	return done
}

// wait fails t unless ch is closed within a generous deadline.
func wait(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Records are written in the background, without Close, within about a second.
func TestRecorderWrites(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		r := NewRecorder(s, RecorderOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		done := run(ctx, r)
		for i := range 3 {
			if !r.Question(question(i)) {
				t.Fatal("Question refused")
			}
		}
		if !r.Vote(vote(0)) {
			t.Fatal("Vote refused")
		}
		eventually(t, "the records in the store", func() bool { return rows(t, s, "questions") == 3 && rows(t, s, "votes") == 1 })
		eventually(t, "the counters", func() bool { return r.Stats().Written == 4 })
		want := RecorderStats{Queued: 4, Written: 4, StoreUp: true}
		if got := r.Stats(); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
		cancel()
		wait(t, "Run to return when its context ends", done)
		if err := r.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// A full queue drops, counts and logs (once in a while), and never blocks.
func TestRecorderFullQueue(t *testing.T) {
	s := openStore(t, sqliteURL(t))
	g := newGatedStore(s)
	logs := &logBuffer{}
	r := NewRecorder(g, RecorderOptions{QueueSize: 10, MaxBatch: 4, FlushEvery: time.Millisecond, Logger: slogTo(logs)})
	done := run(context.Background(), r)
	if !r.Question(question(0)) {
		t.Fatal("Question refused")
	}
	wait(t, "the writer to hold a batch", g.entered)

	taken := 1
	for i := 1; i <= 20; i++ {
		if r.Question(question(i)) {
			taken++
		}
	}
	// The batch held by the writer counts against the queue size.
	if taken != 10 {
		t.Errorf("%d records taken, want 10", taken)
	}
	want := RecorderStats{Queued: 10, Dropped: 11, Pending: 10, StoreUp: true}
	if got := r.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if n := logs.count("records dropped"); n != 1 {
		t.Errorf("%d log lines about drops, want 1 (rate limited):\n%s", n, logs)
	}

	close(g.open)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait(t, "Run to return after Close", done)
	if n := rows(t, s, "questions"); n != 10 {
		t.Errorf("%d questions stored, want 10", n)
	}
	if got := r.Stats(); got.Written != 10 || got.Pending != 0 {
		t.Errorf("Stats = %+v, want 10 written", got)
	}
	// Close reports the drops not logged yet.
	if !strings.Contains(logs.String(), "count=10") {
		t.Errorf("logs:\n%s\nwant the 10 later drops reported", logs)
	}
}

// While the store is down, records are kept and retried; once it is back, all of them,
// including those queued meanwhile, are written without Close.
func TestRecorderStoreDownThenUp(t *testing.T) {
	s := openStore(t, sqliteURL(t))
	f := &flakyStore{Store: s}
	f.down.Store(true)
	logs := &logBuffer{}
	r := NewRecorder(f, RecorderOptions{FlushEvery: 5 * time.Millisecond, MaxBatch: 3, Logger: slogTo(logs)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run(ctx, r)

	for i := range 5 {
		r.Question(question(i))
	}
	eventually(t, "two failed attempts", func() bool { return r.Stats().Failed >= 2 })
	if r.Stats().StoreUp {
		t.Error("StoreUp while the store is down")
	}
	for i := 5; i < 10; i++ {
		r.Question(question(i))
	}
	r.Vote(vote(1))
	r.Vote(vote(7))

	f.down.Store(false)
	eventually(t, "everything written", func() bool { return r.Stats().Written == 12 })
	if q, v := rows(t, s, "questions"), rows(t, s, "votes"); q != 10 || v != 2 {
		t.Errorf("%d questions and %d votes stored, want 10 and 2", q, v)
	}
	st := r.Stats()
	if !st.StoreUp || st.Pending != 0 || st.Dropped != 0 || st.Queued != 12 {
		t.Errorf("Stats = %+v", st)
	}
	if logs.count("level=WARN msg=\"recording failed") != 1 || logs.count("level=INFO msg=\"recording resumed") != 1 {
		t.Errorf("logs:\n%s\nwant one WARN for the failures and one INFO when resumed", logs)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestRecorderCloseFlushes(t *testing.T) {
	for _, withRun := range []bool{true, false} {
		t.Run(fmt.Sprintf("run=%v", withRun), func(t *testing.T) {
			s := openStore(t, sqliteURL(t))
			// Nothing is due before Close: the batch is not full and waits an hour.
			r := NewRecorder(s, RecorderOptions{FlushEvery: time.Hour, MaxBatch: 1000})
			var done <-chan struct{}
			if withRun {
				done = run(context.Background(), r)
			}
			for i := range 7 {
				r.Question(question(i))
			}
			r.Vote(vote(3))
			if got := r.Stats(); got.Written != 0 || got.Pending != 8 {
				t.Fatalf("Stats before Close = %+v", got)
			}
			if err := r.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if withRun {
				wait(t, "Run to return after Close", done)
			}
			if q, v := rows(t, s, "questions"), rows(t, s, "votes"); q != 7 || v != 1 {
				t.Errorf("%d questions and %d votes stored, want 7 and 1", q, v)
			}
			if r.Question(question(8)) || r.Vote(vote(8)) {
				t.Error("a record was taken after Close")
			}
			if got := r.Stats(); got.Written != 8 || got.Dropped != 2 {
				t.Errorf("Stats = %+v, want 8 written and 2 dropped", got)
			}
			if err := r.Close(context.Background()); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// Close makes one last attempt and says how many records were lost.
func TestRecorderCloseStoreDown(t *testing.T) {
	s := openStore(t, sqliteURL(t))
	f := &flakyStore{Store: s}
	f.down.Store(true)
	r := NewRecorder(f, RecorderOptions{})
	for i := range 3 {
		r.Question(question(i))
	}
	err := r.Close(context.Background())
	if !errors.Is(err, errDown) || !strings.Contains(err.Error(), "3 records not written") {
		t.Errorf("Close = %v, want 3 records lost", err)
	}
	if got := r.Stats(); got.Dropped != 3 || got.Pending != 0 || got.Failed != 1 {
		t.Errorf("Stats = %+v", got)
	}
}

// Close gives up when its context ends, even when a Save hangs.
func TestRecorderCloseDeadline(t *testing.T) {
	s := openStore(t, sqliteURL(t))
	g := newGatedStore(s) // never opens
	r := NewRecorder(g, RecorderOptions{FlushEvery: time.Millisecond})
	done := run(context.Background(), r)
	r.Question(question(0))
	wait(t, "the writer to hold a batch", g.entered)
	r.Question(question(1))
	r.Question(question(2))

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline is already past
	err := r.Close(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "3 records not written") {
		t.Errorf("Close = %v, want 3 records lost", err)
	}
	wait(t, "Run to return", done)
}

func TestRecorderRetention(t *testing.T) {
	s := openStore(t, sqliteURL(t))
	save(t, s, Batch{Questions: []Question{
		{ID: "old", At: ago(48 * time.Hour), Outcome: OutcomeNone},
		{ID: "new", At: ago(time.Hour), Outcome: OutcomeNone},
	}})
	r := NewRecorder(s, RecorderOptions{Retention: 24 * time.Hour, Now: func() time.Time { return t0 }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run(ctx, r)
	eventually(t, "the old question pruned", func() bool { return rows(t, s, "questions") == 1 })
	r.Question(question(1))
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var at time.Time
	if err := s.db.QueryRow("SELECT at FROM questions WHERE id = 'q1'").Scan(timeScan{&at}); err != nil || !at.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("the question's time = %v, %v; want Now's, %v", at, err, t0)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	s := openStore(t, sqliteURL(t))
	r := NewRecorder(s, RecorderOptions{MaxBatch: 50, FlushEvery: time.Millisecond})
	done := run(context.Background(), r)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				n := g*1000 + i
				r.Question(question(n))
				r.Vote(vote(n))
				_ = r.Stats()
			}
		})
	}
	wg.Wait()
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait(t, "Run to return", done)
	st := r.Stats()
	if st.Queued != 3200 || st.Written != 3200 || st.Dropped != 0 {
		t.Errorf("Stats = %+v, want 3200 queued and written", st)
	}
	if q, v := rows(t, s, "questions"), rows(t, s, "votes"); q != 1600 || v != 1600 {
		t.Errorf("%d questions and %d votes stored, want 1600 each", q, v)
	}
}

func TestRecorderInvalid(t *testing.T) {
	r := NewRecorder(openStore(t, sqliteURL(t)), RecorderOptions{})
	defer r.Close(context.Background())
	if r.Question(Question{Text: "no ID", Outcome: OutcomeNone}) || r.Vote(Vote{AnswerID: "q", User: "U"}) {
		t.Error("an invalid record was taken")
	}
	if got := r.Stats(); got.Dropped != 2 || got.Queued != 0 {
		t.Errorf("Stats = %+v, want 2 dropped", got)
	}
}

// A nil Recorder (recording off) takes nothing and does not fail.
func TestNilRecorder(t *testing.T) {
	var r *Recorder
	if r.Question(question(1)) || r.Vote(vote(1)) {
		t.Error("a nil Recorder took a record")
	}
	r.Run(context.Background())
	if err := r.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if r.Stats() != (RecorderStats{}) {
		t.Error("a nil Recorder has counters")
	}
}
