package bot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/apiorint/apiorint/index"
	"github.com/slack-go/slack"
)

// Slack's limits on a message, from the Block Kit reference.
const (
	maxBlocks       = 50
	maxSectionText  = 3000
	maxHeaderText   = 150
	maxButtonText   = 75
	maxButtonValue  = 2000
	maxFallbackText = 300 // Slack allows far more; a notification shows little
	maxTopics       = 15
)

// A message is what the bot says: Block Kit for people, and plain text for notifications and
// clients that show no blocks.
type message struct {
	Text   string
	Blocks []slack.Block
}

// ephemeralJSON encodes m as a slash command response, seen only by the person who asked.
// Written by hand around the blocks, which are mostly encoded already: encoding/json would
// decode and re-encode them twice.
func (m message) ephemeralJSON() []byte {
	size := 64 + len(m.Text)
	for _, blk := range m.Blocks {
		if e, ok := blk.(encodedBlock); ok {
			size += len(e.json) + 1
		} else {
			size += 512
		}
	}
	b := bytes.NewBuffer(make([]byte, 0, size))
	b.WriteString(`{"response_type":"ephemeral","text":`)
	writeJSON(b, m.Text)
	b.WriteString(`,"blocks":[`)
	for i, blk := range m.Blocks {
		if i > 0 {
			b.WriteByte(',')
		}
		if e, ok := blk.(encodedBlock); ok {
			b.Write(e.json)
		} else {
			writeJSON(b, blk)
		}
	}
	b.WriteString("]}")
	return b.Bytes()
}

// writeJSON encodes v to b, leaving &, < and > as they are: they are already escaped for
// Slack where they must be. Strings, most of what it writes, skip encoding/json.
func writeJSON(b *bytes.Buffer, v any) {
	if str, ok := v.(string); ok {
		b.Grow(len(str) + len(str)/8 + 2) // room for the quotes and a few escapes
		b.Write(appendJSONString(b.AvailableBuffer(), str))
		return
	}
	start := b.Len()
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.Truncate(start)
		b.WriteString("null") // never for what the bot renders: blocks and strings
		return
	}
	b.Truncate(b.Len() - 1) // Encode's newline
}

// appendJSONString appends s as a JSON string, as encoding/json writes it without HTML
// escaping: quotes, backslashes and control characters escaped, invalid UTF-8 replaced.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0 // the run of bytes that need no escaping, copied at once
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if (r != utf8.RuneError || size != 1) && r != '\u2028' && r != '\u2029' {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			}
			i += size
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// webhook wraps m for a response URL: ephemeral, seen only by the person who asked, unless
// the caller says otherwise. A message without blocks sends none, rather than null.
func (m message) webhook() *slack.WebhookMessage {
	w := &slack.WebhookMessage{Text: m.Text, ResponseType: slack.ResponseTypeEphemeral}
	if len(m.Blocks) > 0 {
		w.Blocks = &slack.Blocks{BlockSet: m.Blocks}
	}
	return w
}

// Action IDs of the buttons the bot renders.
const (
	actionShow         = "show_section" // a related section, "show_section_N"
	actionFeedbackUp   = "feedback_up"
	actionFeedbackDown = "feedback_down"
	actionShare        = "share"
	actionHomeTopic    = "home_topic" // a topic in App Home, "home_topic_N"
)

// A ref is what a button carries back when clicked: the answer it belongs to, and enough of
// it to record a vote or show a section even if the answer's own record was lost.
type ref struct {
	Answer   string `json:"a,omitempty"` // the answer's ID
	Section  string `json:"s,omitempty"` // the section shown, or to show
	Question string `json:"q,omitempty"`
	Outcome  string `json:"o,omitempty"`
	// For Share, to render the same answer again: the related sections, and what a closest
	// answer does not cover.
	Related   []string `json:"r,omitempty"`
	Uncovered []string `json:"u,omitempty"`
	// MAC proves the bot wrote the rest: a client sends button values back, and could send
	// anything (see refSigner).
	MAC string `json:"h,omitempty"`
}

// maxRefQuestion bounds the question a button carries: a button's value holds 2,000
// characters.
const maxRefQuestion = 150

// A refSigner signs the refs the bot puts in buttons and checks those clicks send back: a
// client can send any value with a click, and a forged one must not post text of its
// choosing to a channel (Share) or pile votes onto a section. The key comes from the bot
// token, which every replica of the bot has, so any of them can check a ref any other wrote.
type refSigner struct {
	// macs holds HMACs keyed with the signing key, reset and reused: keying one costs more
	// than signing a ref, and every answer signs several.
	macs *sync.Pool
}

// refMACSize is how much of the HMAC a ref carries: 128 bits.
const refMACSize = 16

func newRefSigner(botToken string) refSigner {
	mac := hmac.New(sha256.New, []byte(botToken))
	mac.Write([]byte("apiorint button values"))
	key := mac.Sum(nil)
	return refSigner{macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

func (s refSigner) mac(unsigned []byte) string {
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(unsigned)
	var sum [sha256.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0])[:refMACSize])
	s.macs.Put(m)
	return out
}

// encode returns the ref as a signed button value, within Slack's limit: written by hand,
// as encoding/json would write it, because every answer carries several.
func (s refSigner) encode(r ref) string {
	r.Question = strings.ToValidUTF8(truncate(r.Question, maxRefQuestion), "\uFFFD") // decoded as written
	size := 96 + len(r.Answer) + len(r.Section) + 2*len(r.Question) + len(r.Outcome)
	for _, x := range r.Related {
		size += len(x) + 3
	}
	for _, x := range r.Uncovered {
		size += len(x) + 3
	}
	r.MAC = ""
	raw := r.appendJSON(make([]byte, 0, size))
	for len(raw)+2*refMACSize+8 > maxButtonValue && len(r.Related)+len(r.Uncovered) > 0 {
		r.Related, r.Uncovered = r.Related[:max(0, len(r.Related)-1)], r.Uncovered[:max(0, len(r.Uncovered)-1)]
		raw = r.appendJSON(raw[:0])
	}
	if len(raw)+2*refMACSize+8 > maxButtonValue {
		r.Question = ""
		raw = r.appendJSON(raw[:0])
	}
	r.MAC = s.mac(raw)
	return string(r.appendJSON(raw[:0]))
}

// decode reads a button's value, and reports whether the bot signed it: a ref, or (from
// answers rendered before refs) a bare section ID, which is not signed.
func (s refSigner) decode(value string) (ref, bool) {
	var r ref
	if json.Unmarshal([]byte(value), &r) != nil {
		return ref{Section: value}, false
	}
	mac := r.MAC
	r.MAC = ""
	return r, mac != "" && hmac.Equal([]byte(mac), []byte(s.mac(r.appendJSON(nil))))
}

func (r ref) appendJSON(b []byte) []byte {
	b = append(b, '{')
	field := func(name, value string) {
		if value != "" {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), name...), '"', ':')
			b = appendJSONString(b, value)
		}
	}
	list := func(name string, values []string) {
		if len(values) > 0 {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(append(append(b, '"'), name...), '"', ':', '[')
			for i, v := range values {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, v)
			}
			b = append(b, ']')
		}
	}
	field("a", r.Answer)
	field("s", r.Section)
	field("q", r.Question)
	field("o", r.Outcome)
	list("r", r.Related)
	list("u", r.Uncovered)
	field("h", r.MAC)
	return append(b, '}')
}

// maxAfterSection is how many blocks may follow a section's own: the closest line above it,
// and below it the "Related:" line, its buttons, and the feedback and share buttons.
const maxAfterSection = 4

// A view says where an answer goes, which decides its buttons.
type view struct {
	share    bool   // a Share button: the answer is ephemeral, and can be shown to the channel
	sharedBy string // the user who shared this copy with the channel
}

// A renderer turns answers into messages. Converting a section's Markdown and encoding its
// blocks is most of the work of an answer and always gives the same result, so it keeps the
// blocks of the sections it rendered last; what is searched, and which sections answer, is
// worked out anew for every question.
type renderer struct {
	refs    refSigner
	related slack.Block // "Related:", above the buttons
	// The feedback and share buttons, encoded up to their values.
	upButton, downButton, shareButton []byte
	mu                                sync.Mutex
	sections                          map[string]renderedSection // by section ID
}

// A renderedSection is a section's header, text and source line, encoded, and the text of
// a button that shows it.
type renderedSection struct {
	from       index.Result // what it was rendered from, to know it is still the same
	blocks     []slack.Block
	fallback   string
	buttonText []byte // JSON
}

// renderCacheSize bounds the sections kept: a few hundred are asked about most.
const renderCacheSize = 512

func newRenderer(refs refSigner) *renderer {
	return &renderer{
		refs:        refs,
		related:     encoded(slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Related:", false, false))),
		upButton:    buttonUpToValue(actionFeedbackUp, "👍 Helpful", true),
		downButton:  buttonUpToValue(actionFeedbackDown, "👎 Not helpful", true),
		shareButton: buttonUpToValue(actionShare, "Share in channel", false),
		sections:    make(map[string]renderedSection),
	}
}

// buttonUpToValue encodes a button's JSON up to its value: `…,"value":`.
func buttonUpToValue(actionID, text string, emoji bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"button","text":`)
	writeJSON(&b, slack.NewTextBlockObject(slack.PlainTextType, text, emoji, false))
	b.WriteString(`,"action_id":`)
	writeJSON(&b, actionID)
	b.WriteString(`,"value":`)
	return b.Bytes()
}

// answer renders the best result of ans with the others as buttons, then 👍/👎 (and Share,
// when v asks); a closest answer first says what the knowledge does not cover. id is the
// answer's ID, which the buttons carry. With no result it says so and lists topics.
func (rn *renderer) answer(ans index.Answer, id string, topics []index.Topic, v view) message {
	if len(ans.Results) == 0 {
		if ans.SmallTalk {
			return smallTalkMessage()
		}
		return noMatchMessage(ans.Query, topics)
	}
	best := ans.Results[0]
	var before, after []slack.Block
	if ans.Match == index.MatchClosest {
		before = append(before, closestBlock(ans.Uncovered))
	}
	// The related buttons are encoded by hand from pieces kept with each section: they are
	// in every answer, and encoding/json would cost as much as the search.
	var buttons bytes.Buffer
	buttons.Grow(len(ans.Results) * (320 + 2*min(len(ans.Query), 4*maxRefQuestion)))
	var related []string
	for _, r := range ans.Results[1:] {
		if len(r.ID) > maxButtonValue/2 {
			continue // never seen in practice: an ID is a path of headings
		}
		rs := rn.rendered(r)
		if len(related) > 0 {
			buttons.WriteByte(',')
		}
		fmt.Fprintf(&buttons, `{"type":"button","text":%s,"action_id":"%s_%d","value":`, rs.buttonText, actionShow, len(related))
		writeJSON(&buttons, rn.refs.encode(ref{Answer: id, Section: r.ID, Question: ans.Query}))
		buttons.WriteByte('}')
		related = append(related, r.ID)
	}
	if len(related) > 0 {
		after = append(after, rn.related, encodedBlock{Block: slack.NewActionBlock("more"),
			json: []byte(`{"type":"actions","block_id":"more","elements":[` + buttons.String() + `]}`)})
	}
	r := ref{Answer: id, Section: best.ID, Question: ans.Query, Outcome: string(ans.Match)}
	after = append(after, rn.answerActions(r, related, ans.Uncovered, v)...)
	msg := rn.section(best, before, after)
	if ans.Match == index.MatchClosest {
		msg.Text = truncate(plainClosest(ans.Uncovered)+" "+msg.Text, maxFallbackText)
	}
	return msg
}

// answerActions are the buttons under every answer: 👍 and 👎, Share for an ephemeral one,
// and for a shared copy the line saying who shared it. The buttons are written from pieces
// encoded once: only their values change from one answer to the next.
func (rn *renderer) answerActions(r ref, related, uncovered []string, v view) []slack.Block {
	value := rn.refs.encode(r)
	var b bytes.Buffer
	b.Grow(3*(len(value)+len(value)/4) + len(rn.upButton) + len(rn.downButton) + len(rn.shareButton) + 256)
	b.WriteString(`{"type":"actions","block_id":"answer","elements":[`)
	b.Write(rn.upButton)
	writeJSON(&b, value)
	b.WriteString("},")
	b.Write(rn.downButton)
	writeJSON(&b, value)
	b.WriteByte('}')
	if v.share {
		s := r
		s.Related, s.Uncovered = related, uncovered
		b.WriteByte(',')
		b.Write(rn.shareButton)
		writeJSON(&b, rn.refs.encode(s))
		b.WriteByte('}')
	}
	b.WriteString("]}")
	blocks := []slack.Block{encodedBlock{Block: slack.NewActionBlock("answer"), json: b.Bytes()}}
	if v.sharedBy != "" {
		blocks = append(blocks, slack.NewContextBlock("shared", slack.NewTextBlockObject(slack.MarkdownType, "Shared by <@"+escape(v.sharedBy)+">", false, false)))
	}
	return blocks
}

// closestBlock says first what the knowledge does not cover.
func closestBlock(uncovered []string) slack.Block {
	names := make([]string, 0, len(uncovered))
	for _, u := range uncovered[:min(len(uncovered), 5)] {
		if u = strings.TrimSpace(u); u != "" {
			names = append(names, "*"+escape(u)+"*") // as typed: "rest", not a guess at "Rest"
		}
	}
	text := "I have nothing on " + joinOr(names) + ". The closest I have:"
	return encoded(slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(text, maxSectionText), false, false), nil, nil))
}

// plainClosest is closestBlock's notification text, escaped as all of it is.
func plainClosest(uncovered []string) string {
	names := make([]string, 0, len(uncovered))
	for _, u := range uncovered[:min(len(uncovered), 5)] {
		names = append(names, escape(u))
	}
	return "I have nothing on " + joinOr(names) + "."
}

// joinOr joins words as a sentence does: "a", "a or b", "a, b or c".
func joinOr(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// rendered returns the rendering of r, from the cache or made now.
func (rn *renderer) rendered(r index.Result) renderedSection {
	rn.mu.Lock()
	rs, ok := rn.sections[r.ID]
	rn.mu.Unlock()
	if ok && sameSection(rs.from, r) {
		return rs
	}
	rs = renderSection(r)
	rn.mu.Lock()
	if len(rn.sections) >= renderCacheSize {
		clear(rn.sections)
	}
	rn.sections[r.ID] = rs
	rn.mu.Unlock()
	return rs
}

// section renders one result: the blocks of before, its title, its text in as many sections
// as it needs, where it comes from, then the blocks of after (together at most
// maxAfterSection).
func (rn *renderer) section(r index.Result, before, after []slack.Block) message {
	rs := rn.rendered(r)
	blocks := make([]slack.Block, 0, len(before)+len(rs.blocks)+len(after))
	blocks = append(append(append(blocks, before...), rs.blocks...), after...)
	return message{Text: rs.fallback, Blocks: blocks}
}

func sameSection(a, b index.Result) bool {
	return a.Title == b.Title && a.Text == b.Text && a.Source == b.Source && slices.Equal(a.Path, b.Path)
}

func renderSection(r index.Result) renderedSection {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(r.Title, maxHeaderText), false, false)),
	}
	body := mrkdwn(r.Text)
	// Room for the header, the source line and what may come before and after.
	room := maxBlocks - len(blocks) - 1 - maxAfterSection
	chunks := split(body, maxSectionText, room+1)
	if len(chunks) > room {
		chunks = chunks[:room]
		chunks[room-1] = truncate(chunks[room-1], maxSectionText-40) + " _(continued in the source)_"
	}
	for _, c := range chunks {
		if strings.TrimSpace(c) == "" {
			continue // Slack refuses an empty section: Markdown can render to nothing
		}
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, c, false, false), nil, nil))
	}
	source := escape(strings.Join(append([]string{r.Source}, r.Path...), " › "))
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, ":book: "+truncate(source, maxSectionText), false, false)))
	for i, b := range blocks {
		blocks[i] = encoded(b)
	}
	var text bytes.Buffer
	writeJSON(&text, slack.NewTextBlockObject(slack.PlainTextType, truncate(r.Title, maxButtonText), false, false))
	return renderedSection{from: r, blocks: blocks, fallback: fallback(escape(r.Title), body), buttonText: text.Bytes()}
}

// An encodedBlock is a block already encoded as JSON, to be written as it is.
type encodedBlock struct {
	slack.Block
	json []byte
}

func (b encodedBlock) MarshalJSON() ([]byte, error) { return b.json, nil }

// encoded returns b encoded once and for all.
func encoded(b slack.Block) slack.Block {
	var buf bytes.Buffer
	writeJSON(&buf, b)
	return encodedBlock{Block: b, json: buf.Bytes()}
}

// howToAsk is the line that ends a reply that answers nothing.
const howToAsk = "Try `/apiorint which one scales better?` or `/apiorint help`."

// noMatchMessage says kindly that nothing answers question (as the person reads it: without
// Slack markup, which answer removed), and what can be asked.
func noMatchMessage(question string, topics []index.Topic) message {
	q := truncate(escape(strings.Join(strings.Fields(question), " ")), 200)
	intro := fmt.Sprintf("I don't have a good answer to “%s”.", q)
	if q == "" {
		intro = "I didn't catch a question."
	}
	text := intro + " I can tell you about:\n" + topicList(topics)
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(text, maxSectionText), false, false), nil, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, howToAsk, false, false)),
	}
	return message{Text: intro, Blocks: blocks}
}

// smallTalkMessage answers a greeting, thanks or a remark to the bot: briefly, and with how
// to ask, never with a section.
func smallTalkMessage() message {
	text := "Hi! I'm apiorint: I answer questions about *APIs* and *integrations* from our knowledge article — what they are, how they differ, and which one fits your project."
	return message{
		Text: "Hi! I answer questions about APIs and integrations. Try /apiorint which one scales better?",
		Blocks: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
			slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, howToAsk, false, false)),
		},
	}
}

// usageMessage explains how to ask, with examples and the topics.
func usageMessage(topics []index.Topic) message {
	text := "Ask me whether an *API* or an *integration* fits what you are building, and I'll answer from our knowledge article.\n" +
		"• `/apiorint scalability`\n• `/apiorint which one is faster?`\n• `@apiorint what is middleware?` in a channel\n" +
		"• or send me a direct message, or use *Ask apiorint* on any message (⋯ → More actions)."
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate("*Topics*\n"+topicList(topics), maxSectionText), false, false), nil, nil),
	}
	return message{Text: "How to use /apiorint: /apiorint &lt;question&gt;, @apiorint &lt;question&gt;, or a direct message.", Blocks: blocks}
}

// textMessage is a message of one line of mrkdwn.
func textMessage(text string) message {
	return message{Text: text, Blocks: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(text, maxSectionText), false, false), nil, nil),
	}}
}

func topicList(topics []index.Topic) string {
	var b strings.Builder
	for i, t := range topics {
		if i == maxTopics {
			fmt.Fprintf(&b, "…and %d more\n", len(topics)-maxTopics)
			break
		}
		b.WriteString("• " + escape(t.Title) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// fallback is the notification text: the title and the start of the text.
func fallback(title, body string) string {
	return truncate(title+": "+strings.Join(strings.Fields(body[:byteOffset(body, 4*maxFallbackText)]), " "), maxFallbackText)
}

// split cuts text into pieces of at most max characters, at paragraph breaks where it can,
// then at line breaks, then between words; a word is only cut when it alone is too long. It
// stops after limit pieces (the last one then holds the rest uncut): a section never shows
// more. Each cut looks at most max characters ahead, so splitting is linear in the text.
func split(text string, max, limit int) []string {
	var out []string
	for len(out) < limit-1 {
		limit := byteOffset(text, max)
		if limit == len(text) {
			break // the rest fits
		}
		cut := cutPoint(text, limit)
		out = append(out, strings.TrimRight(text[:cut], " \n"))
		text = strings.TrimLeft(text[cut:], " \n")
	}
	if text != "" || len(out) == 0 {
		out = append(out, text)
	}
	return out
}

// cutPoint returns where text, which goes on past its byte offset limit, is best cut before
// it.
func cutPoint(text string, limit int) int {
	head := text[:limit]
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(head, sep); i > 0 {
			return i + len(sep)
		}
	}
	// One word longer than a whole section: cut it, but not inside an entity like "&amp;".
	if amp := strings.LastIndexByte(head, '&'); amp > 0 && limit-amp < len("&amp;") && !strings.Contains(head[amp:], ";") {
		return amp
	}
	return limit
}

// truncate shortens s to at most max characters, between words where it can, marking the cut
// with "…".
func truncate(s string, max int) string {
	cut := byteOffset(s, max)
	if cut == len(s) {
		return s
	}
	head := s[:byteOffset(s, max-1)]
	if i := strings.LastIndexAny(head, " \n"); i > len(head)/2 {
		head = head[:i]
	} else if amp := strings.LastIndexByte(head, '&'); amp >= 0 && !strings.Contains(head[amp:], ";") {
		head = head[:amp] // not inside an entity
	}
	return strings.TrimRight(head, " \n") + "…"
}

// byteOffset returns the byte offset of the n-th character of s, or len(s) when s is
// shorter. It reads at most n characters of s.
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
