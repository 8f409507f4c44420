package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/store"
)

// Sections the records below name.
const (
	secDiff  = "key-differences-between-apis-and-integrations"
	secScale = "key-differences-between-apis-and-integrations/scalability-and-flexibility"
	secAPI   = "understanding-apis/what-is-an-api"
)

// gapsDB writes, with the store itself, a week and more of questions and votes into a new
// SQLite file, relative to now, and returns its DATABASE_URL and the questions' times.
func gapsDB(t *testing.T, now time.Time) (string, []time.Time) {
	t.Helper()
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	q := func(id string, at time.Time, surface, text, outcome, section string) store.Question {
		return store.Question{ID: id, At: at, Surface: surface, Team: "T1", Channel: "C1", User: "U1",
			Text: text, Outcome: outcome, Section: section, Score: 0.5}
	}
	questions := []store.Question{
		// Asked three times in three wordings: one gap, shown as most recently worded.
		q("q1", ago(26*time.Hour), store.SurfaceSlash, "What is REST?", store.OutcomeClosest, secDiff),
		q("q2", ago(2*time.Hour), store.SurfaceMention, "what is  rest", store.OutcomeClosest, secDiff),
		q("q3", ago(30*time.Minute), store.SurfaceDM, "WHAT IS REST!", store.OutcomeClosest, secDiff),
		q("q4", ago(3*24*time.Hour), store.SurfaceSlash, "how do I bake bread", store.OutcomeNone, ""),
		q("q5", ago(20*time.Minute), store.SurfaceSlash, "How do I bake bread?", store.OutcomeNone, ""),
		q("q6", ago(5*24*time.Hour), store.SurfaceShortcut, "good morning", store.OutcomeNone, ""),
		// Answered: never a gap, but counted in stats.
		q("q7", ago(4*time.Hour), store.SurfaceSlash, "which one scales better?", store.OutcomeAnswer, secScale),
		q("q8", ago(5*time.Hour), store.SurfaceMention, "which one scales better", store.OutcomeAnswer, secScale),
		q("q9", ago(6*24*time.Hour), store.SurfaceSlash, "what is an api", store.OutcomeAnswer, secAPI),
		// Older than a week: outside the default report.
		q("q10", ago(10*24*time.Hour), store.SurfaceSlash, "what is graphql", store.OutcomeClosest, secDiff),
	}
	vote := func(answer, user string, value int, at time.Time) store.Vote {
		return store.Vote{AnswerID: answer, User: user, Value: value, At: at, Question: "which one scales better?",
			Section: secScale, Outcome: store.OutcomeAnswer}
	}
	votes := []store.Vote{
		vote("q7", "U1", -1, ago(4*time.Hour)),
		vote("q8", "U2", -1, ago(5*time.Hour)),
		vote("q7", "U3", +1, ago(4*time.Hour)),
	}
	url := "sqlite:" + filepath.Join(t.TempDir(), "records.db")
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Save(ctx, store.Batch{Questions: questions, Votes: votes}); err != nil {
		t.Fatal(err)
	}
	// A person who voted 👍 and then changed their mind to 👎 counts once, as 👎; one who
	// changed 👎 to 👍 not at all.
	if err := s.Save(ctx, store.Batch{Votes: []store.Vote{vote("q8", "U4", +1, ago(5*time.Hour)), vote("q7", "U5", -1, ago(4*time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, store.Batch{Votes: []store.Vote{vote("q8", "U4", -1, ago(5*time.Hour-time.Minute)), vote("q7", "U5", +1, ago(4*time.Hour-time.Minute))}}); err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for _, q := range questions {
		at = append(at, q.At)
	}
	return url, at
}

// gapsDoc is what `gaps --json` prints: the contract's shape.
type gapsDoc struct {
	Since     string `json:"since"`
	Questions []struct {
		Question string `json:"question"`
		Asked    int    `json:"asked"`
		Outcome  string `json:"outcome"`
		Section  string `json:"section"`
		Last     string `json:"last"`
	} `json:"questions"`
}

// TestGapsJSON: the gap report end to end, from records the store wrote to what `gaps
// --json` prints, in the contract's shape.
func TestGapsJSON(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Now().UTC()
	url, _ := gapsDB(t, now)
	sec := func(d time.Duration) string { return now.Add(-d).Truncate(time.Second).Format(time.RFC3339) }
	type gap struct {
		question string
		asked    int
		outcome  string
		section  string
		last     string
	}
	rest := gap{"WHAT IS REST!", 3, "closest", secDiff, sec(30 * time.Minute)}
	bread := gap{"How do I bake bread?", 2, "none", "", sec(20 * time.Minute)}
	down := gap{"which one scales better?", 3, "down", secScale, sec(4 * time.Hour)}
	morning := gap{"good morning", 1, "none", "", sec(5 * 24 * time.Hour)}
	tests := []struct {
		name  string
		args  []string
		since time.Duration
		want  []gap
	}{
		// Most frequent first; at equal counts the most recent first.
		{"default: a week", nil, 7 * 24 * time.Hour, []gap{rest, down, bread, morning}},
		{"7d", []string{"--since", "7d"}, 7 * 24 * time.Hour, []gap{rest, down, bread, morning}},
		{"1h", []string{"--since", "1h"}, time.Hour,
			[]gap{{"How do I bake bread?", 1, "none", "", sec(20 * time.Minute)}, {"WHAT IS REST!", 1, "closest", secDiff, sec(30 * time.Minute)}}},
		{"30d includes the old one", []string{"--since=30d"}, 30 * 24 * time.Hour,
			[]gap{rest, down, bread, morning, {"what is graphql", 1, "closest", secDiff, sec(10 * 24 * time.Hour)}}},
		{"-n 2", []string{"-n", "2"}, 7 * 24 * time.Hour, []gap{rest, down}},
		{"none since", []string{"--since", "1m"}, time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runWith(t, map[string]string{"DATABASE_URL": url}, "", append([]string{"gaps", "--json"}, tt.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			var doc gapsDoc
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&doc); err != nil || strings.Count(out, "\n") != 1 {
				t.Fatalf("not one JSON object of the contract's shape: %v\n%s", err, out)
			}
			if doc.Questions == nil {
				t.Errorf("questions is not a list: %s", out)
			}
			since, err := time.Parse(time.RFC3339, doc.Since)
			if err != nil || since.Sub(now.Add(-tt.since)).Abs() > time.Minute {
				t.Errorf("since %q, want RFC 3339 about %v", doc.Since, now.Add(-tt.since))
			}
			var got []gap
			for _, q := range doc.Questions {
				got = append(got, gap{q.Question, q.Asked, q.Outcome, q.Section, q.Last})
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("questions\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestGapsText: the report for a person, and the mistakes it refuses.
func TestGapsText(t *testing.T) {
	t.Chdir(t.TempDir())
	url, _ := gapsDB(t, time.Now().UTC())
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		want       []*regexp.Regexp // each must match a line of stdout
		wantErr    string
		wantStderr string
	}{
		{name: "a week", env: map[string]string{"DATABASE_URL": url}, args: []string{"gaps"}, want: []*regexp.Regexp{
			regexp.MustCompile(`^Questions the knowledge answered badly since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(168h0m0s\): 4$`),
			regexp.MustCompile(`^ASKED +GOT +LAST +QUESTION +SECTION GIVEN$`),
			regexp.MustCompile(`^3 +voted 👎 +\d{4}-\d\d-\d\d \d\d:\d\d +which one scales better\? +` + regexp.QuoteMeta(secScale) + `$`),
			regexp.MustCompile(`^3 +close only +\S+ \S+ +WHAT IS REST! +` + regexp.QuoteMeta(secDiff) + `$`),
			regexp.MustCompile(`^2 +no answer +\S+ \S+ +How do I bake bread\? +-$`),
			regexp.MustCompile(`^1 +no answer +\S+ \S+ +good morning +-$`),
		}},
		{name: "nothing since", env: map[string]string{"DATABASE_URL": url}, args: []string{"gaps", "--since", "1m"}, want: []*regexp.Regexp{
			regexp.MustCompile(`\(1m0s\): 0$`), regexp.MustCompile(`^None: every question got an answer nobody voted down\.$`),
		}},
		{name: "recording off", env: map[string]string{"DATABASE_URL": "off"}, args: []string{"gaps"}, wantCode: 1, wantErr: "DATABASE_URL is off"},
		// A report run where there is no record is empty, says so on stderr, and makes no
		// record there.
		{name: "no database here", env: nil, args: []string{"gaps"}, wantStderr: "sqlite:apiorint.db: there is no such file", want: []*regexp.Regexp{
			regexp.MustCompile(`^None: every question got an answer nobody voted down\.$`)}},
		{name: "stats, no database here", env: nil, args: []string{"stats"}, wantStderr: "there is no such file", want: []*regexp.Regexp{
			regexp.MustCompile(`^0 questions since`)}},
		{name: "no such database file", env: map[string]string{"DATABASE_URL": "sqlite:missing.db"}, args: []string{"gaps", "--json"}, wantStderr: "missing.db", want: []*regexp.Regexp{
			regexp.MustCompile(`^\{"since":"[^"]+","questions":\[\]\}$`)}},
		{name: "no such database file, sqlite://", env: map[string]string{"DATABASE_URL": "sqlite://missing.db"}, args: []string{"stats"}, wantStderr: "missing.db"},
		{name: "stats, recording off", env: map[string]string{"DATABASE_URL": "off"}, args: []string{"stats"}, wantCode: 1, wantErr: "DATABASE_URL is off"},
		{name: "unsupported database", env: map[string]string{"DATABASE_URL": "mysql://h/db"}, args: []string{"gaps"}, wantCode: 1, wantErr: "DATABASE_URL"},
		{name: "bad --since", env: map[string]string{"DATABASE_URL": url}, args: []string{"gaps", "--since", "a week"}, wantCode: 2, wantErr: "168h or 7d"},
		{name: "negative --since", env: map[string]string{"DATABASE_URL": url}, args: []string{"stats", "--since", "-1h"}, wantCode: 2, wantErr: "168h or 7d"},
		{name: "bad days", env: map[string]string{"DATABASE_URL": url}, args: []string{"gaps", "--since", "xd"}, wantCode: 2, wantErr: "7d"},
		{name: "days past what a duration holds", env: map[string]string{"DATABASE_URL": url}, args: []string{"gaps", "--since", "200000000d"}, wantCode: 2, wantErr: "at most"},
		{name: "-n 0", env: map[string]string{"DATABASE_URL": url}, args: []string{"gaps", "-n", "0"}, wantCode: 2, wantErr: "usage: apiorint gaps"},
		{name: "an argument", env: map[string]string{"DATABASE_URL": url}, args: []string{"gaps", "rest"}, wantCode: 2, wantErr: "usage: apiorint gaps"},
		{name: "stats with an argument", env: map[string]string{"DATABASE_URL": url}, args: []string{"stats", "rest"}, wantCode: 2, wantErr: "usage: apiorint stats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runWith(t, tt.env, "", tt.args...)
			if code := exitCode(err); code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantCode)
			}
			if !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", errOut, tt.wantStderr)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error %v, want one line with %q", err, tt.wantErr)
			}
			lines := strings.Split(out, "\n")
			for _, re := range tt.want {
				if !matchesLine(re, lines) {
					t.Errorf("no line matches %s:\n%s", re, out)
				}
			}
			if entries, _ := os.ReadDir("."); len(entries) > 0 {
				t.Errorf("wrote into the working directory: %v", entries)
			}
		})
	}
}

// TestStats: the numbers behind the gap report, for a person: a bar per day, questions by
// surface and outcome, and answers and votes per section.
func TestStats(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Now().UTC()
	url, at := gapsDB(t, now)
	tests := []struct {
		name  string
		args  []string
		since time.Duration
		total int
		want  []string // lines of stdout, spaces collapsed
	}{
		{"a week", []string{"stats"}, 7 * 24 * time.Hour, 9, []string{
			"By surface", "slash 5", "mention 2", "dm 1", "shortcut 1",
			"By outcome", "closest 3", "none 3", "answer 3",
			"Sections", "ANSWERS 👍 👎 SECTION",
			"3 0 0 " + secDiff, "2 2 3 " + secScale, "1 0 0 " + secAPI,
		}},
		{"7d", []string{"stats", "--since", "7d"}, 7 * 24 * time.Hour, 9, []string{"slash 5"}},
		{"1h", []string{"stats", "--since", "1h"}, time.Hour, 2, []string{
			"slash 1", "dm 1", "closest 1", "none 1", "1 0 0 " + secDiff,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runWith(t, map[string]string{"DATABASE_URL": url}, "", tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.Split(out, "\n") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
			if want := fmt.Sprintf("%d questions since %s (%s)", tt.total, now.Add(-tt.since).Format("2006-01-02"), tt.since); lines[0] != want {
				t.Errorf("first line %q, want %q", lines[0], want)
			}
			for _, w := range tt.want {
				if !matchesLine(regexp.MustCompile("^"+regexp.QuoteMeta(w)+"$"), lines) {
					t.Errorf("no line %q:\n%s", w, out)
				}
			}
			// Per day: every UTC day from since's to today, its count, and a bar as long as
			// its share of the busiest day's 40 blocks.
			from := now.Add(-tt.since)
			perDay := map[string]int{}
			for _, a := range at {
				if !a.Before(from) {
					perDay[a.Format("Mon 01-02")]++
				}
			}
			most := 1
			for _, n := range perDay {
				most = max(most, n)
			}
			var days int
			for day := from.Truncate(24 * time.Hour); !day.After(now); day = day.Add(24 * time.Hour) {
				days++
				label, n := day.Format("Mon 01-02"), perDay[day.Format("Mon 01-02")]
				want := strings.TrimSpace(fmt.Sprintf("%s %s %d", label, strings.Repeat("█", (n*40+most-1)/most), n))
				want = strings.Join(strings.Fields(want), " ")
				if !matchesLine(regexp.MustCompile("^"+regexp.QuoteMeta(want)+"$"), lines) {
					t.Errorf("no line %q:\n%s", want, out)
				}
			}
			dayLine := regexp.MustCompile(`^[A-Z][a-z]{2} \d\d-\d\d( █+)? \d+$`)
			var dayLines int
			for _, l := range lines {
				if dayLine.MatchString(l) {
					dayLines++
				}
			}
			if dayLines != days {
				t.Errorf("%d days charted, want %d:\n%s", dayLines, days, out)
			}
		})
	}
}

func matchesLine(re *regexp.Regexp, lines []string) bool {
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// TestStatsStable: the same records print the same report every time (outcomes tied in
// count are not in map order).
func TestStatsStable(t *testing.T) {
	t.Chdir(t.TempDir())
	url, _ := gapsDB(t, time.Now().UTC())
	first, _, err := runWith(t, map[string]string{"DATABASE_URL": url}, "", "stats")
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if out, _, _ := runWith(t, map[string]string{"DATABASE_URL": url}, "", "stats"); out != first {
			t.Fatalf("two reports of the same records differ:\n%s\n%s", first, out)
		}
	}
}

// TestOneLine: a recorded question is printed on one line, shortened, and with no control
// character that a terminal would act on.
func TestOneLine(t *testing.T) {
	tests := []struct {
		name, text string
		n          int
		want       string
	}{
		{"plain", "what is an api", 40, "what is an api"},
		{"lines and spaces", "what is\n  an\tapi ", 40, "what is an api"},
		{"escape sequence", "hi \x1b[2Jthere\x07", 40, "hi [2Jthere"},
		{"shortened", "which one scales better", 10, "which one…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneLine(tt.text, tt.n); got != tt.want {
				t.Errorf("oneLine(%q, %d) = %q, want %q", tt.text, tt.n, got, tt.want)
			}
		})
	}
}
