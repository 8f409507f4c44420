// Package knowledge holds what the bot knows: sections of Markdown articles, the embedded
// article it ships with, and the curated word lists that help match questions to sections.
// It knows nothing of Slack or of the search engine.
package knowledge

import (
	"strconv"
	"strings"
	"unicode"
)

// A Section is the text under one heading of an article.
type Section struct {
	// ID is a slug of Path, unique among the sections loaded together and stable across runs.
	ID string
	// Title is the heading as written, e.g. "Scalability And Flexibility".
	Title string
	// Path holds the headings from the top of the article down to and including Title.
	Path []string
	// Body is the Markdown between this heading and the next one, trimmed. It is empty for a
	// heading that only introduces sub-headings.
	Body string
	// Source names the file the section came from, relative to its directory.
	Source string
	// Questions are typical questions the section answers, written by the author in a
	// "<!-- questions … -->" comment under the heading: matched against what people ask,
	// never shown.
	Questions []string
}

// Slug turns a heading path into an ID: lower-case letters and digits, words joined by "-",
// headings joined by "/". ["Use Cases: When To Use Each"] becomes "use-cases-when-to-use-each".
func Slug(path []string) string {
	parts := make([]string, 0, len(path))
	for _, heading := range path {
		words := strings.FieldsFunc(strings.ToLower(heading), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
		if len(words) > 0 {
			parts = append(parts, strings.Join(words, "-"))
		}
	}
	return strings.Join(parts, "/")
}

// uniqueIDs appends "-2", "-3"… to IDs already taken, so that two sections with the same
// heading path (in two files, or twice in one) both stay reachable. It remembers the next
// number to try for each ID, so that n copies of one heading cost n steps, not n²/2.
func uniqueIDs(sections []Section) {
	seen := make(map[string]bool, len(sections))
	next := make(map[string]int)
	for i := range sections {
		id := sections[i].ID
		if id == "" {
			id = "section"
		}
		candidate := id
		if seen[candidate] {
			n := max(next[id], 2)
			for candidate = id + "-" + strconv.Itoa(n); seen[candidate]; candidate = id + "-" + strconv.Itoa(n) {
				n++
			}
			next[id] = n + 1
		}
		seen[candidate] = true
		sections[i].ID = candidate
	}
}
