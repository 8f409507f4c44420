// Package index finds the knowledge section that best answers a question, with Bleve
// full-text search: the mapping, building and reopening the index, reading the question,
// synonyms, typo tolerance and deciding when no section is a confident answer.
package index

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
)

// Options say where the index lives.
type Options struct {
	// Path is the directory of a persistent index; empty keeps the index in memory.
	Path string
	// Logger receives what happened to a persistent index (reopened, rebuilt and why).
	// Nil discards it.
	Logger *slog.Logger
}

// Index answers questions from a knowledge library. It is safe for concurrent use.
type Index struct {
	analyzer analysis.Analyzer
	weights  weights

	sections  map[string]knowledge.Section // by ID: every section that can be an answer
	children  map[string][]string          // group section ID → its sub-sections, in order
	summaries map[string]string            // group section ID → the first sentence of each sub-section
	topics    []string

	// article searches the embedded article alone, library everything: a question whose
	// every word the article knows is the article's to answer, however many other sections
	// use those words too. Without other sections they are the same engine.
	article, library *engine

	fillers map[string]bool
	phrases map[string][]phrase // by their first word
}

type phrase struct {
	rule  int      // which line of phrases.txt: one rule counts once
	words []string // "when", "to", "use"
	adds  []string // what the phrase means, as terms to search for: "choos"
}

// The fields of a document, and the synonym source they share.
const (
	fieldTitle = "title"
	fieldBody  = "body"

	synonymSource     = "synonyms"
	synonymCollection = "synonyms"
)

// document is what Bleve indexes for a section: its title, and its text after its parent
// headings, which say what the text is about ("Kafka" for "Setup" under "# Kafka").
type document struct {
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
}

// New indexes lib, or with opts.Path reopens the index kept there when it was built from the
// same knowledge, and rebuilds it otherwise.
func New(ctx context.Context, lib knowledge.Library, opts Options) (*Index, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ix := &Index{
		sections:  make(map[string]knowledge.Section, len(lib.Sections)),
		children:  make(map[string][]string),
		summaries: make(map[string]string),
		fillers:   make(map[string]bool, len(lib.Fillers)),
		weights:   defaultWeights,
		phrases:   make(map[string][]phrase),
	}
	docs := ix.collect(lib.Sections)
	if len(docs) == 0 {
		return nil, errors.New("index: the knowledge has no section with text")
	}
	for _, w := range lib.Fillers {
		ix.fillers[w] = true
	}
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	ix.analyzer = m.AnalyzerNamed(en.AnalyzerName)
	for i, p := range lib.Phrases {
		adds := ix.analyze(strings.Join(p.Words, " "))
		for _, in := range p.Input {
			if ws := words(in); len(ws) > 0 {
				ix.phrases[ws[0]] = append(ix.phrases[ws[0]], phrase{rule: i, words: ws, adds: adds})
			}
		}
	}
	synonyms := ix.dropSelfSynonyms(lib.Synonyms)
	articleDocs := make(map[string]document)
	for id, d := range docs {
		if ix.sections[id].Source == knowledge.ArticleSource {
			articleDocs[id] = d
		}
	}
	if len(articleDocs) == len(docs) {
		ix.article, err = ix.openEngine(ctx, m, docs, synonyms, opts.Path, log)
		ix.library = ix.article
		return ix, err
	}
	// The article alone is small: always in memory, built in milliseconds.
	if ix.article, err = ix.openEngine(ctx, m, articleDocs, synonyms, "", log); err != nil {
		return nil, err
	}
	if ix.library, err = ix.openEngine(ctx, m, docs, synonyms, opts.Path, log); err != nil {
		ix.article.close()
		return nil, err
	}
	return ix, nil
}

// Close releases the index; a persistent one stays on disk for the next start.
func (ix *Index) Close() error {
	err := ix.library.close()
	if ix.article != ix.library {
		err = errors.Join(err, ix.article.close())
	}
	return err
}

// collect decides which sections can be answers and returns what to index for each, by
// ID. A section with text of its own is indexed with its title, its parent headings and
// its text. A heading with no text but several sub-sections ("Key Differences Between APIs
// And Integrations") is indexed by its title alone and answered with a summary of its
// sub-sections. A heading with a single sub-section adds nothing its sub-section's path does
// not, and a heading with nothing under it has nothing to say: neither is an answer.
func (ix *Index) collect(sections []knowledge.Section) map[string]document {
	// Sub-sections by their parent's place: its source and heading path.
	kids := make(map[string][]string)
	place := func(source string, path []string) string { return source + "\x00" + strings.Join(path, "\x00") }
	for _, s := range sections {
		if len(s.Path) > 1 {
			p := place(s.Source, s.Path[:len(s.Path)-1])
			kids[p] = append(kids[p], s.ID)
		}
	}
	docs := make(map[string]document, len(sections))
	for _, s := range sections {
		switch k := kids[place(s.Source, s.Path)]; {
		case s.Body != "":
			docs[s.ID] = document{Title: s.Title, Body: strings.Join(append(s.Path[:len(s.Path)-1:len(s.Path)-1], s.Body), "\n")}
			ix.topics = append(ix.topics, s.Title)
		case len(k) > 1:
			docs[s.ID] = document{Title: s.Title}
			ix.children[s.ID] = k
		default:
			continue
		}
		ix.sections[s.ID] = s
	}
	for id, kids := range ix.children {
		// Only sub-sections that are answers themselves are summarised and offered.
		kids = slices.DeleteFunc(kids, func(k string) bool { _, ok := ix.sections[k]; return !ok })
		subs := make([]knowledge.Section, len(kids))
		for i, k := range kids {
			subs[i] = ix.sections[k]
		}
		ix.children[id], ix.summaries[id] = kids, summary(subs)
	}
	return docs
}

// dropSelfSynonyms removes the words of a one-way rule that stem like one of its targets
// ("integrate => integration"): they would only add the word to itself, at half weight.
func (ix *Index) dropSelfSynonyms(rules []knowledge.Synonym) []knowledge.Synonym {
	out := make([]knowledge.Synonym, 0, len(rules))
	for _, r := range rules {
		if len(r.Input) == 0 {
			out = append(out, r)
			continue
		}
		targets := make(map[string]bool)
		for _, w := range r.Words {
			for _, t := range ix.analyze(w) {
				targets[t] = true
			}
		}
		var input []string
		for _, w := range r.Input {
			if terms := ix.analyze(w); len(terms) > 0 && !targets[terms[0]] {
				input = append(input, w)
			}
		}
		if len(input) > 0 {
			out = append(out, knowledge.Synonym{Input: input, Words: r.Words})
		}
	}
	return out
}

// analyze returns the terms Bleve indexes for text: lower case, stemmed, stop words dropped.
func (ix *Index) analyze(text string) []string {
	var terms []string
	for _, t := range ix.analyzer.Analyze([]byte(text)) {
		terms = append(terms, string(t.Term))
	}
	return terms
}
