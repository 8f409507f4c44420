package bot

import (
	"context"
	"strings"
	"time"

	"github.com/apiorint/apiorint/bot/store"
	"github.com/apiorint/apiorint/index"
	"github.com/slack-go/slack"
)

// shortcutID is the callback ID of the "Ask apiorint" message shortcut (manifest.yaml).
const shortcutID = "ask_apiorint"

// interaction handles a click or a shortcut: a related section shown, a vote recorded, an
// answer shared with the channel, a topic opened in App Home, a message asked about.
// Everything it asks for is queued: the caller acknowledges at once. Other interactions
// are ignored.
func (b *Bot) interaction(cb slack.InteractionCallback) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, action := range cb.ActionCallback.BlockActions {
			if b.action(cb, action) {
				return // one button per click
			}
		}
	case slack.InteractionTypeMessageAction:
		if cb.CallbackID == shortcutID {
			b.shortcut(cb)
			return
		}
	}
	b.metrics.events.WithLabelValues("interaction", "ignored").Inc()
}

// action handles one button of a click, and reports whether it was one of the bot's. A
// vote or a Share must carry a value the bot signed; showing a section to the person who
// clicked needs none (an older answer's button carries a bare section ID).
func (b *Bot) action(cb slack.InteractionCallback, action *slack.BlockAction) bool {
	user, responseURL := cb.User.ID, cb.ResponseURL
	r, signed := b.render.refs.decode(action.Value)
	id := action.ActionID
	if !signed && (id == actionFeedbackUp || id == actionFeedbackDown || id == actionShare) {
		b.metrics.refused.WithLabelValues("button_value").Inc()
		b.log.Warn("a click sent back a button value the bot did not sign", "action", id, "user", user)
		if responseURL != "" {
			b.queue("stale_button", id, func(ctx context.Context) error {
				return b.respond(ctx, responseURL, textMessage("That button belongs to an answer I can no longer vouch for. Ask again to get a fresh one."))
			})
		}
		return true
	}
	if !signed {
		r = ref{Section: r.Section} // only the section: nothing else it says can be believed
	}
	switch {
	case strings.HasPrefix(id, actionShow) && r.Section != "" && responseURL != "":
		q := question{surface: store.SurfaceButton, team: cb.Team.ID, channel: cb.Channel.ID, user: user, text: r.Question}
		b.queue("block_actions", r.Section, func(ctx context.Context) error {
			return b.respond(ctx, responseURL, b.showSection(q, r))
		})
	case id == actionFeedbackUp || id == actionFeedbackDown:
		value := 1
		if id == actionFeedbackDown {
			value = -1
		}
		b.vote(cb, r, value)
	case id == actionShare && r.Section != "" && responseURL != "":
		b.queue("share", r.Section, func(ctx context.Context) error {
			msg, ok := b.sharedAnswer(r, user)
			if !ok {
				return b.respond(ctx, responseURL, msg)
			}
			b.metrics.answers.WithLabelValues("shared").Inc()
			return b.respond(ctx, responseURL, msg, func(w *slack.WebhookMessage) {
				w.ResponseType, w.DeleteOriginal = slack.ResponseTypeInChannel, true
			})
		})
	case strings.HasPrefix(id, actionHomeTopic) && action.Value != "" && user != "":
		section := action.Value
		b.queue("home_topic", section, func(ctx context.Context) error { return b.publishHome(ctx, user, section) })
	default:
		return false
	}
	return true
}

// gone is what a button whose section left the knowledge shows.
var gone = textMessage("That section is no longer in the knowledge base. Ask again to get the current answer.")

// showSection renders a related section someone clicked, as an answer of its own (with
// feedback and Share), and records it.
func (b *Bot) showSection(q question, r ref) message {
	sec, ok := b.search.Section(r.Section)
	if !ok {
		return gone
	}
	b.metrics.answers.WithLabelValues("section").Inc()
	id := newAnswerID()
	rec := q.record(id, r.Question, store.OutcomeAnswer)
	rec.Section, rec.Parent = sec.ID, r.Answer
	b.keep(rec)
	return b.render.answer(index.Answer{Query: r.Question, Match: index.MatchAnswer, Results: []index.Result{sec}}, id, nil, view{share: true})
}

// sharedAnswer renders again the answer a Share button was under, for the channel, saying
// who shared it; false when its section has left the knowledge.
func (b *Bot) sharedAnswer(r ref, user string) (message, bool) {
	best, ok := b.search.Section(r.Section)
	if !ok {
		return gone, false
	}
	ans := index.Answer{Query: r.Question, Match: index.Match(r.Outcome), Uncovered: r.Uncovered, Results: []index.Result{best}}
	if ans.Match != index.MatchClosest {
		ans.Match, ans.Uncovered = index.MatchAnswer, nil
	}
	for _, id := range r.Related {
		if sec, ok := b.search.Section(id); ok {
			ans.Results = append(ans.Results, sec)
		}
	}
	return b.render.answer(ans, r.Answer, nil, view{sharedBy: user}), true
}

// vote records a 👍 or 👎 and thanks the person who clicked, only them: the message is not
// rewritten for everyone. In App Home, which has no response URL, the thanks is a line at
// the top of the tab.
func (b *Bot) vote(cb slack.InteractionCallback, r ref, value int) {
	user, responseURL := cb.User.ID, cb.ResponseURL
	kind := map[int]string{1: "up", -1: "down"}[value]
	b.metrics.votes.WithLabelValues(kind).Inc()
	if b.records != nil && r.Answer != "" && user != "" {
		v := store.Vote{AnswerID: r.Answer, User: user, Value: value, At: time.Now().UTC(),
			Question: r.Question, Section: r.Section, Outcome: r.Outcome}
		if !b.records.Vote(v) {
			b.metrics.records.WithLabelValues("dropped").Inc()
		}
	}
	thanks := "Thanks! Glad that helped."
	if value < 0 {
		thanks = "Thanks for telling me. I've noted that this answer didn't help, so the people who keep the knowledge can improve it."
	}
	switch {
	case responseURL != "":
		b.queue("vote", r.Answer, func(ctx context.Context) error { return b.respond(ctx, responseURL, textMessage(thanks)) })
	case cb.View.Type == slack.VTHomeTab && user != "":
		b.queue("vote", r.Answer, func(ctx context.Context) error { return b.publishHome(ctx, user, "", thanks) })
	}
}

// shortcut answers the "Ask apiorint" message shortcut: the message's text is the question,
// and the answer goes to the person who used it, with Share and feedback.
func (b *Bot) shortcut(cb slack.InteractionCallback) {
	responseURL := cb.ResponseURL
	if responseURL == "" {
		b.metrics.events.WithLabelValues("shortcut", "ignored").Inc()
		return
	}
	q := question{surface: store.SurfaceShortcut, team: cb.Team.ID, channel: cb.Channel.ID, user: cb.User.ID, text: cb.Message.Text}
	b.queue("shortcut", cb.TriggerID, func(ctx context.Context) error {
		if PlainText(q.text) == "" {
			return b.respond(ctx, responseURL, textMessage("That message has no text for me to read. Try *Ask apiorint* on a message with a question in it."))
		}
		return b.respond(ctx, responseURL, b.answer(ctx, q, view{share: true}))
	})
}
