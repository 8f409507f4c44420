// Package store keeps the record of the questions the bot answered and of the 👍/👎 people
// gave, and answers the gap report's questions about them: which questions the knowledge
// answered badly, and how much the bot is used.
//
// Records live in SQLite (the embedded default, a file) or in PostgreSQL, behind one
// [Store] interface; [Open] chooses from a DATABASE_URL and applies the schema's pending
// migrations. Answering never waits for the database: the bot hands records to a
// [Recorder], which writes them in batches in the background and keeps them while the
// database is down.
package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Outcomes of a question.
const (
	OutcomeAnswer  = "answer"  // the first section answers it
	OutcomeClosest = "closest" // on topic, but it asks about something the knowledge does not cover
	OutcomeNone    = "none"    // off topic or small talk: no section
	OutcomeDown    = "down"    // only in gap reports: an answer someone gave 👎
)

// Surfaces a question came from.
const (
	SurfaceSlash    = "slash"
	SurfaceMention  = "mention"
	SurfaceDM       = "dm"
	SurfaceButton   = "button" // a related section clicked under an answer
	SurfaceShortcut = "shortcut"
	SurfaceHome     = "home"
)

// maxIDLen bounds a Question's ID, so that a mistake cannot fill the primary key index.
const maxIDLen = 64

// A Question is one question answered in Slack.
type Question struct {
	ID      string    // the answer's ID, chosen by the bot (unique, at most 64 bytes); feedback refers to it
	At      time.Time // zero: when it is saved (the Recorder fills in when it was queued)
	Surface string    // one of the Surface constants
	Team    string
	Channel string
	User    string
	Text    string  // as asked, Slack markup already removed
	Outcome string  // OutcomeAnswer, OutcomeClosest or OutcomeNone
	Section string  // the section ID given first; "" for none
	Score   float64 // the first section's score
	Parent  string  // for SurfaceButton: the ID of the answer the button was under; else ""
}

// A Vote is one person's 👍 (+1) or 👎 (-1) on an answer. It carries the question, section
// and outcome the button was rendered with, so that it means something even when the
// question's own record was lost (queue full, database down).
type Vote struct {
	AnswerID string
	User     string
	Value    int       // +1 or -1
	At       time.Time // zero: when it is saved (the Recorder fills in when it was queued)
	Question string
	Section  string
	Outcome  string
}

// A Batch is written in one transaction.
type Batch struct {
	Questions []Question
	Votes     []Vote
}

// A Gap is a question people asked that the knowledge answered badly, grouped by
// normalised text (see [Normalize]).
type Gap struct {
	Question string    `json:"question"` // the most recent wording
	Asked    int       `json:"asked"`    // how many times (for "down": how many 👎)
	Outcome  string    `json:"outcome"`  // none | closest | down
	Section  string    `json:"section"`  // the section given the most recent time, "" if none
	Last     time.Time `json:"last"`     // most recent, UTC, whole seconds
}

// Stats are the numbers behind the gap report, for a person.
type Stats struct {
	Since     time.Time
	Total     int
	PerDay    []DayCount // every UTC day from Since's to today, zero days included, oldest first
	BySurface map[string]int
	ByOutcome map[string]int
	Sections  []SectionStats // by answers descending, then section ascending
}

// A DayCount is how many questions were asked on one UTC day.
type DayCount struct {
	Day   time.Time // midnight UTC
	Count int
}

// SectionStats are how often a section was given and what people thought of it.
type SectionStats struct {
	Section string
	Answers int // questions it was given to first
	Up      int // 👍 on answers that gave it first
	Down    int // 👎 on answers that gave it first
}

// A Store keeps records. Both engines implement it, and it is safe for concurrent use.
type Store interface {
	// Save writes b in one transaction. A question whose ID is already stored is left as it
	// is, so that a retried batch does not duplicate; a vote replaces the same person's
	// earlier vote on the same answer. A record that can never be stored (see ErrInvalid)
	// fails the whole batch before anything is written.
	Save(ctx context.Context, b Batch) error
	// Gaps reports the questions at or after since that got none or closest, and the 👎
	// given at or after since, most asked first; at most limit of them (<= 0: 50).
	Gaps(ctx context.Context, since time.Time, limit int) ([]Gap, error)
	// Stats counts the questions and votes at or after since (zero: all of them).
	Stats(ctx context.Context, since time.Time) (Stats, error)
	// Prune deletes the questions and votes older than before and reports how many.
	Prune(ctx context.Context, before time.Time) (int64, error)
	Close() error
}

var (
	// ErrOff is what Open returns for DATABASE_URL=off: recording is switched off.
	ErrOff = errors.New("store: recording is off (DATABASE_URL=off)")
	// ErrUnavailable marks a failure to reach the database server, as opposed to a
	// configuration mistake: the bot can keep answering and record later (see OpenLazy).
	ErrUnavailable = errors.New("store: database unavailable")
	// ErrInvalid marks a record that can never be stored: retrying it is pointless.
	ErrInvalid = errors.New("store: invalid record")
)

// Normalize is the form questions are grouped by in the gap report: lower case, runs of
// white space made one space, punctuation and white space trimmed from both ends, so that
// "What is REST?" and "what is  rest" are one question.
func Normalize(text string) string {
	text = strings.Join(strings.Fields(strings.ToLower(text)), " ")
	return strings.TrimFunc(text, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

func validQuestion(q Question) error {
	switch {
	case q.ID == "":
		return fmt.Errorf("%w: question without an ID", ErrInvalid)
	case len(q.ID) > maxIDLen:
		return fmt.Errorf("%w: question ID longer than 64 bytes", ErrInvalid)
	case q.Outcome != OutcomeAnswer && q.Outcome != OutcomeClosest && q.Outcome != OutcomeNone:
		return fmt.Errorf("%w: question outcome %q is not answer, closest or none", ErrInvalid, q.Outcome)
	}
	return nil
}

func validVote(v Vote) error {
	switch {
	case v.AnswerID == "" || v.User == "":
		return fmt.Errorf("%w: vote without an answer ID or a user", ErrInvalid)
	case len(v.AnswerID) > maxIDLen:
		return fmt.Errorf("%w: vote answer ID longer than 64 bytes", ErrInvalid)
	case v.Value != 1 && v.Value != -1:
		return fmt.Errorf("%w: vote value is neither +1 nor -1", ErrInvalid)
	}
	return nil
}

// clean makes s storable by both engines: PostgreSQL refuses invalid UTF-8 and NUL in
// text, and a batch it refuses would be retried for ever.
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// finite keeps a score storable: SQLite stores NaN as NULL, which the column refuses.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
