package index

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/apiorint/apiorint/knowledge"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// DefaultSize is how many results a search returns when it is not told: the answer and two
// more to offer.
const DefaultSize = 3

// maxSize bounds what a caller may ask for.
const maxSize = 50

// maxQuestionWords bounds the words of a question that are read: a question is a sentence
// or two, and a pasted page would otherwise cost a search per word.
const maxQuestionWords = 64

// A Match says how an answer relates to its question.
type Match string

const (
	// MatchAnswer: the first result answers the question.
	MatchAnswer Match = "answer"
	// MatchClosest: the question is on topic but asks about something the knowledge does
	// not cover (Answer.Uncovered); the results are the closest sections.
	MatchClosest Match = "closest"
	// MatchNone: nothing answers it: off topic, or small talk (Answer.SmallTalk).
	MatchNone Match = "none"
)

// An Answer holds the results of a search, best first.
type Answer struct {
	Query string `json:"query"`
	Match Match  `json:"match"`
	// Uncovered lists what the question asks about that the knowledge does not cover, as
	// typed (lower case); never nil.
	Uncovered []string `json:"uncovered"`
	// Results is empty, never nil, for MatchNone.
	Results []Result `json:"results"`
	// SmallTalk tells a MatchNone question that is small talk ("thanks!", "are you a bot?")
	// from one that is off topic.
	SmallTalk bool `json:"-"`
}

// A Result is one section that answers a question.
type Result struct {
	ID    string  `json:"id"`
	Title string  `json:"title"` // the heading as written
	Score float64 `json:"score"`
	Text  string  `json:"text"` // Markdown
	// Path holds the headings from the top of the article down to Title; Source is the file.
	Path   []string `json:"-"`
	Source string   `json:"-"`
}

// weights say how much a match of a word counts, by field and by how the word was found.
type weights struct {
	// A question that names a section's title is after that section; its text (and its
	// parent headings) say less, and its example questions say as much as its text.
	title, body, questions float64
	// A typo's guess weighs less than any word as typed, so a near miss never beats an exact
	// match.
	typo float64
	// Bleve scores a synonym at half the word's boost, and a word no section uses, which
	// matches only through its synonyms, at a quarter. Such a word is raised so that
	// "faster" weighs about as much as "performance" would.
	synonym float64
	// What a phrase means ("point to point" → point) stands in for the phrase's own words,
	// which are not searched.
	phrase float64
	// A word that names a subject ("api") is in most titles: which subject a question
	// names is weighed by the sections' profiles.
	subject float64
	// How much what a question asks and which subjects it names count, next to how well
	// its words match a section's text (at most 1): the cosines of the sections' profiles.
	intents, subjects float64
}

var defaultWeights = weights{title: 3, body: 1, questions: 1, typo: 0.4, synonym: 3, phrase: 1, subject: 0.3, intents: 1, subjects: 0.6}

// candidates is how many sections the text search offers for re-ranking by what the
// question asks.
const candidates = 20

// Search returns the sections that best answer text, at most n of them (DefaultSize when n
// is zero or less), best first, and whether they answer it or only come closest. With no
// confident answer, or small talk, Match is MatchNone and there are no results.
func (ix *Index) Search(ctx context.Context, text string, n int) (Answer, error) {
	return ix.search(ctx, text, n, nil)
}

// An Explanation says how a question was read and each result scored: what apiorint ask
// --explain prints.
type Explanation struct {
	Intents  map[string]float64 `json:"intents"`  // what it asks, by cue weight
	Subjects map[string]float64 `json:"subjects"` // which subjects it names
	Concepts []string           `json:"concepts"` // things of the domain it names
	Words    []string           `json:"words"`    // the words searched for in the text
	// Known and Unknown weigh the words against each other; Topical says whether something
	// names what the knowledge is about; SmallTalk counts its small talk.
	Known     float64 `json:"known"`
	Unknown   float64 `json:"unknown"`
	Topical   bool    `json:"topical"`
	SmallTalk int     `json:"small_talk"`
	// Gate is the gate's log-odds that the question is about the article (above zero: it
	// is), when the gate decides.
	Gate   *float64      `json:"gate,omitempty"`
	Engine string        `json:"engine"` // "article" or "library"
	Scores []ResultScore `json:"scores"`
}

// A ResultScore is how a section scored: its text match (weighted, at most 1), how well its
// profile fits what the question asks and names, what the ranker learned of such questions,
// and all of it weighed together.
type ResultScore struct {
	ID      string  `json:"id"`
	Text    float64 `json:"text"`
	Profile float64 `json:"profile"`
	Learned float64 `json:"learned"`
	Total   float64 `json:"total"`
}

// Explain is Search, with how the question was read and the results scored.
func (ix *Index) Explain(ctx context.Context, text string, n int) (Answer, Explanation, error) {
	var why Explanation
	ans, err := ix.search(ctx, text, n, &why)
	return ans, why, err
}

// noAnswer is the answer to text that gives nothing: lists empty, never nil, for JSON.
func noAnswer(text string) Answer {
	return Answer{Query: text, Match: MatchNone, Uncovered: []string{}, Results: []Result{}}
}

func (ix *Index) search(ctx context.Context, text string, n int, why *Explanation) (Answer, error) {
	ans := noAnswer(text)
	if ix.closed.Load() {
		return ans, ErrClosed
	}
	if n <= 0 {
		n = DefaultSize
	}
	n = min(n, maxSize)

	r := ix.read(text)
	e, p := ix.article, ix.plan(ix.article, r)
	if ix.library != ix.article && !ix.covers(p) {
		e, p = ix.library, ix.plan(ix.library, r)
	}
	if why != nil {
		why.explain(ix, e, r, p)
	}
	if p.smallTalk(r) {
		ans.SmallTalk = true
		return ans, nil
	}
	if !ix.about(e, r, p) {
		return ans, nil
	}
	ranked, err := ix.rank(ctx, e, p, r, n, why)
	if err != nil {
		return ans, err
	}
	if len(ranked) == 0 {
		return ans, nil
	}
	ans.Results = ix.followWithChildren(ranked, n)
	ans.Match = MatchAnswer
	if len(p.uncovered) > 0 {
		ans.Match, ans.Uncovered = MatchClosest, p.uncovered
	}
	return ans, nil
}

// rank orders the sections that may answer a question by how they score, best first, at
// most n of them.
func (ix *Index) rank(ctx context.Context, e *engine, p plan, r reading, n int, why *Explanation) ([]Result, error) {
	scored, err := ix.score(ctx, e, p, r, n)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(scored, func(a, b ResultScore) int {
		return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(ix.order[a.ID], ix.order[b.ID]))
	})
	scored = scored[:min(len(scored), n)]
	if why != nil {
		why.Scores = scored
	}
	out := make([]Result, len(scored))
	for i, s := range scored {
		out[i] = ix.result(ix.sections[s.ID], s.Total)
	}
	return out, nil
}

// score searches e's text for the words of p, adds the sections that the question's intents
// point to, and scores them all by how well their text matches and how well their profile
// fits what the question asks and names; when e is the article, the ranker adds what it
// learned, and scores every section it knows.
func (ix *Index) score(ctx context.Context, e *engine, p plan, r reading, n int) ([]ResultScore, error) {
	intents := slices.Clone(r.intents)
	asked := 0.0
	for _, v := range r.intents {
		asked += v
	}
	normalize(intents)
	// A weak cue is weak evidence: "explain the jigsaw thing" asks for an explanation of the
	// jigsaw, not for the definition of an API.
	if asked < 1 {
		for k := range intents {
			intents[k] *= asked
		}
	}
	subjects := r.subjects
	for _, c := range p.conceptsNamed {
		if s := subjectIndex(c); s >= 0 {
			subjects[s] += 0.5
		}
	}
	normalize(subjects[:])

	// The text weighs as much as the question is made of words to search rather than of
	// cues of what it asks: "integrations = headache?" is about difficulty, whatever title
	// "integrations" matches best.
	content := float64(len(p.exact)+len(p.conceptTerms)+len(p.synonyms)+len(p.guesses)+r.phrases) + ix.weights.subject*float64(len(p.subjectTerms))
	textWeight := 0.0
	if content > 0 {
		textWeight = content / (content + asked)
	}
	// A question about a concept some sections cover ("eli5 webhooks") is answered from
	// those: what it asks orders them, and brings in no section that does not talk about
	// it.
	var about map[string]bool
	if len(p.conceptTerms) > 0 {
		hits, err := ix.textSearch(ctx, e, plan{conceptTerms: p.conceptTerms}, max(n, candidates))
		if err != nil {
			return nil, err
		}
		about = make(map[string]bool, len(hits))
		for _, h := range hits {
			about[h.id] = true
		}
		textWeight = 1
	}
	scores := make(map[string]float64)
	hits, err := ix.textSearch(ctx, e, p, max(n, candidates))
	if err != nil {
		return nil, err
	}
	top := 0.0
	for _, h := range hits {
		top = max(top, h.score)
	}
	for _, h := range hits {
		if _, ok := ix.sections[h.id]; ok && top > 0 && (about == nil || about[h.id]) {
			scores[h.id] = textWeight * h.score / top
		}
	}
	for intent, w := range intents {
		if about != nil {
			break
		}
		if w == 0 {
			continue
		}
		for i, id := range e.byIntent[intent] {
			if i == candidates {
				break
			}
			if _, ok := scores[id]; !ok {
				scores[id] = 0
			}
		}
	}
	// The ranker learned from questions the article answers: it scores the article's
	// sections, and not for a question about what the knowledge does not cover, which it
	// never saw ("rest vs soap?").
	var learned []float64
	if rk := ix.ranker; rk != nil && e == ix.article && len(p.uncovered) == 0 {
		learned = rk.scores(ix.features(r, rk.prefixes))
		for _, id := range rk.sections {
			if _, ok := scores[id]; !ok && e.ids[id] && about == nil {
				scores[id] = 0
			}
		}
	}
	scored := make([]ResultScore, 0, len(scores))
	for id, text := range scores {
		s := ResultScore{ID: id, Text: text, Profile: ix.profiles[id].similarity(intents, subjects, ix.weights)}
		s.Total = s.Text + s.Profile
		k, ok := ix.ranker.column(id)
		switch {
		case learned != nil && ok:
			s.Learned = learned[k]
			s.Total = ix.ranker.base*s.Total + s.Learned
		case learned != nil:
			s.Total *= ix.ranker.base
			fallthrough
		default:
			if s.Total <= 0 {
				continue
			}
		}
		scored = append(scored, s)
	}
	return scored, nil
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

// A plan is a question read for searching one engine: its words sorted into those the
// knowledge uses, spelling guesses for those it does not, and those it has never seen, and
// how much they say the question is about the knowledge. The words are kept as the terms
// Bleve indexes (lower case, stemmed).
type plan struct {
	exact        []string // words as typed that some section uses
	synonyms     []string // words as typed that only a synonym rule knows ("faster")
	subjectTerms []string // words that name a subject ("api")
	conceptTerms []string // words of the concepts it names that the knowledge covers ("webhook")
	phrased      []string // words that phrases of the question add
	guesses      []string // known words that misspelt words most likely meant
	typos        []string // the terms of the misspelt words, as typed
	// known weighs the words recognised: a subject, a word of a title or of a synonym rule,
	// a phrase or an intent count one; weak cues, names of products and words that only a
	// section's text uses count half. unknown counts the words the knowledge has never seen.
	known, unknown float64
	// topical: something names what the knowledge is about (a subject, a word of a title, a
	// synonym rule, a phrase, a concept of the domain), or the question asks something in
	// words that are all known ("which one is faster?").
	topical bool
	// strong weighs what ties the question to the knowledge, against its small talk.
	strong float64
	// elsewhere: its words are the knowledge's in another sense, at least as often as it
	// names a subject ("integration by parts").
	elsewhere bool
	// uncovered are the concepts the question names that this knowledge does not cover, as
	// typed; conceptsNamed their subjects, which the closest sections are about.
	uncovered     []string
	conceptsNamed []string
}

// about tells whether a question is about the knowledge engine e holds at all: the gate
// decides for the embedded article, which it learned from; the rule of confident for other
// knowledge. Words in another sense ("integration by parts") are never about it.
func (ix *Index) about(e *engine, r reading, p plan) bool {
	if p.elsewhere {
		return false
	}
	if e != ix.article || ix.gate == nil {
		return p.confident()
	}
	ok, _ := ix.gate.decide(r, p)
	return ok
}

// confident tells whether a question is about the knowledge at all: what it says must
// outweigh the words the knowledge has never seen, or match them with something topical.
// "best restaurant near me" is not, though the article mentions a restaurant; "is kafka a
// good api" is.
func (p plan) confident() bool {
	if p.elsewhere {
		return false
	}
	return p.known > p.unknown || (p.known > 0 && p.known == p.unknown && p.topical)
}

// smallTalk tells a question that mostly greets, thanks or talks about the bot: "thanks,
// what is an api?" is a question, "tell me an api joke lol" is not.
func (p plan) smallTalk(r reading) bool {
	if r.empty {
		return true // only emoji or punctuation: "👍", "?!"
	}
	return r.smallTalk > 0 && float64(r.smallTalk) > p.strong
}

// covers reports whether the article alone knows every word of a question read against it,
// each as typed (a word it only guesses may be one that other sections use as typed), and
// every concept it names.
func (ix *Index) covers(p plan) bool {
	if p.known == 0 || p.unknown > 0 || len(p.uncovered) > 0 {
		return false
	}
	for _, t := range p.typos {
		if ix.library.terms[t] != 0 {
			return false
		}
	}
	return true
}

// plan sorts the words of a reading by what engine e knows of them: used by a section,
// known to a synonym rule, a likely typo of a word it knows, or unknown; weighs how much
// they tie the question to the knowledge; and finds the concepts it names that e does not
// cover.
func (ix *Index) plan(e *engine, r reading) plan {
	p := plan{phrased: r.phrased, known: r.cued, topical: r.phrases > 0 || r.strongSubjects > 0}
	p.strong = float64(r.strongSubjects + r.phrases)
	// "integral" is also read as "integration" (they share a stem): one such word is not
	// a subject named.
	p.elsewhere = r.elsewhere > 0 && r.strongSubjects <= r.elsewhere
	if r.fullIntent {
		p.strong++
	}
	for _, c := range r.concepts {
		if c.subject == "" && !r.onTopic() {
			p.unknown++ // "security" alone is not about APIs; "api security" is
			continue
		}
		p.known++
		p.strong++
		p.topical = true
		if !e.covers(ix, c) {
			if !slices.Contains(p.uncovered, c.typed) { // named twice, said once
				p.uncovered = append(p.uncovered, c.typed)
			}
			p.conceptsNamed = append(p.conceptsNamed, c.subject)
			continue
		}
		// Covered: a section talks about it, so it is searched like any other word, and
		// what the question asks is asked of it, not of its subject: "what is a webhook",
		// with a section on webhooks, is not a question for What Is An API?.
		for _, w := range c.words {
			p.conceptTerms = append(p.conceptTerms, ix.analyze(w)...)
		}
	}
	// Words that only a section's text uses ("restaurant", "team") count once the
	// question is otherwise about the knowledge: on their own they are chance.
	textOnly := 0.0
	for _, t := range r.tokens {
		terms := t.terms
		kind := e.terms[terms[0]]
		// What a question asks is weighed by the sections' profiles, not searched in their
		// text, and the subject it names weighs little there: most titles name one.
		switch {
		case t.intent > 0:
		case t.subject > 0 && kind != 0:
			p.subjectTerms = append(p.subjectTerms, terms...)
		case kind&indexed != 0:
			p.exact = append(p.exact, terms...)
		case kind&synonym != 0:
			p.synonyms = append(p.synonyms, terms...)
		}
		switch {
		case t.subject > 0:
			p.known += t.subject
		case kind&topical != 0:
			p.known++
			p.strong++
			p.topical = true
		case t.intent > 0:
			p.known += min(t.intent, 1)
		case kind&indexed != 0:
			textOnly += 0.5
		case t.product:
			p.known += 0.5
		case isNumber(t.word):
		default:
			guesses := e.spelling.suggest(t.word, 2)
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
			p.known += 0.5 // a guess may be wrong: "gift" is not a misspelt "gist"
		}
	}
	// A question that asks something the knowledge answers is about it when every word is
	// known ("which one is faster?"), or when it names a subject, however weakly ("why is it
	// so hard to integrate SAP?").
	if r.fullIntent && (p.unknown == 0 || r.subjects[subjectAPI]+r.subjects[subjectIntegration] > 0) {
		p.topical = true
	}
	if p.topical || p.unknown == 0 {
		p.known += textOnly // "jigsaw puzzle" alone asks about the article's jigsaw puzzle
	}
	// Once a question names an API or an integration, the words around it are more likely
	// the asker's own ("can I hit a bunch of endpoints in a single call?") than a sign that
	// it is about something else.
	if r.strongSubjects > 0 || len(p.uncovered) > 0 {
		p.unknown /= 2
	}
	return p
}

// isNumber reports whether a word is all digits: "2 lines", "4 months" say nothing of the
// topic, nor against it.
func isNumber(w string) bool {
	return strings.Trim(w, "0123456789") == ""
}

// A hit is a section the text search found, with its score.
type hit struct {
	id    string
	score float64
}

// textSearch returns the best size sections of e by the words of p, as Bleve scores them.
// The same words give the same hits, and many questions share their words ("what is an
// api?", "so what's an API"): the hits of the last plans searched are kept.
func (ix *Index) textSearch(ctx context.Context, e *engine, p plan, size int) ([]hit, error) {
	key := p.key(size)
	if hits, ok := e.hits.get(key); ok {
		return hits, nil
	}
	q := p.query(ix.weights)
	if q == nil {
		return nil, nil
	}
	res, err := e.bleve.SearchInContext(ctx, ix.request(e, q, size))
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	hits := make([]hit, len(res.Hits))
	for i, h := range res.Hits {
		hits[i] = hit{h.ID, h.Score}
	}
	e.hits.put(key, hits)
	return hits, nil
}

// key identifies the text search of a plan: what its query is made of.
func (p plan) key(size int) string {
	var b strings.Builder
	for _, part := range [][]string{p.exact, p.conceptTerms, p.subjectTerms, p.synonyms, p.phrased, p.guesses} {
		for _, t := range part {
			b.WriteString(t)
			b.WriteByte(' ')
		}
		b.WriteByte('|')
	}
	b.WriteString(strconv.Itoa(size))
	return b.String()
}

// request is the Bleve search for q on e, scored with e's own BM25 statistics.
func (ix *Index) request(e *engine, q query.Query, size int) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(q, size, 0, false)
	req.PreSearchData = map[string]any{search.BM25PreSearchDataKey: e.stats, search.SynonymPreSearchDataKey: e.synonyms}
	return req
}

// query is the Bleve query for a plan, or nil when it has no word to search for: every term
// against every field, each field and each kind of term weighted as above, as Bleve's match
// queries would do it but without analysing the question again for each field. Nothing a
// user types is Bleve syntax.
func (p plan) query(w weights) query.Query {
	q := bleve.NewDisjunctionQuery()
	add := func(terms []string, weight float64) {
		for _, t := range terms {
			for _, f := range [...]struct {
				name  string
				boost float64
			}{{fieldTitle, w.title}, {fieldBody, w.body}, {fieldQuestions, w.questions}} {
				tq := bleve.NewTermQuery(t)
				tq.SetField(f.name)
				tq.SetBoost(f.boost * weight)
				q.AddQuery(tq)
			}
		}
	}
	add(p.exact, 1)
	add(p.conceptTerms, 1)
	add(p.subjectTerms, w.subject)
	add(p.synonyms, w.synonym)
	add(p.phrased, w.phrase)
	add(p.guesses, w.typo)
	if len(q.Disjuncts) == 0 {
		return nil
	}
	return q
}

// explain fills in how a question was read against engine e.
func (why *Explanation) explain(ix *Index, e *engine, r reading, p plan) {
	// Empty lists, not null, in JSON: a reader of `ask --explain --json` need not tell them apart.
	why.Intents, why.Concepts, why.Words, why.Scores = map[string]float64{}, []string{}, []string{}, []ResultScore{}
	for i, w := range r.intents {
		if w > 0 {
			why.Intents[ix.lexicon.intents[i]] = w
		}
	}
	why.Subjects = map[string]float64{"api": r.subjects[subjectAPI], "integration": r.subjects[subjectIntegration]}
	for _, c := range r.concepts {
		why.Concepts = append(why.Concepts, c.typed)
	}
	for _, t := range r.tokens {
		why.Words = append(why.Words, t.word)
	}
	why.Known, why.Unknown, why.Topical, why.SmallTalk = p.known, p.unknown, p.topical, r.smallTalk
	why.Engine = "library"
	if e == ix.article {
		why.Engine = "article"
		if ix.gate != nil {
			_, z := ix.gate.decide(r, p)
			why.Gate = &z
		}
	}
}
