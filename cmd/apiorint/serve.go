package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/redisstate"
	"github.com/apiorint/apiorint/bot/store"
	"github.com/apiorint/apiorint/index"
)

// defaultRetentionDays is how long question records are kept unless RETENTION_DAYS says.
const defaultRetentionDays = 90

// flushWait bounds how long a stop waits for the records still queued to be written.
const flushWait = 10 * time.Second

// serve runs the Slack bot until ctx ends (SIGINT or SIGTERM), then exits cleanly: it checks
// the configuration, connects to Redis and the record of questions, loads the knowledge,
// watches KNOWLEDGE_DIR, and serves.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := bot.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(getenv, stderr)
	if err != nil {
		return err
	}
	retention, err := retentionFromEnv(getenv)
	if err != nil {
		return err
	}
	opts := bot.Options{Logger: log}
	if url := strings.TrimSpace(getenv("REDIS_URL")); url != "" {
		if opts.Redis, err = redisstate.Open(ctx, url, redisstate.Options{Logger: log}); err != nil {
			return err
		}
		defer opts.Redis.Close()
	}
	records, err := openRecords(ctx, getenv("DATABASE_URL"), log)
	if err != nil {
		return err
	}
	if records != nil {
		defer records.Close()
	}

	ix, err := loadIndex(ctx, getenv, log, "")
	if err != nil {
		return err
	}
	live := index.NewLive(ix)
	defer live.Close()
	afterLoad(ctx, log)
	opts.Knowledge = live

	var recorder *store.Recorder
	if records != nil {
		recorder = store.NewRecorder(records, store.RecorderOptions{Logger: log, Retention: retention})
		runCtx, stopRecording := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			recorder.Run(runCtx)
		}()
		defer func() {
			// After the bot stopped: what it recorded is written before the process ends.
			flushCtx, cancel := context.WithTimeout(context.Background(), flushWait)
			defer cancel()
			if err := recorder.Close(flushCtx); err != nil {
				log.Error("records lost at shutdown", "err", err)
			}
			stopRecording()
			<-done
		}()
		opts.Recorder, opts.Reports = recorder, records
	}
	b := bot.New(cfg, live, opts)
	r := &reloader{getenv: getenv, log: log, live: live, report: b.ReloadResult}
	stopWatching, err := r.watch(ctx, getenv("KNOWLEDGE_DIR"))
	if err != nil {
		return err
	}
	defer stopWatching()
	return b.Run(ctx)
}

// openRecords opens the record of questions that DATABASE_URL names, or returns nil when it
// is off. A PostgreSQL server that cannot be reached does not stop the bot: it answers,
// counts what it could not record yet, and catches up once the server is back.
func openRecords(ctx context.Context, url string, log *slog.Logger) (store.Store, error) {
	s, err := store.Open(ctx, url)
	switch {
	case errors.Is(err, store.ErrOff):
		log.Info("questions are not recorded (DATABASE_URL=off)")
		return nil, nil
	case errors.Is(err, store.ErrUnavailable):
		log.Warn("the record of questions cannot be reached: answering anyway, recording once it is back", "err", err)
		return store.OpenLazy(ctx, url)
	case err != nil:
		return nil, err
	}
	return s, nil
}

// retentionFromEnv reads RETENTION_DAYS: how long records are kept, 90 days unless set.
func retentionFromEnv(getenv func(string) string) (time.Duration, error) {
	v := strings.TrimSpace(getenv("RETENTION_DAYS"))
	if v == "" {
		return defaultRetentionDays * 24 * time.Hour, nil
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 1 || days > 36500 {
		return 0, fmt.Errorf("RETENTION_DAYS must be a whole number of days from 1, like %d, not %q", defaultRetentionDays, v)
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// sighup returns a channel that receives SIGHUP until stop is called: a reload of the
// knowledge, as operators expect of a daemon.
func sighup() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
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
