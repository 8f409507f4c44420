package index

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/blevesearch/vellum"
	"github.com/blevesearch/vellum/levenshtein"
)

// words splits text into lower-case words of letters and digits. Apostrophes are dropped
// inside a word ("what's" → "whats") and everything else separates words ("e-commerce" →
// "e", "commerce"), which is how questions are matched against phrases and spellings.
func words(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
		default:
			flush()
		}
	}
	flush()
	return out
}

// A spelling knows every word the knowledge uses and finds the nearest ones to a misspelt
// word, so that a typo is searched as the word it most likely meant.
type spelling struct {
	fst *vellum.FST // word → number of sections that use it

	// Levenshtein automaton builders are costly to make (milliseconds) and only needed for
	// questions with a typo, so they are made on first use.
	builders func() ([3]*levenshtein.LevenshteinAutomatonBuilder, error)
}

// newSpelling indexes the words of texts. Words shorter than minTypoLen are left out: they
// are never corrected, and never corrected to.
func newSpelling(texts func(yield func(string) bool)) (*spelling, error) {
	counts := make(map[string]uint64)
	seen := make(map[string]bool)
	for text := range texts {
		clear(seen)
		for _, w := range words(text) {
			if len(w) >= minTypoLen && len(w) <= maxWordLen && !seen[w] {
				seen[w] = true
				counts[w]++
			}
		}
	}
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	slices.Sort(keys)

	var buf bytes.Buffer
	b, err := vellum.New(&buf, nil)
	if err != nil {
		return nil, err
	}
	for _, w := range keys {
		if err := b.Insert([]byte(w), counts[w]); err != nil {
			return nil, fmt.Errorf("spelling: %w", err)
		}
	}
	if err := b.Close(); err != nil {
		return nil, fmt.Errorf("spelling: %w", err)
	}
	fst, err := vellum.Load(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("spelling: %w", err)
	}
	return &spelling{fst: fst, builders: sync.OnceValues(newBuilders)}, nil
}

const (
	minTypoLen = 4  // "apu" is too short to guess from
	maxWordLen = 40 // longer "words" are noise (hashes, URLs) and slow the automaton down
)

func newBuilders() (b [3]*levenshtein.LevenshteinAutomatonBuilder, err error) {
	for d := 1; d <= 2; d++ {
		// Transpositions count as one edit: "integartion" is one slip, not two.
		if b[d], err = levenshtein.NewLevenshteinAutomatonBuilder(uint8(d), true); err != nil {
			return b, fmt.Errorf("spelling: %w", err)
		}
	}
	return b, nil
}

// maxEdits is how far a word may be from what was meant: one slip in a short word, two in a
// long one.
func maxEdits(word string) int {
	switch n := len(word); {
	case n < minTypoLen:
		return 0
	case n < 7:
		return 1
	default:
		return 2
	}
}

// known reports whether the knowledge uses word.
func (s *spelling) known(word string) bool {
	ok, _ := s.fst.Contains([]byte(word))
	return ok
}

// suggest returns the known words nearest to word, closest first and, at equal distance,
// the most used first; at most limit of them.
func (s *spelling) suggest(word string, limit int) ([]string, error) {
	edits := maxEdits(word)
	if edits == 0 || len(word) > maxWordLen {
		return nil, nil
	}
	builders, err := s.builders()
	if err != nil {
		return nil, err
	}
	dfa, err := builders[edits].BuildDfa(word, uint8(edits))
	if err != nil {
		return nil, fmt.Errorf("spelling %q: %w", word, err)
	}
	type candidate struct {
		word  string
		dist  uint8
		count uint64
	}
	var found []candidate
	it, err := s.fst.Search(dfa, nil, nil)
	for err == nil {
		key, count := it.Current()
		_, dist := dfa.MatchAndDistance(string(key))
		found = append(found, candidate{string(key), dist, count})
		err = it.Next()
	}
	if err != vellum.ErrIteratorDone {
		return nil, fmt.Errorf("spelling %q: %w", word, err)
	}
	slices.SortFunc(found, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(b.count, a.count), strings.Compare(a.word, b.word))
	})
	var out []string
	for _, c := range found {
		if len(out) == limit || c.dist > found[0].dist {
			break
		}
		out = append(out, c.word)
	}
	return out, nil
}
