package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
	"github.com/joho/godotenv"
)

// exitError carries the exit status a failure should end the program with.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// usageError fails with exit status 2, the convention for a command used wrongly.
func usageError(format string, args ...any) error {
	return exitError{code: 2, err: fmt.Errorf(format, args...)}
}

const usage = `usage:
  apiorint                                 serve when Slack is configured, otherwise ask here
  apiorint serve                           run the Slack bot
  apiorint ask [--json] [-n N] QUESTION... answer one question
  apiorint gaps [--since 168h] [--json] [-n 50]
                                           questions the knowledge answered badly (DATABASE_URL)
  apiorint stats [--since 168h]            the numbers behind them
  apiorint eval [FILE]                     measure answer quality on the evaluation sets
  apiorint healthcheck                     check a running bot's /healthz`

// run is the whole program: main only adds the process around it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env, err := withDotEnv(getenv, ".env")
	if err != nil {
		return err
	}
	cmd, rest := "", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "":
		if slackConfigured(env) {
			return serve(ctx, env, stderr)
		}
		return interactive(ctx, env, stdin, stdout, stderr)
	case "serve":
		return serve(ctx, env, stderr)
	case "ask":
		return ask(ctx, env, rest, stdout, stderr)
	case "eval":
		return eval(ctx, env, rest, stdout)
	case "gaps":
		return gaps(ctx, env, rest, stdout, stderr)
	case "stats":
		return stats(ctx, env, rest, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, env)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return usageError("unknown command %q\n%s", cmd, usage)
	}
}

// withDotEnv returns a getenv that falls back to the variables of the file at path (a .env
// file), so that the real environment wins. A missing file is no error.
func withDotEnv(getenv func(string) string, path string) (func(string) string, error) {
	file, err := godotenv.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return getenv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func(key string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return file[key]
	}, nil
}

// slackConfigured reports whether any Slack setting is given: then the bot is what is
// wanted, and a missing piece is an error to report rather than a reason to fall back to
// the terminal.
func slackConfigured(getenv func(string) string) bool {
	return getenv("SLACK_BOT_TOKEN") != "" || getenv("SLACK_APP_TOKEN") != "" || getenv("SLACK_SIGNING_SECRET") != ""
}

// openIndex makes the logger LOG_LEVEL and LOG_FORMAT ask for, writing to logs, then loads
// the knowledge (the article and KNOWLEDGE_DIR) and indexes it, in memory or at INDEX_PATH.
func openIndex(ctx context.Context, getenv func(string) string, logs io.Writer) (*index.Index, *slog.Logger, error) {
	log, err := newLogger(getenv, logs)
	if err != nil {
		return nil, nil, err
	}
	ix, err := loadIndex(ctx, getenv, log, "")
	return ix, log, err
}

// loadIndex loads the knowledge and indexes it; unless is the hash of the index in service,
// for which it returns index.ErrUnchanged. Its errors name the variable at fault.
func loadIndex(ctx context.Context, getenv func(string) string, log *slog.Logger, unless string) (*index.Index, error) {
	start := time.Now()
	lib, err := knowledge.Load(ctx, getenv("KNOWLEDGE_DIR"))
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("stopped while loading the knowledge: %w", ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("KNOWLEDGE_DIR: %w", err)
	}
	path := getenv("INDEX_PATH")
	ix, err := index.New(ctx, lib, index.Options{Path: path, Logger: log, Unless: unless})
	switch {
	case errors.Is(err, index.ErrUnchanged):
		return nil, err
	case ctx.Err() != nil:
		if err == nil {
			ix.Close() // built, but stopped before anyone could use it
		}
		return nil, fmt.Errorf("stopped while indexing the knowledge: %w", ctx.Err())
	case errors.Is(err, index.ErrNotOurs):
		return nil, fmt.Errorf("INDEX_PATH %s is %w: nothing was changed; point INDEX_PATH at a new or empty directory", path, err)
	case err != nil && path != "":
		return nil, fmt.Errorf("INDEX_PATH %s: %w", path, err)
	case err != nil:
		return nil, err
	}
	log.Debug("knowledge indexed", "sections", ix.Size(), "hash", ix.Hash(), "took", time.Since(start))
	return ix, nil
}

// newLogger returns a logger as LOG_LEVEL and LOG_FORMAT ask, writing to w.
func newLogger(getenv func(string) string, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", v)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format := strings.ToLower(getenv("LOG_FORMAT")); format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("LOG_FORMAT must be text or json, not %q", format)
	}
}
