package store_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/apiorint/apiorint/bot/store"
)

// How the bot wires the store: recording off is a nil Recorder; a PostgreSQL server that
// is down at the start does not stop the bot, which records once it is back.
func Example() {
	ctx := context.Background()
	log := slog.Default()
	url := os.Getenv("DATABASE_URL")

	s, err := store.Open(ctx, url)
	if errors.Is(err, store.ErrUnavailable) {
		log.Warn("question records: database unreachable; answering anyway, recording when it is back", "err", err)
		s, err = store.OpenLazy(ctx, url)
	}
	var rec *store.Recorder // nil: recording is off
	switch {
	case errors.Is(err, store.ErrOff):
	case err != nil:
		log.Error("DATABASE_URL", "err", err) // a configuration error: exit non-zero
		return
	default:
		defer s.Close()
		rec = store.NewRecorder(s, store.RecorderOptions{Logger: log, Retention: 90 * 24 * time.Hour})
		go rec.Run(ctx)
	}

	// In a handler, after answering:
	rec.Question(store.Question{ID: "A1B2", Surface: store.SurfaceSlash, User: "U1",
		Text: "What is REST?", Outcome: store.OutcomeAnswer, Section: "rest", Score: 2.5})

	// At shutdown, before closing the store:
	shutdown, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rec.Close(shutdown); err != nil {
		log.Error("question records lost at shutdown", "err", err)
	}
}
