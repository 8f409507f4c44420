package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/apiorint/apiorint/bot"
)

// serve runs the Slack bot until ctx ends (SIGINT or SIGTERM), then exits cleanly.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := bot.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	ix, log, err := openIndex(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer ix.Close()
	if getenv("GOGC") == "" {
		tuneGC(getenv, log)
	}
	return bot.New(cfg, ix, bot.Options{Logger: log}).Run(ctx)
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
func tuneGC(getenv func(string) string, log *slog.Logger) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := max(ms.HeapAlloc, 1)
	pct := max(100, 100*gcHeadroom/live)
	debug.SetGCPercent(int(pct))
	goal := live * (100 + pct) / 100
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(int64(goal + gcHeadroom/2))
	}
	log.Debug("GC tuned", "live_heap", live, "gogc", pct, "heap_goal", goal)
}

// healthcheck asks the bot running on LISTEN_ADDR whether it is healthy: the Docker image's
// HEALTHCHECK, which has no shell or curl to do it.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	addr := getenv("LISTEN_ADDR")
	if addr == "" {
		addr = bot.DefaultListenAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR must be host:port or :port, not %q", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s", res.Status)
	}
	return nil
}
