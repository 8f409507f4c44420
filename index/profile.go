package index

import (
	"math"
	"slices"

	"github.com/apiorint/apiorint/knowledge"
)

// A profile says what a section answers: the intents its title and example questions ask,
// and the subjects they name. A question's own intents and subjects are compared with it,
// so that "what is an API in simple terms" finds the definition of an API whatever other
// words it shares with other sections.
type profile struct {
	intents  []float64 // by intent number, unit length
	subjects [subjectCount]float64
}

// profileOf reads a section's title and example questions as questions; its subjects also
// come from its parent headings ("Complexity" under "Key Differences Between APIs And
// Integrations" is about both).
func (ix *Index) profileOf(s knowledge.Section) profile {
	p := profile{intents: make([]float64, len(ix.lexicon.intents))}
	texts := append([]string{s.Title}, s.Questions...)
	for i, t := range texts {
		r := ix.read(t)
		total := 0.0
		for _, w := range r.intents {
			total += w
		}
		// Each text counts once, however many cues it holds; the title counts twice: it is
		// what the author says the section is.
		weight := 1.0
		if i == 0 {
			weight = 2
		}
		for intent, w := range r.intents {
			if w > 0 {
				p.intents[intent] += weight * w / total
			}
		}
		addSubjects(&p.subjects, r.subjects, weight)
	}
	for _, h := range s.Path[:len(s.Path)-1] {
		addSubjects(&p.subjects, ix.read(h).subjects, 1)
	}
	normalize(p.intents)
	normalize(p.subjects[:])
	return p
}

// addSubjects adds what one text names, each subject at most once.
func addSubjects(to *[subjectCount]float64, named [subjectCount]float64, weight float64) {
	for i, n := range named {
		if n > 0 {
			to[i] += weight
		}
	}
}

// normalize scales v to unit length; a zero vector stays zero.
func normalize(v []float64) {
	sum := 0.0
	for _, x := range v {
		sum += x * x
	}
	if sum == 0 {
		return
	}
	n := math.Sqrt(sum)
	for k := range v {
		v[k] /= n
	}
}

// similarity scores how well a section's profile fits what a question asks (intents, unit
// length) and names (subjects, unit length): each a cosine, weighted.
func (p profile) similarity(intents []float64, subjects [subjectCount]float64, w weights) float64 {
	var in, sub float64
	for k, w := range intents {
		in += w * p.intents[k]
	}
	for i := range subjects {
		sub += subjects[i] * p.subjects[i]
	}
	return w.intents*in + w.subjects*sub
}

// withChildren gives a summary section a share of what its sub-sections answer: "how do
// they differ in complexity, scaling and speed?" is a question for the summary of the
// differences, not for one of them.
func withChildren(profiles map[string]profile, children map[string][]string) {
	const share = 0.5
	for id, kids := range children {
		p := profiles[id]
		sum := slices.Clone(p.intents)
		for _, kid := range kids {
			for k, w := range profiles[kid].intents {
				sum[k] += share * w / float64(len(kids))
			}
		}
		normalize(sum)
		p.intents = sum
		profiles[id] = p
	}
}

// byIntent lists, for each intent, the sections of ids whose profile has it, strongest
// first: the candidates a question's intent brings in even when none of its words match
// their text.
func byIntent(profiles map[string]profile, ids map[string]bool, intents int) [][]string {
	out := make([][]string, intents)
	for id, p := range profiles {
		if !ids[id] {
			continue
		}
		for intent, w := range p.intents {
			if w > 0 {
				out[intent] = append(out[intent], id)
			}
		}
	}
	for intent, ids := range out {
		slices.SortFunc(ids, func(a, b string) int {
			if d := profiles[b].intents[intent] - profiles[a].intents[intent]; d != 0 {
				if d > 0 {
					return 1
				}
				return -1
			}
			if a < b {
				return -1
			}
			return 1
		})
	}
	return out
}
