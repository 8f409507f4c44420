package bot

import (
	"bytes"
	"encoding/json"
	"fmt"
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
// Slack where they must be.
func writeJSON(b *bytes.Buffer, v any) {
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

// webhook wraps m for a response URL: ephemeral, seen only by the person who asked.
func (m message) webhook() *slack.WebhookMessage {
	return &slack.WebhookMessage{
		Text:         m.Text,
		Blocks:       &slack.Blocks{BlockSet: m.Blocks},
		ResponseType: slack.ResponseTypeEphemeral,
	}
}

// actionShow is the action ID prefix of the buttons that show another section.
const actionShow = "show_section"

// maxAfterSection is how many blocks may follow a section's own: the "Related:" line and its
// buttons.
const maxAfterSection = 2

// A renderer turns answers into messages. Converting a section's Markdown and encoding its
// blocks is most of the work of an answer and always gives the same result, so it keeps the
// blocks of the sections it rendered last; what is searched, and which sections answer, is
// worked out anew for every question.
type renderer struct {
	related  slack.Block // "Related:", above the buttons
	mu       sync.Mutex
	sections map[string]renderedSection // by section ID
}

// A renderedSection is a section's header, text and source line, encoded, and the pieces
// of a button that shows it.
type renderedSection struct {
	from                    index.Result // what it was rendered from, to know it is still the same
	blocks                  []slack.Block
	fallback                string
	buttonText, buttonValue []byte // JSON
}

// renderCacheSize bounds the sections kept: a few hundred are asked about most.
const renderCacheSize = 512

func newRenderer() *renderer {
	return &renderer{
		related:  encoded(slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Related:", false, false))),
		sections: make(map[string]renderedSection),
	}
}

// answer renders the best result of ans, and the next ones as buttons. With no result it
// says so and lists the topics.
func (rn *renderer) answer(ans index.Answer) message {
	if len(ans.Results) == 0 {
		return noMatchMessage(ans.Query, ans.Topics)
	}
	// The buttons are encoded by hand from pieces kept with each section: they are in
	// every answer, and encoding/json would cost as much as the search.
	var buttons bytes.Buffer
	n := 0
	for _, r := range ans.Results[1:] {
		if len(r.ID) > maxButtonValue {
			continue // never seen in practice: an ID is a path of headings
		}
		rs := rn.rendered(r)
		if n > 0 {
			buttons.WriteByte(',')
		}
		fmt.Fprintf(&buttons, `{"type":"button","text":%s,"action_id":"%s_%d","value":%s}`, rs.buttonText, actionShow, n, rs.buttonValue)
		n++
	}
	if n == 0 {
		return rn.section(ans.Results[0])
	}
	actions := encodedBlock{Block: slack.NewActionBlock("more"),
		json: []byte(`{"type":"actions","block_id":"more","elements":[` + buttons.String() + `]}`)}
	return rn.section(ans.Results[0], rn.related, actions)
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

// section renders one result: its title, its text in as many sections as it needs, where it
// comes from, then the blocks of after (at most maxAfterSection).
func (rn *renderer) section(r index.Result, after ...slack.Block) message {
	rs := rn.rendered(r)
	return message{Text: rs.fallback, Blocks: append(slices.Clip(rs.blocks), after...)}
}

func sameSection(a, b index.Result) bool {
	return a.Title == b.Title && a.Text == b.Text && a.Source == b.Source && slices.Equal(a.Path, b.Path)
}

func renderSection(r index.Result) renderedSection {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(r.Title, maxHeaderText), false, false)),
	}
	body := mrkdwn(r.Text)
	// Room for the header, the source line and what may come after.
	room := maxBlocks - len(blocks) - 1 - maxAfterSection
	chunks := split(body, maxSectionText)
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
	var text, value bytes.Buffer
	writeJSON(&text, slack.NewTextBlockObject(slack.PlainTextType, truncate(r.Title, maxButtonText), false, false))
	writeJSON(&value, r.ID)
	return renderedSection{from: r, blocks: blocks, fallback: fallback(escape(r.Title), body),
		buttonText: text.Bytes(), buttonValue: value.Bytes()}
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

// noMatchMessage says kindly that nothing answers question, and what can be asked.
func noMatchMessage(question string, topics []string) message {
	q := truncate(escape(strings.Join(strings.Fields(question), " ")), 200)
	intro := fmt.Sprintf("I don't have a good answer to “%s”.", q)
	if strings.TrimSpace(question) == "" {
		intro = "I didn't catch a question."
	}
	text := intro + " I can tell you about:\n" + topicList(topics)
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(text, maxSectionText), false, false), nil, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Try `/apiorint which one scales better?` or `/apiorint help`.", false, false)),
	}
	return message{Text: intro, Blocks: blocks}
}

// usageMessage explains how to ask, with examples and the topics.
func usageMessage(topics []string) message {
	text := "Ask me whether an *API* or an *integration* fits what you are building, and I'll answer from our knowledge article.\n" +
		"• `/apiorint scalability`\n• `/apiorint which one is faster?`\n• `@apiorint what is middleware?` in a channel\n• or send me a direct message."
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate("*Topics*\n"+topicList(topics), maxSectionText), false, false), nil, nil),
	}
	return message{Text: "How to use /apiorint: /apiorint <question>, @apiorint <question>, or a direct message.", Blocks: blocks}
}

func topicList(topics []string) string {
	var b strings.Builder
	for i, t := range topics {
		if i == maxTopics {
			fmt.Fprintf(&b, "…and %d more\n", len(topics)-maxTopics)
			break
		}
		b.WriteString("• " + escape(t) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// fallback is the notification text: the title and the start of the text.
func fallback(title, body string) string {
	return truncate(title+": "+strings.Join(strings.Fields(body), " "), maxFallbackText)
}

// split cuts text into pieces of at most max characters, at paragraph breaks where it can,
// then at line breaks, then between words; a word is only cut when it alone is too long.
func split(text string, max int) []string {
	var out []string
	for utf8.RuneCountInString(text) > max {
		cut := cutPoint(text, max)
		out = append(out, strings.TrimRight(text[:cut], " \n"))
		text = strings.TrimLeft(text[cut:], " \n")
	}
	if text != "" || len(out) == 0 {
		out = append(out, text)
	}
	return out
}

// cutPoint returns a byte offset at most max characters into text (which is longer) where it
// is best cut.
func cutPoint(text string, max int) int {
	limit := byteOffset(text, max)
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
	if utf8.RuneCountInString(s) <= max {
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

// byteOffset returns the byte offset of the n-th character of s, or len(s).
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
