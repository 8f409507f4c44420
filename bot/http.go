package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/apiorint/apiorint/bot/store"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

const (
	maxBody  = 1 << 20     // Slack's payloads are a few kilobytes
	busyWait = time.Second // how long a verified request waits for a slot when all are taken
	// bodyWait bounds the reading of a request's body: Slack sends a few kilobytes at once,
	// and a sender that trickles holds its own connection, nothing else, until then.
	bodyWait = 3 * time.Second
	// maxSSLCheck is the most an unsigned body is read: an ssl_check is some fifty bytes.
	maxSSLCheck = 4 << 10
	// smallBody is the size up to which a body is read without counting against the budget
	// of large ones (largeBodies): Slack's payloads are a few kilobytes.
	smallBody = 64 << 10
	// largeBudget is how many bytes of large bodies may be read at once: some 16 at the
	// largest size allowed.
	largeBudget = 16 * maxBody
)

// slackRequest verifies a request from Slack and hands its body to next. A request without a
// valid timestamp and signature gets 401 and causes nothing; one whose body is over maxBody
// gets 413; a form with ssl_check=1 (Slack checking the certificate) gets 200 and nothing
// else, signed or not. Nothing scarce is held before a request is verified: its body is
// read under a deadline of its own, an unsigned one (only ever an ssl_check) kept to a few
// kilobytes, a large one only within a budget shared by all, and only a verified request
// takes one of the slots that bound the work done at once. A body refused for its size is
// still read to its end (up to 1 MiB, under the same deadline, keeping none of it) so that
// the sender gets the answer rather than a reset connection.
func (b *Bot) slackRequest(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unsigned := b.verify.checkHeaders(r.Header)
		form := isForm(r)
		switch {
		case unsigned != nil && !form:
			b.refuse(w, r, unsigned) // not even read: only a form may be an unsigned ssl_check
			return
		case r.ContentLength > maxBody:
			// Said to be too large: refused without keeping any of it (read, up to the limit,
			// only so that the sender can read the answer).
			discard(w, r)
			b.tooLarge(w)
			return
		}
		limit := int64(maxBody)
		if unsigned != nil {
			limit = maxSSLCheck
		}
		if limit > smallBody {
			// A large body, which Slack never sends, waits for room in the budget of large
			// bodies: a sender of many cannot make the bot hold gigabytes.
			size := limit
			if r.ContentLength >= 0 {
				size = r.ContentLength
			}
			if size > smallBody {
				wait, cancel := context.WithTimeout(r.Context(), busyWait)
				err := b.largeBodies.Acquire(wait, size)
				cancel()
				if err != nil {
					b.metrics.refused.WithLabelValues("busy").Inc()
					http.Error(w, "busy, try again", http.StatusServiceUnavailable)
					return
				}
				defer b.largeBodies.Release(size)
				limit = size
			}
		}
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(bodyWait))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		rc.SetReadDeadline(time.Time{})
		if err != nil {
			switch {
			case errors.As(err, new(*http.MaxBytesError)) && unsigned != nil:
				discard(w, r)
				b.refuse(w, r, unsigned) // more than an ssl_check ever holds
			case errors.As(err, new(*http.MaxBytesError)):
				b.tooLarge(w)
			case errors.Is(err, os.ErrDeadlineExceeded):
				b.metrics.refused.WithLabelValues("slow_body").Inc()
				http.Error(w, "request body too slow", http.StatusRequestTimeout)
			default:
				b.badRequest(w, "unreadable body")
			}
			return
		}
		if form && isSSLCheck(body) {
			b.metrics.requests.WithLabelValues("http", "ssl_check").Inc()
			w.WriteHeader(http.StatusOK)
			return
		}
		if unsigned != nil {
			b.refuse(w, r, unsigned)
			return
		}
		if err := b.verify.verify(r.Header, body); err != nil {
			b.refuse(w, r, err)
			return
		}
		if !acquire(r.Context(), b.slots) {
			b.metrics.refused.WithLabelValues("busy").Inc()
			http.Error(w, "busy, try again", http.StatusServiceUnavailable)
			return
		}
		defer func() { <-b.slots }()
		next(w, r, body)
	})
}

// discard reads what is left of a request's body, up to maxBody and under bodyWait, keeping
// none of it.
func discard(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(bodyWait))
	io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
	rc.SetReadDeadline(time.Time{})
}

func (b *Bot) tooLarge(w http.ResponseWriter) {
	b.metrics.refused.WithLabelValues("too_large").Inc()
	http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// isSSLCheck reports whether a form body is Slack checking the certificate of a slash
// command's URL: "ssl_check=1&token=…", which causes nothing.
func isSSLCheck(body []byte) bool {
	if !bytes.Contains(body, []byte("ssl_check=")) {
		return false
	}
	form, err := url.ParseQuery(string(body))
	return err == nil && form.Get("ssl_check") == "1" && !form.Has("command") && !form.Has("payload")
}

// acquire takes a slot, waiting at most busyWait when none is free.
func acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	wait, cancel := context.WithTimeout(ctx, busyWait)
	defer cancel()
	select {
	case slots <- struct{}{}:
		return true
	case <-wait.Done():
		return false
	}
}

// refuse answers 401 to a request that is not verifiably from Slack.
func (b *Bot) refuse(w http.ResponseWriter, r *http.Request, err error) {
	reason := "bad_signature"
	switch err {
	case errUnsigned:
		reason = "unsigned"
	case errStale:
		reason = "stale"
	}
	b.metrics.refused.WithLabelValues(reason).Inc()
	// Anyone can send these, as fast as they like: one line per while, counting the rest,
	// so that a flood fills neither the disk nor the on-call engineer's screen.
	if held, ok := b.refusals.allow(time.Now()); ok {
		b.log.Warn("refused a request not verifiably from Slack", "path", r.URL.Path, "reason", err,
			"remote", r.RemoteAddr, "refused_unlogged", held)
	}
	http.Error(w, "invalid signature", http.StatusUnauthorized)
}

// A logLimit lets a log line through at most once per period, and counts those it holds back.
type logLimit struct {
	every time.Duration
	mu    sync.Mutex
	next  time.Time
	held  int
}

// allow reports whether a line may be logged at now, and how many were held back since the last.
func (l *logLimit) allow(now time.Time) (held int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.held++
		return 0, false
	}
	held, l.held, l.next = l.held, 0, now.Add(l.every)
	return held, true
}

func (b *Bot) badRequest(w http.ResponseWriter, why string) {
	b.metrics.refused.WithLabelValues("bad_request").Inc()
	http.Error(w, why, http.StatusBadRequest)
}

// handleEvents takes Events API requests (url_verification, event callbacks and
// app_rate_limited), and slash commands and interactions sent to the same URL.
func (b *Bot) handleEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	if isForm(r) {
		form, err := url.ParseQuery(string(body))
		switch {
		case err != nil:
			b.badRequest(w, "malformed form")
		case form.Has("payload"):
			b.handleInteraction(w, r, body)
		case form.Has("command"):
			b.handleCommand(w, r, body)
		default:
			b.badRequest(w, "neither a command nor an interaction")
		}
		return
	}
	if !json.Valid(body) {
		b.badRequest(w, "malformed JSON")
		return
	}
	e, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		// Well-formed but not an event we know: acknowledged, so Slack does not retry it.
		b.metrics.requests.WithLabelValues("http", "other").Inc()
		b.log.Debug("ignored an event we do not handle", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	switch e.Type {
	case slackevents.URLVerification:
		b.metrics.requests.WithLabelValues("http", "url_verification").Inc()
		v, _ := e.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if v == nil {
			b.badRequest(w, "url_verification without a challenge")
			return
		}
		respondJSON(w, map[string]string{"challenge": v.Challenge})
	case slackevents.CallbackEvent:
		b.metrics.requests.WithLabelValues("http", "event").Inc()
		if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
			b.log.Info("Slack is retrying an event", "attempt", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
		}
		b.event(r.Context(), e)
		w.WriteHeader(http.StatusOK)
	case slackevents.AppRateLimited:
		b.metrics.requests.WithLabelValues("http", "app_rate_limited").Inc()
		b.metrics.rateLimited.Inc()
		minute := ""
		if rl, ok := e.Data.(*slackevents.EventsAPIAppRateLimited); ok {
			minute = time.Unix(int64(rl.MinuteRateLimited), 0).UTC().Format(time.RFC3339)
		}
		b.log.Warn("Slack is not sending this app's events: more than it allows in a minute (app_rate_limited)", "minute", minute, "team", e.TeamID)
		w.WriteHeader(http.StatusOK)
	default:
		b.metrics.requests.WithLabelValues("http", "other").Inc()
		w.WriteHeader(http.StatusOK)
	}
}

// handleCommand answers a slash command in the response itself.
func (b *Bot) handleCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	// The body was read to verify it: slack-go parses it again from a fresh reader.
	r.Body = io.NopCloser(bytes.NewReader(body))
	cmd, err := slack.SlashCommandParse(r)
	if err != nil || cmd.Command == "" {
		b.badRequest(w, "not a slash command")
		return
	}
	b.metrics.requests.WithLabelValues("http", "command").Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.command(r.Context(), cmd).ephemeralJSON())
}

// command answers a slash command: "gaps" is the gap report, anything else a question. The
// answer is the response itself, so it must come well within Slack's 3 seconds: searching
// takes a millisecond.
func (b *Bot) command(ctx context.Context, cmd slack.SlashCommand) message {
	b.log.Debug("slash command", "user", cmd.UserID, "channel", cmd.ChannelID, "command", cmd.Command)
	if strings.EqualFold(strings.TrimSpace(cmd.Text), "gaps") {
		return b.gapsMessage(ctx, cmd.UserID, cmd.ResponseURL)
	}
	return b.answer(ctx, question{surface: store.SurfaceSlash, team: cmd.TeamID, channel: cmd.ChannelID, user: cmd.UserID, text: cmd.Text}, view{share: true})
}

// handleInteraction acknowledges an interaction at once; what it asks for is sent to its
// response URL.
func (b *Bot) handleInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil || !form.Has("payload") {
		b.badRequest(w, "no interaction payload")
		return
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		b.badRequest(w, "malformed interaction payload")
		return
	}
	b.metrics.requests.WithLabelValues("http", "interaction").Inc()
	b.interaction(cb)
	w.WriteHeader(http.StatusOK)
}

// handleHealth answers 200 once the bot is running (its token checked, its transports up,
// in Socket Mode connected once), and 503 before that and while it stops. It says which
// knowledge is in service, and how Redis is when the bot shares state through it.
func (b *Bot) handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := map[string]any{"status": "ok", "mode": "http"}
		if b.cfg.SocketMode() {
			status["mode"] = "socket"
			status["socket_connected"] = b.connected.Load()
		}
		if b.knowledge != nil {
			status["sections"], status["knowledge"] = b.knowledge.Size(), b.knowledge.Hash()
		} else {
			status["sections"] = len(b.search.Topics())
		}
		if b.redis != nil {
			status["redis"] = b.redis.Status()
		}
		// In Socket Mode a bot that has never reached Slack answers nothing: not healthy
		// until the first connection. A later reconnect (socket_connected false) is the
		// client's to mend, and no reason to restart the bot.
		notReady := ""
		switch {
		case !b.running.Load():
			notReady = "not running"
		case b.cfg.SocketMode() && !b.everConnected.Load():
			notReady = "connecting"
		}
		if notReady != "" {
			status["status"] = notReady
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(status)
			return
		}
		respondJSON(w, status)
	})
}

// recoverPanics turns a panic in a handler into a 500, a log line and a count, rather than a
// dropped connection.
func (b *Bot) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				b.metrics.panics.Inc()
				b.log.Error("panic in HTTP handler", "path", r.URL.Path, "panic", p)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func respondJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
