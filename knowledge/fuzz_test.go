package knowledge_test

import (
	"testing"
	"unicode/utf8"

	"github.com/apiorint/apiorint/knowledge"
)

// FuzzParse feeds arbitrary bytes to the Markdown parser: an error or sections, never a
// panic; sections have titles, unique IDs and text that is UTF-8.
func FuzzParse(f *testing.F) {
	f.Add([]byte("# Title\n\nBody.\n\n## Sub\n\nMore.\n"))
	f.Fuzz(func(t *testing.T, md []byte) {
		sections, err := knowledge.Parse("fuzz.md", md)
		if err != nil {
			return
		}
		if len(sections) == 0 {
			t.Fatal("no error and no sections")
		}
		ids := map[string]bool{}
		for _, s := range sections {
			if s.Title == "" || len(s.Path) == 0 || s.Path[len(s.Path)-1] != s.Title || len(s.Path) > 3 {
				t.Fatalf("malformed section %+v", s)
			}
			if ids[s.ID] || s.ID == "" {
				t.Fatalf("ID %q empty or taken twice", s.ID)
			}
			ids[s.ID] = true
			if !utf8.ValidString(s.Body) || !utf8.ValidString(s.Title) {
				t.Fatalf("not UTF-8: %+v", s)
			}
		}
	})
}
