package index

import (
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A ranker scores the sections of the embedded article for a question with a linear model
// learned from labelled questions (the evaluation sets that are not kept aside): the words
// of the question, what it asks and which subjects it names. It knows
// what the cue lists do not: that "waiter" asks for What Is An API? and "bottleneck" for
// performance. Its score is added to the section's text and profile score, weighted by base.
//
// The model is learned by TestRanker (index/ranker_test.go), which also checks that the
// shipped file is what the shipped sets learn.
type ranker struct {
	base     float64              // the weight of a section's text and profile score
	prefixes []int                // the lengths of the beginnings of words it weighs too
	sections []string             // the sections it scores, by ID, in the order of weights
	weights  map[string][]float64 // by feature name, a weight for each section
	columns  map[string]int       // section ID → its place in sections
}

// column returns the place of a section's weights, if the ranker scores it; a nil ranker
// scores none.
func (rk *ranker) column(id string) (int, bool) {
	if rk == nil {
		return 0, false
	}
	k, ok := rk.columns[id]
	return k, ok
}

//go:embed ranker.tsv
var rankerFile string

// A feature is one thing a question says, with its strength.
type feature struct {
	name  string
	value float64
}

// features are what the ranker weighs in a question: each word's term once ("w api"), the
// beginnings of those terms of each length in prefixes ("p int", "p integ": what
// "integrate", "integrations" and "integr" share, and a misspelling keeps), the weight of
// each intent asked ("i define") and of each subject named ("s api"), and a constant
// ("bias"), which says how likely each section is before the question is read. (Pairs of
// words in a row were tried, and did no better on questions held out.)
func (ix *Index) features(r reading, prefixes []int) []feature {
	fs := []feature{{"bias", 1}}
	seen := make(map[string]bool, len(r.terms))
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			fs = append(fs, feature{name, 1})
		}
	}
	for _, t := range r.terms {
		add("w " + t)
		for _, n := range prefixes {
			if len(t) > n {
				add("p " + t[:n])
			}
		}
	}
	for i, w := range r.intents {
		if w > 0 {
			fs = append(fs, feature{"i " + ix.lexicon.intents[i], w})
		}
	}
	for i, w := range r.subjects {
		if w > 0 {
			fs = append(fs, feature{"s " + subjectNames[i], w})
		}
	}
	return fs
}

// scores returns what the ranker adds to each of its sections for a question's features.
func (rk *ranker) scores(fs []feature) []float64 {
	out := make([]float64, len(rk.sections))
	for _, f := range fs {
		w, ok := rk.weights[f.name]
		if !ok {
			continue
		}
		for k, x := range w {
			out[k] += f.value * x
		}
	}
	return out
}

// parseRanker reads a model as TestRanker writes it: comment lines ("#"), then "base<TAB>x",
// "prefixes<TAB>n<TAB>n…" (optional), "sections<TAB>id<TAB>id…", and one line a feature: its
// name, then a weight for each section.
func parseRanker(text string) (*ranker, error) {
	rk := &ranker{weights: make(map[string][]float64)}
	for n, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "base" && len(f) == 2:
			x, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return nil, fmt.Errorf("ranker: line %d: %w", n+1, err)
			}
			rk.base = x
		case f[0] == "prefixes":
			for _, x := range f[1:] {
				k, err := strconv.Atoi(x)
				if err != nil || k < 1 {
					return nil, fmt.Errorf("ranker: line %d: prefix length %q", n+1, x)
				}
				rk.prefixes = append(rk.prefixes, k)
			}
		case f[0] == "sections":
			rk.sections = f[1:]
			rk.columns = make(map[string]int, len(rk.sections))
			for k, id := range rk.sections {
				rk.columns[id] = k
			}
		case len(rk.sections) == 0 || len(f) != len(rk.sections)+1:
			return nil, fmt.Errorf("ranker: line %d: want a feature and %d weights after the sections line", n+1, len(rk.sections))
		default:
			w := make([]float64, len(rk.sections))
			for k, s := range f[1:] {
				x, err := strconv.ParseFloat(s, 64)
				if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, fmt.Errorf("ranker: line %d: weight %q", n+1, s)
				}
				w[k] = x
			}
			rk.weights[f[0]] = w
		}
	}
	if rk.base <= 0 || len(rk.sections) == 0 {
		return nil, fmt.Errorf("ranker: no base weight or no sections")
	}
	return rk, nil
}
