package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apiorint/apiorint/bot/store"
	"github.com/apiorint/apiorint/index"
	"github.com/slack-go/slack"
)

// Examples of questions, shown in App Home: how people can start.
var exampleQuestions = []string{
	"what is an api in simple terms?",
	"api or integration for syncing our store with the ERP?",
	"which one scales better?",
	"why are integrations so hard?",
}

// Limits of App Home: Slack allows 100 blocks in a view, 25 buttons in a block.
const (
	maxHomeTopics = 24
	maxHomeBlocks = 100
	reportWindow  = 7 * 24 * time.Hour
	// reportTimeout bounds reading the record for a report; reportInline is how long a
	// slash command waits for it before answering "it follows" (Slack wants its answer
	// within 3 s, and in Socket Mode the wait holds up the connection's other envelopes).
	reportTimeout = 10 * time.Second
	reportInline  = 1500 * time.Millisecond
)

// publishHome publishes the App Home tab for user: how to ask, the topics as buttons, a few
// example questions, and for admins this week's numbers and top gaps. With section, the tab
// opens with that section (a topic clicked); with a note, with that line (thanks for a vote).
func (b *Bot) publishHome(ctx context.Context, user, section string, note ...string) error {
	var blocks []slack.Block
	add := func(bs ...slack.Block) { blocks = append(blocks, bs...) }
	for _, n := range note {
		add(slack.NewContextBlock("note", slack.NewTextBlockObject(slack.MarkdownType, escape(n), false, false)))
	}
	if sec, ok := b.search.Section(section); ok && section != "" {
		id := newAnswerID()
		rec := question{surface: store.SurfaceHome, user: user}.record(id, sec.Title, store.OutcomeAnswer)
		rec.Section, rec.Score = sec.ID, sec.Score
		b.keep(rec)
		msg := b.render.answer(index.Answer{Query: sec.Title, Match: index.MatchAnswer, Results: []index.Result{sec}}, id, nil, view{})
		add(msg.Blocks...)
		add(slack.NewDividerBlock())
	}
	add(slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "apiorint: API or integration?", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
			"Ask me whether an *API* or an *integration* fits what you are building: `/apiorint your question` anywhere, "+
				"`@apiorint` in a channel, a message here in *Messages*, or *Ask apiorint* on any message (⋯ → More actions).", false, false), nil, nil))
	add(topicButtons(b.search.Topics())...)
	var examples strings.Builder
	for _, q := range exampleQuestions {
		examples.WriteString("• `" + q + "`\n")
	}
	add(slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Try asking*\n"+strings.TrimSpace(examples.String()), false, false), nil, nil))
	if b.cfg.IsAdmin(user) {
		add(slack.NewDividerBlock())
		add(b.adminBlocks(ctx)...)
	}
	if len(blocks) > maxHomeBlocks {
		blocks = blocks[:maxHomeBlocks]
	}
	_, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user,
		View: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}})
	return redactError(err)
}

// topicButtons lists the topics as buttons, five to a row; each carries its section's ID.
func topicButtons(topics []index.Topic) []slack.Block {
	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Topics*", false, false), nil, nil)}
	var row []slack.BlockElement
	for i, t := range topics {
		if i == maxHomeTopics {
			blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("…and %d more: just ask.", len(topics)-i), false, false)))
			break
		}
		if len(t.ID) > maxButtonValue {
			continue
		}
		row = append(row, slack.NewButtonBlockElement(fmt.Sprintf("%s_%d", actionHomeTopic, i), t.ID, slack.NewTextBlockObject(slack.PlainTextType, truncate(t.Title, maxButtonText), false, false)))
		if len(row) == 5 {
			blocks = append(blocks, slack.NewActionBlock("", row...))
			row = nil
		}
	}
	if len(row) > 0 {
		blocks = append(blocks, slack.NewActionBlock("", row...))
	}
	return blocks
}

// adminBlocks are this week's numbers and top gaps, for App Home.
func (b *Bot) adminBlocks(ctx context.Context) []slack.Block {
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "This week (admins only)", false, false))
	if b.reports == nil {
		return []slack.Block{header, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
			"Questions are not recorded (`DATABASE_URL=off`), so there is nothing to report.", false, false), nil, nil)}
	}
	since := time.Now().Add(-reportWindow)
	section := func(text string) slack.Block {
		return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, truncate(text, maxSectionText), false, false), nil, nil)
	}
	// Each query its own time: a slow first one must not leave the second none.
	sctx, cancel := context.WithTimeout(ctx, reportTimeout)
	stats, err := b.reports.Stats(sctx, since)
	cancel()
	if err != nil {
		b.log.Warn("the report has no numbers", "err", err)
		return []slack.Block{header, section("The record of questions cannot be read right now.")}
	}
	gctx, cancel := context.WithTimeout(ctx, reportTimeout)
	gaps, err := b.reports.Gaps(gctx, since, 5)
	cancel()
	top := "*Top gaps*\n" + gapList(gaps)
	if err != nil {
		// Never "no gaps": a report that cannot be read must not look like good news.
		b.log.Warn("the report has no gaps", "err", err)
		top = "*Top gaps*\nThey cannot be read right now."
	}
	return []slack.Block{header, section(statsLine(stats)), section(top)}
}

// statsLine sums up a week of questions.
func statsLine(s store.Stats) string {
	up, down := 0, 0
	for _, sec := range s.Sections {
		up, down = up+sec.Up, down+sec.Down
	}
	return fmt.Sprintf("*%d* questions: %d answered, %d only came close, %d not answered · %d 👍 · %d 👎",
		s.Total, s.ByOutcome[store.OutcomeAnswer], s.ByOutcome[store.OutcomeClosest], s.ByOutcome[store.OutcomeNone], up, down)
}

// gapList lists gaps, one a line, for a message.
func gapList(gaps []store.Gap) string {
	if len(gaps) == 0 {
		return "None: every question got an answer nobody voted down."
	}
	what := map[string]string{store.OutcomeNone: "no answer", store.OutcomeClosest: "only came close", store.OutcomeDown: "👎"}
	var b strings.Builder
	for _, g := range gaps {
		fmt.Fprintf(&b, "• “%s” — %d× (%s", escape(truncate(g.Question, 120)), g.Asked, what[g.Outcome])
		if g.Section != "" {
			fmt.Fprintf(&b, ", got `%s`", escape(g.Section))
		}
		b.WriteString(")\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// gapsMessage is the reply to `/apiorint gaps`: the gap report for admins, and for anyone
// else who may see it. A record slow to read is not waited for past reportInline: the reply
// says the report follows, and it is sent to responseURL when it is ready.
func (b *Bot) gapsMessage(ctx context.Context, user, responseURL string) message {
	if !b.cfg.IsAdmin(user) {
		who := "nobody: no admin is set (ADMIN_USER_IDS)"
		if len(b.cfg.Admins) > 0 {
			mentions := make([]string, len(b.cfg.Admins))
			for i, a := range b.cfg.Admins {
				mentions[i] = "<@" + escape(a) + ">"
			}
			who = joinOr(mentions)
		}
		return textMessage("The gap report is for the people who keep the knowledge: " + who + ". Ask them, or just ask me a question.")
	}
	b.metrics.answers.WithLabelValues("gaps").Inc()
	report := make(chan message, 1)
	// Not cancelled with the request: an HTTP request's context ends with its response.
	go func() {
		report <- message{Text: "apiorint: this week's questions and gaps", Blocks: b.adminBlocks(context.WithoutCancel(ctx))}
	}()
	t := time.NewTimer(reportInline)
	defer t.Stop()
	select {
	case msg := <-report:
		return msg
	case <-t.C:
	}
	slow := textMessage("The record of questions is slow to read right now. Try again in a minute.")
	if responseURL == "" {
		return slow
	}
	var msg message
	if !b.queueAfter("gaps", user, func(ctx context.Context) error {
		select {
		case msg = <-report:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, func(ctx context.Context) error { return b.respond(ctx, responseURL, msg) }) {
		return slow // nothing would send the report: promise none
	}
	return textMessage("Gathering this week's numbers: the report follows in a moment.")
}
