package index

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestTuneWeights searches a grid of the weights a search combines its evidence with, and
// prints the best on the sets named by APIORINT_TUNE (say "dev"): how defaultWeights were
// chosen. It never reads the set kept aside, and is skipped unless asked for, being slow.
//
//	APIORINT_TUNE=dev go test ./index -run TestTuneWeights -v
func TestTuneWeights(t *testing.T) {
	names := strings.Split(os.Getenv("APIORINT_TUNE"), ",")
	if names[0] == "" {
		t.Skip("set APIORINT_TUNE to the evaluation sets to tune on, e.g. dev")
	}
	if slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "aside") }) {
		t.Fatal("the sets kept aside are never tuned on")
	}
	ix, all := articleIndex(t)
	var cases []Case
	for _, c := range all {
		if slices.Contains(names, c.Set) {
			cases = append(cases, c)
		}
	}

	type result struct {
		w weights
		r Report
	}
	var results []result
	for _, title := range []float64{2, 3, 4} {
		for _, questions := range []float64{0.5, 1, 2} {
			for _, intents := range []float64{0.6, 0.8, 1, 1.2, 1.5} {
				for _, subjects := range []float64{0.3, 0.6, 0.9} {
					w := defaultWeights
					w.title, w.questions, w.intents, w.subjects = title, questions, intents, subjects
					ix.weights = w
					ix.ForgetHits()
					r, err := ix.Evaluate(context.Background(), cases)
					if err != nil {
						t.Fatal(err)
					}
					results = append(results, result{w, r})
				}
			}
		}
	}
	slices.SortFunc(results, func(a, b result) int {
		return cmp.Or(cmp.Compare(b.r.Top1, a.r.Top1), cmp.Compare(b.r.MRR, a.r.MRR))
	})
	for _, res := range results[:15] {
		t.Log(fmt.Sprintf("%+v", res.w), res.r.Summary())
	}
	for _, res := range results {
		if res.w == defaultWeights {
			t.Log("now:", res.r.Summary())
		}
	}
}
