package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/apiorint/apiorint/bot/redisstate"
	"github.com/apiorint/apiorint/bot/store"
	"github.com/apiorint/apiorint/index"
	"github.com/slack-go/slack"
	"golang.org/x/sync/semaphore"
)

// A Searcher finds the sections that answer a question; *index.Index and *index.Live are
// ones.
type Searcher interface {
	// Search returns the sections that best answer text, at most n, best first.
	Search(ctx context.Context, text string, n int) (index.Answer, error)
	// Section returns the section with id, and false when there is none.
	Section(id string) (index.Result, bool)
	// Topics returns the sections that can be asked about.
	Topics() []index.Topic
}

// A Recorder keeps the record of questions answered and votes given, without ever making
// the caller wait; *store.Recorder is one. Each method reports whether it took the record.
type Recorder interface {
	Question(store.Question) bool
	Vote(store.Vote) bool
}

// Reports reads the record back for the gap report and App Home; store.Store is one.
type Reports interface {
	Gaps(ctx context.Context, since time.Time, limit int) ([]store.Gap, error)
	Stats(ctx context.Context, since time.Time) (store.Stats, error)
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
	// MaxConcurrent bounds the verified Slack requests handled at once over HTTP; one more
	// waits a second for a slot, then gets 503 (Slack tries again). Zero means 256.
	MaxConcurrent int
	// ShutdownWait bounds how long a stop waits for requests and replies in flight;
	// zero means 20 seconds.
	ShutdownWait time.Duration
	// Now is the clock requests are verified against; nil means time.Now.
	Now func() time.Time
	// Recorder keeps the record of questions and votes; nil records nothing.
	Recorder Recorder
	// Reports reads the record for /apiorint gaps and App Home; nil means there is none.
	Reports Reports
	// Redis shares what was handled, and the posting rate, with other replicas; nil keeps
	// both in this process.
	Redis *redisstate.Client
	// PostRate and PostBurst bound the messages posted to one channel: zero means Slack's
	// guidance, one a second with short bursts of three.
	PostRate  float64
	PostBurst int
	// Knowledge describes the knowledge in service for /healthz; nil leaves it out.
	Knowledge Knowledge
}

// Knowledge describes the knowledge in service; *index.Index and *index.Live do.
type Knowledge interface {
	Size() int    // sections that can be answers
	Hash() string // the same knowledge, the same hash
}

// A limiter spaces the messages posted to a channel.
type limiter interface {
	Wait(ctx context.Context, channel string) error
}

// A Bot answers questions asked in Slack: slash commands, mentions, direct messages, message
// shortcuts, button clicks and App Home, over Socket Mode or HTTP. Both transports feed the
// same methods, so the behaviour does not depend on which one carried a request.
type Bot struct {
	cfg     Config
	search  Searcher
	api     *slack.Client
	http    *http.Client
	log     *slog.Logger
	metrics *metrics
	verify  verifier
	seen    *seenSet
	redis   *redisstate.Client
	rate    limiter
	slots   chan struct{} // one per verified Slack request being handled over HTTP
	// largeBodies bounds the large request bodies read, before they are verified.
	largeBodies *semaphore.Weighted // bytes
	render      *renderer
	replies     *replyQueue
	records     Recorder
	reports     Reports
	knowledge   Knowledge
	wait        time.Duration
	responses   responseHosts
	refusals    logLimit // warnings about requests refused as not from Slack

	started       atomic.Bool
	self          atomic.Pointer[identity] // who the bot is, from auth.test
	running       atomic.Bool
	connected     atomic.Bool // Socket Mode only
	everConnected atomic.Bool // Socket Mode only: connected at least once
}

type identity struct{ UserID, BotID, Team string }

// Sizes of things the bot keeps.
const (
	resultsPerAnswer = 4      // the answer and three more to offer as buttons
	seenCapacity     = 50_000 // event IDs and messages remembered against Slack's retries
	replyTimeout     = 60 * time.Second
)

// New returns a bot for cfg that answers from s. It starts nothing and does not touch the
// network: Run or Serve do.
func New(cfg Config, s Searcher, opts Options) *Bot {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		// No redirects: a response URL is checked before it is posted to, and a redirect
		// would take the answer somewhere that was not.
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
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
	b := &Bot{
		cfg:         cfg,
		search:      s,
		api:         slack.New(cfg.BotToken, apiOpts...),
		http:        opts.HTTPClient,
		log:         opts.Logger,
		metrics:     m,
		verify:      newVerifier(cfg.SigningSecret, opts.Now),
		seen:        newSeenSet(seenCapacity),
		redis:       opts.Redis,
		slots:       make(chan struct{}, opts.MaxConcurrent),
		largeBodies: semaphore.NewWeighted(largeBudget),
		render:      newRenderer(newRefSigner(cfg.BotToken)),
		replies:     newReplyQueue(opts.Workers, opts.QueueSize, replyTimeout, opts.Logger, m),
		records:     opts.Recorder,
		reports:     opts.Reports,
		knowledge:   opts.Knowledge,
		wait:        opts.ShutdownWait,
		responses:   newResponseHosts(cfg.APIURL),
		refusals:    logLimit{every: 10 * time.Second},
	}
	b.rate = redisstate.NewLocalLimiter(opts.PostRate, opts.PostBurst)
	if opts.Redis != nil {
		b.rate = opts.Redis
	}
	m.watch(b)
	return b
}

// Run serves on cfg.ListenAddr until ctx ends; see Serve.
func (b *Bot) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", b.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %s: %w", b.cfg.ListenAddr, err)
	}
	return b.Serve(ctx, ln)
}

// errServedAlready is what a second Serve returns: a bot serves once.
var errServedAlready = errors.New("bot: Serve was already called")

// Serve checks the bot token with auth.test, starts the reply workers, then serves HTTP on
// ln (health, metrics, and the Slack endpoints in HTTP mode) and, in Socket Mode, takes
// Slack's requests over a websocket, until ctx ends. Then it stops taking work, finishes
// what is in flight (for at most ShutdownWait) and returns nil. It returns an error when the
// bot cannot start or Slack refuses its tokens. A Bot serves once.
func (b *Bot) Serve(ctx context.Context, ln net.Listener) error {
	defer ln.Close()
	if !b.started.CompareAndSwap(false, true) {
		return errServedAlready
	}
	if err := b.authenticate(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           b.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		// No ReadTimeout: a request's body is read under a deadline of its own (see
		// slackRequest), so that a slow sender holds nothing but its own connection.
		WriteTimeout:   10 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(b.log.Handler(), slog.LevelWarn),
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

// Slack's errors that mean the token itself is refused, not that Slack failed.
var refusedToken = []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
	"not_allowed_token_type", "missing_scope", "no_permission", "team_access_not_granted"}

// authenticate asks Slack who the bot token belongs to, which also proves it works: a bad or
// revoked token stops the bot at once with a message that says so (and not the token).
func (b *Bot) authenticate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := b.api.AuthTestContext(ctx)
	if err != nil {
		api := redactURL(b.cfg.APIURL)
		var slackErr slack.SlackErrorResponse
		switch {
		case errors.As(err, &slackErr) && slices.Contains(refusedToken, slackErr.Err):
			return fmt.Errorf("SLACK_BOT_TOKEN was refused by Slack (%s): check the token, or reinstall the app to get a new one", slackErr.Err)
		case errors.As(err, &slackErr):
			return fmt.Errorf("auth.test at %s answered %q, so the bot token could not be checked: try again later", api, slackErr.Err)
		default:
			return fmt.Errorf("auth.test at %s failed, so the bot token could not be checked: %w", api, redactError(err))
		}
	}
	b.self.Store(&identity{UserID: res.UserID, BotID: res.BotID, Team: res.Team})
	return nil
}

// ReloadResult counts a reload of the knowledge: err is nil when the new knowledge is in
// service.
func (b *Bot) ReloadResult(err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	b.metrics.reloads.WithLabelValues(result).Inc()
}
