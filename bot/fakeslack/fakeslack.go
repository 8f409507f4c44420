// Package fakeslack is a stand-in for Slack on loopback, for tests and load runs: the Web API
// methods the bot calls (auth.test, chat.postMessage, apps.connections.open), response URLs,
// and a Socket Mode websocket that sends envelopes and records acknowledgements. It records
// what it is sent, and can be told to be slow or to fail.
package fakeslack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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

// A Post is a message the bot sent: with chat.postMessage, or to a response URL (then
// ResponseURL names which).
type Post struct {
	Channel     string          `json:"channel"`
	ThreadTS    string          `json:"thread_ts"`
	Text        string          `json:"text"`
	Blocks      json.RawMessage `json:"blocks"`
	ResponseURL string          `json:"-"`
	// ResponseType is "ephemeral" for a response URL post that only its user sees.
	ResponseType    string `json:"response_type"`
	ReplaceOriginal bool   `json:"replace_original"`
}

// An Ack is the bot's acknowledgement of a Socket Mode envelope.
type Ack struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
	At         time.Time       `json:"-"`
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
	acks      []Ack
	calls     map[string]int
	failures  []failure
	postDelay time.Duration
	authError string
	conn      *websocket.Conn
	connMu    sync.Mutex // serialises writes to conn
	conns     int
	nextEnv   atomic.Int64
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
	mux.HandleFunc("POST /api/apps.connections.open", s.connectionsOpen)
	mux.HandleFunc("POST /response/{name}", s.response)
	mux.HandleFunc("GET /ws", s.websocket)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	s.APIURL = s.srv.URL + "/api/"
	return s
}

// Close stops the server and drops the websocket.
func (s *Server) Close() {
	s.DropConnection()
	s.srv.Close()
}

// ResponseURL returns a response URL that records what is posted to it under name.
func (s *Server) ResponseURL(name string) string { return s.URL + "/response/" + name }

// FailPosts makes the next chat.postMessage calls fail with these statuses, in order: 429
// comes with Retry-After: 1.
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

// SetPostDelay makes chat.postMessage and response URLs answer after d.
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

// Posts returns what was posted so far.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// WaitPosts waits until at least n posts were recorded and returns them all.
func (s *Server) WaitPosts(n int, timeout time.Duration) ([]Post, error) {
	err := s.wait(timeout, func() bool { return len(s.posts) >= n })
	return s.Posts(), err
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
	return ack, err
}

// Connections returns how many Socket Mode connections were opened so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// WaitConnections waits until n Socket Mode connections were opened.
func (s *Server) WaitConnections(n int, timeout time.Duration) error {
	return s.wait(timeout, func() bool { return s.conns >= n && s.conn != nil })
}

// wait calls done under the lock each time something is recorded, until it is true.
func (s *Server) wait(timeout time.Duration, done func() bool) error {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ok, changed := done(), s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-deadline:
			return errors.New("fakeslack: timed out waiting")
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

func (s *Server) authorized(r *http.Request, token string) bool {
	if r.Header.Get("Authorization") == "Bearer "+token {
		return true
	}
	r.ParseForm()
	return r.Form.Get("token") == token
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) authTest(w http.ResponseWriter, r *http.Request) {
	s.record(func() { s.calls["auth.test"]++ })
	s.mu.Lock()
	refuse := s.authError
	s.mu.Unlock()
	if refuse == "" && !s.authorized(r, BotToken) {
		refuse = "invalid_auth"
	}
	if refuse != "" {
		writeJSON(w, map[string]any{"ok": false, "error": refuse})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "url": "https://fake.slack.com/", "team": "Fake", "user": "apiorint",
		"team_id": "T0FAKE", "user_id": BotUserID, "bot_id": BotID})
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls["chat.postMessage"]++
	delay := s.postDelay
	var fail *failure
	if len(s.failures) > 0 {
		fail = &s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()
	time.Sleep(delay)
	if !s.authorized(r, BotToken) {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	if fail != nil {
		if fail.retryAfter != "" {
			w.Header().Set("Retry-After", fail.retryAfter)
		}
		w.WriteHeader(fail.status)
		fmt.Fprintf(w, `{"ok":false,"error":"fake failure %d"}`, fail.status)
		return
	}
	var p Post
	if err := decodeMessage(r, &p); err != nil {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	s.record(func() { s.posts = append(s.posts, p) })
	writeJSON(w, map[string]any{"ok": true, "channel": p.Channel, "ts": strconv.FormatInt(time.Now().UnixNano(), 10)})
}

// decodeMessage reads a chat.postMessage request, sent as a form or as JSON.
func decodeMessage(r *http.Request, p *Post) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return json.NewDecoder(r.Body).Decode(p)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	p.Channel, p.ThreadTS, p.Text = r.Form.Get("channel"), r.Form.Get("thread_ts"), r.Form.Get("text")
	if b := r.Form.Get("blocks"); b != "" {
		p.Blocks = json.RawMessage(b)
	}
	return nil
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delay := s.postDelay
	s.mu.Unlock()
	time.Sleep(delay)
	var p Post
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	p.ResponseURL = s.ResponseURL(r.PathValue("name"))
	s.record(func() { s.posts = append(s.posts, p) })
	w.Write([]byte("ok"))
}

func (s *Server) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	s.record(func() { s.calls["apps.connections.open"]++ })
	if !s.authorized(r, AppToken) {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "url": "ws://" + r.Host + "/ws"})
}

// websocket serves one Socket Mode connection at a time, as Slack would for one app
// instance: hello, then envelopes, with a ping every pingEvery so the client stays.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.DropConnection() // a new connection replaces the old one
	s.record(func() {
		s.conn = conn
		s.conns++
	})
	s.write(conn, map[string]any{"type": "hello", "num_connections": 1})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.connMu.Lock()
				err := conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
				s.connMu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	for {
		var ack Ack
		if err := conn.ReadJSON(&ack); err != nil {
			break
		}
		ack.At = time.Now()
		s.record(func() { s.acks = append(s.acks, ack) })
	}
	s.record(func() {
		if s.conn == conn {
			s.conn = nil
		}
	})
	conn.Close()
}

const pingEvery = time.Second

func (s *Server) write(conn *websocket.Conn, v any) error {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return conn.WriteJSON(v)
}

// Send sends an envelope of type kind ("events_api", "slash_commands", "interactive") over
// the current Socket Mode connection and returns its envelope ID. retry is its
// retry_attempt.
func (s *Server) Send(kind string, payload any, retry int) (string, error) {
	id := fmt.Sprintf("env-%d", s.nextEnv.Add(1))
	return id, s.SendEnvelope(id, kind, payload, retry)
}

// SendEnvelope sends an envelope with a given ID, as Slack does when it sends one again.
func (s *Server) SendEnvelope(id, kind string, payload any, retry int) error {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return errors.New("fakeslack: no Socket Mode connection")
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	return s.write(conn, map[string]any{
		"type": kind, "envelope_id": id, "payload": json.RawMessage(raw),
		"accepts_response_payload": kind != "events_api", "retry_attempt": retry,
	})
}

// SendRaw sends a message as it is over the current connection.
func (s *Server) SendRaw(msg string) error {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return errors.New("fakeslack: no Socket Mode connection")
	}
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

// Disconnect asks the client to reconnect, as Slack does before it moves a connection.
func (s *Server) Disconnect() error {
	return s.SendRaw(`{"type":"disconnect","reason":"refresh_requested"}`)
}

// DropConnection closes the websocket abruptly, as a network failure would.
func (s *Server) DropConnection() {
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
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
