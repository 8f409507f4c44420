package index_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/index/indextest"
	"github.com/apiorint/apiorint/knowledge"
)

func TestSearch(t *testing.T) {
	ix := indextest.Article(t)
	tests := []struct {
		question  string
		match     index.Match
		first     string   // the first title; "" for none
		uncovered []string // nil: none
		smallTalk bool
	}{
		{"what is an api", index.MatchAnswer, "What Is An API?", nil, false},
		{"what is middleware?", index.MatchAnswer, "Types Of Integrations", nil, false},
		{"APIs & integrations: differences?", index.MatchAnswer, "Key Differences Between APIs And Integrations", nil, false},
		{"scalability", index.MatchAnswer, "Scalability And Flexibility", nil, false},
		// Bleve's query syntax is just words: no field, must, must-not, phrase or fuzzy
		// operator, and no parse error. (As must-nots, "-scalability" and "-(integration)"
		// would exclude the very sections these get.)
		{`title:api +integration -scalability "what" ~ / ?`, index.MatchAnswer, "Scalability And Flexibility", nil, false},
		{`+middleware -(integration) title:types`, index.MatchAnswer, "Types Of Integrations", nil, false},
		{`scalability~2 AND "flexibility`, index.MatchAnswer, "Scalability And Flexibility", nil, false},

		// On topic, about something the article does not cover: say what, offer the closest.
		{"rest vs soap?", index.MatchClosest, "Key Differences Between APIs And Integrations", []string{"rest", "soap"}, false},
		{"how do webhooks work with an api", index.MatchClosest, "What Is An API?", []string{"webhooks"}, false},
		{"is rest better than soap, or is rest dead?", index.MatchClosest, "Key Differences Between APIs And Integrations", []string{"rest", "soap"}, false},

		// Small talk is never answered with a section; nor is a question with no word in it.
		{"thanks!", index.MatchNone, "", nil, true},
		{"are you a bot?", index.MatchNone, "", nil, true},
		{"good morning", index.MatchNone, "", nil, true},
		{"👍", index.MatchNone, "", nil, true},
		{"", index.MatchNone, "", nil, true},
		{"   ", index.MatchNone, "", nil, true},
		{"???", index.MatchNone, "", nil, true},

		// Off topic, or nothing to search: no answer, and not small talk.
		{"lasagna recipe", index.MatchNone, "", nil, false},
		{"how do I bake bread", index.MatchNone, "", nil, false},
		{"how do i do integration by parts", index.MatchNone, "", nil, false},
		{"definite integral of x squared?", index.MatchNone, "", nil, false},
		{"is an api integral to an integration?", index.MatchAnswer, "Key Differences Between APIs And Integrations", nil, false},
		{"the a an of", index.MatchNone, "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			ans, err := ix.Search(context.Background(), tt.question, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Callers encode these as JSON: [] and never null.
			if ans.Results == nil || ans.Uncovered == nil {
				t.Errorf("results %#v, uncovered %#v: want empty lists, not nil", ans.Results, ans.Uncovered)
			}
			if ans.Query != tt.question {
				t.Errorf("query %q, want %q", ans.Query, tt.question)
			}
			got := ""
			if len(ans.Results) > 0 {
				got = ans.Results[0].Title
			}
			if ans.Match != tt.match || got != tt.first {
				t.Errorf("%s, first %q, want %s, %q (all: %q)", ans.Match, got, tt.match, tt.first, titles(ans))
			}
			if !slices.Equal(ans.Uncovered, tt.uncovered) {
				t.Errorf("uncovered %q, want %q", ans.Uncovered, tt.uncovered)
			}
			if ans.SmallTalk != tt.smallTalk {
				t.Errorf("small talk %v, want %v", ans.SmallTalk, tt.smallTalk)
			}
			if ans.Match == index.MatchNone && len(ans.Results) != 0 {
				t.Errorf("no match, but results %q", titles(ans))
			}
		})
	}
}

// TestSearchComparisonIsComposed: a comparison is answered by the summary of the
// differences, then its four aspects in the article's order, each named in the summary.
func TestSearchComparisonIsComposed(t *testing.T) {
	ans, err := indextest.Article(t).Search(context.Background(), "api vs integration", 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Key Differences Between APIs And Integrations", "Functionality", "Complexity", "Scalability And Flexibility", "Performance Considerations"}
	if got := titles(ans); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, aspect := range want[1:] {
		if !strings.Contains(ans.Results[0].Text, "**"+aspect+"**") {
			t.Errorf("the summary does not name %q:\n%s", aspect, ans.Results[0].Text)
		}
	}
}

func TestSection(t *testing.T) {
	ix := indextest.Article(t)
	tests := []struct {
		id    string
		found bool
		title string
	}{
		{"key-differences-between-apis-and-integrations/complexity", true, "Complexity"},
		{"understanding-apis/what-is-an-api", true, "What Is An API?"},
		// A heading with sub-sections only is answered with their summary.
		{"key-differences-between-apis-and-integrations", true, "Key Differences Between APIs And Integrations"},
		{"no/such/section", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r, ok := ix.Section(tt.id)
			if ok != tt.found || r.Title != tt.title {
				t.Fatalf("got %q, %v; want %q, %v", r.Title, ok, tt.title, tt.found)
			}
			if ok && (r.ID != tt.id || r.Text == "" || len(r.Path) == 0 || r.Source != knowledge.ArticleSource) {
				t.Errorf("malformed result %+v", r)
			}
		})
	}
}

// TestTopics: the sections with text of their own, in the article's order, each one a
// section that can be looked up.
func TestTopics(t *testing.T) {
	ix := indextest.Article(t)
	topics := ix.Topics()
	if len(topics) == 0 {
		t.Fatal("no topics")
	}
	var want []index.Topic
	for _, s := range articleLibrary(t).Sections {
		if s.Body != "" {
			want = append(want, index.Topic{ID: s.ID, Title: s.Title})
		}
	}
	if !slices.Equal(topics, want) {
		t.Errorf("topics:\n%q\nwant, in the article's order:\n%q", topics, want)
	}
	for _, tp := range topics {
		if r, ok := ix.Section(tp.ID); !ok || r.Title != tp.Title {
			t.Errorf("topic %q: Section gives %q, %v", tp.ID, r.Title, ok)
		}
	}
	if topics[0].Title != "Introduction" {
		t.Errorf("first topic %q, want Introduction", topics[0].Title)
	}
}

func TestSearchSize(t *testing.T) {
	ix := indextest.Article(t)
	tests := []struct {
		n, want int
	}{
		{1, 1},
		{2, 2},
		{5, 5},
		{0, index.DefaultSize},
		{-1, index.DefaultSize},
		{1000, ix.Size()}, // all there is: "api integration" matches every section
	}
	for _, tt := range tests {
		ans, err := ix.Search(context.Background(), "api integration", tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Results) != tt.want {
			t.Errorf("n=%d: %d results, want %d", tt.n, len(ans.Results), tt.want)
		}
	}
	// 12 sections with text, and 3 headings answered with a summary of their sub-sections.
	if got := ix.Size(); got != 15 {
		t.Errorf("Size() = %d, want 15", got)
	}
}

// TestExtraSections adds sections as KNOWLEDGE_DIR files would: a concept the article
// lacks is covered once a section talks about it, and a section's example questions are
// matched although its text uses none of their words.
func TestExtraSections(t *testing.T) {
	webhooks := knowledge.Section{
		ID: "webhooks", Title: "Webhooks", Path: []string{"Webhooks"}, Source: "webhooks.md",
		Body: "A webhook is an HTTP callback: when an event happens, one system sends a POST request to a URL that another system registered beforehand.",
	}
	pager := knowledge.Section{
		ID: "rota", Title: "Pager Rota", Path: []string{"Pager Rota"}, Source: "rota.md",
		Body: "Each Monday the pager passes to the next engineer in the list pinned in #ops.",
	}
	asked := pager
	asked.Questions = []string{"who is on call this weekend", "who do I phone at night when production breaks"}

	tests := []struct {
		name     string
		extra    []knowledge.Section
		question string
		match    index.Match
		first    string
	}{
		{"without the section, the article lacks webhooks", nil, "what is a webhook", index.MatchClosest, "What Is An API?"},
		{"a section about webhooks covers them", []knowledge.Section{webhooks}, "what is a webhook", index.MatchAnswer, "Webhooks"},
		// What a question asks orders the sections about its concept; it does not bring in
		// the article's definition of an API.
		{"asked for simply", []knowledge.Section{webhooks}, "eli5 webhooks", index.MatchAnswer, "Webhooks"},
		{"asked in simple terms", []knowledge.Section{webhooks}, "what is a webhook in simple terms", index.MatchAnswer, "Webhooks"},
		{"asked what for", []knowledge.Section{webhooks}, "what are webhooks used for", index.MatchAnswer, "Webhooks"},
		{"asked api or integration", []knowledge.Section{webhooks}, "are webhooks an api or an integration?", index.MatchAnswer, "Webhooks"},
		{"the article still answers its own questions", []knowledge.Section{webhooks}, "what is an api", index.MatchAnswer, "What Is An API?"},
		{"without example questions, nothing matches", []knowledge.Section{pager}, "who's on call this weekend?", index.MatchNone, ""},
		{"an example question is matched", []knowledge.Section{asked}, "who's on call this weekend?", index.MatchAnswer, "Pager Rota"},
		{"so is another wording of one", []knowledge.Section{asked}, "who should I phone when production breaks at night", index.MatchAnswer, "Pager Rota"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := articleLibrary(t)
			lib.Sections = append(lib.Sections, tt.extra...)
			ix, err := index.New(context.Background(), lib, index.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			ans, err := ix.Search(context.Background(), tt.question, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(ans.Results) > 0 {
				got = ans.Results[0].Title
			}
			if ans.Match != tt.match || got != tt.first {
				t.Errorf("%q: %s %q (uncovered %q), want %s %q", tt.question, ans.Match, titles(ans), ans.Uncovered, tt.match, tt.first)
			}
			for _, r := range ans.Results {
				// Example questions are for matching, never shown.
				if strings.Contains(r.Text, "on call") {
					t.Errorf("%s shows its example questions: %q", r.ID, r.Text)
				}
			}
		})
	}
}

// TestTypoNeverBeatsExact indexes a section whose title is a near miss of another's: asking
// for one by its exact name must never rank the other first. (Words the article does not
// use: a question the article covers is the article's.)
func TestTypoNeverBeatsExact(t *testing.T) {
	lib := articleLibrary(t)
	lib.Sections = append(lib.Sections,
		knowledge.Section{ID: "x/billing", Title: "Billing", Path: []string{"Billing"}, Body: "Billing sends invoices.", Source: "x.md"},
		knowledge.Section{ID: "x/bidding", Title: "Bidding", Path: []string{"Bidding"}, Body: "Bidding wins auctions.", Source: "x.md"},
	)
	ix, err := index.New(context.Background(), lib, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	tests := []struct{ question, want string }{
		{"billing", "Billing"},
		{"bidding", "Bidding"},
		{"biling", "Billing"},
		{"perfomance", "Performance Considerations"},
	}
	for _, tt := range tests {
		ans, err := ix.Search(context.Background(), tt.question, 0)
		if err != nil || len(ans.Results) == 0 || ans.Results[0].Title != tt.want {
			t.Errorf("%q: got %q, want %q first (%v)", tt.question, titles(ans), tt.want, err)
		}
	}
}

// TestMisspeltCueWords: a misspelt word of a question's cues is read as that word, and a
// word is never mended into a short cue word that it merely resembles.
func TestMisspeltCueWords(t *testing.T) {
	ix := indextest.Article(t)
	tests := []struct {
		question   string
		intent     string
		wantIntent bool
	}{
		{"diffrence between api and integration", "difference", true},
		{"what's the differnce", "difference", true},
		{"my boss wants the numbers", "define", false}, // not "wats"
	}
	for _, tt := range tests {
		_, why, err := ix.Explain(context.Background(), tt.question, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, got := why.Intents[tt.intent]; got != tt.wantIntent {
			t.Errorf("%q: asks %v, want %q: %v", tt.question, why.Intents, tt.intent, tt.wantIntent)
		}
	}
}

// TestSearchConcurrently is for the race detector: one index, many goroutines.
func TestSearchConcurrently(t *testing.T) {
	ix := indextest.Article(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				q := benchQuestions[(g+i)%len(benchQuestions)]
				if _, err := ix.Search(context.Background(), q, 0); err != nil {
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
	ix := indextest.Article(t)
	q := "which one scales better? " + strings.Repeat("zzyzx qwertyuiop asdfghjkl ", 50000)
	start := time.Now()
	ans, err := ix.Search(context.Background(), q, 0)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 100*time.Millisecond*slowdown {
		t.Errorf("took %v", took)
	}
	if ans.Match != index.MatchNone || len(ans.Results) != 0 {
		t.Errorf("%s %q", ans.Match, titles(ans))
	}
}
