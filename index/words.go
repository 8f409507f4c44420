package index

import (
	"cmp"
	"iter"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// words splits text into lower-case words of letters and digits. An apostrophe inside a word
// stays, as "'" ("What’s" → "what's", which the analyser knows for a stop word); everything
// else separates words ("e-commerce" → "e", "commerce"). That is how questions are matched
// against phrases and spellings.
func words(text string) []string {
	var out []string
	for w := range eachWord(text) {
		out = append(out, w)
	}
	return out
}

// eachWord yields the words of text as words does, without allocating for words that are
// already lower-case ASCII, which most are.
func eachWord(text string) iter.Seq[string] {
	return func(yield func(string) bool) {
		start, simple := -1, true
		emit := func(end int) bool {
			w := text[start:end]
			if !simple {
				w = lowerWord(w)
			}
			start, simple = -1, true
			return w == "" || yield(w)
		}
		for i := 0; i < len(text); {
			c := text[i]
			if c < utf8.RuneSelf {
				switch {
				case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
					if start < 0 {
						start = i
					}
				case 'A' <= c && c <= 'Z' || c == '\'':
					if start < 0 {
						start = i
					}
					simple = false
				default:
					if start >= 0 && !emit(i) {
						return
					}
				}
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '’' {
				if start < 0 {
					start = i
				}
				simple = false
			} else if start >= 0 && !emit(i) {
				return
			}
			i += size
		}
		if start >= 0 {
			emit(len(text))
		}
	}
}

// lowerWord lower-cases w, writes its apostrophes as "'", and drops those it starts or ends
// with (quotes, not apostrophes).
func lowerWord(w string) string {
	var b strings.Builder
	b.Grow(len(w))
	for _, r := range w {
		switch r {
		case '’':
			b.WriteByte('\'')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return strings.Trim(b.String(), "'")
}

// A spelling knows every word the knowledge uses and finds the nearest ones to a misspelt
// word, so that a typo is searched as the word it most likely meant. Only words that share
// the typo's first letter are considered: people rarely get that one wrong, and it keeps a
// lookup to a few hundred comparisons even with tens of thousands of known words.
type spelling struct {
	count   map[string]int         // word → how many texts use it
	buckets map[bucketKey][]string // words by first letter and length
}

type bucketKey struct {
	first rune
	len   int
}

const (
	minTypoLen = 4  // "apu" is too short to guess from
	maxWordLen = 40 // longer "words" are noise (hashes, URLs)
)

// newSpelling learns words, with how many texts use each.
func newSpelling(uses map[string]int) *spelling {
	s := &spelling{count: uses, buckets: make(map[bucketKey][]string)}
	for w := range uses {
		k := keyOf(w)
		s.buckets[k] = append(s.buckets[k], w)
	}
	return s
}

// spellable reports whether a word is worth learning: long enough to be a typo's guess, and
// short enough to be a word.
func spellable(w string) bool {
	n := utf8.RuneCountInString(w)
	return n >= minTypoLen-1 && n <= maxWordLen
}

func keyOf(w string) bucketKey {
	r, _ := utf8.DecodeRuneInString(w)
	return bucketKey{r, utf8.RuneCountInString(w)}
}

// maxEdits is how far a word may be from what was meant: one slip in a short word, two in a
// long one.
func maxEdits(word string) int {
	switch n := utf8.RuneCountInString(word); {
	case n < minTypoLen:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// suggest returns the known words nearest to word, closest first and, at equal distance,
// the most used first; at most limit of them.
func (s *spelling) suggest(word string, limit int) []string {
	edits := maxEdits(word)
	if edits == 0 || utf8.RuneCountInString(word) > maxWordLen {
		return nil
	}
	type candidate struct {
		word       string
		dist, uses int
	}
	var found []candidate
	k := keyOf(word)
	var d editDistance
	for n := k.len - edits; n <= k.len+edits; n++ {
		for _, w := range s.buckets[bucketKey{k.first, n}] {
			if dist := d.within(word, w, edits); dist <= edits {
				found = append(found, candidate{w, dist, s.count[w]})
			}
		}
	}
	slices.SortFunc(found, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(b.uses, a.uses), strings.Compare(a.word, b.word))
	})
	var out []string
	for _, c := range found {
		if len(out) == limit || c.dist > found[0].dist {
			break
		}
		out = append(out, c.word)
	}
	return out
}

// editDistance computes optimal string alignment distances (insertions, deletions,
// substitutions and swaps of two neighbours each count one), reusing its memory from one
// word to the next.
type editDistance struct {
	a, b             []rune
	prev2, prev, cur []int
}

// within returns the distance between a and b, or max+1 once it must exceed max.
func (d *editDistance) within(a, b string, max int) int {
	d.a, d.b = append(d.a[:0], []rune(a)...), append(d.b[:0], []rune(b)...)
	ra, rb := d.a, d.b
	if abs(len(ra)-len(rb)) > max {
		return max + 1
	}
	n := len(rb) + 1
	if cap(d.cur) < n {
		d.prev2, d.prev, d.cur = make([]int, n), make([]int, n), make([]int, n)
	}
	prev2, prev, cur := d.prev2[:n], d.prev[:n], d.cur[:n]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
