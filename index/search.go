package index

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// A Query asks for the sections that best answer Text, or for the one section with ID (what a
// "show me that one" button asks for).
type Query struct {
	Text string
	ID   string
	// Size is how many results to return at most; zero or less means DefaultSize.
	Size int
}

// DefaultSize is how many results a query returns when it does not say: the answer and two
// more to offer.
const DefaultSize = 3

// maxSize bounds what a caller may ask for.
const maxSize = 50

// maxQuestionWords bounds the words of a question that are read: a question is a sentence
// or two, and a pasted page would otherwise cost a search per word.
const maxQuestionWords = 64

// An Answer holds the results of a query, best first.
type Answer struct {
	Query   string   `json:"query"`
	Results []Result `json:"results"` // empty, never nil, when nothing is a confident answer
	// Topics lists the titles of sections that can be asked about, for when there is no
	// confident answer.
	Topics []string `json:"-"`
}

// A Result is one section that answers a query.
type Result struct {
	ID    string  `json:"id"`
	Title string  `json:"title"` // the heading as written
	Score float64 `json:"score"`
	Text  string  `json:"text"` // Markdown
	// Path holds the headings from the top of the article down to Title; Source is the file.
	Path   []string `json:"-"`
	Source string   `json:"-"`
}

// weights say how much a match counts, by field and by how the word was found.
type weights struct {
	// A question that names a section's title is after that section; its text (and its
	// parent headings) say less.
	title, body float64
	// A typo's guess weighs less than any word as typed, so a near miss never beats an exact
	// match.
	typo float64
	// Bleve scores a synonym at half the word's boost, and a word no section uses, which
	// matches only through its synonyms, at a quarter. Such a word is raised so that
	// "faster" weighs about as much as "performance" would.
	synonym float64
	// What a phrase means ("should i use" → choosing) stands in for the phrase's own words,
	// which are not searched.
	phrase float64
}

var defaultWeights = weights{title: 3, body: 1, typo: 0.4, synonym: 3, phrase: 1}

// Search returns the sections that best answer q, or no result when none does with
// confidence.
func (ix *Index) Search(ctx context.Context, q Query) (Answer, error) {
	ans := Answer{Query: q.Text, Results: []Result{}, Topics: ix.topics}
	size := q.Size
	if size <= 0 {
		size = DefaultSize
	}
	size = min(size, maxSize)

	if q.ID != "" {
		if s, ok := ix.sections[q.ID]; ok {
			ans.Results = append(ans.Results, ix.result(s, 0))
		}
		return ans, nil
	}

	r := ix.read(q.Text)
	e, p := ix.article, ix.plan(ix.article, r)
	if ix.library != ix.article && !ix.covers(p) {
		e, p = ix.library, ix.plan(ix.library, r)
	}
	if !p.confident() {
		return ans, nil
	}
	res, err := e.bleve.SearchInContext(ctx, ix.request(e, p, size))
	if err != nil {
		return ans, fmt.Errorf("index: search: %w", err)
	}
	for _, hit := range res.Hits {
		if s, ok := ix.sections[hit.ID]; ok {
			ans.Results = append(ans.Results, ix.result(s, hit.Score))
		}
	}
	if len(ans.Results) > 0 {
		ans.Results = ix.followWithChildren(ans.Results, size)
	}
	return ans, nil
}

// followWithChildren puts the sub-sections of a summary answer right after it: after "Key
// Differences Between APIs And Integrations" the best next reads are its four aspects.
func (ix *Index) followWithChildren(results []Result, size int) []Result {
	kids := ix.children[results[0].ID]
	if len(kids) == 0 {
		return results
	}
	scores := make(map[string]float64, len(results))
	for _, r := range results {
		scores[r.ID] = r.Score
	}
	out := results[:1:1]
	for _, id := range kids {
		if len(out) < size {
			out = append(out, ix.result(ix.sections[id], scores[id]))
		}
	}
	for _, r := range results[1:] {
		if len(out) < size && !slices.ContainsFunc(out, func(o Result) bool { return o.ID == r.ID }) {
			out = append(out, r)
		}
	}
	return out
}

// result turns a section into a result; a heading with sub-sections only is answered with a
// summary of them.
func (ix *Index) result(s knowledge.Section, score float64) Result {
	r := Result{ID: s.ID, Title: s.Title, Score: score, Text: s.Body, Path: s.Path, Source: s.Source}
	if sum, ok := ix.summaries[s.ID]; ok {
		r.Text = sum
	}
	return r
}

// summary is the text of a heading with sub-sections only: the first sentence of each.
func summary(kids []knowledge.Section) string {
	var b strings.Builder
	for _, c := range kids {
		fmt.Fprintf(&b, "- **%s**: %s\n", c.Title, firstSentence(c.Body))
	}
	return strings.TrimSpace(b.String())
}

var sentenceEnd = regexp.MustCompile(`[.!?](\s|$)`)

// firstSentence returns the first sentence of the first paragraph of md.
func firstSentence(md string) string {
	para, _, _ := strings.Cut(strings.TrimSpace(md), "\n\n")
	para = strings.Join(strings.Fields(para), " ")
	if loc := sentenceEnd.FindStringIndex(para); loc != nil {
		return para[:loc[0]+1]
	}
	return para
}

// A plan is a question read for searching: its words sorted into those the knowledge uses,
// spelling guesses for those it does not, and those it has never seen.
// The words are kept as the terms Bleve indexes (lower case, stemmed).
type plan struct {
	exact    []string // words as typed that some section uses
	synonyms []string // words as typed that only a synonym rule knows ("faster")
	phrased  []string // words that phrases of the question add
	guesses  []string // known words that misspelt words most likely meant
	typos    []string // the terms of the misspelt words, as typed
	known    int      // words recognised, as typed or through a guess, and phrases found
	unknown  int      // words the knowledge has never seen
	topical  bool     // a word as typed, or a phrase, names what the knowledge is about
}

// confident tells whether a question is about the knowledge at all: most of its words must
// be known, or half of them with one that names a topic. "best restaurant near me" is not,
// though the article mentions a restaurant; "is kafka a good api" is.
func (p plan) confident() bool {
	return p.known > p.unknown || (p.known > 0 && p.known == p.unknown && p.topical)
}

// covers reports whether the article alone knows every word of a question read against it,
// each as typed: a word it only guesses may be one that other sections use as typed.
func (ix *Index) covers(p plan) bool {
	if p.known == 0 || p.unknown > 0 {
		return false
	}
	for _, t := range p.typos {
		if ix.library.terms[t] != 0 {
			return false
		}
	}
	return true
}

// A reading is a question taken apart for searching, before any engine looks at it: its
// phrases recognised, and each other word with its terms (or none, for a filler or a stop
// word).
type reading struct {
	phrased []string   // terms that the question's phrases stand for
	phrases int        // how many phrase rules the question holds
	words   []string   // the other words, as typed (lower case)
	terms   [][]string // their terms, word by word
}

// read takes a question apart: Slack markup removed, phrases recognised, filler words and
// stop words set aside.
func (ix *Index) read(question string) reading {
	var r reading
	if len(question) > 16*maxQuestionWords {
		question = question[:16*maxQuestionWords]
	}
	ws := words(stripSlackMarkup(question))
	ws = ws[:min(len(ws), maxQuestionWords)]
	// A phrase stands for what it means: its words are not searched for themselves, so that
	// the "use" of "when should I use an api" does not pull in "Common Use Cases For APIs".
	said := make([]bool, len(ws))
	var found []int // the phrase rules found, each once
	for at, w := range ws {
		for _, ph := range ix.phrases[w] {
			if !slices.Contains(found, ph.rule) && at+len(ph.words) <= len(ws) && slices.Equal(ws[at:at+len(ph.words)], ph.words) {
				found = append(found, ph.rule)
				r.phrased = append(r.phrased, ph.adds...)
				for i := range ph.words {
					said[at+i] = true
				}
			}
		}
	}
	r.phrases = len(found)
	for i, w := range ws {
		if said[i] || ix.fillers[w] {
			continue
		}
		if terms := ix.analyze(w); len(terms) > 0 {
			r.words = append(r.words, w)
			r.terms = append(r.terms, terms)
		}
	}
	return r
}

// plan sorts the words of a reading by what engine e knows of them: used by a section,
// known to a synonym rule, a likely typo of a word it knows, or unknown.
func (ix *Index) plan(e *engine, r reading) plan {
	p := plan{phrased: r.phrased, known: r.phrases, topical: r.phrases > 0}
	for i, w := range r.words {
		terms := r.terms[i]
		kind := e.terms[terms[0]]
		switch {
		case kind&indexed != 0:
			p.exact = append(p.exact, terms...)
		case kind&synonym != 0:
			p.synonyms = append(p.synonyms, terms...)
		default:
			guesses := e.spelling.suggest(w, 2)
			if len(guesses) == 0 {
				p.unknown++
				continue
			}
			var meant []string
			for _, g := range guesses {
				meant = append(meant, ix.analyze(g)...)
			}
			if len(meant) == 0 {
				continue // a stop word misspelt, like "whats"
			}
			// A guess never makes a question topical: "reset my password" is not about
			// REST.
			p.guesses = append(p.guesses, meant...)
			p.typos = append(p.typos, terms[0])
		}
		p.known++
		p.topical = p.topical || kind&topical != 0
	}
	return p
}

// request is the Bleve search for a plan on e, scored with e's own BM25 statistics.
func (ix *Index) request(e *engine, p plan, size int) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(p.query(ix.weights), size, 0, false)
	req.PreSearchData = map[string]any{search.BM25PreSearchDataKey: e.stats, search.SynonymPreSearchDataKey: e.synonyms}
	return req
}

// query is the Bleve query for a plan: every term against every field, each field and each
// kind of term weighted as above, as Bleve's match queries would do it but without analysing
// the question again for each field. Nothing a user types is Bleve syntax.
func (p plan) query(w weights) query.Query {
	q := bleve.NewDisjunctionQuery()
	add := func(terms []string, weight float64) {
		for _, t := range terms {
			for _, f := range [...]struct {
				name  string
				boost float64
			}{{fieldTitle, w.title}, {fieldBody, w.body}} {
				tq := bleve.NewTermQuery(t)
				tq.SetField(f.name)
				tq.SetBoost(f.boost * weight)
				q.AddQuery(tq)
			}
		}
	}
	add(p.exact, 1)
	add(p.synonyms, w.synonym)
	add(p.phrased, w.phrase)
	add(p.guesses, w.typo)
	return q
}

// slackMarkup matches what Slack puts in message text for mentions, channels, special
// mentions and links: <@U123>, <#C123|general>, <!here>, <https://example.com|label>.
var slackMarkup = regexp.MustCompile(`<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>`)

// stripSlackMarkup removes mentions, channels and bare links, keeps the label of a link, and
// decodes the three entities Slack escapes.
func stripSlackMarkup(text string) string {
	if !strings.ContainsAny(text, "<&") {
		return text
	}
	text = slackMarkup.ReplaceAllStringFunc(text, func(m string) string {
		sub := slackMarkup.FindStringSubmatch(m)
		if sub[1] == "" && sub[3] != "" {
			return " " + sub[3] + " " // a link's label is part of the sentence
		}
		return " " // a mention, a channel or an address is not part of the question
	})
	return slackEntities.Replace(text)
}

// slackEntities decodes the three entities Slack escapes in message text.
var slackEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
