package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// RecorderOptions configure a Recorder. The zero value works.
type RecorderOptions struct {
	Logger     *slog.Logger     // nil: discard
	QueueSize  int              // records waiting to be written, retried batch included; 0: 10 000
	FlushEvery time.Duration    // the longest a record waits for its batch; 0: 250 ms
	MaxBatch   int              // records in one Save; 0: 500
	Retention  time.Duration    // 0: keep everything; else Prune(now - Retention) at start and every hour
	Now        func() time.Time // nil: time.Now
}

// RecorderStats are a Recorder's counters, for metrics and health checks.
type RecorderStats struct {
	Queued  uint64 // records taken
	Written uint64 // records saved
	Dropped uint64 // records refused (queue full, recorder closed, invalid) or given up at Close
	Failed  uint64 // failed attempts to save a batch
	Pending int    // records taken and not written yet
	StoreUp bool   // whether the last attempt to save succeeded (true before the first)
}

const (
	backoffMin   = 250 * time.Millisecond
	backoffMax   = 5 * time.Second
	pruneEvery   = time.Hour
	writeTimeout = 30 * time.Second // one Save: a hung connection must not stop recording
	pruneTimeout = time.Minute
	dropLogEvery = 10 * time.Second
)

// A Recorder queues records and writes them to a Store in batches in the background, so
// that recording never slows an answer: Question and Vote never wait. While the store is
// down, it keeps what it has (up to QueueSize records) and retries, then catches up.
//
// Run writes; Close writes what is left. A nil *Recorder records nothing, so that a bot
// with DATABASE_URL=off needs no special case. A Recorder is safe for concurrent use.
type Recorder struct {
	s          Store
	log        *slog.Logger
	now        func() time.Time
	size       int
	maxBatch   int
	flushEvery time.Duration
	retention  time.Duration

	mu      sync.Mutex
	queue   []record // waiting
	pending []record // taken by the writer, not saved yet: retried first
	closed  bool
	running bool          // Run's loop is running
	runDone chan struct{} // closed when it returns
	cancel  context.CancelFunc
	dropped dropLog

	wake chan struct{} // a record arrived that may start a batch
	quit chan struct{} // closed by Close: Run returns

	queued, written, drops, failed atomic.Uint64
	storeDown                      atomic.Bool
}

// A record is a question or a vote.
type record struct {
	q      Question
	v      Vote
	isVote bool
}

// NewRecorder returns a Recorder that writes to s (not nil: for no recording, use a nil
// *Recorder). It starts nothing: call Run.
func NewRecorder(s Store, opts RecorderOptions) *Recorder {
	r := &Recorder{
		s:          s,
		log:        opts.Logger,
		now:        opts.Now,
		size:       opts.QueueSize,
		maxBatch:   opts.MaxBatch,
		flushEvery: opts.FlushEvery,
		retention:  opts.Retention,
		wake:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.size <= 0 {
		r.size = 10_000
	}
	if r.maxBatch <= 0 {
		r.maxBatch = 500
	}
	if r.flushEvery <= 0 {
		r.flushEvery = 250 * time.Millisecond
	}
	return r
}

// Question queues q to be written and reports whether it was taken: false when the queue
// is full, the Recorder closed or q invalid (see ErrInvalid). It never waits. A zero At
// is set to now.
func (r *Recorder) Question(q Question) bool {
	if r == nil {
		return false
	}
	if err := validQuestion(q); err != nil {
		r.drop(err.Error())
		return false
	}
	if q.At.IsZero() {
		q.At = r.now()
	}
	return r.add(record{q: q})
}

// Vote is Question for a vote.
func (r *Recorder) Vote(v Vote) bool {
	if r == nil {
		return false
	}
	if err := validVote(v); err != nil {
		r.drop(err.Error())
		return false
	}
	if v.At.IsZero() {
		v.At = r.now()
	}
	return r.add(record{v: v, isVote: true})
}

func (r *Recorder) add(rec record) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.drop("the recorder is closed")
		return false
	}
	if len(r.queue)+len(r.pending) >= r.size {
		r.mu.Unlock()
		r.drop("the queue is full")
		return false
	}
	r.queue = append(r.queue, rec)
	n := len(r.queue)
	r.mu.Unlock()
	r.queued.Add(1)
	// The writer needs to hear of the first record (to start the clock) and of a full batch.
	if n == 1 || n >= r.maxBatch {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// A dropLog logs dropped records at most once every dropLogEvery, with the count since.
type dropLog struct {
	last time.Time
	n    int
}

func (r *Recorder) drop(why string) {
	r.drops.Add(1)
	now := r.now()
	r.mu.Lock()
	r.dropped.n++
	n := r.dropped.n
	if now.Sub(r.dropped.last) < dropLogEvery {
		r.mu.Unlock()
		return
	}
	r.dropped.last, r.dropped.n = now, 0
	r.mu.Unlock()
	r.log.Warn("records dropped", "count", n, "reason", why)
}

// Stats returns the counters.
func (r *Recorder) Stats() RecorderStats {
	if r == nil {
		return RecorderStats{}
	}
	r.mu.Lock()
	pending := len(r.queue) + len(r.pending)
	r.mu.Unlock()
	return RecorderStats{
		Queued:  r.queued.Load(),
		Written: r.written.Load(),
		Dropped: r.drops.Load(),
		Failed:  r.failed.Load(),
		Pending: pending,
		StoreUp: !r.storeDown.Load(),
	}
}

// Run writes the queued records until ctx ends or Close is called; a batch is written
// when it holds MaxBatch records or its first record has waited FlushEvery. Records it
// could not write stay queued for Close. With a Retention, Run also prunes what is older,
// at once and every hour. Run once: a second Run returns at once.
func (r *Recorder) Run(ctx context.Context) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.closed || r.running {
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.running, r.runDone, r.cancel = true, make(chan struct{}), cancel
	r.mu.Unlock()
	defer close(r.runDone)

	if r.retention > 0 {
		// Pruning can take a while on a large record: on its own goroutine, so that records
		// keep being written meanwhile.
		pruned := make(chan struct{})
		defer func() {
			cancel() // a prune under way is stopped, not waited for
			<-pruned
		}()
		go func() {
			defer close(pruned)
			t := time.NewTicker(pruneEvery)
			defer t.Stop()
			for {
				r.prune(ctx)
				select {
				case <-ctx.Done():
					return
				case <-r.quit:
					return
				case <-t.C:
				}
			}
		}()
	}
	flush := time.NewTimer(r.flushEvery)
	flush.Stop()
	armed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.quit:
			return
		case <-r.wake:
			if r.waiting() < r.maxBatch {
				if !armed {
					flush.Reset(r.flushEvery)
					armed = true
				}
				continue
			}
		case <-flush.C:
		}
		flush.Stop()
		armed = false
		if !r.writeAll(ctx) {
			return
		}
	}
}

// writeAll writes batches until nothing is waiting, retrying a batch that fails with
// backoff; it reports false when ctx ended or Close was called meanwhile.
func (r *Recorder) writeAll(ctx context.Context) bool {
	backoff := backoffMin
	for {
		batch, n := r.take()
		if n == 0 {
			return true
		}
		err := r.save(ctx, batch, n)
		if err == nil {
			backoff = backoffMin
			continue
		}
		if errors.Is(err, ErrInvalid) {
			// Cannot happen (records are checked when queued), but retrying would never end.
			r.log.Error("records dropped: the store refuses them", "count", n, "err", err)
			r.drops.Add(uint64(n))
			r.done()
			continue
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-r.quit:
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// waiting is how many records are queued.
func (r *Recorder) waiting() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// take moves up to MaxBatch records from the queue to pending, unless a batch is pending
// already, and returns pending as a Batch.
func (r *Recorder) take() (Batch, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		n := min(len(r.queue), r.maxBatch)
		r.pending = append(r.pending, r.queue[:n]...)
		clear(r.queue[:n]) // let go of the text
		if n == len(r.queue) {
			r.queue = r.queue[:0] // the usual case: the array is used again
		} else {
			r.queue = r.queue[n:] // catching up: no copying while Question waits for the lock
		}
	}
	var b Batch
	for _, rec := range r.pending {
		if rec.isVote {
			b.Votes = append(b.Votes, rec.v)
		} else {
			b.Questions = append(b.Questions, rec.q)
		}
	}
	return b, len(r.pending)
}

// done forgets the pending records: written or given up.
func (r *Recorder) done() {
	r.mu.Lock()
	clear(r.pending)
	r.pending = r.pending[:0]
	r.mu.Unlock()
}

// save makes one attempt to write the pending batch b of n records.
func (r *Recorder) save(ctx context.Context, b Batch, n int) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	err := r.s.Save(ctx, b)
	if err != nil {
		r.failed.Add(1)
		if !r.storeDown.Swap(true) {
			r.log.Warn("recording failed: records are kept and retried", "pending", r.Stats().Pending, "err", err)
		}
		return err
	}
	r.written.Add(uint64(n))
	r.done()
	if r.storeDown.Swap(false) {
		r.log.Info("recording resumed", "failed_attempts", r.failed.Load())
	}
	return nil
}

func (r *Recorder) prune(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, pruneTimeout)
	defer cancel()
	before := r.now().Add(-r.retention)
	n, err := r.s.Prune(ctx, before)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("pruning old records failed", "before", before, "err", err)
		}
		return
	}
	r.log.Debug("pruned old records", "before", before, "deleted", n)
}

// Close stops taking records, stops Run's loop and writes everything still waiting, with
// one attempt per batch, until ctx ends. Its error says how many records were lost. It
// does not close the Store. Later calls do nothing.
func (r *Recorder) Close(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	running, runDone, cancel := r.running, r.runDone, r.cancel
	r.mu.Unlock()
	close(r.quit)
	if running {
		select {
		case <-runDone:
		case <-ctx.Done():
			cancel() // Run is in a Save: cut it short
			<-runDone
		}
	}

	var first error
	lost := 0
	for {
		b, n := r.take()
		if n == 0 {
			break
		}
		if err := r.save(ctx, b, n); err != nil {
			first = cmp.Or(first, err)
			lost += n
			r.drops.Add(uint64(n))
			r.done()
		}
	}
	r.mu.Lock()
	unlogged := r.dropped.n
	r.mu.Unlock()
	if unlogged > 0 {
		r.log.Warn("records dropped", "count", unlogged, "reason", "the queue was full or the recorder closed")
	}
	if lost > 0 {
		return fmt.Errorf("store: %d records not written: %w", lost, first)
	}
	return nil
}
