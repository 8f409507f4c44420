package knowledge

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
)

// A Synonym rule widens a question's words. With Input empty, each of Words finds the others
// ("api, interface"); otherwise each of Input also finds Words ("fast, slow => performance").
type Synonym struct {
	Input []string
	Words []string
}

//go:embed synonyms.txt
var synonymsTxt []byte

//go:embed phrases.txt
var phrasesTxt []byte

//go:embed fillers.txt
var fillersTxt []byte

// Synonyms returns the curated synonym rules of synonyms.txt.
func Synonyms() ([]Synonym, error) {
	rules, err := ParseSynonyms(synonymsTxt)
	if err != nil {
		return nil, fmt.Errorf("synonyms.txt: %w", err)
	}
	return rules, nil
}

// Phrases returns the rules of phrases.txt: a question holding a phrase of Input also
// searches for Words.
func Phrases() ([]Synonym, error) {
	rules, err := ParseSynonyms(phrasesTxt)
	if err != nil {
		return nil, fmt.Errorf("phrases.txt: %w", err)
	}
	return rules, nil
}

// Fillers returns the words of fillers.txt: words of a question that say nothing about its
// topic ("please", "explain", "option"), so that they neither match nor count as unknown.
func Fillers() []string {
	var words []string
	eachLine(fillersTxt, func(_ int, line string) error {
		words = append(words, strings.Fields(line)...)
		return nil
	})
	return words
}

// ParseSynonyms reads rules in the Solr synonym format: one rule a line, words separated by
// commas, "=>" for a one-way rule, "#" to the end of a line is a comment.
func ParseSynonyms(txt []byte) ([]Synonym, error) {
	var rules []Synonym
	err := eachLine(txt, func(n int, line string) error {
		var rule Synonym
		left, right, oneWay := strings.Cut(line, "=>")
		if oneWay {
			rule.Input = splitWords(left)
			rule.Words = splitWords(right)
			if len(rule.Input) == 0 || len(rule.Words) == 0 || strings.Contains(right, "=>") {
				return fmt.Errorf("line %d: want \"a, b => c\"", n)
			}
		} else {
			rule.Words = splitWords(line)
			if len(rule.Words) < 2 {
				return fmt.Errorf("line %d: want at least two words, separated by commas", n)
			}
		}
		rules = append(rules, rule)
		return nil
	})
	return rules, err
}

// eachLine calls fn with each line of txt that is not blank once comments are removed.
func eachLine(txt []byte, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(txt))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			if err := fn(n, line); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}

func splitWords(list string) []string {
	var words []string
	for _, w := range strings.Split(list, ",") {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			words = append(words, w)
		}
	}
	return words
}
