package bot

import (
	"github.com/apiorint/apiorint/bot/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the bot's Prometheus metrics, in a registry of its own.
type metrics struct {
	registry *prometheus.Registry

	requests    *prometheus.CounterVec // Slack requests by transport and kind
	refused     *prometheus.CounterVec // HTTP requests refused, by reason
	events      *prometheus.CounterVec // events by kind and what became of them
	answers     *prometheus.CounterVec // answers by result
	replies     *prometheus.CounterVec // replies sent after the acknowledgement, by result
	votes       *prometheus.CounterVec // 👍 and 👎
	records     *prometheus.CounterVec // records the bot could not hand to its recorder
	rateLimited prometheus.Counter     // app_rate_limited events from Slack
	reloads     *prometheus.CounterVec // reloads of the knowledge, by result
	panics      prometheus.Counter
	search      prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_slack_requests_total",
			Help: "Requests from Slack, by transport (http, socket) and kind (command, event, interaction, url_verification, ssl_check, app_rate_limited, other).",
		}, []string{"transport", "kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_http_refused_total",
			Help: "Requests refused before any work, by reason (unsigned, stale, bad_signature, too_large, slow_body, busy, bad_request); and, over either transport, clicks whose button value the bot did not sign (button_value) and replies whose response URL is not Slack's (response_url).",
		}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_events_total",
			Help: "Events by kind (app_mention, message, block_actions, ...) and outcome (queued, duplicate, ignored, no_channel, dropped, redis_unavailable).",
		}, []string{"kind", "outcome"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_answers_total",
			Help: "Replies by result: answer, closest, none (no confident answer), small_talk, usage (help or empty), section (a related section), shared, gaps, error.",
		}, []string{"result"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_replies_total",
			Help: "Messages sent to Slack after the acknowledgement, by result (delivered, failed, dropped: the queue was full).",
		}, []string{"result"}),
		votes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_votes_total",
			Help: "Feedback clicks by vote (up, down).",
		}, []string{"vote"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_records_refused_total",
			Help: "Question and vote records the recorder did not take (dropped: its queue was full or closed).",
		}, []string{"result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiorint_knowledge_reloads_total",
			Help: "Reloads of KNOWLEDGE_DIR by result: ok (in service), failed (the old knowledge stays).",
		}, []string{"result"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "apiorint_app_rate_limited_total",
			Help: "app_rate_limited notices from Slack: a minute in which it sent this app no events.",
		}),
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
	m.registry.MustRegister(m.requests, m.refused, m.events, m.answers, m.replies, m.votes, m.records, m.reloads, m.rateLimited, m.panics, m.search,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watch registers the gauges read from the bot's parts at each scrape: Redis, the
// recorder, and the knowledge in service.
func (m *metrics) watch(b *Bot) {
	if b.redis != nil {
		r := b.redis
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "apiorint_redis_up", Help: "1 while Redis answers, 0 while the bot falls back to what it keeps itself."},
				func() float64 {
					if r.Status() == "ok" {
						return 1
					}
					return 0
				}),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "apiorint_redis_errors_total", Help: "Redis commands that failed."},
				func() float64 { return float64(r.Errors()) }))
	}
	if rec, ok := b.records.(interface{ Stats() store.RecorderStats }); ok {
		for _, c := range []struct {
			name, help string
			get        func(store.RecorderStats) float64
		}{
			{"apiorint_records_written_total", "Question and vote records written to the database.", func(s store.RecorderStats) float64 { return float64(s.Written) }},
			{"apiorint_records_dropped_total", "Records not written: the recorder's queue was full or closed, the record was invalid, or it was still queued when a stop ran out of time.", func(s store.RecorderStats) float64 { return float64(s.Dropped) }},
			{"apiorint_record_writes_failed_total", "Failed attempts to write a batch of records (retried).", func(s store.RecorderStats) float64 { return float64(s.Failed) }},
		} {
			get := c.get
			m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, func() float64 { return get(rec.Stats()) }))
		}
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "apiorint_records_pending", Help: "Records waiting to be written."},
				func() float64 { return float64(rec.Stats().Pending) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "apiorint_records_database_up", Help: "1 when the last write to the database worked."},
				func() float64 {
					if rec.Stats().StoreUp {
						return 1
					}
					return 0
				}))
	}
	if b.knowledge != nil {
		k := b.knowledge
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "apiorint_knowledge_sections", Help: "Sections in the knowledge in service."},
			func() float64 { return float64(k.Size()) }))
	}
}
