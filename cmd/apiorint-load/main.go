// Command apiorint-load measures the bot under load: signed slash commands with thousands of
// distinct questions, against a no-op Go handler measured in the same run, and a burst of
// mentions that must each be acknowledged within 3 s and answered exactly once.
//
//	apiorint-load -spawn ./apiorint [-c 16] [-d 10s] [-knowledge-dir DIR] [-index-path DIR]
//	apiorint-load -spawn ./apiorint -replicas [-redis-url URL] [-events 10000]
//	apiorint-load -url http://host:3000 -secret S [-c 16] [-d 10s]
//	apiorint-load -gen-knowledge DIR -sections 20000
//
// With -spawn it runs the bot itself against a fake Slack on loopback, so that it can also
// time the start-up, read the bot's peak memory and check the burst's answers; it measures
// the bot with recording off and with recording on (SQLite) in turns with the no-op
// handler. With -replicas it runs two bots sharing one Redis, sends each mention to one
// and Slack's retry of it to the other, and checks every one is answered exactly once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiorint-load:", err)
		os.Exit(1)
	}
}

type options struct {
	spawn, url, secret     string
	clients, rounds        int
	duration               time.Duration
	burst                  int
	knowledgeDir, indexDir string
	genDir                 string
	sections               int
	noopAddr               string
	replicas               bool
	redisURL               string
	events                 int
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("apiorint-load", flag.ContinueOnError)
	fs.StringVar(&o.spawn, "spawn", "", "run this apiorint binary against a fake Slack and measure it")
	fs.StringVar(&o.url, "url", "", "or measure the bot already running at this base URL (HTTP mode)")
	fs.StringVar(&o.secret, "secret", "", "the signing secret of the bot at -url")
	fs.IntVar(&o.clients, "c", 16, "concurrent clients")
	fs.DurationVar(&o.duration, "d", 5*time.Second, "how long each measurement runs")
	fs.IntVar(&o.rounds, "rounds", 3, "measurements of the no-op handler and the bot, taking turns (with -spawn)")
	fs.IntVar(&o.burst, "burst", 200, "mentions sent at once (with -spawn)")
	fs.StringVar(&o.knowledgeDir, "knowledge-dir", "", "KNOWLEDGE_DIR for the spawned bot")
	fs.StringVar(&o.indexDir, "index-path", "", "INDEX_PATH for the spawned bot: started twice, to time a reopen")
	fs.StringVar(&o.genDir, "gen-knowledge", "", "write synthetic knowledge (Markdown files) to this directory and exit")
	fs.IntVar(&o.sections, "sections", 20000, "how many sections -gen-knowledge writes")
	fs.StringVar(&o.noopAddr, "serve-noop", "", "serve a no-op handler on this address (the baseline; used by -spawn)")
	fs.BoolVar(&o.replicas, "replicas", false, "with -spawn: two bots on one Redis, each mention retried on the other")
	fs.StringVar(&o.redisURL, "redis-url", "redis://127.0.0.1:6379/0", "the Redis the replicas share (-replicas)")
	fs.IntVar(&o.events, "events", 10000, "mentions sent to the replicas (-replicas)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.noopAddr != "":
		return serveNoop(ctx, o.noopAddr)
	case o.genDir != "":
		return generate(o.genDir, o.sections, stdout)
	case o.spawn != "" && o.replicas:
		return measureReplicas(ctx, o, stdout)
	case o.spawn != "":
		return spawnAndMeasure(ctx, o, stdout)
	case o.url != "":
		if o.secret == "" {
			return errors.New("-url needs -secret, the bot's signing secret")
		}
		return measureRunning(ctx, o, stdout)
	default:
		fs.Usage()
		return errors.New("give -spawn, -url or -gen-knowledge")
	}
}
