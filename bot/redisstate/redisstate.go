// Package redisstate is the state that several replicas of the bot share through Redis:
// which Slack events were already handled, and how fast each channel may be posted to.
//
// Redis is an optimisation here, never a dependency of answering: when it cannot be
// reached, FirstSeen returns an error so that the caller falls back to its own in-process
// set, and Wait spaces posts with a limiter of this process alone. A background probe
// notices when Redis is back.
//
// Keys: Prefix+"seen:"+key for handled events, "rate:"+Prefix+"post:"+channel for the post
// rate (redis_rate adds its own "rate:" in front), and Prefix+"probe", which the probe
// writes while Redis is down. All expire by themselves.
package redisstate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Options tune a Client. The zero value is ready to use.
type Options struct {
	Prefix string        // key prefix, default "apiorint:"; tests use their own
	TTL    time.Duration // how long a handled key is remembered; default 15 minutes, at least 10
	Logger *slog.Logger  // nil: discard

	// Rate and Burst of posts per channel: default 1 per second with a burst of 3 (Slack's
	// guidance: about one message per second per channel, short bursts allowed).
	Rate  float64
	Burst int

	ProbeEvery time.Duration // while down, how often to PING to notice it is back; default 1 s
}

const (
	defaultPrefix     = "apiorint:"
	defaultTTL        = 15 * time.Minute
	minTTL            = 10 * time.Minute // Slack retries an event for a few minutes
	defaultRate       = 1.0
	defaultBurst      = 3
	defaultProbeEvery = time.Second

	// A dedupe check sits in front of an acknowledgement that Slack wants within 3 s:
	// Redis answers in well under a millisecond, so anything slower is an outage.
	defaultTimeout = 500 * time.Millisecond
	// poolWait bounds the wait for a connection of the pool (go-redis's default size, ten
	// per CPU) in a burst: a busy pool is this process being busy, not Redis being down.
	poolWait = time.Second
	// dialWait bounds opening a connection, which a machine under load can take longer to
	// do than a command takes to answer.
	dialWait = time.Second
	minIdle  = 4
)

// ErrDown is returned by FirstSeen while Redis is known to be unreachable: it is not asked
// again until the probe has seen it answer.
var ErrDown = errors.New("redisstate: redis is down")

// A Client is the shared state on one Redis. It is safe for concurrent use.
type Client struct {
	rdb    *redis.Client
	rate   *redis_rate.Limiter
	limit  redis_rate.Limit
	local  *LocalLimiter
	prefix string
	ttl    time.Duration
	log    *slog.Logger

	down      atomic.Bool
	downSince atomic.Int64 // unix nanoseconds, for the "back" log line
	errs      atomic.Uint64
	wentDown  chan struct{} // wakes the probe; buffered, so marking down never blocks

	mu      sync.Mutex
	waiting map[string]int // by channel: this process's posts waiting for their turn

	stop      context.CancelFunc // ends the probe
	probing   sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Open connects to the Redis that rawURL names (redis://[user:password@]host:port/db or
// rediss://…) and PINGs it. Unreachable at start is an error that names REDIS_URL and the
// address, never the password.
//
// Connection settings the URL's query does not set get short timeouts (500 ms). Command retries are always off: a SET NX retried after its reply was lost
// would find its own key and report a first delivery as a duplicate, which drops the
// event; an error instead falls back to the caller's in-process set.
func Open(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Parse's errors quote the whole URL, password included: keep only the reason.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("REDIS_URL must be redis://[user:password@]host:port/db or rediss://…: %w", err)
	}
	if ro.DialTimeout == 0 {
		ro.DialTimeout = dialWait
	}
	if ro.MinIdleConns == 0 {
		ro.MinIdleConns = minIdle // a burst finds connections ready, rather than dialling
	}
	if ro.ReadTimeout == 0 {
		ro.ReadTimeout = defaultTimeout
	}
	if ro.WriteTimeout == 0 {
		ro.WriteTimeout = defaultTimeout
	}
	if ro.PoolTimeout == 0 {
		ro.PoolTimeout = poolWait
	}
	if ro.PipelinePoolSize == 0 {
		ro.PipelinePoolSize = -1 // our pipelines are a few SETs: share the one pool
	}
	ro.DialerRetries = 1 // the probe is our retry; a dial that fails fails now
	ro.MaxRetries = -1
	ro.ContextTimeoutEnabled = true // a caller's deadline bounds the round trip too

	rdb := redis.NewClient(ro)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("REDIS_URL: cannot use redis at %s: %w", ro.Addr, err)
	}

	probeCtx, stop := context.WithCancel(context.Background())
	c := &Client{
		rdb:  rdb,
		rate: redis_rate.NewLimiter(rdb),
		// redis_rate counts whole events per period: one post per 1/Rate seconds.
		limit:    redis_rate.Limit{Rate: 1, Burst: opts.Burst, Period: time.Duration(float64(time.Second) / opts.Rate)},
		local:    NewLocalLimiter(opts.Rate, opts.Burst),
		prefix:   opts.Prefix,
		ttl:      opts.TTL,
		log:      opts.Logger,
		wentDown: make(chan struct{}, 1),
		waiting:  make(map[string]int),
		stop:     stop,
	}
	c.probing.Go(func() { c.probe(probeCtx, opts.ProbeEvery) })
	return c, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	switch {
	case o.TTL == 0:
		o.TTL = defaultTTL
	case o.TTL < minTTL:
		return o, fmt.Errorf("redisstate: TTL %s is too short: Slack retries an event for minutes, keep it at least %s", o.TTL, minTTL)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if !(o.Rate > 0) {
		o.Rate = defaultRate
	}
	if o.Burst < 1 {
		o.Burst = defaultBurst
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = defaultProbeEvery
	}
	return o, nil
}

// FirstSeen reports whether none of keys was marked before, and marks them all for the
// TTL, with one SET key NX EX for each in a single round trip. first is true only if every
// SET succeeded: a retried event shares its event key, and a mention that also arrives as
// a message shares its channel+ts key, so the second delivery finds a key already set.
// Keys that were new are marked even when first is false, so a retry of that delivery is
// a duplicate too. Empty keys are ignored; with no key at all, first is true.
//
// An error means Redis did not answer (ErrDown while it is known to be down): the caller
// falls back to its own in-process set.
func (c *Client) FirstSeen(ctx context.Context, keys ...string) (first bool, err error) {
	marks := make([]string, 0, len(keys))
	for _, k := range keys {
		// A key repeated in one call must not count as seen before.
		if k != "" && !slices.Contains(marks, k) {
			marks = append(marks, k)
		}
	}
	if len(marks) == 0 {
		return true, nil
	}
	if c.down.Load() {
		return false, ErrDown
	}
	cmds := make([]*redis.BoolCmd, len(marks))
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range marks {
			cmds[i] = p.SetNX(ctx, c.prefix+"seen:"+k, 1, c.ttl)
		}
		return nil
	})
	if err != nil {
		return false, c.failed(ctx, fmt.Errorf("redisstate: marking keys handled: %w", err))
	}
	first = true
	for _, cmd := range cmds {
		first = first && cmd.Val()
	}
	return first, nil
}

// Wait blocks until channel may receive one more post under the rate shared by every
// replica, or ctx ends. When Redis does not answer it spaces posts with a limiter of this
// process (the same rate) instead. A post that cannot get its turn before ctx's deadline —
// counting the posts of this process already waiting for the channel — fails at once with
// context.DeadlineExceeded, rather than holding its place until then; the only other error
// is ctx's.
func (c *Client) Wait(ctx context.Context, channel string) error {
	key := c.prefix + "post:" + channel
	ahead := c.queue(channel, +1)
	defer c.queue(channel, -1)
	every := c.limit.Period / time.Duration(c.limit.Rate)
	late := func(wait time.Duration) error {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return fmt.Errorf("redisstate: posting to %s: %w (%d posts ahead)", channel, context.DeadlineExceeded, ahead)
		}
		return nil
	}
	if err := late(time.Duration(max(ahead-c.limit.Burst+1, 0)) * every); err != nil {
		return err
	}
	for {
		if c.down.Load() {
			return c.local.Wait(ctx, channel)
		}
		res, err := c.rate.Allow(ctx, key, c.limit)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.failed(ctx, fmt.Errorf("redisstate: rate of %s: %w", channel, err))
			return c.local.Wait(ctx, channel)
		}
		if res.Allowed > 0 {
			return nil
		}
		if err := late(res.RetryAfter); err != nil {
			return err
		}
		// GCRA says exactly when the next post fits; another post (of this replica or
		// another) may take that slot first, so ask again then, a little spread out so
		// that the waiters of a busy channel do not all ask at once.
		t := time.NewTimer(res.RetryAfter + rand.N(every/10+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// queue adds d to the posts of this process waiting for channel, and returns how many were
// waiting before.
func (c *Client) queue(channel string, d int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	before := c.waiting[channel]
	if before+d == 0 {
		delete(c.waiting, channel)
	} else {
		c.waiting[channel] = before + d
	}
	return before
}

// Status is "ok", or "down" from the first failed command until a probe succeeds again.
func (c *Client) Status() string {
	if c.down.Load() {
		return "down"
	}
	return "ok"
}

// Errors counts the Redis commands that failed, for a metric. Calls made while Redis is
// known to be down go straight to the fallback and are not counted.
func (c *Client) Errors() uint64 { return c.errs.Load() }

// Close stops the probe and closes the connections. Calls after Close fail like calls
// to an unreachable Redis.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.stop()
		c.probing.Wait()
		c.closeErr = c.rdb.Close()
	})
	return c.closeErr
}

// failed records err from a command and returns it. An error caused by the caller's
// context, by Close, or by a burst that took every connection of the pool says nothing
// about Redis and does not mark it down.
func (c *Client) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) {
		return err
	}
	c.errs.Add(1)
	if c.down.CompareAndSwap(false, true) {
		c.downSince.Store(time.Now().UnixNano())
		c.log.Warn("redis is down: falling back to in-process dedupe and rate", "err", err)
		select {
		case c.wentDown <- struct{}{}:
		default:
		}
	}
	return err
}

// probe sleeps while Redis is up; once it is down, it writes a probe key every `every`
// until that succeeds. go-redis reconnects by itself: the probe only decides when to trust it again.
func (c *Client) probe(ctx context.Context, every time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wentDown:
		}
		t := time.NewTicker(every)
		for c.down.Load() {
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			// A write, as the bot's own commands are: a Redis that answers PING but refuses
			// writes (out of memory, a read-only replica) is still down for the bot.
			pctx, cancel := context.WithTimeout(ctx, every)
			err := c.rdb.Set(pctx, c.prefix+"probe", 1, time.Minute).Err()
			cancel()
			if err == nil && c.down.CompareAndSwap(true, false) {
				c.log.Info("redis is back", "down_for", time.Since(time.Unix(0, c.downSince.Load())).Round(time.Millisecond))
			}
		}
		t.Stop()
	}
}
