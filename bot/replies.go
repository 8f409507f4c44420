package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// A replyQueue runs the work that follows an acknowledgement (searching, then posting to
// Slack) on a fixed number of workers, so that a slow or failing Slack API never delays an
// acknowledgement and a burst never starts more work than the workers can do. Work that
// does not fit in the queue is dropped, logged and counted, never waited for.
type replyQueue struct {
	jobs    chan reply
	workers int
	log     *slog.Logger
	metrics *metrics
	timeout time.Duration // for one reply, retries included

	mu     sync.RWMutex // guards closed against enqueue racing stop
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context // cancelled when stop gives up waiting
	cancel context.CancelFunc
}

// A reply is one piece of work: what it is for the logs, and the work itself.
type reply struct {
	what string
	do   func(ctx context.Context) error
}

// newReplyQueue returns a queue that takes work at once; start runs it.
func newReplyQueue(workers, size int, timeout time.Duration, log *slog.Logger, m *metrics) *replyQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &replyQueue{jobs: make(chan reply, size), workers: workers, log: log, metrics: m, timeout: timeout, ctx: ctx, cancel: cancel}
}

// start runs the workers, until stop.
func (q *replyQueue) start() {
	for range q.workers {
		q.wg.Go(q.work)
	}
}

// enqueue adds r without waiting, and reports whether it was taken.
func (q *replyQueue) enqueue(r reply) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if !q.closed {
		select {
		case q.jobs <- r:
			return true
		default:
		}
	}
	q.metrics.replies.WithLabelValues("dropped").Inc()
	q.log.Error("reply dropped: the queue is full or closed", "reply", r.what)
	return false
}

func (q *replyQueue) work() {
	for r := range q.jobs {
		q.run(r)
	}
}

func (q *replyQueue) run(r reply) {
	ctx, cancel := context.WithTimeout(q.ctx, q.timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			q.metrics.panics.Inc()
			q.metrics.replies.WithLabelValues("failed").Inc()
			q.log.Error("panic in reply", "reply", r.what, "panic", p)
		}
	}()
	start := time.Now()
	if err := r.do(ctx); err != nil {
		q.metrics.replies.WithLabelValues("failed").Inc()
		q.log.Error("reply failed", "reply", r.what, "err", err, "took", time.Since(start))
		return
	}
	q.metrics.replies.WithLabelValues("delivered").Inc()
	q.log.Debug("reply delivered", "reply", r.what, "took", time.Since(start))
}

// stop takes no more work and waits for the work queued so far, until ctx ends; then it
// cancels what is still running and reports ctx's error.
func (q *replyQueue) stop(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
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
