package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// A Searcher finds the sections that answer a question; *index.Index is one.
type Searcher interface {
	Search(ctx context.Context, q index.Query) (index.Answer, error)
}

// Options tune a Bot; the zero value is ready for production.
type Options struct {
	Logger *slog.Logger
	// HTTPClient calls Slack's Web API and response URLs; nil means a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// Retry says how calls to Slack are retried: nil means up to three times after a 429
	// (honouring Retry-After) or a 5xx.
	Retry *slack.RetryConfig
	// Workers and QueueSize bound the replies sent after acknowledgements; zero means 8
	// workers and 1,000 waiting replies.
	Workers, QueueSize int
	// MaxConcurrent bounds the Slack requests handled at once over HTTP; one more waits a
	// second for a slot, then gets 503 (Slack tries again). Zero means 256.
	MaxConcurrent int
	// ShutdownWait bounds how long a stop waits for requests and replies in flight;
	// zero means 20 seconds.
	ShutdownWait time.Duration
	// Now is the clock requests are verified against; nil means time.Now.
	Now func() time.Time
}

// A Bot answers questions asked in Slack: slash commands, mentions, direct messages and
// button clicks, over Socket Mode or HTTP. Both transports feed the same methods, so the
// behaviour does not depend on which one carried a request.
type Bot struct {
	cfg     Config
	search  Searcher
	api     *slack.Client
	http    *http.Client
	log     *slog.Logger
	metrics *metrics
	verify  verifier
	seen    *seenSet
	slots   chan struct{} // one per Slack request being handled over HTTP
	render  *renderer
	replies *replyQueue
	wait    time.Duration

	self      atomic.Pointer[identity] // who the bot is, from auth.test
	running   atomic.Bool
	connected atomic.Bool // Socket Mode only
}

type identity struct{ UserID, BotID, Team string }

// Sizes of things the bot keeps.
const (
	resultsPerAnswer = 4      // the answer and three more to offer as buttons
	seenCapacity     = 50_000 // event IDs and messages remembered against Slack's retries
	replyTimeout     = 60 * time.Second
)

// New returns a bot for cfg that answers from s. It does not touch the network until Run or
// Serve.
func New(cfg Config, s Searcher, opts Options) *Bot {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Retry == nil {
		r := slack.DefaultRetryConfig()
		r.RetryAfterDuration = 5 * time.Second
		r.BackoffInitial, r.BackoffMax = 200*time.Millisecond, 5*time.Second
		r.Handlers = []slack.RetryHandler{slack.NewRateLimitErrorRetryHandler(r), slack.NewServerErrorRetryHandler(r)}
		opts.Retry = &r
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1000
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = 256
	}
	if opts.ShutdownWait <= 0 {
		opts.ShutdownWait = 20 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	apiOpts := []slack.Option{
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(opts.HTTPClient),
		slack.OptionRetryConfig(*opts.Retry), // after OptionHTTPClient, which would replace it
	}
	if cfg.AppToken != "" {
		apiOpts = append(apiOpts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	m := newMetrics()
	return &Bot{
		cfg:     cfg,
		search:  s,
		api:     slack.New(cfg.BotToken, apiOpts...),
		http:    opts.HTTPClient,
		log:     opts.Logger,
		metrics: m,
		verify:  newVerifier(cfg.SigningSecret, opts.Now),
		seen:    newSeenSet(seenCapacity),
		slots:   make(chan struct{}, opts.MaxConcurrent),
		render:  newRenderer(),
		replies: newReplyQueue(opts.Workers, opts.QueueSize, replyTimeout, opts.Logger, m),
		wait:    opts.ShutdownWait,
	}
}

// Run serves on cfg.ListenAddr until ctx ends; see Serve.
func (b *Bot) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", b.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %s: %w", b.cfg.ListenAddr, err)
	}
	return b.Serve(ctx, ln)
}

// Serve checks the bot token with auth.test, then serves HTTP on ln (health, metrics, and the
// Slack endpoints in HTTP mode) and, in Socket Mode, takes Slack's requests over a websocket,
// until ctx ends. Then it stops taking work, finishes what is in flight (for at most
// ShutdownWait) and returns nil. It returns an error when the bot cannot start or Slack
// refuses its tokens.
func (b *Bot) Serve(ctx context.Context, ln net.Listener) error {
	defer ln.Close()
	if err := b.authenticate(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           b.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelWarn),
	}
	failed := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("http server: %w", err)
		}
	}()
	socketCtx, stopSocket := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSocket()
	socketDone := make(chan struct{})
	if b.cfg.SocketMode() {
		go func() {
			defer close(socketDone)
			if err := b.runSocketMode(socketCtx); err != nil && socketCtx.Err() == nil {
				failed <- err
			}
		}()
	} else {
		close(socketDone)
	}
	b.running.Store(true)
	me := b.self.Load()
	b.log.Info("apiorint is running", "config", b.cfg.String(), "addr", ln.Addr().String(), "bot_user", me.UserID, "team", me.Team)

	var err error
	select {
	case <-ctx.Done():
		b.log.Info("stopping: finishing the work in flight", "wait", b.wait)
	case err = <-failed:
		b.log.Error("stopping", "err", err)
	}
	b.running.Store(false)
	stopSocket()
	<-socketDone
	stopCtx, cancel := context.WithTimeout(context.Background(), b.wait)
	defer cancel()
	if serr := srv.Shutdown(stopCtx); serr != nil {
		b.log.Warn("http requests still running at shutdown were cut", "err", serr)
	}
	if rerr := b.replies.stop(stopCtx); rerr != nil {
		b.log.Warn("shutdown", "err", rerr)
	}
	b.log.Info("stopped")
	return err
}

// authenticate asks Slack who the bot token belongs to, which also proves it works: a bad or
// revoked token stops the bot at once with a message that says so (and not the token).
func (b *Bot) authenticate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := b.api.AuthTestContext(ctx)
	if err != nil {
		var slackErr slack.SlackErrorResponse
		switch {
		case errors.As(err, &slackErr) || isAuthError(err):
			return fmt.Errorf("SLACK_BOT_TOKEN was refused by Slack (%v): check the token, or reinstall the app to get a new one", err)
		default:
			return fmt.Errorf("auth.test at %s failed, so the bot token could not be checked: %w", b.cfg.APIURL, err)
		}
	}
	b.self.Store(&identity{UserID: res.UserID, BotID: res.BotID, Team: res.Team})
	return nil
}

func isAuthError(err error) bool {
	switch err.Error() {
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type", "missing_scope":
		return true
	}
	return false
}

// answer searches for question and renders the reply, counting what happened.
func (b *Bot) answer(ctx context.Context, question string) message {
	question = strings.TrimSpace(question)
	if isHelp(question) {
		b.metrics.answers.WithLabelValues("usage").Inc()
		return usageMessage(b.topics(ctx))
	}
	start := time.Now()
	ans, err := b.search.Search(ctx, index.Query{Text: question, Size: resultsPerAnswer})
	b.metrics.search.Observe(time.Since(start).Seconds())
	if err != nil {
		b.log.Error("search failed", "err", err)
		b.metrics.answers.WithLabelValues("error").Inc()
		return message{Text: "Sorry, something went wrong while looking that up. Please try again."}
	}
	if len(ans.Results) == 0 {
		b.metrics.answers.WithLabelValues("no_match").Inc()
	} else {
		b.metrics.answers.WithLabelValues("answered").Inc()
	}
	return b.render.answer(ans)
}

// isHelp reports whether question asks how to use the bot rather than asking something:
// nothing at all (once mentions are left out), or "help".
func isHelp(question string) bool {
	q := strings.ToLower(strings.Trim(mentionPattern.ReplaceAllString(question, ""), " \t\n?!.:"))
	return q == "" || q == "help" || q == "usage" || q == "?"
}

// topics asks the searcher what it knows about, for the usage message.
func (b *Bot) topics(ctx context.Context) []string {
	ans, err := b.search.Search(ctx, index.Query{})
	if err != nil {
		return nil
	}
	return ans.Topics
}

// command answers a slash command. The answer is the response itself, so it must come well
// within Slack's 3 seconds: searching takes a millisecond.
func (b *Bot) command(ctx context.Context, cmd slack.SlashCommand) message {
	b.log.Debug("slash command", "user", cmd.UserID, "channel", cmd.ChannelID, "command", cmd.Command)
	return b.answer(ctx, cmd.Text)
}

// event handles an Events API callback: a mention or a direct message is queued to be
// answered, at most once per event and per message; everything else is ignored. It never
// waits for Slack, so the caller can acknowledge at once.
func (b *Bot) event(e slackevents.EventsAPIEvent) {
	cb, _ := e.Data.(*slackevents.EventsAPICallbackEvent)
	eventID := ""
	if cb != nil {
		eventID = cb.EventID
	}
	var channel, ts, thread, text, kind string
	switch ev := e.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		kind = "app_mention"
		if b.fromMe(ev.User, ev.BotID) || ev.Edited != nil {
			b.metrics.events.WithLabelValues(kind, "ignored").Inc()
			return
		}
		channel, ts, text = ev.Channel, ev.TimeStamp, ev.Text
		thread = ev.ThreadTimeStamp
		if thread == "" {
			thread = ev.TimeStamp
		}
	case *slackevents.MessageEvent:
		kind = "message"
		// Only new messages people send the bot directly: not its own, not other bots',
		// not edits, joins or any other subtype, and not channel messages (a mention there
		// arrives as app_mention).
		if ev.ChannelType != "im" || ev.SubType != "" || b.fromMe(ev.User, ev.BotID) {
			b.metrics.events.WithLabelValues(kind, "ignored").Inc()
			return
		}
		channel, ts, thread, text = ev.Channel, ev.TimeStamp, ev.ThreadTimeStamp, ev.Text
	default:
		b.metrics.events.WithLabelValues("other", "ignored").Inc()
		return
	}
	// One answer per event (Slack retries) and per message (a mention in a DM can arrive
	// both as app_mention and as message).
	if !b.seen.first("event:"+eventID, "message:"+channel+":"+ts) {
		b.metrics.events.WithLabelValues(kind, "duplicate").Inc()
		b.log.Debug("duplicate event ignored", "event_id", eventID, "kind", kind)
		return
	}
	queued := b.replies.enqueue(reply{
		what: kind + " " + eventID,
		do: func(ctx context.Context) error {
			msg := b.answer(ctx, text)
			_, _, err := b.api.PostMessageContext(ctx, channel,
				slack.MsgOptionText(msg.Text, false),
				slack.MsgOptionBlocks(msg.Blocks...),
				slack.MsgOptionTS(thread))
			return err
		},
	})
	outcome := "queued"
	if !queued {
		outcome = "dropped"
	}
	b.metrics.events.WithLabelValues(kind, outcome).Inc()
}

// fromMe reports whether a message was sent by this bot or by any bot.
func (b *Bot) fromMe(user, botID string) bool {
	me := b.self.Load()
	return botID != "" || (me != nil && user == me.UserID)
}

// interaction handles a click on a "show that section" button: the section goes to the
// person who clicked, through the action's response URL. Other interactions are ignored.
func (b *Bot) interaction(cb slack.InteractionCallback) {
	if cb.Type != slack.InteractionTypeBlockActions || cb.ResponseURL == "" {
		b.metrics.events.WithLabelValues("interaction", "ignored").Inc()
		return
	}
	for _, action := range cb.ActionCallback.BlockActions {
		if !strings.HasPrefix(action.ActionID, actionShow) || action.Value == "" {
			continue
		}
		id, responseURL := action.Value, cb.ResponseURL
		queued := b.replies.enqueue(reply{
			what: "block_actions " + id,
			do: func(ctx context.Context) error {
				ans, err := b.search.Search(ctx, index.Query{ID: id})
				if err != nil {
					return err
				}
				msg := message{Text: "That section is no longer in the knowledge base."}
				if len(ans.Results) > 0 {
					msg = b.render.section(ans.Results[0])
				}
				b.metrics.answers.WithLabelValues("section").Inc()
				return b.respond(ctx, responseURL, msg)
			},
		})
		outcome := "queued"
		if !queued {
			outcome = "dropped"
		}
		b.metrics.events.WithLabelValues("block_actions", outcome).Inc()
		return // one button per click
	}
	b.metrics.events.WithLabelValues("interaction", "ignored").Inc()
}

// respond posts msg to a response URL, as an ephemeral message that replaces nothing.
func (b *Bot) respond(ctx context.Context, responseURL string, msg message) error {
	return slack.PostWebhookCustomHTTPContext(ctx, responseURL, b.http, msg.webhook())
}

// mentionPattern matches Slack's markup for mentions and special mentions: <@U123>,
// <@U123|name>, <!here>.
var mentionPattern = regexp.MustCompile(`<[@!][^<>]*>`)
