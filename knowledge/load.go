package knowledge

import (
	"context"
	_ "embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ArticleSource names the embedded article in section sources and IDs.
const ArticleSource = "api-vs-integration.md"

//go:embed api-vs-integration.md
var article []byte

// Article returns the sections of the article the bot ships with.
func Article() ([]Section, error) {
	sections, err := Parse(ArticleSource, article)
	if err != nil {
		return nil, fmt.Errorf("embedded article %s: %w", ArticleSource, err)
	}
	return sections, nil
}

// A Library is everything the bot knows: the sections, and the word lists that help match
// questions to them.
type Library struct {
	Sections []Section
	Synonyms []Synonym // synonyms.txt
	Phrases  []Synonym // phrases.txt: a phrase on the left adds the words on the right
	Fillers  []string  // fillers.txt
	Cues     []Cue     // intents.txt, subjects.txt, smalltalk.txt, domain.txt
}

// Load returns the embedded article's sections followed by those of every *.md file below
// dir, in path order, with IDs made unique across all of them, and the embedded word lists.
// An empty dir loads the article alone. A file that cannot be read or parsed fails the whole
// load, naming the file; so does ctx ending.
func Load(ctx context.Context, dir string) (Library, error) {
	var lib Library
	var err error
	if lib.Synonyms, err = Synonyms(); err != nil {
		return Library{}, err
	}
	if lib.Phrases, err = Phrases(); err != nil {
		return Library{}, err
	}
	lib.Fillers = Fillers()
	if lib.Cues, err = Cues(); err != nil {
		return Library{}, err
	}
	if lib.Sections, err = Article(); err != nil {
		return Library{}, err
	}
	if dir == "" {
		return lib, nil
	}
	extra, err := LoadDir(ctx, dir)
	if err != nil {
		return Library{}, err
	}
	lib.Sections = append(lib.Sections, extra...)
	uniqueIDs(lib.Sections)
	return lib, nil
}

// LoadDir reads the sections of every *.md file below dir, in path order, leaving out hidden
// files and directories (an editor's lock and swap files, the versioned copies a Kubernetes
// ConfigMap mount keeps in "..data"). It stops when ctx ends.
func LoadDir(ctx context.Context, dir string) ([]Section, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)

	var sections []Section
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		md, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			rel = path
		}
		parsed, err := Parse(filepath.ToSlash(rel), md)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sections = append(sections, parsed...)
	}
	return sections, nil
}
