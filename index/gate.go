package index

import (
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A gate decides whether a question read against the embedded article is about it at all,
// with a logistic model over a few counts of what the question says: how much of it the
// cue lists and the article know, how much they do not, and whether its other words are
// those of people asking questions the article answers or of people asking something else.
// It tells "API gravity of crude oil" (the subject named, every other word new or
// off-topic) from "hospital: unify EHR, scheduling and billing, api or integration?" (new
// words too, but words of software work), which a rule of known against unknown words
// could not.
//
// The model is learned by TestGate (index/gate_test.go) from the answerable, off-topic and
// small-talk questions of the sets that are not kept aside, and checked there like the
// ranker's.
type gate struct {
	weights []float64 // by gateFeatures' order
	words   wordCounts
}

// wordCounts counts in how many questions of each kind a term was used: the article
// answers them (0) or they want no answer (1, off-topic or small talk).
type wordCounts struct {
	used      map[string][2]float64
	questions [2]float64
}

// lean returns how much more often people used a term in questions the article answers
// than in others, as a log ratio, and whether they used it at all.
func (wc *wordCounts) lean(term string) (float64, bool) {
	n, ok := wc.used[term]
	if !ok || wc.questions[0] == 0 || wc.questions[1] == 0 {
		return 0, false
	}
	return math.Log((n[0]+0.5)/wc.questions[0]) - math.Log((n[1]+0.5)/wc.questions[1]), true
}

//go:embed gate.tsv
var gateFile string

// gateFeatures names what the gate weighs, in the order of gate.weights and of the values
// that gateValues returns.
var gateFeatures = []string{"bias", "known", "unknown", "topical", "strong", "asked", "products", "concepts", "named", "used", "new", "lean", "whole"}

// gateValues returns what the gate weighs in a question, by gateFeatures' order: the
// evidence of plan, and of its words left to search (no subject, no cue), how many people
// used before, how many are new, and how they lean. Each count is capped, so that one long
// question does not decide by its length alone.
func gateValues(r reading, p plan, wc *wordCounts) []float64 {
	asked := 0.0
	for _, w := range r.intents {
		asked += w
	}
	var used, fresh, lean float64
	for _, t := range gateTerms(r) {
		if x, ok := wc.lean(t); ok {
			used++
			lean += x
		} else {
			fresh++
		}
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	return []float64{
		1,
		min(p.known, 6),
		min(p.unknown, 6),
		b2f(p.topical),
		min(p.strong, 4),
		min(asked, 2),
		float64(min(r.products, 2)),
		float64(min(len(r.concepts), 2)),
		min(r.subjects[subjectAPI]+r.subjects[subjectIntegration], 2),
		min(used, 6),
		min(fresh, 6),
		max(-10, min(lean, 10)),
		b2f(p.unknown == 0 && fresh == 0), // last: decide reads it
	}
}

// gateTerms returns the terms of a question's words left to search that are not a subject
// nor a cue, nor a number, once each.
func gateTerms(r reading) []string {
	var out []string
	for _, t := range r.tokens {
		if t.subject > 0 || t.intent > 0 || isNumber(t.word) || slices.Contains(out, t.terms[0]) {
			continue
		}
		out = append(out, t.terms[0])
	}
	return out
}

// decide tells whether a question is about the article, and the gate's log-odds that it is.
// Where the gate learned little, the rule of known against unknown words still lets a
// question through: one made only of words the article knows and people used before
// ("scalability", "which one is faster?"; few questions that short were learned from), and
// one that names a concept of the domain the knowledge does not cover ("is rest dead?": the
// gate never learned from those, and the reply says what is not covered).
func (g *gate) decide(r reading, p plan) (bool, float64) {
	values := gateValues(r, p, &g.words)
	z := g.score(values)
	return g.open(values, z, p), z
}

// open is decide's rule, given a question's values and score.
func (g *gate) open(values []float64, z float64, p plan) bool {
	whole := values[len(values)-1] == 1
	return z > 0 || (whole || len(p.uncovered) > 0) && p.confident()
}

// score is the log-odds the gate gives that a question is about the knowledge.
func (g *gate) score(values []float64) float64 {
	z := 0.0
	for i, x := range values {
		z += g.weights[i] * x
	}
	return z
}

// parseGate reads a model as TestGate writes it: comment lines ("#"); one line a feature,
// its name and weight, every one of gateFeatures in order; "questions", then how many
// questions of each kind it counted words in; and one line a term, "w term" and its two
// counts.
func parseGate(text string) (*gate, error) {
	g := &gate{words: wordCounts{used: make(map[string][2]float64)}}
	var names []string
	for n, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		want := 2
		if f[0] == "questions" || strings.HasPrefix(f[0], "w ") {
			want = 3
		}
		if len(f) != want {
			return nil, fmt.Errorf("gate: line %d: want a name and %d numbers", n+1, want-1)
		}
		var x [2]float64
		for i, s := range f[1:] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || want == 3 && v < 0 {
				return nil, fmt.Errorf("gate: line %d: number %q", n+1, s)
			}
			x[i] = v
		}
		switch {
		case f[0] == "questions":
			g.words.questions = x
		case want == 3:
			g.words.used[strings.TrimPrefix(f[0], "w ")] = x
		default:
			names = append(names, f[0])
			g.weights = append(g.weights, x[0])
		}
	}
	if !slices.Equal(names, gateFeatures) {
		return nil, fmt.Errorf("gate: features %v, want %v", names, gateFeatures)
	}
	return g, nil
}
