package bot

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the bot's Prometheus metrics, in a registry of its own.
type metrics struct {
	registry *prometheus.Registry

	requests *prometheus.CounterVec // Slack requests by transport and kind
	refused  *prometheus.CounterVec // HTTP requests refused, by reason
	events   *prometheus.CounterVec // events by kind and what became of them
	answers  *prometheus.CounterVec // answers by result
	replies  *prometheus.CounterVec // replies sent after the acknowledgement, by result
	panics   prometheus.Counter
	search   prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_slack_requests_total",
			Help: "Requests from Slack, by transport (http, socket) and kind (command, event, interaction, url_verification, other).",
		}, []string{"transport", "kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_http_refused_total",
			Help: "HTTP requests refused before any work, by reason (unsigned, stale, bad_signature, too_large, busy, bad_request).",
		}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_events_total",
			Help: "Events by kind (app_mention, message, ...) and outcome (queued, duplicate, ignored, dropped).",
		}, []string{"kind", "outcome"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_answers_total",
			Help: "Questions by result: answered, no_match (no confident answer), usage (help or empty), section (a button).",
		}, []string{"result"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_replies_total",
			Help: "Messages sent to Slack after the acknowledgement, by result (delivered, failed, dropped: the queue was full).",
		}, []string{"result"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apiorint_panics_total",
			Help: "Panics recovered in request and event handlers.",
		}),
		search: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "apiorint_search_duration_seconds",
			Help:    "Time to search the knowledge for one question.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5},
		}),
	}
	m.registry.MustRegister(m.requests, m.refused, m.events, m.answers, m.replies, m.panics, m.search,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
