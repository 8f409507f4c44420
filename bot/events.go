package bot

import (
	"context"
	"slices"
	"time"

	"github.com/apiorint/apiorint/bot/store"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// User messages that are questions although they carry a subtype: a message sent with a
// file (its text is the question), one "also sent to the channel" from a thread, and /me.
var questionSubtypes = []string{"", "file_share", "thread_broadcast", "me_message"}

// event handles an Events API callback: a mention or a direct message is queued to be
// answered, at most once per event and per message, by this process or, with Redis, by any
// replica; App Home is published when opened; everything else is ignored. It never waits for
// Slack, so the caller can acknowledge at once.
func (b *Bot) event(ctx context.Context, e slackevents.EventsAPIEvent) {
	cb, _ := e.Data.(*slackevents.EventsAPICallbackEvent)
	eventID := ""
	if cb != nil {
		eventID = cb.EventID
	}
	var q question
	var ts, thread, kind string
	q.team = e.TeamID
	switch ev := e.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		kind, q.surface = "app_mention", store.SurfaceMention
		if b.fromBot(ev.User, ev.BotID) || ev.Edited != nil {
			b.metrics.events.WithLabelValues(kind, "ignored").Inc()
			return
		}
		q.channel, q.user, q.text, ts = ev.Channel, ev.User, ev.Text, ev.TimeStamp
		thread = ev.ThreadTimeStamp
		if thread == "" {
			thread = ev.TimeStamp
		}
	case *slackevents.MessageEvent:
		kind, q.surface = "message", store.SurfaceDM
		// Only messages people send the bot directly: not its own, not other bots', not
		// edits, deletions, joins or other subtypes that are not a person writing, and not
		// channel messages (a mention there arrives as app_mention). A reply in the thread
		// of an answer is answered in that thread: a follow-up question.
		if ev.ChannelType != "im" || !slices.Contains(questionSubtypes, ev.SubType) || ev.User == "" || b.fromBot(ev.User, ev.BotID) {
			b.metrics.events.WithLabelValues(kind, "ignored").Inc()
			return
		}
		q.channel, q.user, q.text, ts, thread = ev.Channel, ev.User, ev.Text, ev.TimeStamp, ev.ThreadTimeStamp
	case *slackevents.AppHomeOpenedEvent:
		if ev.Tab != "home" || ev.User == "" {
			b.metrics.events.WithLabelValues("app_home_opened", "ignored").Inc()
			return
		}
		user := ev.User
		b.queue("app_home_opened", eventID, func(ctx context.Context) error { return b.publishHome(ctx, user, "") })
		return
	default:
		b.metrics.events.WithLabelValues("other", "ignored").Inc()
		return
	}
	if q.channel == "" {
		// Nowhere to answer: chat.postMessage to "" would only fail.
		b.metrics.events.WithLabelValues(kind, "no_channel").Inc()
		b.log.Warn("event without a channel ignored", "event_id", eventID, "kind", kind)
		return
	}
	// One answer per event (Slack retries) and per message (a mention in a DM can arrive
	// both as app_mention and as message).
	if !b.firstDelivery(ctx, dedupeKeys(eventID, q.channel, ts)...) {
		b.metrics.events.WithLabelValues(kind, "duplicate").Inc()
		b.log.Debug("duplicate event ignored", "event_id", eventID, "kind", kind)
		return
	}
	// The channel's posting rate is waited for first, without holding a worker: a burst in
	// one channel does not hold up the answers to others.
	wait := func(ctx context.Context) error { return b.rate.Wait(ctx, q.channel) }
	b.queueAfter(kind, eventID, wait, func(ctx context.Context) error {
		msg := b.answer(ctx, q, view{})
		_, _, err := b.api.PostMessageContext(ctx, q.channel,
			slack.MsgOptionText(msg.Text, false),
			slack.MsgOptionBlocks(msg.Blocks...),
			slack.MsgOptionTS(thread))
		return redactError(err)
	})
}

// queue hands work to the reply workers and counts what became of the event.
func (b *Bot) queue(kind, id string, do func(context.Context) error) {
	b.queueAfter(kind, id, nil, do)
}

// queueAfter is queue for work that must first wait for something, without a worker. It
// reports whether the work was taken: not when the queue is full or the bot stopping.
func (b *Bot) queueAfter(kind, id string, wait, do func(context.Context) error) bool {
	taken := b.replies.enqueue(reply{what: kind + " " + id, wait: wait, do: do})
	outcome := "queued"
	if !taken {
		outcome = "dropped"
	}
	b.metrics.events.WithLabelValues(kind, outcome).Inc()
	return taken
}

// dedupeKeys are the keys an event is known by: its ID, and its channel and timestamp.
// A part Slack did not send makes no key: "event:" alone would make every event without an
// ID a duplicate of the first.
func dedupeKeys(eventID, channel, ts string) []string {
	var keys []string
	if eventID != "" {
		keys = append(keys, "event:"+eventID)
	}
	if ts != "" {
		keys = append(keys, "message:"+channel+":"+ts)
	}
	return keys
}

// sharedCheck bounds how long the shared "already handled?" check may hold an
// acknowledgement (Slack waits 3 s for it): past it, the answer is given, as when Redis is
// down (a rare duplicate beats silence).
const sharedCheck = 2 * time.Second

// firstDelivery reports whether none of keys was handled before: by this process, then,
// with Redis, by any replica. When Redis cannot say, it is this process's word that counts.
func (b *Bot) firstDelivery(ctx context.Context, keys ...string) bool {
	if !b.seen.first(keys...) {
		return false
	}
	if b.redis == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, sharedCheck)
	defer cancel()
	first, err := b.redis.FirstSeen(ctx, keys...)
	if err != nil {
		b.metrics.events.WithLabelValues("dedupe", "redis_unavailable").Inc()
		return true
	}
	return first
}

// fromBot reports whether a message was sent by this bot or by any bot.
func (b *Bot) fromBot(user, botID string) bool {
	me := b.self.Load()
	return botID != "" || (me != nil && user == me.UserID)
}
