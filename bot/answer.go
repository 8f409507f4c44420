package bot

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/apiorint/apiorint/bot/store"
)

// A question is something someone asked the bot, and where.
type question struct {
	surface             string // store.Surface…
	team, channel, user string
	text                string // as Slack sent it, markup and all
}

// answer searches for a question and renders the reply for view v, counting what happened
// and recording the question. Help, an empty question and small talk get how to ask and are
// not recorded: they are not questions about the knowledge.
func (b *Bot) answer(ctx context.Context, q question, v view) message {
	text := PlainText(q.text)
	if isHelp(text) {
		b.metrics.answers.WithLabelValues("usage").Inc()
		return usageMessage(b.search.Topics())
	}
	start := time.Now()
	ans, err := b.search.Search(ctx, text, resultsPerAnswer)
	b.metrics.search.Observe(time.Since(start).Seconds())
	if err != nil {
		b.log.Error("search failed", "err", err)
		b.metrics.answers.WithLabelValues("error").Inc()
		return message{Text: "Sorry, something went wrong while looking that up. Please try again."}
	}
	if ans.SmallTalk {
		b.metrics.answers.WithLabelValues("small_talk").Inc()
		return b.render.answer(ans, "", nil, v)
	}
	b.metrics.answers.WithLabelValues(string(ans.Match)).Inc()
	id := newAnswerID()
	rec := q.record(id, text, string(ans.Match))
	if len(ans.Results) > 0 {
		rec.Section, rec.Score = ans.Results[0].ID, ans.Results[0].Score
	}
	b.keep(rec)
	return b.render.answer(ans, id, b.search.Topics(), v)
}

// record is the record of answer id given to q, read as text, with outcome.
func (q question) record(id, text, outcome string) store.Question {
	return store.Question{ID: id, At: time.Now().UTC(), Surface: q.surface, Team: q.team, Channel: q.channel, User: q.user,
		Text: text, Outcome: outcome}
}

// keep hands rec to the recorder, if the bot keeps records.
func (b *Bot) keep(rec store.Question) {
	if b.records != nil && !b.records.Question(rec) {
		b.metrics.records.WithLabelValues("dropped").Inc()
	}
}

// newAnswerID returns an ID for an answer, which its buttons carry back: the time, then
// random bytes. IDs that grow with time are added at the end of the record's index rather
// than all over it, which makes recording each question several times cheaper.
func newAnswerID() string {
	var raw [12]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(time.Now().UnixNano()))
	rand.Read(raw[8:])
	return hex.EncodeToString(raw[:])
}

// isHelp reports whether a question asks how to use the bot rather than asking something:
// nothing at all, or "help".
func isHelp(text string) bool {
	q := strings.ToLower(strings.Trim(text, " \t\n?!.:"))
	return q == "" || q == "help" || q == "usage" || q == "?"
}
