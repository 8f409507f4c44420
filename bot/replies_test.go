package bot

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestReplyQueuePanics: a panic in a reply's wait or in its work fails that reply, counted,
// and the queue goes on with the next.
func TestReplyQueuePanics(t *testing.T) {
	m := newMetrics()
	q := newReplyQueue(2, 10, time.Second, slog.New(slog.DiscardHandler), m)
	ok := func(context.Context) error { return nil }
	boom := func(context.Context) error { panic("boom") }
	q.enqueue(reply{what: "panics waiting", wait: boom, do: ok})
	q.enqueue(reply{what: "panics working", do: boom})
	q.enqueue(reply{what: "fine", wait: ok, do: ok})
	if err := q.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := counter(t, m, "apiorint_panics_total", ""); got != 2 {
		t.Errorf("%v panics counted, want 2", got)
	}
	if got := counter(t, m, "apiorint_replies_total", "delivered"); got != 1 {
		t.Errorf("%v replies delivered, want 1", got)
	}
	if q.enqueue(reply{what: "late", do: ok}) {
		t.Error("a stopped queue took a reply")
	}
}

// counter is the value of the counter name in m, the one with a label valued label if set.
func counter(t *testing.T, m *metrics, name, label string) float64 {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, c := range f.GetMetric() {
			if label == "" {
				return c.GetCounter().GetValue()
			}
			for _, l := range c.GetLabel() {
				if l.GetValue() == label {
					return c.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
