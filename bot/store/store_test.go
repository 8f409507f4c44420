package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// t0 has a fraction of a second, to check that gap times come out in whole seconds.
var t0 = time.Date(2025, 3, 10, 12, 0, 0, 123456789, time.UTC)

func ago(d time.Duration) time.Time { return t0.Add(-d) }

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"What is REST?", "what is rest"},
		{"  what   is\trest\n", "what is rest"},
		{"¿Qué es REST?", "qué es rest"},
		{`"API vs integration..."`, "api vs integration"},
		{"what's an API?!", "what's an api"},
		{"???", ""},
		{"", ""},
		{"rest (api)", "rest (api"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSaveIgnoresDuplicateQuestions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		first := Question{ID: "a1", At: ago(time.Hour), Surface: SurfaceSlash, Text: "first wording", Outcome: OutcomeNone}
		save(t, s, Batch{Questions: []Question{first}})
		again := first
		again.Text = "a retry must not change it"
		save(t, s, Batch{Questions: []Question{again, again, {ID: "a2", At: ago(time.Hour), Text: "other", Outcome: OutcomeNone}}})

		st, err := s.Stats(context.Background(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 2 {
			t.Errorf("Total = %d, want 2", st.Total)
		}
		gaps, err := s.Gaps(context.Background(), time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(gaps) != 2 || gaps[0].Question != "first wording" && gaps[1].Question != "first wording" {
			t.Errorf("gaps = %+v, want the first wording kept", gaps)
		}
	})
}

func TestVotes(t *testing.T) {
	down := Vote{AnswerID: "a1", User: "U1", Value: -1, At: ago(time.Hour), Question: "Is Zapier an API?", Section: "tools", Outcome: OutcomeAnswer}
	up := down
	up.Value, up.At = 1, ago(30*time.Minute)
	tests := []struct {
		name     string
		batches  []Batch
		wantGaps int
		want     SectionStats
	}{
		{"one 👎", []Batch{{Votes: []Vote{down}}}, 1, SectionStats{Section: "tools", Down: 1}},
		{"👎 then 👍 leaves the report", []Batch{{Votes: []Vote{down}}, {Votes: []Vote{up}}}, 0, SectionStats{Section: "tools", Up: 1}},
		{"both in one batch", []Batch{{Votes: []Vote{down, up}}}, 0, SectionStats{Section: "tools", Up: 1}},
		{"the later click wins even when written first", []Batch{{Votes: []Vote{up}}, {Votes: []Vote{down}}}, 0, SectionStats{Section: "tools", Up: 1}},
		{"another person's 👎 counts apart", []Batch{{Votes: []Vote{down}}, {Votes: []Vote{up, func() Vote { v := down; v.User = "U2"; return v }()}}}, 1, SectionStats{Section: "tools", Up: 1, Down: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, url string) {
				s := openStore(t, url)
				for _, b := range tt.batches {
					save(t, s, b)
				}
				gaps, err := s.Gaps(context.Background(), time.Time{}, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(gaps) != tt.wantGaps {
					t.Errorf("gaps = %+v, want %d", gaps, tt.wantGaps)
				}
				st, err := s.Stats(context.Background(), time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if want := []SectionStats{tt.want}; !reflect.DeepEqual(st.Sections, want) {
					t.Errorf("sections = %+v, want %+v", st.Sections, want)
				}
			})
		})
	}
}

func TestGaps(t *testing.T) {
	q := func(id string, at time.Time, text, outcome, section string) Question {
		return Question{ID: id, At: at, Surface: SurfaceMention, Team: "T1", Channel: "C1", User: "U1",
			Text: text, Outcome: outcome, Section: section, Score: 0.5}
	}
	v := func(answer, user string, value int, at time.Time, question, section string) Vote {
		return Vote{AnswerID: answer, User: user, Value: value, At: at, Question: question, Section: section, Outcome: OutcomeAnswer}
	}
	batch := Batch{
		Questions: []Question{
			q("q1", ago(3*time.Hour), "What is REST?", OutcomeNone, ""),
			q("q2", ago(time.Hour), "what   is rest", OutcomeNone, ""),
			q("q3", ago(2*time.Hour), "How do webhooks scale", OutcomeClosest, "scalability"),
			q("q4", ago(30*time.Minute), "how do webhooks scale?", OutcomeNone, ""),
			q("q5", ago(10*time.Minute), "What is an API?", OutcomeAnswer, "definition"), // answered: no gap
			q("q6", ago(5*time.Hour), "b question", OutcomeNone, ""),
			q("q7", ago(5*time.Hour), "a question", OutcomeNone, ""),
			q("q8", ago(48*time.Hour), "ancient question", OutcomeClosest, "history"),
			q("q9", ago(4*time.Hour), "How do webhooks scale!", OutcomeClosest, "scaling"),
		},
		Votes: []Vote{
			v("a1", "U1", -1, ago(20*time.Minute), "Is an integration an API?", "definition"),
			v("a2", "U2", -1, ago(10*time.Minute), "is an integration an api", "definition"),
			v("a3", "U1", -1, ago(15*time.Minute), "Is Zapier an API?", "tools"),
			v("a3", "U1", 1, ago(14*time.Minute), "Is Zapier an API?", "tools"), // changed its mind
			v("a4", "U3", 1, ago(15*time.Minute), "What is an API?", "definition"),
		},
	}
	last := func(at time.Time) time.Time { return at.Truncate(time.Second) }
	var (
		rest    = Gap{Question: "what   is rest", Asked: 2, Outcome: OutcomeNone, Last: last(ago(time.Hour))}
		restNew = Gap{Question: "what   is rest", Asked: 1, Outcome: OutcomeNone, Last: last(ago(time.Hour))}
		down    = Gap{Question: "is an integration an api", Asked: 2, Outcome: OutcomeDown, Section: "definition", Last: last(ago(10 * time.Minute))}
		scaleN  = Gap{Question: "how do webhooks scale?", Asked: 1, Outcome: OutcomeNone, Last: last(ago(30 * time.Minute))}
		scaleC  = Gap{Question: "How do webhooks scale", Asked: 2, Outcome: OutcomeClosest, Section: "scalability", Last: last(ago(2 * time.Hour))}
		a       = Gap{Question: "a question", Asked: 1, Outcome: OutcomeNone, Last: last(ago(5 * time.Hour))}
		b       = Gap{Question: "b question", Asked: 1, Outcome: OutcomeNone, Last: last(ago(5 * time.Hour))}
		ancient = Gap{Question: "ancient question", Asked: 1, Outcome: OutcomeClosest, Section: "history", Last: last(ago(48 * time.Hour))}
	)
	tests := []struct {
		name  string
		since time.Time
		limit int
		want  []Gap
	}{
		{"a day", ago(24 * time.Hour), 0, []Gap{down, rest, scaleC, scaleN, a, b}},
		{"limit", ago(24 * time.Hour), 3, []Gap{down, rest, scaleC}},
		{"since is inclusive", ago(time.Hour), 0, []Gap{down, scaleN, restNew}},
		{"everything", time.Time{}, 0, []Gap{down, rest, scaleC, scaleN, a, b, ancient}},
		{"nothing yet", t0, 0, []Gap{}},
	}
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		save(t, s, batch)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Gaps(context.Background(), tt.since, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Gaps:\n got %+v\nwant %+v", got, tt.want)
				}
			})
		}
		t.Run("json", func(t *testing.T) {
			got, err := s.Gaps(context.Background(), ago(90*time.Minute), 1)
			if err != nil {
				t.Fatal(err)
			}
			j, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			want := `[{"question":"is an integration an api","asked":2,"outcome":"down","section":"definition","last":"2025-03-10T11:50:00Z"}]`
			if string(j) != want {
				t.Errorf("JSON:\n got %s\nwant %s", j, want)
			}
		})
	})
}

func TestStats(t *testing.T) {
	day := func(d int, h int) time.Time { return time.Date(2025, 3, d, h, 30, 0, 0, time.UTC) }
	at := func(id string, when time.Time, surface, outcome, section string) Question {
		return Question{ID: id, At: when, Surface: surface, Text: id, Outcome: outcome, Section: section}
	}
	batch := Batch{
		Questions: []Question{
			at("q1", day(10, 9), SurfaceSlash, OutcomeAnswer, "rest"),
			at("q2", day(10, 23), SurfaceDM, OutcomeAnswer, "rest"),
			at("q3", day(8, 0), SurfaceMention, OutcomeClosest, "soap"),
			at("q4", day(8, 1), SurfaceButton, OutcomeAnswer, "soap"),
			at("q5", day(8, 2), SurfaceSlash, OutcomeNone, ""),
			at("q6", day(8, 3), SurfaceSlash, OutcomeAnswer, "auth"),
			at("q0", day(6, 12), SurfaceSlash, OutcomeAnswer, "rest"), // before since
		},
		Votes: []Vote{
			{AnswerID: "q1", User: "U1", Value: 1, At: day(10, 10), Section: "rest"},
			{AnswerID: "q1", User: "U2", Value: -1, At: day(10, 10), Section: "rest"},
			{AnswerID: "q3", User: "U1", Value: -1, At: day(8, 5), Section: "soap"},
			{AnswerID: "x9", User: "U1", Value: 1, At: day(9, 5), Section: "webhooks"}, // its question was lost
			{AnswerID: "q0", User: "U1", Value: -1, At: day(6, 13), Section: "rest"},   // before since
		},
	}
	midnight := func(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC) }
	since := day(7, 10)
	want := Stats{
		Since: since,
		Total: 6,
		PerDay: []DayCount{
			{midnight(7), 0}, {midnight(8), 4}, {midnight(9), 0}, {midnight(10), 2}, {midnight(11), 0},
		},
		BySurface: map[string]int{SurfaceSlash: 3, SurfaceDM: 1, SurfaceMention: 1, SurfaceButton: 1},
		ByOutcome: map[string]int{OutcomeAnswer: 4, OutcomeClosest: 1, OutcomeNone: 1},
		Sections: []SectionStats{
			{Section: "rest", Answers: 2, Up: 1, Down: 1},
			{Section: "soap", Answers: 2, Down: 1},
			{Section: "auth", Answers: 1},
			{Section: "webhooks", Up: 1},
		},
	}
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		s.now = func() time.Time { return day(11, 8) }
		save(t, s, batch)
		got, err := s.Stats(context.Background(), since)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Stats:\n got %+v\nwant %+v", got, want)
		}

		got, err = s.Stats(context.Background(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != 7 || len(got.PerDay) != 6 || !got.PerDay[0].Day.Equal(midnight(6)) {
			t.Errorf("Stats(zero): total %d, per day %+v; want 7 from March 6", got.Total, got.PerDay)
		}
	})
}

func TestStatsEmpty(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		got, err := s.Stats(context.Background(), time.Now().Add(-48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != 0 || len(got.PerDay) != 3 || got.BySurface == nil || got.Sections == nil {
			t.Errorf("Stats = %+v, want 3 zero days and empty (not nil) maps and sections", got)
		}
	})
}

func TestPrune(t *testing.T) {
	tests := []struct {
		name   string
		before time.Time
		want   int64
		left   int // questions
	}{
		{"nothing that old", ago(100 * time.Hour), 0, 3},
		{"before is exclusive", ago(48 * time.Hour), 0, 3},
		{"older than a day", ago(24 * time.Hour), 3, 2},
		{"everything", t0, 6, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, url string) {
				s := openStore(t, url)
				s.pruneChunk = 1 // every row its own chunk: the loop is what is tested
				save(t, s, Batch{
					Questions: []Question{
						{ID: "old", At: ago(48 * time.Hour), Text: "old", Outcome: OutcomeNone},
						{ID: "new", At: ago(time.Hour), Text: "new", Outcome: OutcomeNone},
						{ID: "newer", At: ago(time.Minute), Text: "newer", Outcome: OutcomeAnswer, Section: "s"},
					},
					Votes: []Vote{
						{AnswerID: "old", User: "U1", Value: -1, At: ago(47 * time.Hour), Question: "old"},
						{AnswerID: "old", User: "U2", Value: -1, At: ago(25 * time.Hour), Question: "old"},
						{AnswerID: "newer", User: "U1", Value: 1, At: ago(time.Second)},
					},
				})
				n, err := s.Prune(context.Background(), tt.before)
				if err != nil {
					t.Fatal(err)
				}
				if n != tt.want {
					t.Errorf("Prune = %d, want %d", n, tt.want)
				}
				st, err := s.Stats(context.Background(), time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if st.Total != tt.left {
					t.Errorf("%d questions left, want %d", st.Total, tt.left)
				}
			})
		})
	}
}

func TestSaveInvalid(t *testing.T) {
	ok := Question{ID: "q", Text: "fine", Outcome: OutcomeNone}
	tests := []struct {
		name string
		b    Batch
	}{
		{"no ID", Batch{Questions: []Question{ok, {Text: "x", Outcome: OutcomeNone}}}},
		{"long ID", Batch{Questions: []Question{{ID: strings.Repeat("x", 65), Outcome: OutcomeNone}}}},
		{"unknown outcome", Batch{Questions: []Question{{ID: "q", Outcome: OutcomeDown}}}},
		{"vote of 2", Batch{Questions: []Question{ok}, Votes: []Vote{{AnswerID: "q", User: "U", Value: 2}}}},
		{"vote without user", Batch{Votes: []Vote{{AnswerID: "q", Value: 1}}}},
	}
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		for _, tt := range tests {
			if err := s.Save(context.Background(), tt.b); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: Save = %v, want ErrInvalid", tt.name, err)
			}
		}
		// Nothing of a refused batch is written.
		if st, err := s.Stats(context.Background(), time.Time{}); err != nil || st.Total != 0 {
			t.Errorf("Stats = %+v, %v; want nothing written", st, err)
		}
	})
}

// Text PostgreSQL refuses, and a score SQLite would store as NULL, must not make a batch
// fail for ever.
func TestSaveAwkwardValues(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		save(t, s, Batch{
			Questions: []Question{{ID: "q", At: ago(time.Minute), Text: "nul\x00 and \xff bad UTF-8", Outcome: OutcomeNone, Score: nan()}},
			Votes:     []Vote{{AnswerID: "q", User: "U\x00", Value: -1, At: ago(time.Minute), Question: "\xfe?"}},
		})
		gaps, err := s.Gaps(context.Background(), time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(gaps) != 2 || gaps[0].Question != "nul and \uFFFD bad UTF-8" || gaps[1].Question != "\uFFFD?" {
			t.Errorf("gaps = %+v", gaps)
		}
	})
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// Records without a time get the time they are saved at.
func TestSaveZeroTime(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		before := time.Now().Add(-time.Second)
		save(t, s, Batch{Questions: []Question{{ID: "q", Text: "when?", Outcome: OutcomeNone}}})
		gaps, err := s.Gaps(context.Background(), before, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(gaps) != 1 || gaps[0].Last.Before(before.Truncate(time.Second)) {
			t.Errorf("gaps = %+v, want one from now", gaps)
		}
	})
}

// Batches larger than one INSERT statement are written whole.
func TestSaveLargeBatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		var b Batch
		for i := range 2*rowsPerInsert + 7 {
			id := fmt.Sprintf("q%d", i)
			b.Questions = append(b.Questions, Question{ID: id, At: ago(time.Minute), Text: "same question", Outcome: OutcomeNone})
			b.Votes = append(b.Votes, Vote{AnswerID: id, User: "U1", Value: -1, At: ago(time.Minute), Question: "same question"})
		}
		save(t, s, b)
		gaps, err := s.Gaps(context.Background(), time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 2*rowsPerInsert + 7
		want := []Gap{
			{Question: "same question", Asked: n, Outcome: OutcomeDown, Last: ago(time.Minute).Truncate(time.Second)},
			{Question: "same question", Asked: n, Outcome: OutcomeNone, Last: ago(time.Minute).Truncate(time.Second)},
		}
		if !reflect.DeepEqual(gaps, want) {
			t.Errorf("gaps = %+v, want %+v", gaps, want)
		}
	})
}

// TestPruneLetsWritesThrough: a prune of many rows on SQLite holds the write lock a chunk at
// a time, so records written meanwhile wait milliseconds, not the whole prune.
func TestPruneLetsWritesThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,000 rows")
	}
	s := openStore(t, sqliteURL(t))
	const old = 100_000
	for i := 0; i < old; i += 1000 {
		var b Batch
		for j := i; j < i+1000; j++ {
			b.Questions = append(b.Questions, Question{ID: fmt.Sprintf("old%d", j), At: ago(48 * time.Hour), Text: "old", Outcome: OutcomeNone})
		}
		save(t, s, b)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := s.Prune(context.Background(), ago(24*time.Hour))
		done <- err
	}()
	var slowest time.Duration
	for i := 0; ; i++ {
		select {
		case err := <-done:
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if slowest > took/3 {
				t.Errorf("a write waited %v during a prune of %v: held up by the prune", slowest, took)
			}
			t.Logf("prune of %d rows took %v; slowest write meanwhile %v (%d writes)", old, took, slowest, i)
			return
		default:
		}
		at := time.Now()
		save(t, s, Batch{Questions: []Question{{ID: fmt.Sprintf("new%d", i), At: t0, Text: "new", Outcome: OutcomeNone}}})
		slowest = max(slowest, time.Since(at))
	}
}
