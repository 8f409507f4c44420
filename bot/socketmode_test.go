package bot_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/index"
)

func slashPayload(text, responseURL string) map[string]any {
	return map[string]any{"command": "/apiorint", "text": text, "user_id": "U1", "channel_id": "C1", "team_id": "T0FAKE",
		"response_url": responseURL, "trigger_id": "1.2"}
}

func TestSocketSlashCommand(t *testing.T) {
	h := start(t, socketMode, nil, bot.Options{})
	id, err := h.slack.Send("slash_commands", slashPayload("which one scales better?", h.slack.ResponseURL("cmd")), 0)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := h.slack.WaitAck(id, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(ack.Payload, &res); err != nil || res["response_type"] != "ephemeral" {
		t.Fatalf("ack payload %s (%v)", ack.Payload, err)
	}
	if got := headerOf(t, res["blocks"]); got != "Scalability And Flexibility" {
		t.Errorf("header %q", got)
	}
}

func TestSocketMentionDMAndButton(t *testing.T) {
	h := start(t, socketMode, nil, bot.Options{})
	sent := time.Now()
	id, err := h.slack.Send("events_api", callback("EvS1", mention("<@U0BOT> what is middleware?", "C1", "20.1", "")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := h.slack.WaitAck(id, 3*time.Second); err != nil || ack.At.Sub(sent) > 500*time.Millisecond {
		t.Fatalf("ack after %v (%v)", ack.At.Sub(sent), err)
	}
	h.slack.Send("events_api", callback("EvS2", directMessage("complexity", "D1", "20.2")), 0)
	id, _ = h.slack.Send("interactive", blockAction("understanding-apis/types-of-apis", h.slack.ResponseURL("click")), 0)
	if _, err := h.slack.WaitAck(id, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	posts, err := h.slack.WaitPosts(3, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	byHeader := map[string]string{}
	for _, p := range posts {
		byHeader[headerOf(t, p.Blocks)] = p.Channel + " " + p.ThreadTS + " " + p.ResponseURL
	}
	want := map[string]string{
		"Types Of Integrations": "C1 20.1 ",
		"Complexity":            "D1  ",
		"Types Of APIs":         "  " + h.slack.ResponseURL("click"),
	}
	for header, where := range want {
		if byHeader[header] != where {
			t.Errorf("%s posted to %q, want %q", header, byHeader[header], where)
		}
	}
}

// TestSocketReconnects: after Slack's disconnect request and after a dropped connection, the
// bot connects again and answers.
func TestSocketReconnects(t *testing.T) {
	h := start(t, socketMode, nil, bot.Options{})
	if err := h.slack.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if err := h.slack.WaitConnections(2, 10*time.Second); err != nil {
		t.Fatalf("no reconnection after disconnect: %v", err)
	}
	h.slack.DropConnection()
	if err := h.slack.WaitConnections(3, 15*time.Second); err != nil {
		t.Fatalf("no reconnection after a dropped connection: %v", err)
	}
	h.slack.Send("events_api", callback("EvR1", mention("<@U0BOT> performance", "C1", "30.1", "")), 0)
	if _, err := h.slack.WaitPosts(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestSocketDroppedMidEnvelope: the connection drops right after an envelope is sent; Slack
// sends it again on the next connection. It is answered exactly once.
func TestSocketDroppedMidEnvelope(t *testing.T) {
	h := start(t, socketMode, nil, bot.Options{})
	ev := callback("EvDrop", mention("<@U0BOT> scalability", "C1", "40.1", ""))
	if err := h.slack.SendEnvelope("env-drop", "events_api", ev, 0); err != nil {
		t.Fatal(err)
	}
	h.slack.DropConnection()
	if err := h.slack.WaitConnections(2, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := h.slack.SendEnvelope("env-drop", "events_api", ev, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := h.slack.WaitAck("env-drop", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(h.finish()); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
}

// TestSocketUnknownEnvelopes: what slack-go cannot parse is acknowledged all the same, so
// that Slack does not send it again.
func TestSocketUnknownEnvelopes(t *testing.T) {
	h := start(t, socketMode, nil, bot.Options{})
	h.slack.SendRaw(`{"type":"events_api","envelope_id":"env-unknown","payload":{"type":"event_callback","event_id":"EvX","event":{"type":"no_such_event"}}}`)
	if _, err := h.slack.WaitAck("env-unknown", 3*time.Second); err != nil {
		t.Errorf("unknown event not acknowledged: %v", err)
	}
	h.slack.SendRaw(`{not json`)
	h.slack.SendRaw(`{"type":"no_such_type","envelope_id":"env-type"}`)
	if _, err := h.slack.WaitAck("env-type", 3*time.Second); err != nil {
		t.Errorf("unknown envelope type not acknowledged: %v", err)
	}
	h.slack.Send("events_api", callback("EvAfter", mention("<@U0BOT> api", "C1", "50.1", "")), 0)
	if _, err := h.slack.WaitPosts(1, 5*time.Second); err != nil {
		t.Fatalf("not answering after bad envelopes: %v", err)
	}
}

// bigSearcher answers with a section too long for a Socket Mode acknowledgement.
type bigSearcher struct{ *index.Index }

func (bigSearcher) Search(ctx context.Context, text string, n int) (index.Answer, error) {
	body := strings.Repeat("Integration melds different systems into a single cohesive unit. ", 600)
	return index.Answer{Query: text, Match: index.MatchAnswer, Uncovered: []string{},
		Results: []index.Result{{ID: "big", Title: "Big", Text: body, Source: "big.md", Path: []string{"Big"}}}}, nil
}

func TestSocketLongAnswerGoesToResponseURL(t *testing.T) {
	h := start(t, socketMode, bigSearcher{article(t)}, bot.Options{})
	id, _ := h.slack.Send("slash_commands", slashPayload("anything", h.slack.ResponseURL("long")), 0)
	ack, err := h.slack.WaitAck(id, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(ack.Payload) > 0 && string(ack.Payload) != "null" {
		t.Errorf("ack carries %d bytes", len(ack.Payload))
	}
	posts, err := h.slack.WaitPosts(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p := posts[0]; p.ResponseURL != h.slack.ResponseURL("long") || p.ResponseType != "ephemeral" || len(p.Blocks) < 20<<10 {
		t.Errorf("posted %d bytes of blocks to %q (%s)", len(p.Blocks), p.ResponseURL, p.ResponseType)
	}
}

// TestSocketModeWithoutSecret: the /slack/* endpoints need a signing secret to verify
// requests; without one they are not served at all.
func TestSocketModeWithoutSecret(t *testing.T) {
	cfg := bot.Config{BotToken: "xoxb-x", AppToken: "xapp-x", APIURL: "http://127.0.0.1:1/api/", ListenAddr: ":0"}
	handler := bot.New(cfg, article(t), bot.Options{}).Handler()
	for _, path := range []string{"/slack/events", "/slack/commands", "/slack/interactions"} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}")))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, rec.Code)
		}
	}
}

// TestSocketHealthWaitsForFirstConnection: in Socket Mode the bot is not healthy until it
// has reached Slack once: before that it answers nothing.
func TestSocketHealthWaitsForFirstConnection(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	fake.RefuseSockets(true)
	cfg := bot.Config{BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken, APIURL: fake.APIURL, ListenAddr: "127.0.0.1:0"}
	b := bot.New(cfg, article(t), bot.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	health := func() (int, string) {
		res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
		if err != nil {
			return 0, ""
		}
		defer res.Body.Close()
		var doc struct {
			Status string `json:"status"`
		}
		json.NewDecoder(res.Body).Decode(&doc)
		return res.StatusCode, doc.Status
	}
	waitFor := func(code int, status string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if c, s := health(); c == code && s == status {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		c, s := health()
		t.Fatalf("healthz %d %q, want %d %q", c, s, code, status)
	}
	waitFor(http.StatusServiceUnavailable, "connecting")
	if fake.Connections() != 0 {
		t.Fatalf("%d connections while refused", fake.Connections())
	}
	fake.RefuseSockets(false)
	waitFor(http.StatusOK, "ok")
}
