package bot_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
)

// BenchmarkSlashCommand measures the signed slash command path end to end, in process:
// verifying the signature, parsing the form, searching, rendering and writing the JSON.
// Every iteration asks a different question.
func BenchmarkSlashCommand(b *testing.B) {
	cfg := bot.Config{BotToken: fakeslack.BotToken, SigningSecret: secret, APIURL: "http://127.0.0.1:1/api/", ListenAddr: ":0"}
	handler := bot.New(cfg, article(b), bot.Options{}).Handler()
	topics := []string{"scalability", "what is an api", "api vs integration", "which one is faster", "middleware",
		"how do I choose", "perfomance", "types of integrations", "<@U0BOT> complexity", "recipe for bread"}
	bodies := make([][]byte, 1000)
	for i := range bodies {
		bodies[i] = commandForm(fmt.Sprintf("%s %d", topics[i%len(topics)], i), "http://127.0.0.1:1/r")
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		body := bodies[i%len(bodies)]
		i++
		req := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		fakeslack.SignRequest(req, secret, body)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
