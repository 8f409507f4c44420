package index

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Classes of evaluation cases: what a question should get.
const (
	// ClassAnswerable: a section answers it (Case.Want names them).
	ClassAnswerable = "answerable"
	// ClassUncovered: on topic, but the knowledge does not cover it: MatchClosest or
	// MatchNone, never MatchAnswer. Case.Want names what it lacks, for people reading.
	ClassUncovered = "uncovered"
	// ClassSmallTalk: greetings, thanks, remarks to the bot: MatchNone.
	ClassSmallTalk = "smalltalk"
	// ClassOffTopic: nothing to do with the knowledge: MatchNone.
	ClassOffTopic = "offtopic"
)

// A Case is one question of an evaluation set and what it should get.
type Case struct {
	Set      string // the file it comes from
	Class    string
	Kind     string // the first column as written: the class, or a finer kind ("typo")
	Question string
	Want     []string
}

// The first columns of older sets, which all mean "answerable": how the question was
// written.
var answerableKinds = []string{"keyword", "natural", "paraphrase", "typo", "shout"}

//go:embed evalset/*.tsv
var evalSets embed.FS

// EvalCases returns the evaluation sets shipped in the binary, every case naming its set.
func EvalCases() ([]Case, error) {
	names, err := fs.Glob(evalSets, "evalset/*.tsv")
	if err != nil {
		return nil, err
	}
	var all []Case
	for _, name := range names {
		f, err := evalSets.Open(name)
		if err != nil {
			return nil, err
		}
		cases, err := ParseCases(strings.TrimSuffix(path.Base(name), ".tsv"), f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		all = append(all, cases...)
	}
	return all, nil
}

// ParseCases reads an evaluation set: one case a line, "kind<TAB>question<TAB>want", the
// wanted titles (or, for uncovered questions, what the knowledge lacks) separated by "|",
// "-" for none; "#" starts a comment line. The kind is a class, or one of the older kinds
// of answerable questions.
func ParseCases(set string, r io.Reader) ([]Case, error) {
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
		c := Case{Set: set, Kind: f[0], Class: f[0], Question: f[1]}
		switch {
		case slices.Contains(answerableKinds, c.Kind):
			c.Class = ClassAnswerable
		case c.Class == ClassAnswerable, c.Class == ClassUncovered, c.Class == ClassSmallTalk, c.Class == ClassOffTopic:
		default:
			return nil, fmt.Errorf("line %d: unknown kind %q", n, c.Kind)
		}
		if f[2] != "-" {
			c.Want = strings.Split(f[2], "|")
		}
		if c.Class == ClassAnswerable && len(c.Want) == 0 {
			return nil, fmt.Errorf("line %d: an answerable question names the sections that answer it", n)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

// A Report says how well an index answers an evaluation set.
type Report struct {
	Answerable int     // questions a section answers
	Top1, Top3 int     // of those, found first / among the first three
	MRR        float64 // mean reciprocal rank of the first right section, over Answerable
	Answered   int     // of those, with MatchAnswer (not closest, not none)
	// The other classes, and how many of each got what they should: closest or none for
	// an uncovered question, none for small talk and off-topic ones.
	Uncovered, UncoveredRight int
	SmallTalk, SmallTalkRight int
	OffTopic, OffTopicRight   int
	// SmallTalkTold counts the small talk told apart as such, which gets a friendly reply
	// rather than the list of topics.
	SmallTalkTold int
	Misses        []Miss // every case not answered as it should be
}

// A Miss is a case the index got wrong, with what it gave.
type Miss struct {
	Case
	Match Match
	Got   []string
}

// Evaluate asks ix every question of cases.
func (ix *Index) Evaluate(ctx context.Context, cases []Case) (Report, error) {
	var r Report
	for _, c := range cases {
		ans, err := ix.Search(ctx, c.Question, DefaultSize)
		if err != nil {
			return r, fmt.Errorf("%q: %w", c.Question, err)
		}
		var got []string
		for _, res := range ans.Results {
			got = append(got, res.Title)
		}
		miss := Miss{Case: c, Match: ans.Match, Got: got}
		switch c.Class {
		case ClassAnswerable:
			r.Answerable++
			rank := slices.IndexFunc(got, func(t string) bool { return slices.Contains(c.Want, t) })
			if rank >= 0 {
				r.MRR += 1 / float64(rank+1)
			}
			if rank >= 0 && rank < 3 {
				r.Top3++
			}
			if rank == 0 {
				r.Top1++
			}
			if ans.Match == MatchAnswer {
				r.Answered++
			}
			if rank != 0 || ans.Match != MatchAnswer {
				r.Misses = append(r.Misses, miss)
			}
		case ClassUncovered:
			r.Uncovered++
			if ans.Match != MatchAnswer {
				r.UncoveredRight++
			} else {
				r.Misses = append(r.Misses, miss)
			}
		case ClassSmallTalk, ClassOffTopic:
			right := ans.Match == MatchNone
			if c.Class == ClassSmallTalk {
				r.SmallTalk++
				if right && ans.SmallTalk {
					r.SmallTalkTold++
				}
			} else {
				r.OffTopic++
			}
			switch {
			case !right || (c.Class == ClassSmallTalk && !ans.SmallTalk):
				r.Misses = append(r.Misses, miss)
			}
			switch {
			case !right:
			case c.Class == ClassSmallTalk:
				r.SmallTalkRight++
			default:
				r.OffTopicRight++
			}
		}
	}
	if r.Answerable > 0 {
		r.MRR /= float64(r.Answerable)
	}
	return r, nil
}

// Rates, each a share of its class; zero for an empty class.
func (r Report) Top1Rate() float64      { return rate(r.Top1, r.Answerable) }
func (r Report) Top3Rate() float64      { return rate(r.Top3, r.Answerable) }
func (r Report) AnsweredRate() float64  { return rate(r.Answered, r.Answerable) }
func (r Report) UncoveredRate() float64 { return rate(r.UncoveredRight, r.Uncovered) }
func (r Report) SmallTalkRate() float64 { return rate(r.SmallTalkRight, r.SmallTalk) }
func (r Report) OffTopicRate() float64  { return rate(r.OffTopicRight, r.OffTopic) }

// NoneRate is the share of small talk and off-topic questions that got no section.
func (r Report) NoneRate() float64 {
	return rate(r.SmallTalkRight+r.OffTopicRight, r.SmallTalk+r.OffTopic)
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Summary is the report's figures on one line.
func (r Report) Summary() string {
	return fmt.Sprintf("answerable %d: top-1 %.1f%% top-3 %.1f%% MRR %.3f match=answer %.1f%% · uncovered: closest or none %d/%d · small talk: none %d/%d (told as small talk %d) · off-topic: none %d/%d",
		r.Answerable, 100*r.Top1Rate(), 100*r.Top3Rate(), r.MRR, 100*r.AnsweredRate(),
		r.UncoveredRight, r.Uncovered, r.SmallTalkRight, r.SmallTalk, r.SmallTalkTold, r.OffTopicRight, r.OffTopic)
}

// WriteTo prints the report for a terminal: the figures, then each miss.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	b.WriteString(r.Summary() + "\n")
	for _, m := range r.Misses {
		want := "(no section)"
		if len(m.Want) > 0 {
			want = strings.Join(m.Want, " | ")
		}
		got := "(no result)"
		if len(m.Got) > 0 {
			got = strings.Join(m.Got, " · ")
		}
		fmt.Fprintf(&b, "miss [%s/%s] %q\n     want %s\n     got  %s: %s\n", m.Set, m.Kind, m.Question, want, m.Match, got)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
