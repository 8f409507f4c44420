package bot_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/index"
)

// panicky is a searcher that fails in the worst way.
type panicky struct{ *index.Index }

func (panicky) Search(context.Context, string, int) (index.Answer, error) { panic("search exploded") }

// TestPanicsAreRecovered: a panic while answering is a 500 for that request, a log line and
// a count; the bot goes on serving, over HTTP and Socket Mode alike.
func TestPanicsAreRecovered(t *testing.T) {
	for _, m := range []mode{httpMode, socketMode} {
		h := start(t, m, panicky{article(t)}, bot.Options{})
		if m == httpMode {
			if code, _ := h.command("what is an api"); code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", code)
			}
		} else {
			h.slack.Send("slash_commands", slashPayload("what is an api", h.slack.ResponseURL("x")), 0)
		}
		h.event(callback("EvPanic", mention("<@U0BOT> api", "C1", "1.1", ""))) // a panic in a reply worker
		h.waitMetric("apiorint_panics_total 2", 5*time.Second)
		if !strings.Contains(h.log.String(), "search exploded") {
			t.Error("the panic was not logged")
		}
		res, err := http.Get(h.url + "/healthz")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("not serving after panics: %v %v", res, err)
		}
		res.Body.Close()
	}
}

// TestSlackTimesOut: chat.postMessage answers after the HTTP client's timeout. The reply is
// given up on (not retried: it may have been posted), logged and counted.
func TestSlackTimesOut(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	h.slack.SetPostDelay(time.Second)
	h.event(callback("EvSlow", mention("<@U0BOT> complexity", "C1", "2.1", "")))
	h.waitMetric(`apiorint_replies_total{result="failed"} 1`, 10*time.Second)
	if calls := h.slack.Calls("chat.postMessage"); calls != 1 {
		t.Errorf("%d calls, want 1", calls)
	}
	if !strings.Contains(h.log.String(), "reply failed") {
		t.Error("not logged")
	}
}

// TestFullQueueDropsAndCounts: with one worker stuck on a slow Slack and a queue of one,
// further mentions are still acknowledged at once, and what does not fit is dropped and
// counted rather than waited for.
func TestFullQueueDropsAndCounts(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{Workers: 1, QueueSize: 1})
	h.slack.SetPostDelay(time.Second)
	for i := range 5 {
		start := time.Now()
		if code := h.event(callback(fmt.Sprintf("EvQ%d", i), mention("<@U0BOT> api", "C1", fmt.Sprintf("3.%d", i), ""))); code != 200 {
			t.Fatalf("status %d", code)
		}
		if took := time.Since(start); took > 300*time.Millisecond {
			t.Errorf("acknowledged in %v", took)
		}
	}
	if m := h.metrics(); !strings.Contains(m, `apiorint_replies_total{result="dropped"}`) {
		t.Errorf("no drop counted:\n%s", m)
	}
}

// TestBurstOfMentions: 200 mentions at once are each acknowledged within 3 s and answered
// exactly once.
func TestBurstOfMentions(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	const n = 200
	h.mentionBurst(n, "CB", "which one scales better?", 3*time.Second)
	// Each mention is in a channel of its own here, so the per-channel posting rate does not
	// space them out.
	posts := h.finish()
	answered := map[string]int{}
	for _, p := range posts {
		answered[p.ThreadTS]++
	}
	if len(posts) != n || len(answered) != n {
		t.Errorf("%d posts for %d threads, want %d each", len(posts), len(answered), n)
	}
}

// TestShutdownFinishesReplies: stopping the bot (as SIGTERM does) lets the replies in
// flight be delivered before Serve returns.
func TestShutdownFinishesReplies(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	h.slack.SetPostDelay(300 * time.Millisecond)
	for i := range 10 {
		h.event(callback(fmt.Sprintf("EvS%d", i), mention("<@U0BOT> api", fmt.Sprintf("C%d", i), "4.1", "")))
	}
	if err := h.shutdown(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if n := len(h.slack.Posts()); n != 10 {
		t.Errorf("%d of 10 replies delivered before stopping", n)
	}
}

// TestAuthRefusedAtStart: a bad or revoked token stops the bot before it serves anything.
func TestAuthRefusedAtStart(t *testing.T) {
	for _, code := range []string{"invalid_auth", "token_revoked", "account_inactive"} {
		t.Run(code, func(t *testing.T) {
			fake := fakeslack.New()
			defer fake.Close()
			fake.RefuseAuth(code)
			cfg := bot.Config{BotToken: fakeslack.BotToken, SigningSecret: secret, APIURL: fake.APIURL, ListenAddr: "127.0.0.1:0"}
			err := bot.New(cfg, article(t), bot.Options{}).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN was refused by Slack ("+code+")") {
				t.Errorf("error %v", err)
			}
		})
	}
}

// TestAppTokenRefused: in Socket Mode, an app-level token Slack refuses stops the bot with a
// message naming SLACK_APP_TOKEN.
func TestAppTokenRefused(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	cfg := bot.Config{BotToken: fakeslack.BotToken, AppToken: "xapp-not-the-right-one", APIURL: fake.APIURL, ListenAddr: "127.0.0.1:0"}
	done := make(chan error, 1)
	go func() { done <- bot.New(cfg, article(t), bot.Options{}).Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") || strings.Contains(err.Error(), "xapp-not-the-right-one") {
			t.Errorf("error %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running with a refused app token")
	}
}

// slowSearcher takes its time, as a search would with the machine overloaded.
type slowSearcher struct{ bot.Searcher }

func (s slowSearcher) Search(ctx context.Context, text string, n int) (index.Answer, error) {
	time.Sleep(1500 * time.Millisecond)
	return s.Searcher.Search(ctx, text, n)
}

// TestBusy: with every slot taken, a request waits a second, then gets 503 (Slack tries
// again later) rather than piling up.
func TestBusy(t *testing.T) {
	h := start(t, httpMode, slowSearcher{article(t)}, bot.Options{MaxConcurrent: 1})
	first := make(chan int, 1)
	go func() {
		code, _ := h.command("api")
		first <- code
	}()
	time.Sleep(100 * time.Millisecond)
	if code, _ := h.command("api"); code != http.StatusServiceUnavailable {
		t.Errorf("second request: %d, want 503", code)
	}
	if code := <-first; code != http.StatusOK {
		t.Errorf("first request: %d", code)
	}
	h.waitMetric(`apiorint_http_refused_total{reason="busy"} 1`, time.Second)
}
