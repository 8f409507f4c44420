package index_test

import (
	"context"
	"os"
	"testing"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
)

// newArticleIndex builds an in-memory index of the embedded article.
func newArticleIndex(tb testing.TB) *index.Index {
	tb.Helper()
	lib, err := knowledge.Load("")
	if err != nil {
		tb.Fatal(err)
	}
	ix, err := index.New(context.Background(), lib, index.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	return ix
}

// evalCases reads the evaluation set.
func evalCases(t *testing.T) []index.Case {
	t.Helper()
	f, err := os.Open("testdata/eval.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := index.ParseCases(f)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestEval holds the search to the quality bar on the evaluation set.
func TestEval(t *testing.T) {
	cases := evalCases(t)
	if len(cases) < 60 {
		t.Fatalf("the evaluation set has %d questions, want at least 60", len(cases))
	}
	r, err := newArticleIndex(t).Evaluate(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	r.WriteTo(t.Output())
	if r.Top1Rate() < 0.95 || r.Top3Rate() < 0.99 || r.Refused != r.OffTopic {
		t.Errorf("below the bar: top-1 %.3f (want ≥ 0.95), top-3 %.3f (want ≥ 0.99), off-topic answered %d (want 0)",
			r.Top1Rate(), r.Top3Rate(), r.OffTopic-r.Refused)
	}
}

// TestEvalAmongManySections: with 20,000 more sections whose words overlap the article's
// ("api", "performance", "integration"…), the article still answers its own questions.
func TestEvalAmongManySections(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 20,000 sections")
	}
	cases := evalCases(t)
	ix, err := index.New(context.Background(), withSynthetic(t, 20000), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	r, err := ix.Evaluate(context.Background(), cases)
	if err != nil {
		t.Fatal(err)
	}
	r.WriteTo(t.Output())
	if r.Top1Rate() < 0.95 {
		t.Errorf("top-1 %.3f among 20,000 other sections, want ≥ 0.95", r.Top1Rate())
	}
}
