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
// view, "dev" in the voice of Slack users and tuned on, "train…" by thirteen other writers,
// and "aside" to "aside4" by four more, never tuned on. The ranker and the gate
// learn from every set but "aside…" (TestRanker, TestGate): their figures are of questions
// they have seen, and TestRankerCrossValidation and TestGateCrossValidation measure them on
// each set held out. Each bar sits just under the figure measured (2026-11-25, with the
// gate), so that a change that costs answers fails.
var bars = map[string]bar{
	// top-1 96.7 %, top-3 98.0 % (97.4 and 99.3 % before the gate and the last eight
	// writers): the gate tells two questions that name no subject ("what are the main
	// differences") from off-topic ones no better than the rule did.
	"article": {top1: 0.95, top3: 0.975, answered: 0.95, none: 1},
	// top-1 96.0 %, top-3 98.7 %, answered 99.3 %, uncovered 97.6 %, none 100 %.
	"dev": {top1: 0.95, top3: 0.98, answered: 0.95, uncovered: 0.95, none: 0.95},
	// top-1 96.4 %, top-3 99.1 %, answered 98.2 %, uncovered 97.5 %, none 100 %.
	"train": {top1: 0.95, top3: 0.98, answered: 0.95, uncovered: 0.95, none: 0.95},
	// Answerable questions only: top-1 89.2 / 89.6 / 94.6 / 95.0 %.
	"train-b": {top1: 0.88, top3: 0.91, answered: 0.90},
	"train-c": {top1: 0.88, top3: 0.92, answered: 0.92},
	"train-d": {top1: 0.93, top3: 0.96, answered: 0.94},
	"train-e": {top1: 0.94, top3: 0.96, answered: 0.95},
	// Four classes each: top-1 93.1–96.9 %; uncovered 80–98 %; small talk and off-topic
	// none 95–99 %. l and m were asked for no quota of questions per section.
	"train-f": {top1: 0.93, top3: 0.95, answered: 0.95, uncovered: 0.82, none: 0.95},
	"train-g": {top1: 0.96, top3: 0.98, answered: 0.97, uncovered: 0.95, none: 0.94},
	"train-h": {top1: 0.93, top3: 0.97, answered: 0.97, uncovered: 0.92, none: 0.97},
	"train-i": {top1: 0.95, top3: 0.98, answered: 0.96, uncovered: 0.90, none: 0.97},
	"train-j": {top1: 0.95, top3: 0.98, answered: 0.98, uncovered: 0.78, none: 0.95},
	"train-k": {top1: 0.92, top3: 0.96, answered: 0.95, uncovered: 0.90, none: 0.98},
	"train-l": {top1: 0.95, top3: 0.98, answered: 0.97, uncovered: 0.85, none: 0.95},
	"train-m": {top1: 0.95, top3: 0.98, answered: 0.97, uncovered: 0.90, none: 0.95},
	// Never tuned on nor learned from. 2026-11-24, before the ranker: top-1 88.1 %, top-3
	// 97.0 %; with it: 94.1 / 99.0 %; with the gate, thirteen writers and word beginnings:
	// 97.0 / 99.0 %, answered 100 %, uncovered 100 %, none 100 %.
	"aside": {top1: 0.96, top3: 0.98, answered: 0.95, uncovered: 0.95, none: 0.95},
	// Written by a writer who saw only the article, in Slack and forum voices; never tuned on
	// nor learned from. First measured with the ranker: top-1 87.5 %, top-3 96.7 %, none
	// 90.0 % (74.2 and 89.2 % without the ranker). With the gate, thirteen writers and word
	// beginnings: top-1 89.2 %, top-3 95.8 %, answered 96.7 %, uncovered 100 %, none 100 %.
	"aside2": {top1: 0.88, top3: 0.95, answered: 0.95, uncovered: 0.95, none: 0.95},
	// Written on 2026-11-25 from the same brief as train-f…k by a writer who saw only the
	// article, kept from the engineers (only counts reported). First measured after the gate
	// and eleven writers: top-1 90.8 %, top-3 94.2 %, answered 100 %, uncovered 96.7 %,
	// none 100 % (the build before the gate: 88.3 / 92.5 %, none 85 %). Measured again with
	// word beginnings and thirteen writers (nothing chosen on it): top-1 93.3 %, top-3
	// 95.8 %, MRR 0.946, answered 100 %, uncovered 96.7 %, none 100 %. Eight of its nine
	// Introduction questions ask whether the two are the same; labelled as the training sets
	// are (Key Differences accepted too): top-1 96.7 %, top-3 99.2 %.
	"aside3": {top1: 0.93, top3: 0.95, answered: 0.95, uncovered: 0.95, none: 0.95},
	// Written on 2026-11-25 by a writer who saw only the article, from a brief with no quota
	// per section, kept from the engineers and measured once, on the last build: top-1
	// 95.0 %, top-3 98.3 %, MRR 0.963, answered 100 %, uncovered 30/30, small talk 20/20,
	// off-topic 20/20. The build before this round's work (257240d): 90.8 / 95.8 %,
	// uncovered 28/30, off-topic 16/20.
	"aside4": {top1: 0.94, top3: 0.98, answered: 0.95, uncovered: 0.95, none: 0.95},
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
