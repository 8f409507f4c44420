package index

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/length"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	bolterrors "go.etcd.io/bbolt/errors"
)

const (
	// formatVersion is bumped whenever the mapping or what is indexed changes, so that a
	// persisted index built by an older version is rebuilt.
	formatVersion = "apiorint-index-4"
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

// learn counts the words of docs and of the synonym rules. It stops when ctx ends.
func learn(ctx context.Context, docs map[string]document, synonyms []knowledge.Synonym) (textStats, error) {
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
	n := 0
	for _, d := range docs {
		if n++; n%batchSize == 0 {
			if err := ctx.Err(); err != nil {
				return textStats{}, err
			}
		}
		count(fieldTitle, d.Title)
		count(fieldBody, d.Body)
		count(fieldQuestions, d.Questions)
	}
	for _, r := range synonyms {
		count("", strings.Join(slices.Concat(r.Input, r.Words), " "))
	}
	delete(st.FieldWords, "")
	for _, f := range []string{fieldTitle, fieldBody, fieldQuestions} {
		// Bleve's BM25 needs every field's length, even a field no document has yet.
		st.FieldWords[f] = max(st.FieldWords[f], 1)
	}
	return st, nil
}

// The analyser of every field, the synonyms and the questions: Bleve's English one, with
// words longer than maxTermLen dropped first. A 10 MB "word" is no word anyone searches
// for, and stemming and indexing it took a minute and gigabytes.
const (
	analyzerName     = "apiorint_en"
	lengthFilterName = "apiorint_max_length"
	maxTermLen       = 100
)

func newMapping() (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	m.ScoringModel = "bm25"
	m.StoreDynamic, m.IndexDynamic, m.DocValuesDynamic = false, false, false
	err := m.AddCustomTokenFilter(lengthFilterName, map[string]any{"type": length.Name, "max": float64(maxTermLen)})
	if err == nil {
		err = m.AddCustomAnalyzer(analyzerName, map[string]any{
			"type":          custom.Name,
			"tokenizer":     unicode.Name,
			"token_filters": []any{lengthFilterName, en.PossessiveName, lowercase.Name, en.StopName, porter.Name},
		})
	}
	if err == nil {
		m.DefaultAnalyzer = analyzerName
		err = m.AddSynonymSource(synonymSource, map[string]any{
			"collection": synonymCollection,
			"analyzer":   analyzerName,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("index mapping: %w", err)
	}
	doc := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fieldTitle, fieldBody, fieldQuestions} {
		// Only the terms are needed: the text itself is kept in Go, so nothing is stored.
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
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

// progressEvery is how often a long build says how far it got, so that an operator sees it
// is alive.
const progressEvery = 2 * time.Second

// build indexes docs and the synonym rules in a new index at path ("" for memory) and
// records hash and what it learnt of the text in it. It stops when ctx ends.
func build(ctx context.Context, path string, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, hash []byte, log *slog.Logger) (bleve.Index, textStats, error) {
	st, err := learn(ctx, docs, synonyms)
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
	start, said := time.Now(), time.Now()
	for i, id := range ids {
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
			if time.Since(said) >= progressEvery {
				said = time.Now()
				log.Info("indexing", "sections", i+1, "of", len(ids), "per_second", int(float64(i+1)/time.Since(start).Seconds()))
			}
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
	// Read-only: a finished index is never written again, so another process may read it
	// too, and replacing its directory (a reload) cannot race a write of this one.
	idx, err := bleve.OpenUsing(path, map[string]any{"bolt_timeout": lockWait.String(), "read_only": true})
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

// lockWait is how long opening an index waits for another process's lock on it.
const lockWait = time.Second

// ErrNotOurs is what New returns when Options.Path names something apiorint did not make:
// it is left exactly as it is.
var ErrNotOurs = errors.New("not an index apiorint made")

// markerFile, at the top of a directory, marks it as made by apiorint: an index, a build
// in progress, or an old index being replaced. Only a directory holding it is ever replaced
// or removed. It also records what the index holds, for the next start.
const markerFile = ".apiorint-index"

// A place is what a path holds, as far as the index is concerned.
type place int

const (
	placeMissing place = iota // nothing: build there
	placeEmpty                // an empty directory: build there
	placeOurs                 // an index (or the wreck of one) that apiorint made
)

// inspect tells what path holds, and refuses (ErrNotOurs, saying what is there) anything
// apiorint cannot prove it made. An index an earlier version made, before the marker, is
// recognised by the content hash it keeps.
func inspect(path string) (place, error) {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return placeMissing, nil
	case err != nil:
		return 0, err
	case info.Mode()&fs.ModeSymlink != 0:
		return 0, fmt.Errorf("%w: it is a symbolic link (name the directory itself)", ErrNotOurs)
	case !info.IsDir():
		return 0, fmt.Errorf("%w: it is a file (%s), not a directory", ErrNotOurs, byteSize(info.Size()))
	}
	if _, err := os.Lstat(filepath.Join(path, markerFile)); err == nil {
		return placeOurs, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return 0, err
	}
	if len(entries) == 0 {
		return placeEmpty, nil
	}
	if madeByEarlierVersion(path) {
		return placeOurs, nil
	}
	names := make([]string, 0, 3)
	for _, e := range entries[:min(3, len(entries))] {
		names = append(names, e.Name())
	}
	more := ""
	if len(entries) > len(names) {
		more = ", …"
	}
	count := fmt.Sprintf("%d entries", len(entries))
	if len(entries) == 1 {
		count = "1 entry"
	}
	return 0, fmt.Errorf("%w: it is a directory of %s that apiorint did not make (%s%s)",
		ErrNotOurs, count, strings.Join(names, ", "), more)
}

// madeByEarlierVersion reports whether path is a Bleve index holding apiorint's content hash:
// one built before indexes were marked.
func madeByEarlierVersion(path string) bool {
	if _, err := os.Stat(filepath.Join(path, "index_meta.json")); err != nil {
		return false
	}
	idx, err := bleve.OpenUsing(path, map[string]any{"bolt_timeout": lockWait.String(), "read_only": true})
	if err != nil {
		return false
	}
	defer idx.Close()
	h, err := idx.GetInternal([]byte(hashKey))
	return err == nil && len(h) > 0
}

func byteSize(n int64) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// markDir writes the marker into dir.
func markDir(dir string, hash []byte) error {
	return os.WriteFile(filepath.Join(dir, markerFile), []byte(formatVersion+" "+hex.EncodeToString(hash)+"\n"), 0o644)
}

// openOrBuild reopens the index at path when it holds hash, and otherwise builds a new one in
// a temporary directory beside it and renames that into place, so that a crash mid-build
// leaves either the old index or none, never half of one. It replaces only a missing path,
// an empty directory or an index of its own; anything else is refused untouched. An index
// another process holds locked is left alone and this one is built in memory instead.
func openOrBuild(ctx context.Context, path string, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, hash []byte, log *slog.Logger) (bleve.Index, textStats, error) {
	var st textStats
	what, err := inspect(path)
	if err != nil {
		return nil, st, err
	}
	removeLeftovers(path, log)
	switch what {
	case placeMissing, placeEmpty:
		log.Info("building index", "path", path)
	case placeOurs:
		idx, st, err := reopen(path, hash)
		switch {
		case err == nil:
			log.Info("index reopened", "path", path)
			return idx, st, nil
		case errors.Is(err, errChanged):
			log.Info("rebuilding index: the knowledge changed", "path", path)
		case errors.Is(err, bolterrors.ErrTimeout):
			log.Warn("index is locked by another process: building this one in memory", "path", path, "err", err)
			return build(ctx, "", m, docs, synonyms, hash, log)
		default:
			log.Warn("rebuilding index: it does not open", "path", path, "err", err)
		}
	}
	return replace(ctx, path, m, docs, synonyms, hash, log)
}

// replace builds the index in a marked temporary directory beside path, then puts it in
// path's place; what was at path (checked to be replaceable) is removed once it is out of the
// way.
func replace(ctx context.Context, path string, m mapping.IndexMapping, docs map[string]document, synonyms []knowledge.Synonym, hash []byte, log *slog.Logger) (bleve.Index, textStats, error) {
	var st textStats
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, st, fmt.Errorf("index: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, "."+filepath.Base(path)+".building-")
	if err != nil {
		return nil, st, fmt.Errorf("index: %w", err)
	}
	if err := markDir(tmp, nil); err != nil {
		os.Remove(tmp)
		return nil, st, fmt.Errorf("index: %w", err)
	}
	defer os.RemoveAll(tmp) // marked: ours
	built, st, err := build(ctx, filepath.Join(tmp, "index"), m, docs, synonyms, hash, log)
	if err != nil {
		return nil, st, err
	}
	if err := built.Close(); err != nil {
		return nil, st, fmt.Errorf("index: build: %w", err)
	}
	if err := markDir(filepath.Join(tmp, "index"), hash); err != nil {
		return nil, st, fmt.Errorf("index: %w", err)
	}
	// What is at path was checked before the build, which takes a while: check it again, so
	// that files someone put there meanwhile are not replaced with it.
	switch what, err := inspect(path); {
	case err != nil:
		return nil, st, err
	case what == placeEmpty:
		if err := os.Remove(path); err != nil { // fails, touching nothing, if no longer empty
			return nil, st, fmt.Errorf("index: replace %s: %w", path, err)
		}
	case what == placeOurs:
		if err := os.Rename(path, filepath.Join(tmp, "old")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, st, fmt.Errorf("index: replace %s: %w", path, err)
		}
	}
	if err := os.Rename(filepath.Join(tmp, "index"), path); err != nil {
		// Put back what was there, rather than delete it with the temporary directory.
		os.Rename(filepath.Join(tmp, "old"), path)
		return nil, st, fmt.Errorf("index: replace %s: %w", path, err)
	}
	idx, st, err := reopen(path, hash)
	if err != nil {
		return nil, st, fmt.Errorf("index: open %s after building it: %w", path, err)
	}
	return idx, st, nil
}

// removeLeftovers deletes the temporary directories that builds which crashed left beside
// path, once they are older than leftoverAge; only marked ones, which apiorint made.
func removeLeftovers(path string, log *slog.Logger) {
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".building-*"))
	for _, p := range left {
		info, err := os.Lstat(p)
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < leftoverAge {
			continue
		}
		if _, err := os.Lstat(filepath.Join(p, markerFile)); err != nil {
			log.Warn("left alone beside the index: not made by apiorint", "path", p)
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			log.Warn("could not remove what a crashed build left", "path", p, "err", err)
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
		field(docs[id].Questions)
	}
	for _, r := range synonyms {
		field(strings.Join(r.Input, ","))
		field(strings.Join(r.Words, ","))
	}
	return h.Sum(nil)
}
