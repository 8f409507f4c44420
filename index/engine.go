package index

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// An engine is one Bleve index and what the search knows of its words.
type engine struct {
	bleve bleve.Index
	// stats are the real document count and field lengths. Bleve would count the synonym
	// rules as documents and estimate a field's length from its number of distinct terms,
	// which makes every title look one word long and punishes longer ones.
	stats    *search.BM25Stats
	terms    map[string]termKind // every analysed term the index or the synonyms know
	spelling *spelling
	// synonyms is what Bleve's thesaurus expands each term to, field by field: looked up
	// once here rather than for every question, and handed to each search.
	synonyms search.FieldTermSynonymMap
	// phrases holds the concepts of several words ("api gateway") that its text uses.
	phrases map[string]bool
	// ids are the sections it holds.
	ids map[string]bool
	// byIntent lists its sections by the intents of their profiles, strongest first.
	byIntent [][]string   // by intent number
	hits     *memo[[]hit] // text searches by plan: an engine never changes once built
}

// termKind says where a term is known from.
type termKind uint8

const (
	indexed termKind = 1 << iota // some section uses it
	synonym                      // a synonym rule names it
	topical                      // a title, a heading or a synonym rule names it: the knowledge is about it
)

// openEngine indexes docs and the synonyms, in memory or at path (reopened when it holds the
// same), and learns their words.
func (ix *Index) openEngine(ctx context.Context, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, path string, log *slog.Logger) (*engine, error) {
	hash := contentHash(docs, synonyms)
	var (
		e   engine
		st  textStats
		err error
	)
	if path == "" {
		e.bleve, st, err = build(ctx, "", m, docs, synonyms, hash, log)
	} else {
		e.bleve, st, err = openOrBuild(ctx, path, m, docs, synonyms, hash, log)
	}
	if err != nil {
		return nil, err
	}
	e.hits = newMemo[[]hit](hitCacheSize)
	e.stats = &search.BM25Stats{DocCount: float64(st.Docs), FieldCardinality: st.FieldWords}
	e.spelling = newSpelling(st.Uses)
	if e.terms, err = ix.learnTerms(e.bleve, synonyms); err != nil {
		e.bleve.Close()
		return nil, err
	}
	if e.synonyms, err = ix.expandSynonyms(ctx, e.bleve, m, synonyms); err != nil {
		e.bleve.Close()
		return nil, err
	}
	e.phrases = ix.conceptPhrases(docs)
	e.ids = make(map[string]bool, len(docs))
	for id := range docs {
		e.ids[id] = true
	}
	return &e, nil
}

// conceptPhrases returns the concepts of several words that the text of docs uses, read as
// questions are (without the other forms of words: it is a scan of every word).
func (ix *Index) conceptPhrases(docs map[string]document) map[string]bool {
	byFirst := make(map[string][]*entry)
	for _, es := range ix.lexicon.byWord {
		for _, e := range es {
			if e.kind == kindConcept && len(e.words) > 1 {
				byFirst[e.words[0]] = append(byFirst[e.words[0]], e)
			}
		}
	}
	found := make(map[string]bool)
	var ws []string
	for _, d := range docs {
		for _, text := range []string{d.Title, d.Body, d.Questions} {
			ws = ws[:0]
			for w := range eachWord(text) {
				ws = append(ws, w)
			}
			for i, w := range ws {
				for _, e := range byFirst[w] {
					if i+len(e.words) <= len(ws) && slices.Equal(ws[i:i+len(e.words)], e.words) {
						found[strings.Join(e.words, " ")] = true
					}
				}
			}
		}
	}
	return found
}

// covers reports whether e's knowledge talks about a concept: a section uses its words, or
// a synonym rule knows them.
func (e *engine) covers(ix *Index, c concept) bool {
	if len(c.words) > 1 {
		return e.phrases[strings.Join(c.words, " ")]
	}
	terms := ix.analyze(c.words[0])
	return len(terms) > 0 && e.terms[terms[0]] != 0
}

// expandSynonyms asks Bleve, with its own query.ExtractSynonyms, what every word of the
// synonym rules expands to in each field: the lookups Bleve would otherwise repeat in its
// thesaurus for each term of each question.
func (ix *Index) expandSynonyms(ctx context.Context, idx bleve.Index, m mapping.IndexMapping, synonyms []knowledge.Synonym) (search.FieldTermSynonymMap, error) {
	sm, ok := m.(mapping.SynonymMapping)
	if !ok {
		return nil, nil
	}
	q := bleve.NewDisjunctionQuery()
	for _, r := range synonyms {
		for _, w := range slices.Concat(r.Input, r.Words) {
			for _, t := range ix.analyze(w) {
				for _, field := range []string{fieldTitle, fieldBody, fieldQuestions} {
					tq := bleve.NewTermQuery(t)
					tq.SetField(field)
					q.AddQuery(tq)
				}
			}
		}
	}
	adv, err := idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("index: synonyms: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("index: synonyms: %w", err)
	}
	defer r.Close()
	tr, ok := r.(bleveindex.ThesaurusReader)
	if !ok {
		return nil, errors.New("index: synonyms: the index keeps no thesaurus")
	}
	fts, err := query.ExtractSynonyms(ctx, sm, tr, q, nil)
	if err != nil {
		return nil, fmt.Errorf("index: synonyms: %w", err)
	}
	if fts == nil {
		fts = search.FieldTermSynonymMap{}
	}
	return fts, nil
}

func (e *engine) close() error { return e.bleve.Close() }

// learnTerms returns every term idx holds or the synonyms name, to tell known words from
// unknown ones.
func (ix *Index) learnTerms(idx bleve.Index, synonyms []knowledge.Synonym) (map[string]termKind, error) {
	terms := make(map[string]termKind)
	for _, field := range []string{fieldTitle, fieldBody, fieldQuestions} {
		dict, err := idx.FieldDict(field)
		if err != nil {
			return nil, fmt.Errorf("index: terms of %s: %w", field, err)
		}
		for e, err := dict.Next(); e != nil || err != nil; e, err = dict.Next() {
			if err != nil {
				dict.Close()
				return nil, fmt.Errorf("index: terms of %s: %w", field, err)
			}
			terms[e.Term] |= indexed
			if field == fieldTitle {
				terms[e.Term] |= topical
			}
		}
		dict.Close()
	}
	for _, r := range synonyms {
		for _, w := range slices.Concat(r.Input, r.Words) {
			for _, t := range ix.analyze(w) {
				terms[t] |= synonym | topical
			}
		}
	}
	return terms, nil
}
