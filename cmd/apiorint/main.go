// Command apiorint answers "API or integration?" questions, in Slack or in a terminal.
//
//	apiorint                     serve when Slack is configured, otherwise ask in the terminal
//	apiorint serve               run the Slack bot
//	apiorint ask [--json] [-n N] QUESTION...
//	apiorint eval [FILE]         measure answer quality on an evaluation set
//	apiorint healthcheck         probe a running bot's /healthz (for Docker)
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// defaultMemoryLimit is the soft limit on the Go heap unless GOMEMLIMIT says otherwise:
// indexing a large KNOWLEDGE_DIR makes much short-lived garbage, and the limit has the
// collector reclaim it before the heap doubles. The bot itself needs a few tens of MiB.
const defaultMemoryLimit = 200 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
