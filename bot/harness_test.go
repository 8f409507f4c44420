package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/index/indextest"
)

const secret = "test-signing-secret"

// article returns the index of the embedded article shared by the tests.
func article(t testing.TB) *index.Index { return indextest.Article(t) }

// A harness is a bot serving on loopback against a fake Slack.
type harness struct {
	t     *testing.T
	slack *fakeslack.Server
	bot   *bot.Bot
	url   string // the bot's HTTP address
	log   *syncBuffer
	stop  context.CancelFunc
	done  chan error

	stopOnce sync.Once
	stopErr  error
}

// shutdown stops the bot as SIGTERM would and returns what Serve returned.
func (h *harness) shutdown() error {
	h.stopOnce.Do(func() {
		h.stop()
		select {
		case h.stopErr = <-h.done:
		case <-time.After(30 * time.Second):
			h.stopErr = errors.New("the bot did not stop")
		}
	})
	return h.stopErr
}

type mode int

const (
	httpMode mode = iota
	socketMode
)

// start runs a bot in mode until the test ends. search may be nil for the article.
func start(t *testing.T, m mode, search bot.Searcher, opts bot.Options) *harness {
	t.Helper()
	return startWith(t, m, search, opts, func(*bot.Config) {})
}

// startWith is start with a configuration changed by change.
func startWith(t *testing.T, m mode, search bot.Searcher, opts bot.Options, change func(*bot.Config)) *harness {
	t.Helper()
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	return startOn(t, fake, m, search, opts, change)
}

// startOn runs a bot against fake, which other bots may share: replicas of one app.
func startOn(t *testing.T, fake *fakeslack.Server, m mode, search bot.Searcher, opts bot.Options, change func(*bot.Config)) *harness {
	t.Helper()
	cfg := bot.Config{BotToken: fakeslack.BotToken, SigningSecret: secret, APIURL: fake.APIURL, ListenAddr: "127.0.0.1:0"}
	change(&cfg)
	if m == socketMode {
		cfg.AppToken = fakeslack.AppToken
	}
	if search == nil {
		search = article(t)
	}
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b := bot.New(cfg, search, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, slack: fake, bot: b, url: "http://" + ln.Addr().String(), log: logs, stop: cancel, done: make(chan error, 1)}
	go func() { h.done <- b.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if err := h.shutdown(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", logs.String())
		}
	})
	h.waitHealthy()
	if m == socketMode {
		h.waitConnected()
	}
	return h
}

// mentionBurst sends n mentions of the bot at once, each its own event in a channel of its
// own (channel and i), and fails the test when one is refused or acknowledged later than
// maxAck. Distinct channels: Slack's per-channel rate would space the answers by a second.
func (h *harness) mentionBurst(n int, channel, text string, maxAck time.Duration) {
	h.t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			ev := callback(fmt.Sprintf("Ev%s%d", channel, i), mention("<@U0BOT> "+text, fmt.Sprintf("%s%d", channel, i), fmt.Sprintf("%d.0001", 100+i), ""))
			if code := h.event(ev); code != http.StatusOK {
				h.t.Errorf("status %d", code)
			}
			if took := time.Since(start); took > maxAck {
				h.t.Errorf("acknowledged after %v", took)
			}
		})
	}
	wg.Wait()
}

// waitMetric waits until the bot's /metrics holds want.
func (h *harness) waitMetric(want string, timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(h.metrics(), want) {
		if time.Now().After(deadline) {
			h.t.Fatalf("metrics never showed %s:\n%s", want, h.metrics())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitConnected waits until the bot says, in /healthz, that its Socket Mode connection is up.
func (h *harness) waitConnected() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(h.url + "/healthz"); err == nil {
			var health struct {
				Connected bool `json:"socket_connected"`
			}
			json.NewDecoder(res.Body).Decode(&health)
			res.Body.Close()
			if health.Connected {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatal("no Socket Mode connection")
}

func (h *harness) waitHealthy() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(h.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-h.done:
			h.t.Fatalf("the bot stopped: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	h.t.Fatal("the bot never became healthy")
}

// post sends a request to the bot, signed unless sign is false, and returns the status, the
// content type and the body.
func (h *harness) post(path, contentType string, body []byte, sign bool, header ...string) (int, string, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if sign {
		fakeslack.SignRequest(req, secret, body)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(out)
}

// command sends a signed slash command over HTTP and returns the decoded response.
func (h *harness) command(text string) (int, map[string]any) {
	h.t.Helper()
	code, _, body := h.post("/slack/commands", "application/x-www-form-urlencoded", commandForm(text, h.slack.ResponseURL("cmd")), true)
	var out map[string]any
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			h.t.Fatalf("response is not JSON: %v: %s", err, body)
		}
	}
	return code, out
}

func (h *harness) event(payload any, header ...string) int {
	h.t.Helper()
	body, _ := json.Marshal(payload)
	code, _, _ := h.post("/slack/events", "application/json", body, true, header...)
	return code
}

func commandForm(text, responseURL string) []byte {
	return []byte(url.Values{
		"command": {"/apiorint"}, "text": {text}, "user_id": {"U1"}, "channel_id": {"C1"}, "team_id": {"T0FAKE"},
		"response_url": {responseURL}, "trigger_id": {"1.2"},
	}.Encode())
}

// callback wraps an inner event as Slack's Events API does.
func callback(eventID string, inner map[string]any) map[string]any {
	return map[string]any{"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0", "event_id": eventID, "event_time": 1, "event": inner}
}

func mention(text, channel, ts, threadTS string) map[string]any {
	ev := map[string]any{"type": "app_mention", "user": "U1", "text": text, "channel": channel, "ts": ts, "event_ts": ts}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	return ev
}

func directMessage(text, channel, ts string) map[string]any {
	return map[string]any{"type": "message", "channel_type": "im", "user": "U1", "text": text, "channel": channel, "ts": ts, "event_ts": ts}
}

func blockAction(sectionID, responseURL string) map[string]any {
	return click("U1", "show_section_0", sectionID, responseURL)
}

// click is a block_actions payload: user clicked the button actionID carrying value.
func click(user, actionID, value, responseURL string) map[string]any {
	return map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user}, "team": map[string]any{"id": "T0FAKE"},
		"channel": map[string]any{"id": "C1"}, "response_url": responseURL, "trigger_id": "1.2",
		"container": map[string]any{"type": "message"},
		"actions":   []map[string]any{{"type": "button", "action_id": actionID, "block_id": "b", "value": value}},
	}
}

// messageShortcut is the payload of the "Ask apiorint" shortcut used on a message.
func messageShortcut(text, responseURL string) map[string]any {
	return map[string]any{
		"type": "message_action", "callback_id": "ask_apiorint", "user": map[string]any{"id": "U2"},
		"team": map[string]any{"id": "T0FAKE"}, "channel": map[string]any{"id": "C1"}, "response_url": responseURL,
		"trigger_id": "9.9", "message_ts": "70.1", "message": map[string]any{"type": "message", "user": "U3", "text": text, "ts": "70.1"},
	}
}

// interact sends an interaction payload over HTTP, signed, and returns the status.
func (h *harness) interact(payload any) int {
	h.t.Helper()
	raw, _ := json.Marshal(payload)
	code, _, _ := h.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(raw)}}.Encode()), true)
	return code
}

// button returns the value of the button with actionID in a message's blocks, or "".
func button(t *testing.T, blocks any, actionID string) string {
	t.Helper()
	raw, _ := json.Marshal(blocks)
	var bs []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	json.Unmarshal(raw, &bs)
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e.Value
			}
		}
	}
	return ""
}

// deliver sends an envelope over Socket Mode and waits until the bot acknowledged it, so
// that what it asks for is under way before the test goes on (or stops the bot).
func (h *harness) deliver(kind string, payload any) {
	h.t.Helper()
	id, err := h.slack.Send(kind, payload, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.slack.WaitAck(id, 5*time.Second); err != nil {
		h.t.Fatalf("envelope %s not acknowledged: %v", id, err)
	}
}

// finish stops the bot, which waits for every reply in flight, and returns everything the
// fake Slack was sent: what a test counts, with nothing still on its way.
func (h *harness) finish() []fakeslack.Post {
	h.t.Helper()
	if err := h.shutdown(); err != nil {
		h.t.Fatal(err)
	}
	return h.slack.Posts()
}

// headerOf returns the text of the first header block of a message's blocks.
func headerOf(t *testing.T, blocks any) string {
	t.Helper()
	raw, _ := json.Marshal(blocks)
	var bs []struct {
		Type string `json:"type"`
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	json.Unmarshal(raw, &bs)
	for _, b := range bs {
		if b.Type == "header" {
			return b.Text.Text
		}
	}
	return ""
}

// syncBuffer is a bytes.Buffer that many goroutines can log to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
