package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
)

// measureReplicas compares the acknowledgement of mentions by one bot that keeps what it
// handled to itself with two bots that share it through Redis, each mention sent to one of
// them and Slack's retry of it to the other; and checks that each mention is answered
// exactly once.
func measureReplicas(ctx context.Context, o options, stdout io.Writer) error {
	bin, err := filepath.Abs(o.spawn)
	if err != nil {
		return err
	}
	fake := fakeslack.New()
	defer fake.Close()
	secret := "load-test-secret"
	env := []string{"SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_SIGNING_SECRET=" + secret, "SLACK_API_URL=" + fake.APIURL,
		"SLACK_APP_TOKEN=", "LOG_LEVEL=warn", "DATABASE_URL=off", "KNOWLEDGE_DIR=" + o.knowledgeDir}
	run := time.Now().UnixNano() // event IDs of this run only: Redis remembers earlier ones

	alone, _, err := start(ctx, bin, []string{"serve"}, append(env, "REDIS_URL="), "/healthz")
	if err != nil {
		return err
	}
	solo := sendMentions(ctx, []string{alone.base}, secret, o.events, fmt.Sprintf("solo%d", run), o.clients)
	alone.stop()
	fmt.Fprintf(stdout, "one bot, no Redis, %d mentions: ack p50 %.2f ms, p99 %.2f ms, %d failed\n",
		o.events, ms(solo.percentile(0.5)), ms(solo.percentile(0.99)), solo.failures)

	var replicas []*process
	for range 2 {
		p, _, err := start(ctx, bin, []string{"serve"}, append(env, "REDIS_URL="+o.redisURL), "/healthz")
		if err != nil {
			return err
		}
		defer p.kill() // when something below fails; stopped properly otherwise
		replicas = append(replicas, p)
	}
	before := len(fake.Posts())
	shared := sendMentions(ctx, []string{replicas[0].base, replicas[1].base}, secret, o.events, fmt.Sprintf("rep%d", run), o.clients)
	fmt.Fprintf(stdout, "two bots on Redis, %d mentions each sent to one and retried on the other: ack p50 %.2f ms, p99 %.2f ms, %d failed\n",
		o.events, ms(shared.percentile(0.5)), ms(shared.percentile(0.99)), shared.failures)
	fmt.Fprintf(stdout, "the Redis check adds: p50 %+.2f ms, p99 %+.2f ms\n",
		ms(shared.percentile(0.5)-solo.percentile(0.5)), ms(shared.percentile(0.99)-solo.percentile(0.99)))
	for _, p := range replicas {
		if code, err := p.stop(); code != 0 {
			return fmt.Errorf("a replica stopped with status %d (%v)", code, err)
		}
	}
	answered := map[string]int{}
	for _, p := range fake.Posts()[before:] {
		answered[p.Channel]++
	}
	twice := 0
	for _, n := range answered {
		if n > 1 {
			twice++
		}
	}
	fmt.Fprintf(stdout, "answered: %d of %d mentions, %d more than once\n", len(answered), o.events, twice)
	if len(answered) != o.events || twice > 0 {
		return fmt.Errorf("not exactly once: %d answered, %d twice", len(answered), twice)
	}
	return nil
}

// sendMentions sends n mentions, each in a channel of its own (the per-channel rate is not
// what is measured), from clients goroutines. With two bases, a mention goes to one and its
// retry to the other, alternately; the latencies of both count.
func sendMentions(ctx context.Context, bases []string, secret string, n int, run string, clients int) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		mu  sync.Mutex
		all []time.Duration
		bad int
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			failed := 0
			for i := range next {
				ev := map[string]any{"type": "event_callback", "team_id": "T0FAKE", "event_id": fmt.Sprintf("Ev%s-%d", run, i),
					"event": map[string]any{"type": "app_mention", "user": "U1", "channel": fmt.Sprintf("C%s-%d", run, i), "ts": "1000.0001",
						"text": fmt.Sprintf("<@%s> which one scales better?", fakeslack.BotUserID)}}
				body, _ := json.Marshal(ev)
				for attempt := range len(bases) {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, bases[(i+attempt)%len(bases)]+"/slack/events", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					if attempt > 0 {
						req.Header.Set("X-Slack-Retry-Num", "1")
						req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
					}
					fakeslack.SignRequest(req, secret, body)
					t := time.Now()
					res, err := client.Do(req)
					mine = append(mine, time.Since(t))
					if err != nil {
						failed++
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						failed++
					}
				}
			}
			mu.Lock()
			all, bad = append(all, mine...), bad+failed
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	return result{requests: len(all), failures: bad, took: time.Since(start), latencies: all}
}
