package knowledge

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// A CueKind says what a cue tells about a question.
type CueKind int

const (
	// Intent cues say what a question asks, whatever its topic: a definition, the kinds of
	// something, a comparison, a decision… (intents.txt).
	Intent CueKind = iota + 1
	// Subject cues name one of the two subjects of the knowledge: "api" or "integration"
	// (subjects.txt).
	Subject
	// SmallTalk cues are greetings, thanks, remarks about the bot (smalltalk.txt).
	SmallTalk
	// Concept cues name things of the domain that the knowledge may not cover, such as REST
	// or webhooks (domain.txt); Label is the subject they belong to, or "" when a question
	// must name a subject to be on topic.
	Concept
	// Product cues name systems and vendors (Shopify, an ERP): on topic in a question, but
	// not something to answer about (domain.txt).
	Product
	// Elsewhere cues are the words of the knowledge in another sense ("integration by
	// parts", "integral"): a question that uses one is off topic unless it names a subject
	// more often (domain.txt).
	Elsewhere
)

// A Cue is a phrase of a question that says something about it besides its words.
type Cue struct {
	Kind   CueKind
	Label  string  // the intent or subject; for concepts, their subject
	Weight float64 // how much one occurrence counts; 1 unless the list says otherwise
	Phrase string  // lower-case words separated by single spaces
}

var (
	//go:embed intents.txt
	intentsTxt []byte
	//go:embed subjects.txt
	subjectsTxt []byte
	//go:embed smalltalk.txt
	smalltalkTxt []byte
	//go:embed domain.txt
	domainTxt []byte
)

// Cues returns the cues of intents.txt, subjects.txt, smalltalk.txt and domain.txt.
func Cues() ([]Cue, error) {
	var all []Cue
	for _, f := range []struct {
		name string
		txt  []byte
		kind func(label string) (CueKind, string, error)
	}{
		{"intents.txt", intentsTxt, fixedKind(Intent)},
		{"subjects.txt", subjectsTxt, fixedKind(Subject)},
		{"smalltalk.txt", smalltalkTxt, fixedKind(SmallTalk)},
		{"domain.txt", domainTxt, domainKind},
	} {
		cues, err := ParseCues(f.txt, f.kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		all = append(all, cues...)
	}
	return all, nil
}

func fixedKind(k CueKind) func(string) (CueKind, string, error) {
	return func(label string) (CueKind, string, error) { return k, label, nil }
}

// domainKind reads the labels of domain.txt: "concept api", "concept integration",
// "concept", "product" or "elsewhere".
func domainKind(label string) (CueKind, string, error) {
	kind, subject, _ := strings.Cut(label, " ")
	switch {
	case kind == "concept" && (subject == "" || subject == "api" || subject == "integration"):
		return Concept, subject, nil
	case kind == "product" && subject == "":
		return Product, "", nil
	case kind == "elsewhere" && subject == "":
		return Elsewhere, "", nil
	}
	return 0, "", fmt.Errorf("label %q: want concept, concept api, concept integration, product or elsewhere", label)
}

// ParseCues reads a cue list: one "label: phrase, phrase, …" a line, where the label may
// end with a weight in parentheses ("define (0.5): what is, what's"); "#" to the end of a
// line is a comment. kind turns a label into the cues' kind and label.
func ParseCues(txt []byte, kind func(label string) (CueKind, string, error)) ([]Cue, error) {
	var cues []Cue
	err := eachLine(txt, func(n int, line string) error {
		head, list, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("line %d: want \"label: phrase, phrase\"", n)
		}
		head = strings.TrimSpace(head)
		weight := 1.0
		if open := strings.LastIndexByte(head, '('); open > 0 && strings.HasSuffix(head, ")") {
			w, err := strconv.ParseFloat(head[open+1:len(head)-1], 64)
			if err != nil || w <= 0 {
				return fmt.Errorf("line %d: weight %q: want a positive number", n, head[open+1:len(head)-1])
			}
			head, weight = strings.TrimSpace(head[:open]), w
		}
		k, label, err := kind(head)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		phrases := splitWords(list)
		if len(phrases) == 0 {
			return fmt.Errorf("line %d: no phrases", n)
		}
		for _, p := range phrases {
			cues = append(cues, Cue{Kind: k, Label: label, Weight: weight, Phrase: strings.Join(strings.Fields(p), " ")})
		}
		return nil
	})
	return cues, err
}
