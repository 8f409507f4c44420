package bot_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
)

func TestHTTPSlashCommand(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	tests := []struct {
		text       string
		wantHeader string   // the answer's title; "" for none
		anyHeader  bool     // a section, whichever comes closest
		wantText   []string // in the JSON response
	}{
		{text: "which one scales better?", wantHeader: "Scalability And Flexibility", wantText: []string{`"Related:"`, `"show_section_0"`}},
		{text: "api vs integration", wantHeader: "Key Differences Between APIs And Integrations", wantText: []string{"*Functionality*"}},
		{text: "help", wantText: []string{"/apiorint", "Topics", "Choosing The Right Approach For Your Project"}},
		{text: "", wantText: []string{"/apiorint", "Topics"}},
		// The question is quoted as people read it: without the markup of mentions and links.
		{text: "<!channel> best pizza <@U999> near <https://evil.example|me>", wantText: []string{
			"I don't have a good answer to “best pizza near me”", "What Is An API?"}},
		// What Slack sends for "<&>" typed by someone is decoded, then escaped again.
		{text: "where's the pizza &lt;&amp;&gt; ?", wantText: []string{"“where's the pizza &lt;&amp;&gt; ?”"}},
		{text: "thanks!", wantText: []string{"Hi! I'm apiorint"}}, // small talk: no section
		{text: "rest vs soap?", anyHeader: true, wantText: []string{"I have nothing on *rest* or *soap*"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			start := time.Now()
			code, res := h.command(tt.text)
			if took := time.Since(start); took > time.Second {
				t.Errorf("answered in %v", took)
			}
			if code != http.StatusOK || res["response_type"] != "ephemeral" || res["text"] == "" {
				t.Fatalf("status %d, response %v", code, res)
			}
			if got := headerOf(t, res["blocks"]); got != tt.wantHeader && !(tt.anyHeader && got != "") {
				t.Errorf("header %q, want %q", got, tt.wantHeader)
			}
			raw := marshal(res)
			for _, want := range tt.wantText {
				if !strings.Contains(raw, want) {
					t.Errorf("response lacks %q: %s", want, raw)
				}
			}
			if strings.Contains(raw, "<!channel>") || strings.Contains(raw, "<@U999>") {
				t.Errorf("user text became a live mention: %s", raw)
			}
		})
	}
}

func TestHTTPMentionAndDirectMessage(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	tests := []struct {
		name            string
		event           map[string]any
		channel, thread string
		header          string
	}{
		{"mention", mention("<@U0BOT> what is middleware?", "C1", "100.1", ""), "C1", "100.1", "Types Of Integrations"},
		{"mention in a thread", mention("<@U0BOT> which one scales better?", "C1", "100.3", "100.2"), "C1", "100.2", "Scalability And Flexibility"},
		{"direct message", directMessage("what is an api?", "D1", "100.4"), "D1", "", "What Is An API?"},
		{"bare mention", mention("<@U0BOT>", "C1", "100.5", ""), "C1", "100.5", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			if code := h.event(callback(fmt.Sprintf("Ev%d", i), tt.event)); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Errorf("acknowledged in %v", took)
			}
			posts, err := h.slack.WaitPosts(i+1, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			p := posts[i]
			if p.Channel != tt.channel || p.ThreadTS != tt.thread || p.Text == "" {
				t.Errorf("posted to %s thread %q, text %q; want %s thread %q", p.Channel, p.ThreadTS, p.Text, tt.channel, tt.thread)
			}
			if got := headerOf(t, p.Blocks); got != tt.header {
				t.Errorf("header %q, want %q", got, tt.header)
			}
		})
	}
}

// TestHTTPIgnoredEvents sends everything the bot must not answer, then one it must: exactly
// that one is answered.
func TestHTTPIgnoredEvents(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	own := directMessage("what is an api", "D1", "1.1")
	own["user"] = fakeslack.BotUserID
	otherBot := directMessage("what is an api", "D1", "1.2")
	otherBot["bot_id"] = "B999"
	edited := directMessage("what is an api", "D1", "1.3")
	edited["subtype"] = "message_changed"
	joined := directMessage("joined", "D1", "1.4")
	joined["subtype"] = "channel_join"
	inChannel := directMessage("what is an api", "C1", "1.5")
	inChannel["channel_type"] = "channel"
	botMention := mention("<@U0BOT> hi", "C1", "1.6", "")
	botMention["bot_id"] = "B999"
	editedMention := mention("<@U0BOT> what is an api", "C1", "1.7", "")
	editedMention["edited"] = map[string]any{"user": "U1", "ts": "1.8"}
	for i, ev := range []map[string]any{own, otherBot, edited, joined, inChannel, botMention, editedMention,
		{"type": "reaction_added", "user": "U1", "reaction": "+1"}} {
		if code := h.event(callback(fmt.Sprintf("Ign%d", i), ev)); code != http.StatusOK {
			t.Errorf("event %d: status %d", i, code)
		}
	}
	h.event(callback("Answer", directMessage("what is an api", "D1", "2.1")))
	if posts := h.finish(); len(posts) != 1 || posts[0].Channel != "D1" {
		t.Errorf("posts: %+v", posts)
	}
}

// TestHTTPRetriedEvent delivers one event three times, as Slack does when acknowledgements
// are late, and a mention that also arrives as a direct message: one answer each; two events
// without an ID are two answers.
func TestHTTPRetriedEvent(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	ev := callback("EvRetry", mention("<@U0BOT> performance", "C1", "5.1", ""))
	for retry := range 3 {
		var header []string
		if retry > 0 {
			header = []string{"X-Slack-Retry-Num", strconv.Itoa(retry), "X-Slack-Retry-Reason", "http_timeout"}
		}
		if code := h.event(ev, header...); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	h.event(callback("EvDM1", mention("<@U0BOT> complexity", "D7", "6.1", "")))
	h.event(callback("EvDM2", directMessage("<@U0BOT> complexity", "D7", "6.1")))
	// Events that lack an ID are still told apart by their messages: no shared empty key.
	h.event(callback("", directMessage("what is an api", "D8", "7.1")))
	h.event(callback("", directMessage("what is an integration", "D8", "7.2")))
	if posts := h.finish(); len(posts) != 4 {
		t.Errorf("%d posts, want 4: %+v", len(posts), posts)
	}
}

func TestHTTPButtonClick(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	payload, _ := json.Marshal(blockAction("key-differences-between-apis-and-integrations/complexity", h.slack.ResponseURL("click")))
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	for _, path := range []string{"/slack/interactions", "/slack/events"} {
		if code, _, _ := h.post(path, "application/x-www-form-urlencoded", body, true); code != http.StatusOK {
			t.Fatalf("%s: status %d", path, code)
		}
	}
	posts, err := h.slack.WaitPosts(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range posts {
		if p.ResponseURL != h.slack.ResponseURL("click") || p.ResponseType != "ephemeral" || p.ReplaceOriginal {
			t.Errorf("posted %+v", p)
		}
		if got := headerOf(t, p.Blocks); got != "Complexity" {
			t.Errorf("header %q", got)
		}
	}
}

// TestHTTPRefused sends what must get a 4xx and cause nothing.
func TestHTTPRefused(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	form := commandForm("what is an api", h.slack.ResponseURL("x"))
	event, _ := json.Marshal(callback("EvForged", directMessage("what is an api", "D1", "9.1")))
	old := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(time.Now().Add(6*time.Minute).Unix(), 10)
	tests := []struct {
		name        string
		path, ctype string
		body        []byte
		sign        bool
		header      []string
		want        int
	}{
		{"unsigned", "/slack/events", "application/json", event, false, nil, 401},
		{"forged signature", "/slack/events", "application/json", event, false,
			[]string{"X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10), "X-Slack-Signature", "v0=" + strings.Repeat("ab", 32)}, 401},
		{"signed with another secret", "/slack/commands", "application/x-www-form-urlencoded", form, false,
			[]string{"X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10),
				"X-Slack-Signature", fakeslack.Sign("wrong", strconv.FormatInt(time.Now().Unix(), 10), form)}, 401},
		{"stale timestamp", "/slack/events", "application/json", event, false,
			[]string{"X-Slack-Request-Timestamp", old, "X-Slack-Signature", fakeslack.Sign(secret, old, event)}, 401},
		{"future timestamp", "/slack/events", "application/json", event, false,
			[]string{"X-Slack-Request-Timestamp", future, "X-Slack-Signature", fakeslack.Sign(secret, future, event)}, 401},
		{"too large", "/slack/events", "application/json", []byte(`{"x":"` + strings.Repeat("x", 2<<20) + `"}`), true, nil, 413},
		{"truncated JSON", "/slack/events", "application/json", event[:len(event)/2], true, nil, 400},
		{"broken form", "/slack/commands", "application/x-www-form-urlencoded", []byte("command=%zz&text=%"), true, nil, 400},
		{"form that is no command", "/slack/events", "application/x-www-form-urlencoded", []byte("a=b"), true, nil, 400},
		{"interaction without payload", "/slack/interactions", "application/x-www-form-urlencoded", []byte("a=b"), true, nil, 400},
		{"interaction with broken payload", "/slack/interactions", "application/x-www-form-urlencoded", []byte("payload=%7B"), true, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, body := h.post(tt.path, tt.ctype, tt.body, tt.sign, tt.header...); code != tt.want {
				t.Errorf("status %d, want %d: %s", code, tt.want, body)
			}
		})
	}
	for _, tt := range []struct {
		name string
		body string
	}{
		{"unknown event type", `{"type":"event_callback","event_id":"EvU","event":{"type":"no_such_event"}}`},
		{"unknown outer type", `{"type":"app_rate_limited","minute_rate_limited":1}`},
		{"event without inner event", `{"type":"event_callback","event_id":"EvN"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, _, body := h.post("/slack/events", "application/json", []byte(tt.body), true); code != http.StatusOK {
				t.Errorf("status %d, want 200 (acknowledged and ignored): %s", code, body)
			}
		})
	}
	if code, _, _ := h.post("/slack/events", "application/json", nil, false); code != 401 {
		t.Errorf("empty unsigned: %d", code)
	}
	// Several refusals in a row are one warning: anyone can send them, as fast as they like.
	if n := strings.Count(h.log.String(), "refused a request not verifiably from Slack"); n != 1 {
		t.Errorf("%d refusal warnings logged, want 1", n)
	}
	if posts := h.finish(); len(posts) != 0 {
		t.Errorf("refused requests caused posts: %+v", posts)
	}
}

// TestHTTPRateLimitedThenDelivered: chat.postMessage answers 429 with Retry-After, then
// succeeds: the answer is delivered once.
func TestHTTPRateLimitedThenDelivered(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	h.slack.FailPosts(http.StatusTooManyRequests)
	start := time.Now()
	h.event(callback("Ev429", mention("<@U0BOT> complexity", "C1", "7.1", "")))
	if _, err := h.slack.WaitPosts(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("delivered after %v, before Retry-After", took)
	}
	if n, calls := len(h.finish()), h.slack.Calls("chat.postMessage"); n != 1 || calls != 2 {
		t.Errorf("%d posts in %d calls, want 1 in 2", n, calls)
	}
}

// TestHTTPServerErrors: 5xx is retried a few times, then given up on, logged and counted.
func TestHTTPServerErrors(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	h.slack.FailPosts(500, 502, 503, 500)
	h.event(callback("Ev5xx", mention("<@U0BOT> complexity", "C1", "8.1", "")))
	h.waitMetric(`apiorint_replies_total{result="failed"} 1`, 15*time.Second)
	if calls := h.slack.Calls("chat.postMessage"); calls != 4 {
		t.Errorf("%d calls, want 4 (one and three retries)", calls)
	}
	if !strings.Contains(h.log.String(), "reply failed") {
		t.Errorf("the failure was not logged")
	}
	// The next one goes through: 500 once, then delivered.
	h.slack.FailPosts(500)
	h.event(callback("Ev5xxOK", mention("<@U0BOT> complexity", "C1", "8.2", "")))
	if _, err := h.slack.WaitPosts(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestHTTPSlowSlackKeepsAcksFast: with chat.postMessage taking a second, a burst of
// mentions is still acknowledged at once, and every one is answered.
func TestHTTPSlowSlackKeepsAcksFast(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	h.slack.SetPostDelay(time.Second)
	const n = 40
	h.mentionBurst(n, "CSLOW", "scalability", 500*time.Millisecond)
	if _, err := h.slack.WaitPosts(n, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPHealthAndMetrics(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	h.command("scalability")
	res, err := http.Get(h.url + "/healthz")
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	m := h.metrics()
	for _, want := range []string{
		`apiorint_slack_requests_total{kind="command",transport="http"} 1`,
		`apiorint_answers_total{result="answer"} 1`,
		"apiorint_search_duration_seconds_count 1",
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m+h.log.String(), fakeslack.BotToken) || strings.Contains(m+h.log.String(), secret) {
		t.Error("a secret appears in metrics or logs")
	}
}

// marshal encodes v as JSON without escaping &, < and >, as Slack would read it.
func marshal(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return b.String()
}

func (h *harness) metrics() string {
	res, err := http.Get(h.url + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
