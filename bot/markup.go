package bot

import (
	"regexp"
	"strings"
)

// slackMarkup matches what Slack puts in message text for mentions, channels, special
// mentions and links: <@U123>, <#C123|general>, <!here>, <https://example.com|label>.
var slackMarkup = regexp.MustCompile(`<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>`)

// slackEntities decodes the three entities Slack escapes in message text.
var slackEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// PlainText turns Slack message text into what a person reads as the question: mentions,
// channels and bare links removed, a link's label kept, the three entities Slack escapes
// decoded, and runs of white space made one space.
func PlainText(text string) string {
	if strings.ContainsAny(text, "<&") {
		text = slackMarkup.ReplaceAllStringFunc(text, func(m string) string {
			sub := slackMarkup.FindStringSubmatch(m)
			if sub[1] == "" && sub[3] != "" {
				return " " + sub[3] + " " // a link's label is part of the sentence
			}
			return " " // a mention, a channel or an address is not part of the question
		})
		text = slackEntities.Replace(text)
	}
	return strings.Join(strings.Fields(text), " ")
}
