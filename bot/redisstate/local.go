package redisstate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLocalChannels bounds the limiters a LocalLimiter keeps: a few hundred bytes each.
const maxLocalChannels = 10_000

// A LocalLimiter spaces posts per channel in this process only: for a bot without Redis,
// and for a Client while Redis is down. The zero value allows the default rate (1 post a
// second per channel, bursts of 3). It is safe for concurrent use.
type LocalLimiter struct {
	mu       sync.Mutex
	limit    rate.Limit
	burst    int
	max      int
	channels map[string]*rate.Limiter
}

// NewLocalLimiter returns a limiter that lets each channel receive perSecond posts a
// second, with bursts of up to burst. perSecond <= 0 or burst < 1 take the defaults.
func NewLocalLimiter(perSecond float64, burst int) *LocalLimiter {
	l := &LocalLimiter{limit: rate.Limit(perSecond), burst: burst}
	l.init()
	return l
}

// init fills in the defaults; l.mu is held, or l is not shared yet.
func (l *LocalLimiter) init() {
	if l.channels != nil {
		return
	}
	if !(l.limit > 0) {
		l.limit = defaultRate
	}
	if l.burst < 1 {
		l.burst = defaultBurst
	}
	if l.max < 1 {
		l.max = maxLocalChannels
	}
	l.channels = make(map[string]*rate.Limiter)
}

// Wait blocks until channel may receive one more post, or ctx ends. When ctx's deadline
// comes before the post's turn, it returns at once with an error that wraps
// context.DeadlineExceeded.
func (l *LocalLimiter) Wait(ctx context.Context, channel string) error {
	err := l.limiter(channel).Wait(ctx)
	if err != nil && ctx.Err() == nil {
		// rate reports a wait past the deadline before it happens, in its own words.
		return fmt.Errorf("redisstate: posting to %s: %w (%v)", channel, context.DeadlineExceeded, err)
	}
	return err
}

func (l *LocalLimiter) limiter(channel string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if lim, ok := l.channels[channel]; ok {
		return lim
	}
	if len(l.channels) >= l.max {
		l.evict(time.Now())
	}
	lim := rate.NewLimiter(l.limit, l.burst)
	l.channels[channel] = lim
	return lim
}

// evict forgets the channels whose bucket has refilled: a new limiter would behave the
// same, so nothing is lost. If every channel is busy, which takes more channels posting
// at once than one bot sees, it forgets one at random to keep the bound.
func (l *LocalLimiter) evict(now time.Time) {
	full := float64(l.burst)
	for ch, lim := range l.channels {
		if lim.TokensAt(now) >= full {
			delete(l.channels, ch)
		}
	}
	for ch := range l.channels {
		if len(l.channels) < l.max {
			break
		}
		delete(l.channels, ch)
	}
}
