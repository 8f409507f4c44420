package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/apiorint/apiorint/bot"
)

// serve runs the Slack bot until ctx ends (SIGINT or SIGTERM), then exits cleanly.
func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := bot.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	log, err := newLogger(getenv, stderr)
	if err != nil {
		return err
	}
	ix, err := openIndex(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer ix.Close()
	return bot.New(cfg, ix, bot.Options{Logger: log}).Run(ctx)
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
