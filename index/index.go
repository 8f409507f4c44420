// Package index finds the knowledge section that best answers a question, with Bleve
// full-text search: the mapping, building and reopening the index, reading the question,
// synonyms, typo tolerance and deciding when no section is a confident answer.
package index

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
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
	bleve    bleve.Index
	analyzer analysis.Analyzer
	weights  weights

	sections map[string]knowledge.Section // by ID: every section that can be an answer
	children map[string][]string          // group section ID → its sub-sections, in order
	topics   []string

	stats    *search.BM25Stats   // the real document count and field lengths; see fieldStats
	terms    map[string]termKind // every analysed term the index or the synonyms know
	spelling *spelling
	fillers  map[string]bool
	phrases  []phrase
}

type phrase struct {
	words []string // "when", "to", "use"
	adds  string   // what the phrase means, as words to search for: "choosing"
}

// Field names and how much a match in each weighs: a question that names a section's title
// is after that section; its parent headings say less, and its text less again.
const (
	fieldTitle = "title"
	fieldPath  = "path"
	fieldBody  = "body"

	synonymSource     = "synonyms"
	synonymCollection = "synonyms"

	// bumped whenever the mapping or what is indexed changes, so that a persisted index
	// built by an older version is rebuilt.
	formatVersion = "apiorint-index-1"
	hashKey       = "apiorint:content-hash"

	batchSize = 2000
)

// document is what Bleve indexes for a section.
type document struct {
	Title string `json:"title"`
	Path  string `json:"path,omitempty"`
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
		sections: make(map[string]knowledge.Section, len(lib.Sections)),
		children: make(map[string][]string),
		fillers:  make(map[string]bool, len(lib.Fillers)),
		weights:  defaultWeights,
	}
	docs := ix.collect(lib.Sections)
	if len(docs) == 0 {
		return nil, errors.New("index: the knowledge has no section with text")
	}
	for _, w := range lib.Fillers {
		ix.fillers[w] = true
	}
	for _, p := range lib.Phrases {
		adds := strings.Join(p.Words, " ")
		for _, in := range p.Input {
			if ws := words(in); len(ws) > 0 {
				ix.phrases = append(ix.phrases, phrase{words: ws, adds: adds})
			}
		}
	}

	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	ix.analyzer = m.AnalyzerNamed(en.AnalyzerName)
	synonyms := ix.dropSelfSynonyms(lib.Synonyms)
	if ix.stats, err = fieldStats(docs); err != nil {
		return nil, err
	}
	hash := contentHash(lib)
	if opts.Path == "" {
		ix.bleve, err = build(ctx, "", m, docs, synonyms, hash)
	} else {
		ix.bleve, err = openOrBuild(ctx, opts.Path, m, docs, synonyms, hash, log)
	}
	if err != nil {
		return nil, err
	}
	if err := ix.learnWords(synonyms); err != nil {
		ix.bleve.Close()
		return nil, err
	}
	return ix, nil
}

// Close releases the index; a persistent one stays on disk for the next start.
func (ix *Index) Close() error {
	return ix.bleve.Close()
}

// collect decides which sections can be answers and returns what to index for each, in
// order. A section with text of its own is indexed with its title, its parent headings and
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
			docs[s.ID] = document{Title: s.Title, Path: strings.Join(s.Path[:len(s.Path)-1], " "), Body: s.Body}
			ix.topics = append(ix.topics, s.Title)
		case len(k) > 1:
			docs[s.ID] = document{Title: s.Title}
			ix.children[s.ID] = k
		default:
			continue
		}
		ix.sections[s.ID] = s
	}
	return docs
}

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	m.DefaultAnalyzer = en.AnalyzerName
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	err := m.AddSynonymSource(synonymSource, map[string]any{
		"collection": synonymCollection,
		"analyzer":   en.AnalyzerName,
	})
	if err != nil {
		return nil, fmt.Errorf("index mapping: %w", err)
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fieldTitle, fieldPath, fieldBody} {
		// Only the terms are needed: the text itself is kept in Go, so nothing is stored.
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName
		f.SynonymSource = synonymSource
		f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = false, false, false, false
		doc.AddFieldMappingsAt(name, f)
	}
	m.DefaultMapping = doc
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("index mapping: %w", err)
	}
	return m, nil
}

// build indexes docs and the synonym rules in a new index at path ("" for memory), in large
// batches: one batch per document would leave one segment per document.
func build(ctx context.Context, path string, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, hash []byte) (bleve.Index, error) {
	// Scorch even in memory: the older in-memory engine ignores BM25 and synonyms.
	idx, err := bleve.NewUsing(path, m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("index: create: %w", err)
	}
	fail := func(err error) (bleve.Index, error) {
		idx.Close()
		return nil, fmt.Errorf("index: build: %w", err)
	}
	ids := make([]string, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := idx.NewBatch()
	for _, id := range ids {
		if err := b.Index(id, docs[id]); err != nil {
			return fail(err)
		}
		if b.Size() >= batchSize {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			if err := idx.Batch(b); err != nil {
				return fail(err)
			}
			b.Reset()
		}
	}
	for i, rule := range synonyms {
		// "_" cannot occur in a section ID, so these never collide with one.
		def := &bleve.SynonymDefinition{Input: rule.Input, Synonyms: rule.Words}
		if err := b.IndexSynonym(fmt.Sprintf("_synonym_%d", i), synonymCollection, def); err != nil {
			return fail(err)
		}
	}
	b.SetInternal([]byte(hashKey), hash)
	if err := idx.Batch(b); err != nil {
		return fail(err)
	}
	return idx, nil
}

// openOrBuild reopens the index at path when it holds hash, and otherwise builds a new one in
// a temporary directory beside it and renames that into place, so that a crash mid-build
// leaves either the old index or none, never half of one. An index another process holds
// locked is left alone and this one is built in memory instead.
func openOrBuild(ctx context.Context, path string, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, hash []byte, log *slog.Logger) (bleve.Index, error) {
	removeLeftovers(path)
	idx, err := bleve.OpenUsing(path, map[string]any{"bolt_timeout": "1s"})
	switch {
	case err == nil:
		got, herr := idx.GetInternal([]byte(hashKey))
		if herr == nil && string(got) == string(hash) {
			log.Info("index reopened", "path", path)
			return idx, nil
		}
		idx.Close()
		log.Info("rebuilding index: the knowledge changed", "path", path)
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist) || errors.Is(err, bleve.ErrorIndexMetaMissing):
		log.Info("building index", "path", path)
	case strings.Contains(err.Error(), "timeout"):
		log.Warn("index is locked by another process: building this one in memory", "path", path, "err", err)
		return build(ctx, "", m, docs, synonyms, hash)
	default:
		log.Warn("rebuilding index: it does not open", "path", path, "err", err)
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "."+filepath.Base(path)+".building-")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer os.RemoveAll(tmp)
	built, err := build(ctx, filepath.Join(tmp, "index"), m, docs, synonyms, hash)
	if err != nil {
		return nil, err
	}
	if err := built.Close(); err != nil {
		return nil, fmt.Errorf("index: build: %w", err)
	}
	old := tmp + "-old"
	if err := os.Rename(path, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("index: replace %s: %w", path, err)
	}
	if err := os.Rename(filepath.Join(tmp, "index"), path); err != nil {
		return nil, fmt.Errorf("index: replace %s: %w", path, err)
	}
	os.RemoveAll(old)
	idx, err = bleve.OpenUsing(path, map[string]any{"bolt_timeout": "1s"})
	if err != nil {
		return nil, fmt.Errorf("index: open %s after building it: %w", path, err)
	}
	return idx, nil
}

// removeLeftovers deletes what builds that crashed left beside path. A build younger than
// leftoverAge may still be running in another process, and is left alone.
func removeLeftovers(path string) {
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".building-*"))
	for _, p := range left {
		if info, err := os.Stat(p); err == nil && time.Since(info.ModTime()) > leftoverAge {
			os.RemoveAll(p)
		}
	}
}

const leftoverAge = 10 * time.Minute

// contentHash identifies what an index was built from, to tell whether a persisted index
// still matches the knowledge.
func contentHash(lib knowledge.Library) []byte {
	h := sha256.New()
	field := func(s string) {
		binary.Write(h, binary.LittleEndian, uint64(len(s)))
		io.WriteString(h, s)
	}
	field(formatVersion)
	for _, s := range lib.Sections {
		field(s.ID)
		field(s.Title)
		field(strings.Join(s.Path, "\x00"))
		field(s.Body)
		field(s.Source)
	}
	for _, r := range lib.Synonyms {
		field(strings.Join(r.Input, ","))
		field(strings.Join(r.Words, ","))
	}
	return h.Sum(nil)
}

// termKind says where a term is known from.
type termKind uint8

const (
	indexed termKind = 1 << iota // some section uses it
	synonym                      // a synonym rule names it
	topical                      // a title, a heading or a synonym rule names it: the knowledge is about it
)

// learnWords records every term the index holds and every word the knowledge uses, to tell
// known words from unknown ones and to correct typos.
func (ix *Index) learnWords(synonyms []knowledge.Synonym) error {
	ix.terms = make(map[string]termKind)
	for _, field := range []string{fieldTitle, fieldPath, fieldBody} {
		dict, err := ix.bleve.FieldDict(field)
		if err != nil {
			return fmt.Errorf("index: terms of %s: %w", field, err)
		}
		for e, err := dict.Next(); e != nil || err != nil; e, err = dict.Next() {
			if err != nil {
				dict.Close()
				return fmt.Errorf("index: terms of %s: %w", field, err)
			}
			ix.terms[e.Term] |= indexed
			if field != fieldBody {
				ix.terms[e.Term] |= topical
			}
		}
		dict.Close()
	}
	for _, r := range synonyms {
		for _, w := range slices.Concat(r.Input, r.Words) {
			for _, t := range ix.analyze(w) {
				ix.terms[t] |= synonym | topical
			}
		}
	}
	ix.spelling = newSpelling(func(yield func(string) bool) {
		for _, s := range ix.sections {
			if !yield(s.Title) || !yield(s.Body) {
				return
			}
		}
		for _, r := range synonyms {
			if !yield(strings.Join(slices.Concat(r.Input, r.Words), " ")) {
				return
			}
		}
	})
	return nil
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

// fieldStats counts the documents and the words of each field, for BM25. Bleve would count
// its synonym rules as documents and estimate a field's length from its number of distinct
// terms, which makes every title look one word long and punishes longer ones.
func fieldStats(docs map[string]document) (*search.BM25Stats, error) {
	stop, err := registry.NewCache().TokenMapNamed(en.StopName)
	if err != nil {
		return nil, fmt.Errorf("index: stop words: %w", err)
	}
	count := func(text string) int {
		n := 0
		for _, w := range words(text) {
			if !stop[w] {
				n++
			}
		}
		return n
	}
	stats := &search.BM25Stats{DocCount: float64(len(docs)), FieldCardinality: make(map[string]int)}
	for _, d := range docs {
		stats.FieldCardinality[fieldTitle] += count(d.Title)
		stats.FieldCardinality[fieldPath] += count(d.Path)
		stats.FieldCardinality[fieldBody] += count(d.Body)
	}
	return stats, nil
}

// analyze returns the terms Bleve indexes for text: lower case, stemmed, stop words dropped.
func (ix *Index) analyze(text string) []string {
	var terms []string
	for _, t := range ix.analyzer.Analyze([]byte(text)) {
		terms = append(terms, string(t.Term))
	}
	return terms
}
