// Package index finds the knowledge section that best answers a question, with Bleve
// full-text search: the mapping, building and reopening the index, reading the question
// (what it asks, about which subject), synonyms, typo tolerance, and deciding whether a
// section answers it, only comes closest, or nothing does.
package index

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2/analysis"
)

// Options say where the index lives.
type Options struct {
	// Path is the directory of a persistent index; empty keeps the index in memory. Only a
	// missing path, an empty directory or an index apiorint made there is ever replaced:
	// anything else fails New with ErrNotOurs, untouched.
	Path string
	// Logger receives what happened to a persistent index (reopened, rebuilt and why) and
	// the progress of a long build. Nil discards it.
	Logger *slog.Logger
	// Unless is the Hash of an index in service: New builds nothing for the same knowledge
	// and returns ErrUnchanged.
	Unless string
}

// ErrUnchanged is what New returns when the knowledge is what Options.Unless says.
var ErrUnchanged = errors.New("index: the knowledge did not change")

// Index answers questions from a knowledge library. It is safe for concurrent use.
type Index struct {
	analyzer analysis.Analyzer
	words    *memo[[]string] // the terms of words
	lexicon  *lexicon

	sections  map[string]knowledge.Section // by ID: every section that can be an answer
	order     map[string]int               // by ID: its place in the knowledge
	children  map[string][]string          // group section ID → its sub-sections, in order
	summaries map[string]string            // group section ID → the first sentence of each sub-section
	topics    []Topic
	profiles  map[string]profile
	hash      string
	weights   weights
	ranker    *ranker // nil: text and profiles alone
	gate      *gate   // nil: the rule of confident decides what is about the article

	// article searches the embedded article alone, library everything: a question whose
	// every word the article knows is the article's to answer, however many other sections
	// use those words too. Without other sections they are the same engine.
	article, library *engine

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

// ErrClosed is what a search of a closed index returns.
var ErrClosed = errors.New("index: closed")

// The fields of a document, and the synonym source they share.
const (
	fieldTitle     = "title"
	fieldBody      = "body"
	fieldQuestions = "questions"

	synonymSource     = "synonyms"
	synonymCollection = "synonyms"
)

// document is what Bleve indexes for a section: its title, its text after its parent
// headings, which say what the text is about ("Kafka" for "Setup" under "# Kafka"), and the
// example questions its author gave.
type document struct {
	Title     string `json:"title"`
	Body      string `json:"body,omitempty"`
	Questions string `json:"questions,omitempty"`
}

// New indexes lib, or with opts.Path reopens the index kept there when it was built from the
// same knowledge, and rebuilds it otherwise. It stops when ctx ends.
func New(ctx context.Context, lib knowledge.Library, opts Options) (*Index, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Path != "" {
		// "/data/index/" is /data/index: its parent is where it is built and renamed from.
		opts.Path = filepath.Clean(opts.Path)
	}
	ix := &Index{
		weights:   defaultWeights,
		words:     newMemo[[]string](wordCacheSize),
		sections:  make(map[string]knowledge.Section, len(lib.Sections)),
		order:     make(map[string]int, len(lib.Sections)),
		children:  make(map[string][]string),
		summaries: make(map[string]string),
		profiles:  make(map[string]profile),
	}
	rk, err := parseRanker(rankerFile)
	if err != nil {
		return nil, err
	}
	ix.ranker = rk
	if ix.gate, err = parseGate(gateFile); err != nil {
		return nil, err
	}
	docs := ix.collect(lib.Sections)
	if len(docs) == 0 {
		return nil, errors.New("index: the knowledge has no section with text")
	}
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	ix.analyzer = m.AnalyzerNamed(analyzerName)
	ix.lexicon = newLexicon(ix, lib)
	synonyms := ix.dropSelfSynonyms(lib.Synonyms)
	articleDocs := make(map[string]document)
	for id, d := range docs {
		if ix.sections[id].Source == knowledge.ArticleSource {
			articleDocs[id] = d
		}
	}
	hash := contentHash(docs, synonyms)
	ix.hash = hex.EncodeToString(hash[:8])
	if opts.Unless != "" && opts.Unless == ix.hash {
		return nil, ErrUnchanged
	}
	if len(articleDocs) == len(docs) {
		if ix.article, err = ix.openEngine(ctx, m, docs, synonyms, opts.Path, log); err != nil {
			return nil, err
		}
		ix.library = ix.article
	} else {
		// The article alone is small: always in memory, built in milliseconds.
		if ix.article, err = ix.openEngine(ctx, m, articleDocs, synonyms, "", log); err != nil {
			return nil, err
		}
		if ix.library, err = ix.openEngine(ctx, m, docs, synonyms, opts.Path, log); err != nil {
			ix.article.close()
			return nil, err
		}
	}
	for id, s := range ix.sections {
		if err := ctx.Err(); err != nil {
			ix.Close()
			return nil, err
		}
		ix.profiles[id] = ix.profileOf(s)
	}
	withChildren(ix.profiles, ix.children)
	// Each engine offers its own sections: among 20,000 others, the article's would never
	// be among the first candidates of an intent.
	ix.library.byIntent = byIntent(ix.profiles, ix.library.ids, len(ix.lexicon.intents))
	if ix.article != ix.library {
		ix.article.byIntent = byIntent(ix.profiles, ix.article.ids, len(ix.lexicon.intents))
	}
	return ix, nil
}

// Close releases the index; a persistent one stays on disk for the next start. Closing it
// again does nothing.
func (ix *Index) Close() error {
	ix.closeOnce.Do(func() {
		ix.closed.Store(true)
		ix.closeErr = ix.library.close()
		if ix.article != ix.library {
			ix.closeErr = errors.Join(ix.closeErr, ix.article.close())
		}
	})
	return ix.closeErr
}

// A Topic is a section that can be asked about: what a list of topics shows.
type Topic struct {
	ID, Title string
}

// Topics returns the sections with text of their own, in the order of the knowledge. It is
// never empty: New fails on knowledge without a section to answer with.
func (ix *Index) Topics() []Topic { return ix.topics }

// Section returns the section with id as a result, and false when no section that can be an
// answer has that ID (it may have been removed from the knowledge since).
func (ix *Index) Section(id string) (Result, bool) {
	s, ok := ix.sections[id]
	if !ok {
		return Result{}, false
	}
	return ix.result(s, 0), true
}

// Size returns how many sections can be answers.
func (ix *Index) Size() int { return len(ix.sections) }

// Hash identifies the knowledge the index holds: the same knowledge, the same hash.
func (ix *Index) Hash() string { return ix.hash }

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
	for i, s := range sections {
		questions := strings.Join(s.Questions, "\n")
		switch k := kids[place(s.Source, s.Path)]; {
		case s.Body != "":
			docs[s.ID] = document{Title: s.Title, Body: strings.Join(append(s.Path[:len(s.Path)-1:len(s.Path)-1], s.Body), "\n"), Questions: questions}
			ix.topics = append(ix.topics, Topic{ID: s.ID, Title: s.Title})
		case len(k) > 1:
			docs[s.ID] = document{Title: s.Title, Questions: questions}
			ix.children[s.ID] = k
		default:
			continue
		}
		ix.sections[s.ID] = s
		ix.order[s.ID] = i
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

// analyze returns the terms Bleve indexes for text: lower case, stemmed, stop words and
// overlong words dropped. The terms of a single word come from a cache: questions use the
// same few thousand words again and again, and analysing one allocates. The caller must not
// change what it returns.
func (ix *Index) analyze(text string) []string {
	if terms, ok := ix.words.get(text); ok {
		return terms
	}
	var terms []string
	for _, t := range ix.analyzer.Analyze([]byte(text)) {
		terms = append(terms, string(t.Term))
	}
	if !strings.ContainsAny(text, " \t\n") {
		ix.words.put(text, terms)
	}
	return terms
}
