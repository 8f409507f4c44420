package index

import (
	"slices"
	"strings"

	"github.com/apiorint/apiorint/knowledge"
)

// What a phrase of a question is, as far as reading it goes. A phrase may be of several
// kinds at once ("point to point" is a phrase of phrases.txt and names a subject).
type phraseKind int

const (
	kindPhrase    phraseKind = iota // phrases.txt: stands for the words it adds
	kindIntent                      // what the question asks
	kindSubject                     // "api" or "integration"
	kindConcept                     // a thing of the domain the knowledge may not cover
	kindSmallTalk                   // "thanks", "are you a bot"
	kindProduct                     // a system or a vendor
	kindElsewhere                   // the knowledge's words in another sense
	kindFiller                      // fillers.txt: says nothing
)

// An entry is one phrase the reader knows.
type entry struct {
	words  []string // raw, lower case
	stems  []string // their stems, for matching other forms of long words
	kind   phraseKind
	label  string   // intent, subject, or a concept's subject
	intent int      // the intent's number in lexicon.intents
	weight float64  // intents
	adds   []string // phrases.txt: terms it stands for
	rule   int      // phrases.txt: which rule, which counts once
}

// consumes reports whether the words of a phrase of this kind are set aside rather than
// searched: a phrase stands for what it means ("in simple terms" asks for a definition and
// says nothing of simplicity). Single words of intents, subjects and products are still
// searched: "performance" and "api" are words sections use.
func (e *entry) consumes() bool {
	switch e.kind {
	case kindSubject:
		return false // "unified system" is a subject, and words a section uses
	case kindIntent:
		return len(e.words) > 1
	case kindProduct:
		return len(e.words) > 1 // "data warehouse" is a name, not data and a warehouse
	}
	return true
}

// A lexicon finds the phrases of a question.
type lexicon struct {
	byWord map[string][]*entry // by the raw first word
	byStem map[string][]*entry // by the stem of the first word, when it is long enough
	// vocabulary holds the single words of cues, for correcting their misspellings.
	vocabulary *spelling
	// intents are the names of the intents, in the order of the vectors that weigh them.
	intents []string
}

// minStemLen is the length from which a word matches the other forms of a cue word:
// "scales" finds "scale", but "call" does not find "called".
const minStemLen = 5

func newLexicon(ix *Index, lib knowledge.Library) *lexicon {
	lx := &lexicon{byWord: make(map[string][]*entry), byStem: make(map[string][]*entry)}
	words := make(map[string]int)
	add := func(phrase string, e entry) {
		e.words = splitPhrase(phrase)
		if len(e.words) == 0 {
			return
		}
		e.stems = make([]string, len(e.words))
		for i, w := range e.words {
			e.stems[i] = ix.stem(w)
		}
		p := &e
		lx.byWord[e.words[0]] = append(lx.byWord[e.words[0]], p)
		if len(e.words[0]) >= minStemLen && e.stems[0] != "" {
			lx.byStem[e.stems[0]] = append(lx.byStem[e.stems[0]], p)
		}
		// Misspellings are mended towards what questions ask and name, never towards a
		// concept: "reset" is not a misspelt "rest".
		if len(e.words) == 1 && (e.kind == kindIntent || e.kind == kindSubject) {
			words[e.words[0]]++
		}
	}
	for i, p := range lib.Phrases {
		adds := ix.analyze(strings.Join(p.Words, " "))
		for _, in := range p.Input {
			add(in, entry{kind: kindPhrase, adds: adds, rule: i})
		}
	}
	kinds := map[knowledge.CueKind]phraseKind{
		knowledge.Intent: kindIntent, knowledge.Subject: kindSubject, knowledge.SmallTalk: kindSmallTalk,
		knowledge.Concept: kindConcept, knowledge.Product: kindProduct, knowledge.Elsewhere: kindElsewhere,
	}
	number := make(map[string]int)
	for _, c := range lib.Cues {
		e := entry{kind: kinds[c.Kind], label: c.Label, weight: c.Weight}
		if e.kind == kindIntent {
			n, ok := number[c.Label]
			if !ok {
				n = len(lx.intents)
				number[c.Label] = n
				lx.intents = append(lx.intents, c.Label)
			}
			e.intent = n
		}
		add(c.Phrase, e)
	}
	for _, f := range lib.Fillers {
		add(f, entry{kind: kindFiller})
	}
	lx.vocabulary = newSpelling(words)
	return lx
}

// splitPhrase splits a phrase into words as questions are split.
func splitPhrase(p string) []string { return words(p) }

// A match is a phrase found in a question: words [from, to) of it, and what it is.
type match struct {
	entries  []*entry
	from, to int
}

// consumes reports whether the words of a match are set aside: whether any of its kinds
// stands for what it means.
func (m match) consumes() bool {
	return slices.ContainsFunc(m.entries, (*entry).consumes)
}

// find returns the phrases of a question given as words and their stems, the longest at
// each word, each word in one phrase at most.
func (lx *lexicon) find(ws, stems []string) []match {
	var found []match
	for at := 0; at < len(ws); {
		var best []*entry
		candidates := lx.byWord[ws[at]]
		if len(ws[at]) >= minStemLen && stems[at] != "" {
			candidates = append(slices.Clip(candidates), lx.byStem[stems[at]]...)
		}
		for _, e := range candidates {
			if at+len(e.words) > len(ws) || !e.matches(ws[at:], stems[at:]) || slices.ContainsFunc(best, e.same) {
				continue
			}
			switch {
			case len(best) == 0 || len(e.words) > len(best[0].words):
				best = append(best[:0], e)
			case len(e.words) == len(best[0].words):
				best = append(best, e)
			}
		}
		if len(best) == 0 {
			at++
			continue
		}
		n := len(best[0].words)
		found = append(found, match{best, at, at + n})
		at += n
	}
	return found
}

// same reports whether two entries say the same of the words they match: "difference"
// matches the cues "difference" and "differences", and is one cue of difference.
func (e *entry) same(o *entry) bool {
	return e == o || (len(e.words) == len(o.words) && e.kind == o.kind && e.label == o.label && e.kind != kindPhrase)
}

// matches reports whether the phrase starts the words given: each word as written, or, for
// long words, in another form with the same stem.
func (e *entry) matches(ws, stems []string) bool {
	for i, w := range e.words {
		if ws[i] == w {
			continue
		}
		// "integration" shares its stem with "integral", in another sense.
		if e.kind == kindElsewhere || len(ws[i]) < minStemLen || len(w) < minStemLen || stems[i] == "" || stems[i] != e.stems[i] {
			return false
		}
	}
	return true
}

// Subjects of the knowledge, as indexes into a subjects vector.
const (
	subjectAPI = iota
	subjectIntegration
	subjectCount
)

func subjectIndex(label string) int {
	return slices.Index(subjectNames[:], label)
}

// subjectNames name the subjects by their index, as the cue lists label them.
var subjectNames = [subjectCount]string{subjectAPI: "api", subjectIntegration: "integration"}

// A reading is a question taken apart before any engine looks at it: what it asks, about
// which subject, its small talk, the things of the domain it names, and the words left to
// search for.
type reading struct {
	intents  []float64 // by intent number: the weight of its cues
	subjects [subjectCount]float64
	// strongSubjects counts words that can only mean a subject ("api", "integration"), not
	// those said of many things ("connect").
	strongSubjects int
	smallTalk      int
	elsewhere      int // cues of the knowledge's words in another sense ("integral")
	concepts       []concept
	products       int // systems and vendors named
	// cued is what the phrases whose words are set aside count as known words: a phrase
	// of phrases.txt or an intent one each (a weak intent half), a name of several words
	// half.
	cued       float64
	fullIntent bool     // an intent cue of full weight
	phrased    []string // terms that its phrases stand for
	phrases    int      // how many phrase rules it holds
	tokens     []token  // the words left to search
	terms      []string // the terms of all its words, in order, cues included
	empty      bool     // no word at all: only punctuation, emoji or nothing
}

// A token is a word of a question left to search for, and what the cues say of it.
type token struct {
	word    string   // as typed, lower case (a misspelt cue word mended)
	terms   []string // what Bleve indexes for it
	subject float64  // the weight with which it names a subject, if it does
	intent  float64  // the weight of the intent it is a cue of, if it is
	product bool
}

// A concept is a thing of the domain a question names: "webhooks", "api gateway".
type concept struct {
	typed   string // as typed, lower case
	subject string // "api", "integration" or "" (on topic only next to a subject)
	words   []string
}

// onTopic reports whether a reading names a subject of the knowledge, by a word that can
// only mean it, a system or vendor, or a thing of its domain that belongs to one: "connect"
// is said of monitors too.
func (r *reading) onTopic() bool {
	if r.strongSubjects > 0 || r.products > 0 {
		return true
	}
	for _, c := range r.concepts {
		if c.subject != "" {
			return true
		}
	}
	return false
}

// read takes a question apart: its phrases recognised, misspelt cue words mended, filler
// words and stop words set aside.
func (ix *Index) read(question string) reading {
	r := reading{intents: make([]float64, len(ix.lexicon.intents))}
	if len(question) > 16*maxQuestionWords {
		question = question[:16*maxQuestionWords]
	}
	ws := words(question)
	ws = ws[:min(len(ws), maxQuestionWords)]
	r.empty = len(ws) == 0
	stems := make([]string, len(ws))
	for i, w := range ws {
		ws[i] = ix.mend(w)
		stems[i] = ix.stem(ws[i])
	}
	said := make([]bool, len(ws))
	single := make([]*match, len(ws)) // a cue of one word, on its word
	var rules []int                   // the phrase rules found, each once
	found := ix.lexicon.find(ws, stems)
	for i, m := range found {
		if m.to-m.from == 1 {
			single[m.from] = &found[i]
		}
		consumed := m.consumes()
		if consumed {
			for i := m.from; i < m.to; i++ {
				said[i] = true
			}
		}
		for _, e := range m.entries {
			switch e.kind {
			case kindPhrase:
				if !slices.Contains(rules, e.rule) {
					rules = append(rules, e.rule)
					r.phrased = append(r.phrased, e.adds...)
					r.cued++
				}
			case kindIntent:
				r.intents[e.intent] += e.weight
				r.fullIntent = r.fullIntent || e.weight >= 1
				if consumed {
					r.cued += min(e.weight, 1)
				}
			case kindSubject:
				if len(e.words) > 1 {
					r.subjects[subjectIndex(e.label)] += e.weight
					if e.weight >= 1 {
						r.strongSubjects++
					}
				}
			case kindSmallTalk:
				r.smallTalk++
			case kindElsewhere:
				r.elsewhere++
			case kindConcept:
				r.concepts = append(r.concepts, concept{typed: strings.Join(ws[m.from:m.to], " "), subject: e.label, words: ws[m.from:m.to]})
			case kindProduct:
				r.products++
				if consumed {
					r.cued += 0.5
				}
			}
		}
	}
	r.phrases = len(rules)
	for i, w := range ws {
		r.terms = append(r.terms, ix.analyze(w)...)
		// A word that names a subject does so even inside another phrase: "api or
		// integration" asks for a choice, between an API and an integration.
		if s, weight := ix.lexicon.subjectOf(w, stems[i]); s >= 0 {
			r.subjects[s] += weight
			if weight >= 1 {
				r.strongSubjects++
			}
		}
		if said[i] {
			continue
		}
		terms := ix.analyze(w)
		if len(terms) == 0 {
			// A stop word can still be a cue ("which"): it counts, with nothing to search.
			if m := single[i]; m != nil {
				for _, e := range m.entries {
					if e.kind == kindIntent {
						r.cued += min(e.weight, 1)
					}
				}
			}
			continue
		}
		t := token{word: w, terms: terms}
		if m := single[i]; m != nil {
			for _, e := range m.entries {
				switch e.kind {
				case kindSubject:
					t.subject = max(t.subject, e.weight)
				case kindIntent:
					t.intent = max(t.intent, e.weight)
				case kindProduct:
					t.product = true
				}
			}
		}
		r.tokens = append(r.tokens, t)
	}
	return r
}

// subjectOf returns the subject a single word names and how strongly, or -1.
func (lx *lexicon) subjectOf(w, stem string) (int, float64) {
	for _, e := range lx.byWord[w] {
		if e.kind == kindSubject && len(e.words) == 1 {
			return subjectIndex(e.label), e.weight
		}
	}
	if len(w) >= minStemLen && stem != "" {
		for _, e := range lx.byStem[stem] {
			if e.kind == kindSubject && len(e.words) == 1 {
				return subjectIndex(e.label), e.weight
			}
		}
	}
	return -1, 0
}

// minMendLen is the shortest word mended: a short word is more often another word than a
// typo ("gift" is not "gist").
const minMendLen = 5

// mend returns the cue word that w most likely misspells ("diffrence" → "difference"), or w
// itself when it is a word the knowledge or the cues use, a stop word, or too far from any.
func (ix *Index) mend(w string) string {
	if len(w) < minMendLen || ix.lexicon.vocabulary.count[w] > 0 || ix.knownWord(w) {
		return w
	}
	if len(ix.analyze(w)) == 0 {
		return w // a stop word
	}
	if _, ok := ix.lexicon.byWord[w]; ok {
		return w
	}
	// Nor towards a short word: "wants" is not a misspelt "wats".
	if guesses := ix.lexicon.vocabulary.suggest(w, 1); len(guesses) == 1 && len(guesses[0]) >= minMendLen {
		return guesses[0]
	}
	return w
}

// knownWord reports whether some section of the knowledge uses w as written.
func (ix *Index) knownWord(w string) bool {
	return ix.library.spelling.count[w] > 0 || ix.article.spelling.count[w] > 0
}

// stem returns the stem the analyser gives a single word, or "" for a stop word.
func (ix *Index) stem(w string) string {
	if terms := ix.analyze(w); len(terms) > 0 {
		return terms[0]
	}
	return ""
}
