package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/bot/store"
)

// BenchmarkSlashCommand measures the signed slash command path end to end, in process:
// verifying the signature, parsing the form, searching, rendering and writing the JSON;
// with every question recorded (SQLite) and without. Every iteration asks a different
// question.
func BenchmarkSlashCommand(b *testing.B) {
	topics := []string{"scalability", "what is an api", "api vs integration", "which one is faster", "middleware",
		"how do I choose", "perfomance", "types of integrations", "<@U0BOT> complexity", "recipe for bread"}
	bodies := make([][]byte, 1000)
	for i := range bodies {
		bodies[i] = commandForm(fmt.Sprintf("%s %d", topics[i%len(topics)], i), "http://127.0.0.1:1/r")
	}
	for _, recording := range []bool{false, true} {
		b.Run(map[bool]string{false: "recording=off", true: "recording=on"}[recording], func(b *testing.B) {
			var opts bot.Options
			var rec *store.Recorder
			if recording {
				s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "records.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				rec = store.NewRecorder(s, store.RecorderOptions{})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go rec.Run(ctx)
				opts.Recorder = rec
			}
			cfg := bot.Config{BotToken: fakeslack.BotToken, SigningSecret: secret, APIURL: "http://127.0.0.1:1/api/", ListenAddr: ":0"}
			handler := bot.New(cfg, article(b), opts).Handler()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				body := bodies[i%len(bodies)]
				i++
				req := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				fakeslack.SignRequest(req, secret, body)
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			if rec != nil {
				b.ReportMetric(float64(rec.Stats().Dropped), "dropped")
			}
		})
	}
}
