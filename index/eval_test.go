package index_test

import (
	"context"
	"testing"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/index/indextest"
	"github.com/apiorint/apiorint/knowledge"
)

// articleLibrary returns the embedded article and word lists, for tests that build their
// own index. Tests that only ask questions share indextest.Article, which they must not
// close.
func articleLibrary(tb testing.TB) knowledge.Library {
	tb.Helper()
	lib, err := knowledge.Load(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	return lib
}

// evalSets returns the shipped evaluation sets, by name.
func evalSets(t *testing.T) map[string][]index.Case {
	t.Helper()
	cases, err := index.EvalCases()
	if err != nil {
		t.Fatal(err)
	}
	sets := make(map[string][]index.Case)
	for _, c := range cases {
		sets[c.Set] = append(sets[c.Set], c)
	}
	return sets
}

// A bar is the least an evaluation set must score.
type bar struct {
	top1, top3, answered, uncovered, none float64
}

// bars are the quality bars of each shipped set: "article" was written with the article in
// view, "dev" in the voice of Slack users and tuned on, "train…" by five other writers on
// 2026-11-25, and "aside" and "aside2" by two more, never tuned on. The ranker
// learns from every set but "aside" (TestRanker): their figures are of questions it has
// seen, and TestRankerCrossValidation measures it on each writer's set held out.
var bars = map[string]bar{
	// Measured on 2026-11-25 with the ranker: top-1 97.4 %, top-3 99.3 %.
	"article": {top1: 0.95, top3: 0.99, answered: 0.95, none: 1},
	// Measured on 2026-11-25: top-1 96.0 %, top-3 98.7 %, answered 98.0 %, uncovered
	// 97.6 %, none 96.7 %. Each bar sits just under, so that a change that costs answers
	// fails.
	"dev": {top1: 0.95, top3: 0.98, answered: 0.95, uncovered: 0.95, none: 0.95},
	// top-1 93.2 %, top-3 96.8 %, answered 95.9 %, uncovered 97.5 %, none 100 %.
	"train": {top1: 0.92, top3: 0.95, answered: 0.94, uncovered: 0.95, none: 0.95},
	// Answerable questions only. top-1 83.1 / 86.5 / 91.2 / 90.4 %; the rest of each is
	// mostly questions not answered at all (answered 85.4 / 90.4 / 91.2 / 91.5 %).
	"train-b": {top1: 0.82, top3: 0.85, answered: 0.84},
	"train-c": {top1: 0.85, top3: 0.89, answered: 0.89},
	"train-d": {top1: 0.90, top3: 0.92, answered: 0.90},
	"train-e": {top1: 0.89, top3: 0.90, answered: 0.90},
	// Never tuned on nor learned from. 2026-11-24, before the ranker: top-1 88.1 %, top-3
	// 97.0 %; 2026-11-25 with it: top-1 94.1 %, top-3 99.0 %, answered 99.0 %, uncovered
	// 100 %, none 100 %.
	"aside": {top1: 0.93, top3: 0.98, answered: 0.95, uncovered: 0.95, none: 0.95},
	// Written on 2026-11-25 by a writer who saw only the article, in Slack and forum
	// voices; never tuned on nor learned from, first measured with the ranker: top-1
	// 87.5 %, top-3 96.7 %, answered 98.3 %, uncovered 96.7 %, none 90.0 % (74.2 % and
	// 89.2 % without it). After the last cue changes (praise as small talk, other senses of
	// "integration"): top-1 87.5 %, top-3 95.8 %, answered 97.5 %, none 92.5 %.
	"aside2": {top1: 0.87, top3: 0.95, answered: 0.95, uncovered: 0.95, none: 0.9},
}

// TestEval holds the search to the quality bar on each evaluation set.
func TestEval(t *testing.T) {
	sets := evalSets(t)
	ix := indextest.Article(t)
	total := 0
	for name, cases := range sets {
		total += len(cases)
		t.Run(name, func(t *testing.T) {
			r, err := ix.Evaluate(context.Background(), cases)
			if err != nil {
				t.Fatal(err)
			}
			r.WriteTo(t.Output())
			b, ok := bars[name]
			if !ok {
				t.Fatalf("no quality bar for the set %q", name)
			}
			check := func(what string, got, want float64) {
				if got < want {
					t.Errorf("%s %.3f, want ≥ %.2f", what, got, want)
				}
			}
			check("top-1", r.Top1Rate(), b.top1)
			check("top-3", r.Top3Rate(), b.top3)
			check("match=answer on answerable questions", r.AnsweredRate(), b.answered)
			if r.Uncovered > 0 {
				check("closest or none on uncovered questions", r.UncoveredRate(), b.uncovered)
			}
			if r.SmallTalk+r.OffTopic > 0 {
				check("none on small talk and off-topic questions", r.NoneRate(), b.none)
			}
		})
	}
	if total < 250 {
		t.Errorf("%d evaluation questions, want at least 250", total)
	}
}

// TestEvalAmongManySections: with 20,000 more sections whose words overlap the article's
// ("api", "performance", "integration"…), the article still answers its own questions.
func TestEvalAmongManySections(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 20,000 sections")
	}
	ix, err := index.New(context.Background(), withSynthetic(t, 20000), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	r, err := ix.Evaluate(context.Background(), evalSets(t)["article"])
	if err != nil {
		t.Fatal(err)
	}
	r.WriteTo(t.Output())
	if r.Top1Rate() < 0.95 {
		t.Errorf("top-1 %.3f among 20,000 other sections, want ≥ 0.95", r.Top1Rate())
	}
}

func titles(ans index.Answer) []string {
	var out []string
	for _, r := range ans.Results {
		out = append(out, r.Title)
	}
	return out
}
