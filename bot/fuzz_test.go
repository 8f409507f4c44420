package bot

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/index/indextest"
)

// FuzzSlackRequest sends signed requests with arbitrary bodies to every Slack endpoint: each
// gets an answer below 500 (a 4xx, or acknowledged and ignored), and nothing panics.
func FuzzSlackRequest(f *testing.F) {
	cfg := Config{BotToken: fakeslack.BotToken, SigningSecret: "fuzz", APIURL: "http://127.0.0.1:1/api/", ListenAddr: ":0"}
	b := New(cfg, indextest.Article(f), Options{Workers: 1, QueueSize: 1})
	handler := b.Handler()
	f.Add(uint8(0), "application/json", []byte(`{"type":"url_verification","challenge":"c"}`))
	f.Fuzz(func(t *testing.T, endpoint uint8, contentType string, body []byte) {
		path := []string{"/slack/events", "/slack/commands", "/slack/interactions"}[int(endpoint)%3]
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		fakeslack.SignRequest(req, "fuzz", body)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", path, body, rec.Code, rec.Body)
		}
	})
}

// FuzzRender renders arbitrary sections: every message keeps to Slack's limits (3,000
// characters a section, 50 blocks) and lets no markup through.
func FuzzRender(f *testing.F) {
	topics := indextest.Article(f).Topics()
	rn := newRenderer(newRefSigner("xoxb-test"))
	f.Add("Title", "Some **Markdown** with <!channel> and a [link](https://example.com).", "id", "what is an api?")
	f.Fuzz(func(t *testing.T, title, text, id, question string) {
		if title == "" || text == "" {
			return // the index never returns these
		}
		r := index.Result{ID: id, Title: title, Text: text, Source: "fuzz.md", Path: []string{title}}
		checkLimits(t, rn.answer(index.Answer{Query: question, Match: index.MatchAnswer, Results: []index.Result{r, r}}, "a", topics, view{share: true}))
		checkLimits(t, rn.answer(index.Answer{Query: question, Match: index.MatchClosest, Uncovered: []string{title, question}, Results: []index.Result{r}}, "a", topics, view{share: true}))
		checkLimits(t, rn.answer(index.Answer{Query: question, Match: index.MatchNone}, "", topics, view{}))
		checkLimits(t, usageMessage([]index.Topic{{ID: id, Title: title}, {ID: text, Title: text}}))
	})
}
