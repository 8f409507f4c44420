package index

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/apiorint/apiorint/knowledge"
)

func TestExplainScratch(t *testing.T) {
	q := os.Getenv("Q")
	if q == "" {
		t.Skip()
	}
	lib, _ := knowledge.Load("")
	ix, err := New(context.Background(), lib, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ix.read(q)
	fmt.Printf("plan %+v\n", p)
	req := ix.request(p, 4)
	req.Explain = true
	res, _ := ix.bleve.Search(req)
	for _, h := range res.Hits {
		fmt.Printf("%.3f %s\n", h.Score, h.ID)
		if os.Getenv("X") != "" {
			fmt.Println(h.Expl)
		}
	}
}

func TestSweepScratch(t *testing.T) {
	if os.Getenv("SWEEP") == "" {
		t.Skip()
	}
	f, _ := os.Open("testdata/eval.tsv")
	cases, _ := ParseCases(f)
	lib, _ := knowledge.Load("")
	ix, err := New(context.Background(), lib, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []float64{1.5, 2, 3, 4} {
		for _, path := range []float64{0.5, 1, 1.5} {
			for _, phrase := range []float64{0.5, 0.75, 1} {
				for _, syn := range []float64{2, 3, 4} {
					ix.weights = weights{title: title, path: path, body: 1, typo: 0.4, synonym: syn, phrase: phrase}
					r, _ := ix.Evaluate(context.Background(), cases)
					fmt.Printf("title %.1f path %.1f phrase %.2f syn %.0f: top1 %d top3 %d mrr %.3f\n", title, path, phrase, syn, r.Top1, r.Top3, r.MRR)
				}
			}
		}
	}
}
