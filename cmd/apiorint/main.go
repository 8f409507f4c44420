// Command apiorint answers "API or integration?" questions, in Slack or in a terminal.
//
//	apiorint                     serve when Slack is configured, otherwise ask in the terminal
//	apiorint serve               run the Slack bot
//	apiorint ask [--json] [-n N] QUESTION...
//	apiorint gaps [--since D] [--json] [-n N]   questions the knowledge answered badly
//	apiorint stats [--since D]                  the numbers behind them
//	apiorint eval [FILE]         measure answer quality on the shipped evaluation sets
//	apiorint healthcheck         probe a running bot's /healthz (for Docker)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// defaultMemoryLimit is the soft limit on the Go heap unless GOMEMLIMIT says otherwise:
// indexing a large KNOWLEDGE_DIR makes much short-lived garbage, and the limit has the
// collector reclaim it before the heap doubles. The bot itself needs a few tens of MiB.
const defaultMemoryLimit = 200 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	// go-redis prints each failed dial of its pool to stderr; the bot says once that Redis
	// is down, and once that it is back.
	redis.SetLogger(quietRedis{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The collector is tuned for the process once the knowledge is loaded: in main, so that
	// tests of run do not change their own process's settings.
	if os.Getenv("GOGC") == "" {
		ctx = withAfterLoad(ctx, tuneGC)
	}
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiorint:", err)
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		os.Exit(1)
	}
}

// gcHeadroom is how much the heap may grow past what is live before the collector runs.
// With the article alone a few MiB are live, and Go's default (grow by 100 %) would collect
// every few hundred requests and hand memory back to the system only to fault it in again:
// most of the bot's CPU under load. A fixed headroom keeps the collector rare and the heap
// small; with a large KNOWLEDGE_DIR the default is as generous already.
const gcHeadroom = 24 << 20

// tuneGC sets GOGC so that the heap may grow by gcHeadroom over what is live once the
// knowledge is loaded (never less than Go's default of 100 %), and, unless GOMEMLIMIT says
// otherwise, a soft memory limit half a headroom above that, which bounds the overshoot of
// a busy moment.
func tuneGC(log *slog.Logger) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := max(ms.HeapAlloc, 1)
	pct := max(100, 100*gcHeadroom/live)
	debug.SetGCPercent(int(pct))
	goal := live * (100 + pct) / 100
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(goal + gcHeadroom/2))
	}
	log.Debug("GC tuned", "live_heap", live, "gogc", pct, "heap_goal", goal)
}

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// afterLoadKey carries what the process does each time serve has loaded the knowledge.
type afterLoadKey struct{}

func withAfterLoad(ctx context.Context, f func(*slog.Logger)) context.Context {
	return context.WithValue(ctx, afterLoadKey{}, f)
}

// afterLoad runs what main asked to run once knowledge is loaded and in service, if anything.
func afterLoad(ctx context.Context, log *slog.Logger) {
	if f, ok := ctx.Value(afterLoadKey{}).(func(*slog.Logger)); ok {
		f(log)
	}
}
