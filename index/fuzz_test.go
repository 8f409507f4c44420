package index_test

import (
	"context"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/index/indextest"
)

// FuzzSearch asks anything at all: the search must not fail, panic or hang, and what it
// returns must be well-formed.
func FuzzSearch(f *testing.F) {
	ix := indextest.Article(f)
	for _, q := range benchQuestions {
		f.Add(q, 3)
	}
	f.Fuzz(func(t *testing.T, question string, size int) {
		ans, err := ix.Search(context.Background(), question, size)
		if err != nil {
			t.Fatalf("%q: %v", question, err)
		}
		if ans.Results == nil || ans.Uncovered == nil {
			t.Fatalf("%q: results %v, uncovered %v", question, ans.Results, ans.Uncovered)
		}
		switch {
		case ans.Query != question,
			ans.Match != index.MatchAnswer && ans.Match != index.MatchClosest && ans.Match != index.MatchNone,
			ans.Match == index.MatchNone && len(ans.Results) > 0,
			ans.Match != index.MatchNone && len(ans.Results) == 0,
			(ans.Match == index.MatchClosest) != (len(ans.Uncovered) > 0),
			ans.SmallTalk && ans.Match != index.MatchNone:
			t.Fatalf("%q: inconsistent answer %+v", question, ans)
		}
		want := size
		if want <= 0 {
			want = index.DefaultSize
		}
		if len(ans.Results) > want {
			t.Fatalf("%q: %d results for size %d", question, len(ans.Results), size)
		}
		seen := make(map[string]bool)
		for _, r := range ans.Results {
			if r.ID == "" || r.Title == "" || r.Text == "" || !utf8.ValidString(r.Text) {
				t.Fatalf("%q: malformed result %+v", question, r)
			}
			if seen[r.ID] {
				t.Fatalf("%q: %s twice in %q", question, r.ID, titles(ans))
			}
			seen[r.ID] = true
			// Every result is a section that can be looked up again (a button's click).
			if s, ok := ix.Section(r.ID); !ok || s.Title != r.Title {
				t.Fatalf("%q: result %s is not a section: %q, %v", question, r.ID, s.Title, ok)
			}
		}
		// What is uncovered is quoted back to the asker ("I have nothing on REST or SOAP"):
		// each thing once.
		if slices.Contains(ans.Uncovered, "") || len(slices.Compact(slices.Sorted(slices.Values(ans.Uncovered)))) != len(ans.Uncovered) {
			t.Fatalf("%q: uncovered %q", question, ans.Uncovered)
		}
	})
}
