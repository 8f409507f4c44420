package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkRecorderQuestion is what recording costs an answer: the call to Question.
// "taken" is a record put in the queue, "full" one refused, and "writing" a call while the
// writer saves to SQLite in the background, as in service (a loop asks faster than SQLite
// writes, so most of those calls find the queue full: dropped/op says how many).
func BenchmarkRecorderQuestion(b *testing.B) {
	// The same ID every time: the store ignores the repeats, and Question's cost is the same.
	q := Question{ID: "answer-1", Surface: SurfaceSlash, Team: "T1", Channel: "C1", User: "U1",
		Text: "what is the difference between an API and an integration?", Outcome: OutcomeAnswer,
		Section: "api-vs-integration", Score: 3.2}
	s := openStore(b, sqliteURL(b))

	b.Run("taken", func(b *testing.B) {
		const size = 10_000
		r := NewRecorder(s, RecorderOptions{QueueSize: size, MaxBatch: size})
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if n++; n == size {
				b.StopTimer()
				r.take() // empty the queue, as the writer would, without timing it
				r.done()
				n = 0
				b.StartTimer()
			}
			if !r.Question(q) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		r := NewRecorder(s, RecorderOptions{QueueSize: 1})
		r.Question(q)
		b.ReportAllocs()
		for b.Loop() {
			if r.Question(q) {
				b.Fatal("taken")
			}
		}
	})
	b.Run("writing", func(b *testing.B) {
		r := NewRecorder(s, RecorderOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go r.Run(ctx)
		b.ReportAllocs()
		for b.Loop() {
			r.Question(q)
		}
		b.StopTimer()
		st := r.Stats()
		b.ReportMetric(float64(st.Dropped)/float64(max(st.Queued+st.Dropped, 1)), "dropped/op")
	})
}

// BenchmarkSaveBatch is the writer's cost: one batch of 100 questions into SQLite.
func BenchmarkSaveBatch(b *testing.B) {
	s := openStore(b, sqliteURL(b))
	ctx := context.Background()
	batch := Batch{Questions: make([]Question, 100)}
	n := 0
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		for j := range batch.Questions {
			n++
			batch.Questions[j] = Question{ID: fmt.Sprintf("answer-%d", n), At: at, Surface: SurfaceMention, Team: "T1", Channel: "C1",
				User: "U1", Text: "How does an integration scale?", Outcome: OutcomeClosest, Section: "scalability", Score: 1.5}
		}
		if err := s.Save(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}
