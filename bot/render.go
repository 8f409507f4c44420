package bot

import (
	"fmt"
	"strings"
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

// webhook wraps m for a slash command response or a response_url: ephemeral, seen only by
// the person who asked.
func (m message) webhook() *slack.WebhookMessage {
	return &slack.WebhookMessage{
		Text:         m.Text,
		Blocks:       &slack.Blocks{BlockSet: m.Blocks},
		ResponseType: slack.ResponseTypeEphemeral,
	}
}

// actionShow is the action ID prefix of the buttons that show another section.
const actionShow = "show_section"

// answerMessage renders the best result of ans, and the next ones as buttons. With no result
// it says so and lists the topics.
func answerMessage(ans index.Answer) message {
	if len(ans.Results) == 0 {
		return noMatchMessage(ans.Query, ans.Topics)
	}
	best := ans.Results[0]
	var more []slack.Block
	if len(ans.Results) > 1 {
		var buttons []slack.BlockElement
		for i, r := range ans.Results[1:] {
			if len(r.ID) > maxButtonValue {
				continue // never seen in practice: an ID is a path of headings
			}
			label := slack.NewTextBlockObject(slack.PlainTextType, truncate(r.Title, maxButtonText), false, false)
			buttons = append(buttons, slack.NewButtonBlockElement(fmt.Sprintf("%s_%d", actionShow, i), r.ID, label))
		}
		if len(buttons) > 0 {
			more = append(more,
				slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Related:", false, false)),
				slack.NewActionBlock("more", buttons...))
		}
	}
	return sectionMessage(best, more...)
}

// sectionMessage renders one result: its title, its text in as many sections as it needs,
// where it comes from, then the blocks of after.
func sectionMessage(r index.Result, after ...slack.Block) message {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(r.Title, maxHeaderText), false, false)),
	}
	body := mrkdwn(r.Text)
	// Room for the header, the source line and what comes after.
	room := maxBlocks - len(blocks) - 1 - len(after)
	chunks := split(body, maxSectionText)
	if len(chunks) > room {
		chunks = chunks[:room]
		chunks[room-1] = truncate(chunks[room-1], maxSectionText-40) + " _(continued in the source)_"
	}
	for _, c := range chunks {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, c, false, false), nil, nil))
	}
	source := escape(strings.Join(append([]string{r.Source}, r.Path...), " › "))
	blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, ":book: "+truncate(source, maxSectionText), false, false)))
	blocks = append(blocks, after...)
	return message{Text: fallback(escape(r.Title), body), Blocks: blocks}
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
