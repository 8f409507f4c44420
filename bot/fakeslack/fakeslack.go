// Package fakeslack is a stand-in for Slack on loopback, for tests and load runs: the Web API
// methods the bot calls (auth.test, chat.postMessage, chat.postEphemeral, views.publish,
// apps.connections.open), response URLs, and Socket Mode websockets — several at once, as
// Slack allows one per bot replica — that send envelopes and record acknowledgements. It
// records what it is sent, and can be told to be slow or to fail.
//
// The Web API is in webapi.go, Socket Mode in socket.go. Every method of Server is safe for
// concurrent use.
package fakeslack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Tokens the fake accepts.
const (
	BotToken  = "xoxb-fake-bot-token"
	AppToken  = "xapp-fake-app-token"
	BotUserID = "U0BOT"
	BotID     = "B0BOT"
)

// A Post is a message the bot sent: with chat.postMessage or chat.postEphemeral, or to a
// response URL (then ResponseURL names which).
type Post struct {
	Channel  string          `json:"channel"`
	ThreadTS string          `json:"thread_ts"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks"`
	// User is whom a chat.postEphemeral message is shown to.
	User        string `json:"user"`
	ResponseURL string `json:"-"`
	// ResponseType is "ephemeral" for a message that only its user sees: a response URL
	// post that asked for it, or any chat.postEphemeral.
	ResponseType    string `json:"response_type"`
	ReplaceOriginal bool   `json:"replace_original"`
	DeleteOriginal  bool   `json:"delete_original"`
	// TS is the message ts the fake answered with (chat.postMessage's "ts",
	// chat.postEphemeral's "message_ts"); empty for response URLs, which answer "ok".
	TS string `json:"-"`
	// At is when the fake received the request, before any SetPostDelay: what a rate
	// limit would count.
	At time.Time `json:"-"`
}

// An Ack is the bot's acknowledgement of a Socket Mode envelope.
type Ack struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
	At         time.Time       `json:"-"`
	// Conn is the connection the ack came over, numbered in the order connections were
	// opened: 0 for the first one this Server ever accepted, and never reused, so that it
	// still names the same replica after others came and went. It is not the index SendTo
	// takes (that one counts open connections only); OpenConnectionIDs maps one to the other.
	// It says which connection wrote the ack, not which one carried the envelope: slack-go
	// queues acks per client, not per connection, so an ack made just before a reconnect
	// goes out over the new connection.
	Conn int `json:"-"`
}

// A View is a Home tab the bot published with views.publish.
type View struct {
	UserID string          `json:"user_id"`
	View   json.RawMessage `json:"view"`
	At     time.Time       `json:"-"`
}

// Server is the fake Slack. Its zero value is not usable; call New.
type Server struct {
	URL    string // http://127.0.0.1:port
	APIURL string // URL + "/api/", what SLACK_API_URL should be

	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced whenever something is recorded
	posts     []Post
	views     []View
	acks      []Ack
	calls     map[string]int
	failures  []failure
	postDelay time.Duration
	authError string
	lastTS    int64         // microseconds of the last ts handed out, to keep them unique
	open      []*connection // open Socket Mode connections, oldest first
	conns     int           // Socket Mode connections ever opened
	nextEnv   atomic.Int64
	nextView  atomic.Int64
	// refuseSockets makes Socket Mode connections fail: Slack out of reach.
	refuseSockets atomic.Bool
}

type failure struct {
	status     int
	retryAfter string
}

// New starts a fake Slack on a loopback port.
func New() *Server {
	s := &Server{changed: make(chan struct{}), calls: make(map[string]int)}
	// The client sends Origin: https://api.slack.com, as it would to Slack.
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth.test", s.authTest)
	mux.HandleFunc("POST /api/chat.postMessage", s.postMessage)
	mux.HandleFunc("POST /api/chat.postEphemeral", s.postEphemeral)
	mux.HandleFunc("POST /api/views.publish", s.publishView)
	mux.HandleFunc("POST /api/apps.connections.open", s.connectionsOpen)
	mux.HandleFunc("POST /response/{name}", s.response)
	mux.HandleFunc("GET /ws", s.websocket)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.APIURL = s.srv.URL + "/api/"
	return s
}

// RefuseSockets makes new Socket Mode connections fail (503 instead of the websocket) while
// on, as when Slack cannot be reached; open ones stay.
func (s *Server) RefuseSockets(on bool) { s.refuseSockets.Store(on) }

// Close stops the server and drops every websocket. (httptest.Server.Close does not wait
// for hijacked connections, so they are closed here.)
func (s *Server) Close() {
	var open []*connection
	s.record(func() { open, s.open = s.open, nil })
	for _, c := range open {
		c.ws.Close()
	}
	s.srv.Close()
}

// ResponseURL returns a response URL that records what is posted to it under name.
func (s *Server) ResponseURL(name string) string { return s.URL + "/response/" + name }

// FailPosts makes the next chat.postMessage calls fail with these statuses, in order: 429
// comes with Retry-After: 1. (chat.postEphemeral is not affected, so that a test of
// retries on one does not depend on when the other is called.)
func (s *Server) FailPosts(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range statuses {
		f := failure{status: st}
		if st == http.StatusTooManyRequests {
			f.retryAfter = "1"
		}
		s.failures = append(s.failures, f)
	}
}

// SetPostDelay makes chat.postMessage, chat.postEphemeral and response URLs answer after d.
func (s *Server) SetPostDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.postDelay = d
}

// RefuseAuth makes auth.test answer {"ok": false, "error": code}, e.g. "invalid_auth".
func (s *Server) RefuseAuth(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authError = code
}

// Calls returns how many times a Web API method was called, failed calls included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Posts returns what was posted so far, in the order it was recorded.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// PostsTo returns what was posted so far to one channel, in order; each Post's At says
// when, for tests of a per-channel rate.
func (s *Server) PostsTo(channel string) []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, p := range s.posts {
		if p.Channel == channel {
			out = append(out, p)
		}
	}
	return out
}

// WaitPosts waits until at least n posts were recorded and returns them all.
func (s *Server) WaitPosts(n int, timeout time.Duration) ([]Post, error) {
	err := s.wait(timeout, func() bool { return len(s.posts) >= n })
	if err != nil {
		err = fmt.Errorf("%w: %d posts, want %d", err, len(s.Posts()), n)
	}
	return s.Posts(), err
}

// WaitPostsMatching waits until at least n recorded posts satisfy pred and returns those
// that do, in order (on a timeout, those that did so far). pred is called without the
// Server's lock held, so it may call the Server.
func (s *Server) WaitPostsMatching(pred func(Post) bool, n int, timeout time.Duration) ([]Post, error) {
	var match []Post
	err := s.await(timeout, func() bool {
		match = nil
		for _, p := range s.Posts() {
			if pred(p) {
				match = append(match, p)
			}
		}
		return len(match) >= n
	})
	if err != nil {
		err = fmt.Errorf("%w: %d matching posts, want %d", err, len(match), n)
	}
	return match, err
}

// Views returns the views published so far, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// WaitViews waits until at least n views were published and returns them all.
func (s *Server) WaitViews(n int, timeout time.Duration) ([]View, error) {
	err := s.wait(timeout, func() bool { return len(s.views) >= n })
	if err != nil {
		err = fmt.Errorf("%w: %d views, want %d", err, len(s.Views()), n)
	}
	return s.Views(), err
}

// WaitAck waits for the acknowledgement of an envelope.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) (Ack, error) {
	var ack Ack
	err := s.wait(timeout, func() bool {
		for _, a := range s.acks {
			if a.EnvelopeID == envelopeID {
				ack = a
				return true
			}
		}
		return false
	})
	if err != nil {
		err = fmt.Errorf("%w: no ack of envelope %s", err, envelopeID)
	}
	return ack, err
}

var errTimeout = errors.New("fakeslack: timed out waiting")

// wait calls done under the lock each time something is recorded, until it is true.
func (s *Server) wait(timeout time.Duration, done func() bool) error {
	return s.await(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return done()
	})
}

// await calls done, without the lock, each time something is recorded, until it is true.
// It takes the current changed channel before calling done, so that a record made while
// done runs is not missed.
func (s *Server) await(timeout time.Duration, done func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if done() {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return errTimeout
		}
	}
}

// record runs fn under the lock and wakes those waiting.
func (s *Server) record(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
	close(s.changed)
	s.changed = make(chan struct{})
}

// Sign returns the X-Slack-Signature of body sent at timestamp ts under secret.
func Sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// SignRequest sets the signature headers of r for body, sent now.
func SignRequest(r *http.Request, secret string, body []byte) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", Sign(secret, ts, body))
}
