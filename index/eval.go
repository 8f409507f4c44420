package index

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// A Case is one question of an evaluation set and the titles of the sections that answer it;
// no titles means no section should (an off-topic question).
type Case struct {
	Kind     string
	Question string
	Want     []string
}

// ParseCases reads an evaluation set: one case a line, "kind<TAB>question<TAB>titles", the
// titles separated by "|", "-" for none; "#" starts a comment line.
func ParseCases(r io.Reader) ([]Case, error) {
	var cases []Case
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || f[1] == "" || f[2] == "" {
			return nil, fmt.Errorf("line %d: want kind, question and titles separated by tabs", n)
		}
		c := Case{Kind: f[0], Question: f[1]}
		if f[2] != "-" {
			c.Want = strings.Split(f[2], "|")
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

// A Report says how well an index answers an evaluation set.
type Report struct {
	Answerable int     // cases with a section to find
	Top1, Top3 int     // of those, found first / among the first three
	MRR        float64 // mean reciprocal rank of the first right section, over Answerable
	OffTopic   int     // cases no section should answer
	Refused    int     // of those, answered with no result, as they should be
	Misses     []Miss  // every case not answered first, or answered when it should not be
}

// A Miss is a case the index got wrong, with the titles it gave.
type Miss struct {
	Case
	Got []string
}

// Evaluate asks ix every question of cases.
func (ix *Index) Evaluate(ctx context.Context, cases []Case) (Report, error) {
	var r Report
	for _, c := range cases {
		ans, err := ix.Search(ctx, Query{Text: c.Question, Size: 3})
		if err != nil {
			return r, fmt.Errorf("%q: %w", c.Question, err)
		}
		var got []string
		for _, res := range ans.Results {
			got = append(got, res.Title)
		}
		if len(c.Want) == 0 {
			r.OffTopic++
			if len(got) == 0 {
				r.Refused++
			} else {
				r.Misses = append(r.Misses, Miss{c, got})
			}
			continue
		}
		r.Answerable++
		rank := slices.IndexFunc(got, func(t string) bool { return slices.Contains(c.Want, t) })
		if rank >= 0 {
			r.MRR += 1 / float64(rank+1)
		}
		if rank == 0 {
			r.Top1++
		} else {
			r.Misses = append(r.Misses, Miss{c, got})
		}
		if rank >= 0 && rank < 3 {
			r.Top3++
		}
	}
	if r.Answerable > 0 {
		r.MRR /= float64(r.Answerable)
	}
	return r, nil
}

// Top1Rate and Top3Rate are shares of the answerable cases.
func (r Report) Top1Rate() float64 { return rate(r.Top1, r.Answerable) }
func (r Report) Top3Rate() float64 { return rate(r.Top3, r.Answerable) }

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// WriteTo prints the report for a terminal: the figures, then each miss.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "top-1 %.1f%% (%d/%d)  top-3 %.1f%% (%d/%d)  MRR %.3f  off-topic refused %d/%d\n",
		100*r.Top1Rate(), r.Top1, r.Answerable, 100*r.Top3Rate(), r.Top3, r.Answerable, r.MRR, r.Refused, r.OffTopic)
	for _, m := range r.Misses {
		want := "(no result)"
		if len(m.Want) > 0 {
			want = strings.Join(m.Want, " | ")
		}
		got := "(no result)"
		if len(m.Got) > 0 {
			got = strings.Join(m.Got, " · ")
		}
		fmt.Fprintf(&b, "miss [%s] %q\n     want %s\n     got  %s\n", m.Kind, m.Question, want, got)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
