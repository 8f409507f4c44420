package index

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
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
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
)

const (
	// formatVersion is bumped whenever the mapping or what is indexed changes, so that a
	// persisted index built by an older version is rebuilt.
	formatVersion = "apiorint-index-3"
	hashKey       = "apiorint:content-hash"
	statsKey      = "apiorint:stats"

	// batchSize bounds the documents analysed at once: one batch per document would leave
	// one segment per document; one batch for everything would hold all of its analysis in
	// memory at once.
	batchSize = 1000

	// leftoverAge is how old a temporary build directory must be before it is taken for
	// the leftover of a crash: a younger one may still be running in another process.
	leftoverAge = 10 * time.Minute
)

// textStats is what the index learns from the text it holds besides Bleve's own terms: how
// long its fields are, for BM25, and the words a typo can be corrected to. A persistent
// index keeps them, so that reopening it reads no text.
type textStats struct {
	Docs       int
	FieldWords map[string]int // words in each field over all documents, stop words left out
	Uses       map[string]int // word → how many fields use it
}

// learn counts the words of docs and of the synonym rules.
func learn(docs map[string]document, synonyms []knowledge.Synonym) (textStats, error) {
	stop, err := registry.NewCache().TokenMapNamed(en.StopName)
	if err != nil {
		return textStats{}, fmt.Errorf("index: stop words: %w", err)
	}
	st := textStats{Docs: len(docs), FieldWords: make(map[string]int), Uses: make(map[string]int)}
	seen := make(map[string]bool)
	count := func(field, text string) {
		clear(seen)
		for w := range eachWord(text) {
			if !stop[w] {
				st.FieldWords[field]++
			}
			if !seen[w] && spellable(w) {
				seen[w] = true
				st.Uses[w]++
			}
		}
	}
	for _, d := range docs {
		count(fieldTitle, d.Title)
		count(fieldBody, d.Body)
	}
	for _, r := range synonyms {
		count("", strings.Join(slices.Concat(r.Input, r.Words), " "))
	}
	delete(st.FieldWords, "")
	return st, nil
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
	for _, name := range []string{fieldTitle, fieldBody} {
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

// build indexes docs and the synonym rules in a new index at path ("" for memory) and
// records hash and what it learnt of the text in it.
func build(ctx context.Context, path string, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, hash []byte) (bleve.Index, textStats, error) {
	st, err := learn(docs, synonyms)
	if err != nil {
		return nil, st, err
	}
	var enc bytes.Buffer
	if err := gob.NewEncoder(&enc).Encode(st); err != nil {
		return nil, st, fmt.Errorf("index: %w", err)
	}
	// Scorch even in memory: the older in-memory engine ignores BM25 and synonyms.
	idx, err := bleve.NewUsing(path, m, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, st, fmt.Errorf("index: create: %w", err)
	}
	fail := func(err error) (bleve.Index, textStats, error) {
		idx.Close()
		return nil, st, fmt.Errorf("index: build: %w", err)
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
	b.SetInternal([]byte(statsKey), enc.Bytes())
	b.SetInternal([]byte(hashKey), hash) // last: an index holding the hash is complete
	if err := idx.Batch(b); err != nil {
		return fail(err)
	}
	return idx, st, nil
}

// reopen opens the index at path when it was built from the knowledge that hashes to hash.
// It says why when it does not.
func reopen(path string, hash []byte) (bleve.Index, textStats, error) {
	var st textStats
	idx, err := bleve.OpenUsing(path, map[string]any{"bolt_timeout": "1s"})
	if err != nil {
		return nil, st, err
	}
	got, err := idx.GetInternal([]byte(hashKey))
	if err != nil || !bytes.Equal(got, hash) {
		idx.Close()
		return nil, st, errChanged
	}
	raw, err := idx.GetInternal([]byte(statsKey))
	if err == nil {
		err = gob.NewDecoder(bytes.NewReader(raw)).Decode(&st)
	}
	if err != nil {
		idx.Close()
		return nil, st, fmt.Errorf("its word statistics do not read: %w", err)
	}
	return idx, st, nil
}

var errChanged = errors.New("the knowledge changed")

// openOrBuild reopens the index at path when it holds hash, and otherwise builds a new one in
// a temporary directory beside it and renames that into place, so that a crash mid-build
// leaves either the old index or none, never half of one. An index another process holds
// locked is left alone and this one is built in memory instead.
func openOrBuild(ctx context.Context, path string, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, hash []byte, log *slog.Logger) (bleve.Index, textStats, error) {
	removeLeftovers(path)
	idx, st, err := reopen(path, hash)
	switch {
	case err == nil:
		log.Info("index reopened", "path", path)
		return idx, st, nil
	case errors.Is(err, errChanged):
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
		return nil, st, fmt.Errorf("index: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "."+filepath.Base(path)+".building-")
	if err != nil {
		return nil, st, fmt.Errorf("index: %w", err)
	}
	defer os.RemoveAll(tmp)
	built, st, err := build(ctx, filepath.Join(tmp, "index"), m, docs, synonyms, hash)
	if err != nil {
		return nil, st, err
	}
	if err := built.Close(); err != nil {
		return nil, st, fmt.Errorf("index: build: %w", err)
	}
	old := tmp + "-old"
	if err := os.Rename(path, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, st, fmt.Errorf("index: replace %s: %w", path, err)
	}
	if err := os.Rename(filepath.Join(tmp, "index"), path); err != nil {
		return nil, st, fmt.Errorf("index: replace %s: %w", path, err)
	}
	os.RemoveAll(old)
	idx, st, err = reopen(path, hash)
	if err != nil {
		return nil, st, fmt.Errorf("index: open %s after building it: %w", path, err)
	}
	return idx, st, nil
}

// removeLeftovers deletes what builds that crashed left beside path, once they are older
// than leftoverAge.
func removeLeftovers(path string) {
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".building-*"))
	for _, p := range left {
		if info, err := os.Stat(p); err == nil && time.Since(info.ModTime()) > leftoverAge {
			os.RemoveAll(p)
		}
	}
}

// contentHash identifies what an index holds, to tell whether a persisted index still
// matches the knowledge.
func contentHash(docs map[string]document, synonyms []knowledge.Synonym) []byte {
	h := sha256.New()
	field := func(s string) {
		binary.Write(h, binary.LittleEndian, uint64(len(s)))
		io.WriteString(h, s)
	}
	field(formatVersion)
	ids := make([]string, 0, len(docs))
	for id := range docs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		field(id)
		field(docs[id].Title)
		field(docs[id].Body)
	}
	for _, r := range synonyms {
		field(strings.Join(r.Input, ","))
		field(strings.Join(r.Words, ","))
	}
	return h.Sum(nil)
}
