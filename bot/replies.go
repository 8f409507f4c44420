package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// A replyQueue runs the work that follows an acknowledgement (searching, then posting to
// Slack), at most workers pieces at once, so that a slow or failing Slack API never delays
// an acknowledgement and a burst never starts more work than that. A piece that must first
// wait (for a channel's posting rate) waits without taking a worker, so that one busy
// channel does not hold up the others. Work that does not fit in the queue is dropped,
// logged and counted, never waited for.
type replyQueue struct {
	running chan struct{} // one per reply doing its work: the workers
	taken   chan struct{} // one per reply taken and not done: the queue
	log     *slog.Logger
	metrics *metrics
	timeout time.Duration // for one reply, its wait and retries included

	mu     sync.RWMutex // guards closed against enqueue racing stop
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context // cancelled when stop gives up waiting
	cancel context.CancelFunc
}

// A reply is one piece of work: what it is for the logs, what it waits for first, if
// anything (without a worker), and the work itself.
type reply struct {
	what string
	wait func(ctx context.Context) error
	do   func(ctx context.Context) error
}

// newReplyQueue returns a queue that takes work at once. It starts nothing until work
// arrives.
func newReplyQueue(workers, size int, timeout time.Duration, log *slog.Logger, m *metrics) *replyQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &replyQueue{running: make(chan struct{}, workers), taken: make(chan struct{}, size),
		log: log, metrics: m, timeout: timeout, ctx: ctx, cancel: cancel}
}

// enqueue takes r without waiting, and reports whether it was taken.
func (q *replyQueue) enqueue(r reply) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if !q.closed {
		select {
		case q.taken <- struct{}{}:
			q.wg.Add(1)
			go q.run(r)
			return true
		default:
		}
	}
	q.metrics.replies.WithLabelValues("dropped").Inc()
	q.log.Error("reply dropped: the queue is full or closed", "reply", r.what)
	return false
}

func (q *replyQueue) run(r reply) {
	defer q.wg.Done()
	defer func() { <-q.taken }()
	// A panic in the wait or the work fails this reply, not the process.
	defer func() {
		if p := recover(); p != nil {
			q.metrics.panics.Inc()
			q.metrics.replies.WithLabelValues("failed").Inc()
			q.log.Error("panic in reply", "reply", r.what, "panic", p)
		}
	}()
	ctx, cancel := context.WithTimeout(q.ctx, q.timeout)
	defer cancel()
	start := time.Now()
	failed := func(err error) {
		q.metrics.replies.WithLabelValues("failed").Inc()
		q.log.Error("reply failed", "reply", r.what, "err", err, "took", time.Since(start))
	}
	if r.wait != nil {
		if err := r.wait(ctx); err != nil {
			failed(err)
			return
		}
	}
	select {
	case q.running <- struct{}{}:
	case <-ctx.Done():
		failed(ctx.Err())
		return
	}
	defer func() { <-q.running }()
	if err := r.do(ctx); err != nil {
		failed(err)
		return
	}
	q.metrics.replies.WithLabelValues("delivered").Inc()
	q.log.Debug("reply delivered", "reply", r.what, "took", time.Since(start))
}

// stop takes no more work and waits for the work taken so far, until ctx ends; then it
// cancels what is still running and reports ctx's error.
func (q *replyQueue) stop(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-done
		return errors.Join(errors.New("replies still running at shutdown were cancelled"), ctx.Err())
	}
}
