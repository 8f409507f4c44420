package index_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
)

func titles(ans index.Answer) []string {
	var out []string
	for _, r := range ans.Results {
		out = append(out, r.Title)
	}
	return out
}

func TestSearch(t *testing.T) {
	ix := newArticleIndex(t)
	tests := []struct {
		question string
		want     string // the first title; "" for no result
	}{
		{"<@U0BOT> what is middleware?", "Types Of Integrations"},
		{"<@U0BOT|apiorint> <!here> <!channel> <!subteam^S123|@team> scalability", "Scalability And Flexibility"},
		{"see <https://example.com/x|performance>", "Performance Considerations"},
		{"<https://example.com/scalability>", ""}, // an address alone says nothing
		{"<#C123|complexity>", ""}, // nor does a channel's name
		{"APIs &amp; integrations: differences?", "Key Differences Between APIs And Integrations"},
		{"title:api +integration -scalability \"what\" ~ / ?", "Scalability And Flexibility"}, // Bleve syntax is just words
		{"", ""},
		{"   ", ""},
		{"???", ""},
		{"the a an of", ""},
		{"how do I bake bread", ""},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			ans, err := ix.Search(context.Background(), index.Query{Text: tt.question})
			if err != nil {
				t.Fatal(err)
			}
			if ans.Results == nil {
				t.Error("Results is nil, want an empty list")
			}
			got := ""
			if len(ans.Results) > 0 {
				got = ans.Results[0].Title
			}
			if got != tt.want {
				t.Errorf("first result %q, want %q (all: %q)", got, tt.want, titles(ans))
			}
			if len(ans.Topics) == 0 {
				t.Error("no topics")
			}
		})
	}
}

func TestSearchComparisonIsComposed(t *testing.T) {
	ans, err := newArticleIndex(t).Search(context.Background(), index.Query{Text: "api vs integration", Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Key Differences Between APIs And Integrations", "Functionality", "Complexity", "Scalability And Flexibility", "Performance Considerations"}
	if got := titles(ans); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, aspect := range want[1:] {
		if !strings.Contains(ans.Results[0].Text, "**"+aspect+"**") {
			t.Errorf("the summary does not name %q:\n%s", aspect, ans.Results[0].Text)
		}
	}
}

func TestSearchByIDAndSize(t *testing.T) {
	ix := newArticleIndex(t)
	ans, err := ix.Search(context.Background(), index.Query{ID: "key-differences-between-apis-and-integrations/complexity"})
	if err != nil || len(ans.Results) != 1 || ans.Results[0].Title != "Complexity" {
		t.Fatalf("by ID: %q, %v", titles(ans), err)
	}
	if ans, _ := ix.Search(context.Background(), index.Query{ID: "no/such/section"}); len(ans.Results) != 0 {
		t.Errorf("unknown ID: %q", titles(ans))
	}
	for _, size := range []int{1, 2, 5} {
		ans, _ := ix.Search(context.Background(), index.Query{Text: "api integration", Size: size})
		if len(ans.Results) != size {
			t.Errorf("size %d: %d results", size, len(ans.Results))
		}
	}
	if ans, _ := ix.Search(context.Background(), index.Query{Text: "api"}); len(ans.Results) != index.DefaultSize {
		t.Errorf("default size: %d results", len(ans.Results))
	}
}

// TestTypoNeverBeatsExact indexes a section whose title is a near miss of another's: asking
// for one by its exact name must never rank the other first. (Words the article does not
// use: a question the article covers is the article's.)
func TestTypoNeverBeatsExact(t *testing.T) {
	lib, err := knowledge.Load("")
	if err != nil {
		t.Fatal(err)
	}
	lib.Sections = append(lib.Sections,
		knowledge.Section{ID: "x/billing", Title: "Billing", Path: []string{"Billing"}, Body: "Billing sends invoices.", Source: "x.md"},
		knowledge.Section{ID: "x/bidding", Title: "Bidding", Path: []string{"Bidding"}, Body: "Bidding wins auctions.", Source: "x.md"},
	)
	ix, err := index.New(context.Background(), lib, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for question, want := range map[string]string{"billing": "Billing", "bidding": "Bidding", "biling": "Billing", "perfomance": "Performance Considerations"} {
		ans, err := ix.Search(context.Background(), index.Query{Text: question})
		if err != nil || len(ans.Results) == 0 || ans.Results[0].Title != want {
			t.Errorf("%q: got %q, want %q first (%v)", question, titles(ans), want, err)
		}
	}
}

// TestSearchConcurrently is for the race detector: one index, many goroutines.
func TestSearchConcurrently(t *testing.T) {
	ix := newArticleIndex(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				q := benchQuestions[(g+i)%len(benchQuestions)]
				if _, err := ix.Search(context.Background(), index.Query{Text: q}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestLongQuestion: a pasted page is read as its first words, quickly; unknown words in
// the majority, it gets no answer.
func TestLongQuestion(t *testing.T) {
	ix := newArticleIndex(t)
	q := "which one scales better? " + strings.Repeat("zzyzx qwertyuiop asdfghjkl ", 50000)
	start := time.Now()
	ans, err := ix.Search(context.Background(), index.Query{Text: q})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("took %v", took)
	}
	if len(ans.Results) != 0 {
		t.Errorf("answered %q", titles(ans))
	}
}
