package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/apiorint/apiorint/bot/store"
)

// defaultSince is how far back gaps and stats look unless told: a week.
const defaultSince = 7 * 24 * time.Hour

// maxSinceDays bounds --since in days, well within what a time.Duration holds.
const maxSinceDays = 100 * 365

// gaps prints the questions the knowledge answered badly: `apiorint gaps [--since D]
// [--json] [-n N]`.
func gaps(ctx context.Context, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gaps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := sinceFlag(fs)
	asJSON := fs.Bool("json", false, `print one JSON object: {"since", "questions": [{"question", "asked", "outcome", "section", "last"}]}`)
	n := fs.Int("n", 50, "how many questions at most")
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() > 0 || *n < 1 {
		return usageError("usage: apiorint gaps [--since 168h] [--json] [-n 50]")
	}
	s, err := openStore(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	from := time.Now().Add(-*since).UTC().Truncate(time.Second)
	list, err := s.Gaps(ctx, from, *n)
	if err != nil {
		return fmt.Errorf("gaps: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			Since     string      `json:"since"`
			Questions []store.Gap `json:"questions"`
		}{from.Format(time.RFC3339), list})
	}
	fmt.Fprintf(stdout, "Questions the knowledge answered badly since %s (%s): %d\n", from.Format("2006-01-02 15:04 MST"), *since, len(list))
	if len(list) == 0 {
		fmt.Fprintln(stdout, "None: every question got an answer nobody voted down.")
		return nil
	}
	what := map[string]string{store.OutcomeNone: "no answer", store.OutcomeClosest: "close only", store.OutcomeDown: "voted 👎"}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ASKED\tGOT\tLAST\tQUESTION\tSECTION GIVEN")
	for _, g := range list {
		section := g.Section
		if section == "" {
			section = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", g.Asked, what[g.Outcome], g.Last.Format("2006-01-02 15:04"), oneLine(g.Question, 60), section)
	}
	return tw.Flush()
}

// stats prints the numbers behind the gap report: `apiorint stats [--since D]`.
func stats(ctx context.Context, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := sinceFlag(fs)
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2, err: err}
	}
	if fs.NArg() > 0 {
		return usageError("usage: apiorint stats [--since 168h]")
	}
	s, err := openStore(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	from := time.Now().Add(-*since).UTC()
	st, err := s.Stats(ctx, from)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	writeStats(stdout, st, *since)
	return nil
}

// writeStats prints questions per day as a bar chart, then by surface and outcome, then
// answers and votes per section.
func writeStats(w io.Writer, st store.Stats, since time.Duration) {
	fmt.Fprintf(w, "%d questions since %s (%s)\n\nPer day\n", st.Total, st.Since.Format("2006-01-02"), since)
	most := 1
	for _, d := range st.PerDay {
		most = max(most, d.Count)
	}
	const width = 40
	for _, d := range st.PerDay {
		fmt.Fprintf(w, "  %s %s %d\n", d.Day.Format("Mon 01-02"), strings.Repeat("█", (d.Count*width+most-1)/most), d.Count)
	}
	for _, part := range []struct {
		title  string
		counts map[string]int
	}{{"By surface", st.BySurface}, {"By outcome", st.ByOutcome}} {
		fmt.Fprintf(w, "\n%s\n", part.title)
		keys := make([]string, 0, len(part.counts))
		for k := range part.counts {
			keys = append(keys, k)
		}
		// Most first; ties by name, so that the same records always print the same.
		slices.SortFunc(keys, func(a, b string) int { return cmp.Or(part.counts[b]-part.counts[a], strings.Compare(a, b)) })
		for _, k := range keys {
			fmt.Fprintf(w, "  %-10s %d\n", k, part.counts[k])
		}
	}
	fmt.Fprintln(w, "\nSections")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ANSWERS\t👍\t👎\tSECTION")
	for _, s := range st.Sections {
		fmt.Fprintf(tw, "  %d\t%d\t%d\t%s\n", s.Answers, s.Up, s.Down, s.Section)
	}
	tw.Flush()
}

// sinceFlag adds --since, a duration ("168h", or days: "7d").
func sinceFlag(fs *flag.FlagSet) *time.Duration {
	d := defaultSince
	fs.Func("since", "how far back to look: a duration like 168h, or days like 7d (default 168h)", func(v string) error {
		if days, ok := strings.CutSuffix(v, "d"); ok {
			n, err := strconv.Atoi(days)
			if err != nil || n < 0 || n > maxSinceDays {
				return fmt.Errorf("want a number of days like 7d (at most %d), not %q", maxSinceDays, v)
			}
			d = time.Duration(n) * 24 * time.Hour
			return nil
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed < 0 {
			return fmt.Errorf("want a duration like 168h or 7d, not %q", v)
		}
		d = parsed
		return nil
	})
	return &d
}

// openStore opens the record of questions that DATABASE_URL names. A SQLite file that does
// not exist is not created: the report is empty, and says on stderr that nothing was
// recorded there (run in the wrong directory, a report must not look like good news).
func openStore(ctx context.Context, getenv func(string) string, stderr io.Writer) (store.Store, error) {
	url := strings.TrimSpace(getenv("DATABASE_URL"))
	if url == "" {
		url = store.DefaultURL
	}
	if path, ok := store.SQLitePath(url); ok {
		if _, err := os.Stat(path); path != "" && errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "apiorint: DATABASE_URL %s: there is no such file: nothing was recorded there (is this the bot's working directory?)\n", url)
			return emptyStore(ctx)
		}
	}
	s, err := store.Open(ctx, url)
	if errors.Is(err, store.ErrOff) {
		return nil, errors.New("DATABASE_URL is off: questions are not recorded, so there is nothing to report")
	}
	return s, err
}

// emptyStore is a record with nothing in it, in a temporary file removed when it is closed.
func emptyStore(ctx context.Context) (store.Store, error) {
	dir, err := os.MkdirTemp("", "apiorint-empty-")
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "empty.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return tempStore{s, dir}, nil
}

type tempStore struct {
	store.Store
	dir string
}

func (t tempStore) Close() error { return errors.Join(t.Store.Close(), os.RemoveAll(t.dir)) }

// oneLine shortens text to one line of at most n characters, without control characters:
// questions are what people typed, and an escape sequence must not reach the terminal.
func oneLine(text string, n int) string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	text = strings.Join(strings.Fields(text), " ")
	if r := []rune(text); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return text
}
