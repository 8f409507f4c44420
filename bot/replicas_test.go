package bot_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/bot/redisstate"
	"github.com/redis/go-redis/v9"
)

// testRedis returns the Redis that APIORINT_TEST_REDIS names, or skips the test. keys are
// prefixed with a prefix of the test's own, removed when it ends.
func testRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	url = os.Getenv("APIORINT_TEST_REDIS")
	if url == "" {
		t.Skip("APIORINT_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0): skipping the tests on a real Redis")
	}
	var raw [6]byte
	rand.Read(raw[:])
	prefix = "apiorint-test-" + hex.EncodeToString(raw[:]) + ":"
	t.Cleanup(func() {
		opts, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		c := redis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
			iter := c.Scan(ctx, 0, pattern, 100).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
		}
	})
	return url, prefix
}

// replica opens a client of the shared Redis for one replica.
func replica(t *testing.T, url string, opts redisstate.Options) *redisstate.Client {
	t.Helper()
	c, err := redisstate.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestReplicasAnswerOnce: two replicas share one Redis; 200 mentions are each delivered to
// one replica and retried on the other, as Slack's retries can land: exactly 200 answers,
// none twice. Over HTTP and over Socket Mode with a connection each.
func TestReplicasAnswerOnce(t *testing.T) {
	url, prefix := testRedis(t)
	for _, m := range []mode{httpMode, socketMode} {
		t.Run([]string{"http", "socket"}[m], func(t *testing.T) {
			fake := fakeslack.New()
			t.Cleanup(fake.Close)
			var replicas []*harness
			for range 2 {
				opts := bot.Options{Redis: replica(t, url, redisstate.Options{Prefix: prefix + strconv.Itoa(int(m)) + ":"})}
				replicas = append(replicas, startOn(t, fake, m, nil, opts, func(*bot.Config) {}))
			}
			const n, senders = 200, 20 // Slack has many events in flight, not all at once
			next := make(chan int)
			go func() {
				for i := range n {
					next <- i
				}
				close(next)
			}()
			var wg sync.WaitGroup
			for range senders {
				wg.Go(func() {
					for i := range next {
						ev := callback(fmt.Sprintf("EvRep%d", i), mention("<@U0BOT> which one scales better?", fmt.Sprintf("CR%d", i), "1.0001", ""))
						first, second := i%2, 1-i%2
						if m == httpMode {
							replicas[first].event(ev)
							replicas[second].event(ev, "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout")
							continue
						}
						for attempt, conn := range []int{first, second} {
							if _, err := fake.SendTo(conn, "events_api", ev, attempt); err != nil {
								t.Error(err)
							}
						}
					}
				})
			}
			wg.Wait()
			if m == socketMode {
				// Every envelope acknowledged: each replica has taken what it was sent.
				deadline := time.Now().Add(10 * time.Second)
				for len(ackedEnvelopes(fake)) < 2*n && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			}
			for _, r := range replicas {
				r.finish()
			}
			answered := map[string]int{}
			for _, p := range fake.Posts() {
				answered[p.Channel]++
			}
			twice := 0
			for _, c := range answered {
				if c > 1 {
					twice++
				}
			}
			if len(answered) != n || twice > 0 {
				t.Errorf("%d mentions answered (want %d), %d of them more than once", len(answered), n, twice)
			}
		})
	}
}

func ackedEnvelopes(fake *fakeslack.Server) map[string]bool {
	acked := map[string]bool{}
	for i := 1; i <= 10000; i++ {
		id := fmt.Sprintf("env-%d", i)
		if _, err := fake.WaitAck(id, 0); err == nil {
			acked[id] = true
		} else {
			break
		}
	}
	return acked
}

// TestRedisLostWhileRunning: Redis (a server this test runs, then kills) goes away: the bot
// keeps answering on what it knows itself, says "down" in /healthz, and says "ok" again
// once Redis is back.
func TestRedisLostWhileRunning(t *testing.T) {
	if os.Getenv("APIORINT_TEST_REDIS") == "" {
		t.Skip("APIORINT_TEST_REDIS is not set: skipping the tests on a real Redis")
	}
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	run := func() *exec.Cmd {
		cmd := exec.Command(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	redisProc := run()
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	var client *redisstate.Client
	for deadline := time.Now().Add(5 * time.Second); ; {
		if client, err = redisstate.Open(context.Background(), url, redisstate.Options{ProbeEvery: 100 * time.Millisecond}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { client.Close() })
	h := start(t, httpMode, nil, bot.Options{Redis: client})
	waitRedis := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			res, err := http.Get(h.url + "/healthz")
			if err == nil {
				var health map[string]any
				json.NewDecoder(res.Body).Decode(&health)
				res.Body.Close()
				if health["redis"] == want {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("/healthz never said redis %q", want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitRedis("ok")
	h.event(callback("EvUp", mention("<@U0BOT> complexity", "CU1", "1.1", "")))
	redisProc.Process.Kill()
	redisProc.Wait()
	for i := range 5 {
		h.event(callback(fmt.Sprintf("EvDown%d", i), mention("<@U0BOT> complexity", fmt.Sprintf("CD%d", i), "1.1", "")))
	}
	waitRedis("down")
	h.event(callback("EvDown0", mention("<@U0BOT> complexity", "CD0", "1.1", ""))) // a retry: still once
	run()
	waitRedis("ok")
	h.event(callback("EvBack", mention("<@U0BOT> complexity", "CB1", "1.1", "")))
	if posts := h.finish(); len(posts) != 7 {
		t.Errorf("%d answers, want 7 (1 before, 5 while Redis was down, 1 after; the retry not again)", len(posts))
	}
}

// TestPerChannelRate: 20 answers for one channel in a burst are all delivered, spaced by
// the posting rate; with Redis, two replicas share it.
func TestPerChannelRate(t *testing.T) {
	const rate, n = 20.0, 20
	check := func(t *testing.T, fake *fakeslack.Server, replicas []*harness) {
		for i := range n {
			replicas[i%len(replicas)].event(callback(fmt.Sprintf("EvRate%d", i), mention("<@U0BOT> scalability", "CRATE", fmt.Sprintf("5.%d", i), "")))
		}
		for _, r := range replicas {
			r.finish()
		}
		posts := fake.PostsTo("CRATE")
		if len(posts) != n {
			t.Fatalf("%d of %d answers delivered", len(posts), n)
		}
		first, last := posts[0].At, posts[len(posts)-1].At
		// A burst of one, then one every 1/rate seconds: at least (n-1)/rate in all.
		if spread, want := last.Sub(first), time.Duration(float64(n-1)/rate*0.9*float64(time.Second)); spread < want {
			t.Errorf("%d answers over %v, want them spaced over at least %v", n, spread, want)
		}
	}
	t.Run("in process", func(t *testing.T) {
		fake := fakeslack.New()
		t.Cleanup(fake.Close)
		h := startOn(t, fake, httpMode, nil, bot.Options{PostRate: rate, PostBurst: 1}, func(*bot.Config) {})
		check(t, fake, []*harness{h})
	})
	t.Run("shared by two replicas", func(t *testing.T) {
		url, prefix := testRedis(t)
		fake := fakeslack.New()
		t.Cleanup(fake.Close)
		var replicas []*harness
		for range 2 {
			opts := bot.Options{Redis: replica(t, url, redisstate.Options{Prefix: prefix, Rate: rate, Burst: 1})}
			replicas = append(replicas, startOn(t, fake, httpMode, nil, opts, func(*bot.Config) {}))
		}
		check(t, fake, replicas)
	})
}

// TestBusyChannelDoesNotHoldUpOthers: a burst in one channel waits for that channel's
// posting rate; an answer for another channel does not wait behind it.
func TestBusyChannelDoesNotHoldUpOthers(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{Workers: 2, PostRate: 3, PostBurst: 1})
	for i := range 10 { // 3 s of posts in one channel
		h.event(callback(fmt.Sprintf("EvBusy%d", i), directMessage("what is an api", "DBUSY", fmt.Sprintf("7.%d", i))))
	}
	start := time.Now()
	h.event(callback("EvOther", mention("<@U0BOT> complexity", "COTHER", "8.1", "")))
	if _, err := h.slack.WaitPostsMatching(func(p fakeslack.Post) bool { return p.Channel == "COTHER" }, 1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the other channel was answered after %v, behind the busy one", took)
	}
}
