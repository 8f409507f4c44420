package index_test

import (
	"context"
	"testing"
	"unicode/utf8"

	"github.com/apiorint/apiorint/index"
)

// FuzzSearch asks anything at all: the search must not fail, panic or hang, and what it
// returns must be well-formed.
func FuzzSearch(f *testing.F) {
	ix := newArticleIndex(f)
	for _, q := range benchQuestions {
		f.Add(q, 3)
	}
	f.Fuzz(func(t *testing.T, question string, size int) {
		ans, err := ix.Search(context.Background(), index.Query{Text: question, Size: size})
		if err != nil {
			t.Fatalf("%q: %v", question, err)
		}
		if ans.Results == nil || len(ans.Topics) == 0 {
			t.Fatalf("%q: results %v, %d topics", question, ans.Results, len(ans.Topics))
		}
		want := size
		if want <= 0 {
			want = index.DefaultSize
		}
		if len(ans.Results) > want {
			t.Fatalf("%q: %d results for size %d", question, len(ans.Results), size)
		}
		for _, r := range ans.Results {
			if r.ID == "" || r.Title == "" || r.Text == "" || !utf8.ValidString(r.Text) {
				t.Fatalf("%q: malformed result %+v", question, r)
			}
		}
	})
}
