package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/index"
)

// TestSSLCheck: Slack checks a slash command URL's certificate with ssl_check=1, unsigned;
// it gets 200 and an empty body on both endpoints that take commands, and causes nothing.
func TestSSLCheck(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	for _, path := range []string{"/slack/commands", "/slack/events"} {
		for _, sign := range []bool{false, true} {
			code, _, body := h.post(path, "application/x-www-form-urlencoded", []byte("ssl_check=1&token=x"), sign)
			if code != http.StatusOK || body != "" {
				t.Errorf("%s signed=%v: %d %q", path, sign, code, body)
			}
		}
	}
	if code, _, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", []byte("ssl_check=0&command=%2Fapiorint"), false); code != http.StatusUnauthorized {
		t.Errorf("not an ssl_check, unsigned: %d, want 401", code)
	}
	if posts := h.finish(); len(posts) != 0 {
		t.Errorf("posts: %+v", posts)
	}
}

// TestSignatureStrictness: only the form Slack sends passes: one timestamp header, one
// signature header, lower-case hex.
func TestSignatureStrictness(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	body := commandForm("what is an api", h.slack.ResponseURL("x"))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := fakeslack.Sign(secret, ts, body)
	send := func(set func(http.Header)) int {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/slack/commands", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		set(req.Header)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	tests := []struct {
		name string
		set  func(http.Header)
		want int
	}{
		{"as Slack sends it", func(h http.Header) { h.Set("X-Slack-Request-Timestamp", ts); h.Set("X-Slack-Signature", sig) }, 200},
		{"upper-case hex", func(h http.Header) {
			h.Set("X-Slack-Request-Timestamp", ts)
			h.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(sig, "v0=")))
		}, 401},
		{"two signatures, the right one first", func(h http.Header) {
			h.Set("X-Slack-Request-Timestamp", ts)
			h.Add("X-Slack-Signature", sig)
			h.Add("X-Slack-Signature", "v0=00")
		}, 401},
		{"two timestamps", func(h http.Header) {
			h.Add("X-Slack-Request-Timestamp", ts)
			h.Add("X-Slack-Request-Timestamp", "1")
			h.Set("X-Slack-Signature", sig)
		}, 401},
	}
	for _, tt := range tests {
		if got := send(tt.set); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestJunkConnectionsDoNotStarveSlack: 300 connections with a current timestamp, any
// signature and a body that never comes hold nothing a real request needs: a signed slash
// command is still answered at once.
func TestJunkConnectionsDoNotStarveSlack(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	addr := strings.TrimPrefix(h.url, "http://")
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range 300 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: 1000\r\nX-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=%064d\r\n\r\n", time.Now().Unix(), i)
	}
	time.Sleep(100 * time.Millisecond) // let the server take them all in
	start := time.Now()
	code, res := h.command("what is an api")
	if took := time.Since(start); code != http.StatusOK || took > time.Second {
		t.Fatalf("status %d after %v with 300 junk connections open: %v", code, took, res)
	}
}

// TestDirectMessageSubtypes: a DM sent with a file, "also sent to the channel" or with /me is
// a question; edits, deletions, joins and bot messages are not.
func TestDirectMessageSubtypes(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	questions := []string{"file_share", "thread_broadcast", "me_message"}
	for i, subtype := range questions {
		ev := directMessage("what is middleware?", "D"+strconv.Itoa(i), "60."+strconv.Itoa(i))
		ev["subtype"] = subtype
		h.event(callback("EvSub"+subtype, ev))
	}
	for i, subtype := range []string{"message_changed", "message_deleted", "channel_join", "bot_message"} {
		ev := directMessage("what is middleware?", "DX", "61."+strconv.Itoa(i))
		ev["subtype"] = subtype
		if subtype == "bot_message" {
			ev["bot_id"] = "B9"
		}
		h.event(callback("EvNot"+subtype, ev))
	}
	posts := h.finish()
	if len(posts) != len(questions) {
		t.Fatalf("%d answers, want %d: %+v", len(posts), len(questions), posts)
	}
	for _, p := range posts {
		if p.Channel == "DX" || headerOf(t, p.Blocks) != "Types Of Integrations" {
			t.Errorf("answered %s with %q", p.Channel, headerOf(t, p.Blocks))
		}
	}
}

// TestEventWithoutChannel is dropped and counted, not posted to channel "".
func TestEventWithoutChannel(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	h.event(callback("EvNoCh", mention("<@U0BOT> what is an api", "", "62.1", "")))
	h.waitMetric(`apiorint_events_total{kind="app_mention",outcome="no_channel"} 1`, 2*time.Second)
	if posts := h.finish(); len(posts) != 0 || h.slack.Calls("chat.postMessage") != 0 {
		t.Errorf("posted: %+v", posts)
	}
}

// TestResponseURLsOnlyToSlack: a payload naming any other address as its response URL gets
// nothing posted there; it is refused and counted. A failed post logs the URL's host only:
// the rest is a credential.
func TestResponseURLsOnlyToSlack(t *testing.T) {
	var hits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer internal.Close()
	h := start(t, httpMode, nil, bot.Options{})
	for _, target := range []string{internal.URL + "/metadata", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd"} {
		h.interact(blockAction("understanding-apis/what-is-an-api", target))
		h.interact(messageShortcut("what is an api", target))
	}
	// A response URL on Slack's API host that fails: logged by host.
	h.interact(blockAction("understanding-apis/what-is-an-api", h.slack.URL+"/nowhere/T0/secret-part"))
	h.waitMetric(`apiorint_http_refused_total{reason="response_url"} 6`, 5*time.Second)
	h.waitMetric(`apiorint_replies_total{result="failed"} 7`, 5*time.Second)
	h.finish()
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached an internal address", n)
	}
	logs := h.log.String()
	if strings.Contains(logs, "secret-part") || strings.Contains(logs, "/metadata") || !strings.Contains(logs, "reply failed") {
		t.Errorf("a response URL's path is in the logs, or nothing was logged:\n%s", logs)
	}
}

// forgetful is the article without one section, as after a reload that removed it.
type forgetful struct {
	*index.Index
	gone string
}

func (f forgetful) Section(id string) (index.Result, bool) {
	if id == f.gone {
		return index.Result{}, false
	}
	return f.Index.Section(id)
}

// TestGoneSection: a button whose section left the knowledge posts a valid message: text and
// blocks, never "blocks": null.
func TestGoneSection(t *testing.T) {
	const scalability = "key-differences-between-apis-and-integrations/scalability-and-flexibility"
	h := start(t, httpMode, forgetful{article(t), scalability}, bot.Options{})
	_, res := h.command("which one scales better?")
	h.interact(blockAction(scalability, h.slack.ResponseURL("gone")))
	h.interact(click("U1", "share", button(t, res["blocks"], "share"), h.slack.ResponseURL("gone-share")))
	posts := h.finish()
	if len(posts) != 2 {
		t.Fatalf("%d posts", len(posts))
	}
	for _, p := range posts {
		if !strings.Contains(p.Text, "no longer in the knowledge base") || len(p.Blocks) == 0 || string(p.Blocks) == "null" || p.ResponseType != "ephemeral" {
			t.Errorf("posted %+v %s", p, p.Blocks)
		}
	}
}

// TestForgedButtonValues: a client can send any value with a click. One the bot did not
// sign is refused (counted, and the clicker told): it never posts to the channel, nor counts
// as a vote. Showing a section needs no signature: it shows only what the knowledge holds,
// to the person who clicked.
func TestForgedButtonValues(t *testing.T) {
	var opts bot.Options
	flush := records(t, &opts)
	h := start(t, httpMode, nil, opts)
	_, res := h.command("rest vs soap?")
	share := button(t, res["blocks"], "share")
	forged := strings.Replace(share, `"u":["rest","soap"]`, `"u":["<!channel> log in again at <https://evil.example|slack.com>"]`, 1)
	if forged == share {
		t.Fatalf("no uncovered words to change in %s", share)
	}
	h.interact(click("U1", "share", forged, h.slack.ResponseURL("forged-share")))
	h.interact(click("U1", "feedback_down", `{"a":"made-up","s":"understanding-apis/what-is-an-api","q":"spam","o":"answer"}`, h.slack.ResponseURL("forged-vote")))
	h.interact(blockAction("understanding-apis/what-is-an-api", h.slack.ResponseURL("bare"))) // an older answer's button
	h.waitMetric(`apiorint_http_refused_total{reason="button_value"} 2`, 5*time.Second)
	posts := h.finish()
	for _, p := range posts {
		if p.ResponseType == "in_channel" || strings.Contains(string(p.Blocks)+p.Text, "evil.example") {
			t.Errorf("a forged value was posted: %+v", p)
		}
	}
	if len(posts) != 3 {
		t.Errorf("%d replies, want 3 (two refusals, one section)", len(posts))
	}
	st, err := flush().Stats(context.Background(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range st.Sections {
		if sec.Down > 0 {
			t.Errorf("a forged vote counted: %+v", sec)
		}
	}
}

// TestAppRateLimited is acknowledged, logged at WARN with the minute it covers, and counted.
func TestAppRateLimited(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	body := `{"token":"x","type":"app_rate_limited","team_id":"T0FAKE","minute_rate_limited":1518467820,"api_app_id":"A0"}`
	if code, _, _ := h.post("/slack/events", "application/json", []byte(body), true); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	h.waitMetric("apiorint_app_rate_limited_total 1", time.Second)
	if logs := h.log.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "2018-02-12T20:37:00Z") {
		t.Errorf("not logged with its minute:\n%s", logs)
	}
}

// TestUsageFallbackEscaped: the plain text of the usage message shows <question> as text.
func TestUsageFallbackEscaped(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	_, res := h.command("help")
	text, _ := res["text"].(string)
	if strings.Contains(text, "<question>") || !strings.Contains(text, "&lt;question&gt;") {
		t.Errorf("fallback %q", text)
	}
}

// TestNewStartsNothing: a Bot used only for its Handler starts no goroutines, and serves
// once.
func TestNewStartsNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 20 {
		bot.New(bot.Config{BotToken: fakeslack.BotToken, SigningSecret: secret, APIURL: "http://127.0.0.1:1/api/"}, article(t), bot.Options{}).Handler()
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("%d goroutines after building 20 bots, %d before", after, before)
	}
	h := start(t, httpMode, nil, bot.Options{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := h.bot.Serve(context.Background(), ln); err == nil {
		t.Error("a second Serve ran")
	}
}

// TestAuthErrorsClassified: auth.test's ok:false is a refused token only for the errors that
// mean one; Slack failing is said to be Slack failing. A password in SLACK_API_URL is never
// shown.
func TestAuthErrorsClassified(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	fake.RefuseAuth("internal_error")
	cfg := bot.Config{BotToken: fakeslack.BotToken, SigningSecret: secret, APIURL: fake.APIURL, ListenAddr: "127.0.0.1:0"}
	err := bot.New(cfg, article(t), bot.Options{}).Run(context.Background())
	if err == nil || strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "internal_error") {
		t.Errorf("internal_error: %v", err)
	}
	cfg.APIURL = "http://apiuser:hunter2@127.0.0.1:1/api/"
	err = bot.New(cfg, article(t), bot.Options{}).Run(context.Background())
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unreachable API: %v", err)
	}
	if s := cfg.String(); strings.Contains(s, "hunter2") {
		t.Errorf("config shows the password: %s", s)
	}
	_, err = bot.ConfigFromEnv(func(k string) string {
		return map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "ftp://u:hunter2@x/"}[k]
	})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "SLACK_API_URL") {
		t.Errorf("config error: %v", err)
	}
}

// TestHealthSaysWhichKnowledge: /healthz reports the knowledge in service.
func TestHealthSaysWhichKnowledge(t *testing.T) {
	ix := article(t)
	h := start(t, httpMode, nil, bot.Options{Knowledge: ix})
	res, err := http.Get(h.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var health map[string]any
	json.NewDecoder(res.Body).Decode(&health)
	if health["sections"] != float64(ix.Size()) || health["knowledge"] != ix.Hash() || ix.Hash() == "" {
		t.Errorf("health %v, want sections %d and knowledge %q", health, ix.Size(), ix.Hash())
	}
}

// TestUnsignedBodiesNotKept: unsigned requests are refused having kept a few kilobytes of
// their bodies at most, and bodies said to be too large none: a sender of many cannot make
// the bot hold memory. (Each body was once read whole, up to 1 MiB, before the refusal.)
func TestUnsignedBodiesNotKept(t *testing.T) {
	h := start(t, httpMode, nil, bot.Options{})
	big := []byte("text=" + strings.Repeat("x", 1<<20-100))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if code, _, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", big, false); code != http.StatusUnauthorized {
				t.Errorf("unsigned: %d, want 401", code)
			}
		})
		wg.Go(func() {
			code, _, _ := h.post("/slack/events", "application/json", append(big, big...), true)
			if code != http.StatusRequestEntityTooLarge {
				t.Errorf("too large: %d, want 413", code)
			}
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	// The test's own requests (100 MiB of them) are not the bot's: count only what the
	// server side allocated, roughly, by what is left after the test's share.
	grew := int64(after.TotalAlloc-before.TotalAlloc) - 150<<20
	if grew > 40<<20 {
		t.Errorf("%d MiB allocated beyond the requests themselves", grew>>20)
	}
}
