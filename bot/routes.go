package bot

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler returns the bot's HTTP API: health and metrics always, and the Slack endpoints when
// a signing secret can verify them (HTTP mode, or Socket Mode with a secret set).
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", b.handleHealth())
	mux.Handle("GET /metrics", promhttp.HandlerFor(b.metrics.registry, promhttp.HandlerOpts{}))
	if b.cfg.ServesSlackHTTP() {
		// Like Bolt, /slack/events also takes slash commands and interactions, so that one
		// request URL can be given for all three in the app's settings.
		mux.Handle("POST /slack/events", b.slackRequest(b.handleEvents))
		mux.Handle("POST /slack/commands", b.slackRequest(b.handleCommand))
		mux.Handle("POST /slack/interactions", b.slackRequest(b.handleInteraction))
	}
	return b.recoverPanics(mux)
}
