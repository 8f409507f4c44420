package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBody bounds what the fake reads of a request, as Slack bounds what it accepts.
const maxBody = 1 << 20

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

// slackError answers as Slack does for a refused call: HTTP 200, "ok": false.
func slackError(w http.ResponseWriter, code string) {
	writeJSON(w, map[string]any{"ok": false, "error": code})
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
		slackError(w, refuse)
		return
	}
	writeJSON(w, map[string]any{"ok": true, "url": "https://fake.slack.com/", "team": "Fake", "user": "apiorint",
		"team_id": "T0FAKE", "user_id": BotUserID, "bot_id": BotID})
}

// startPost counts a call to a method that posts a message, notes when it arrived, and
// waits out SetPostDelay. With fail, it also takes the next failure queued by FailPosts.
func (s *Server) startPost(method string, fail bool) (at time.Time, f *failure) {
	at = time.Now()
	s.record(func() { s.calls[method]++ })
	s.mu.Lock()
	delay := s.postDelay
	if fail && len(s.failures) > 0 {
		f = &s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()
	time.Sleep(delay)
	return at, f
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	at, fail := s.startPost("chat.postMessage", true)
	if !s.authorized(r, BotToken) {
		slackError(w, "invalid_auth")
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
	p := Post{At: at}
	if err := decodeMessage(r, &p); err != nil {
		slackError(w, "invalid_arguments")
		return
	}
	s.record(func() {
		p.TS = s.nextTS(at)
		s.posts = append(s.posts, p)
	})
	writeJSON(w, map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS})
}

// postEphemeral records a message only p.User sees; Slack answers with its ts as
// "message_ts", which is where slack-go's PostEphemeral looks for it.
func (s *Server) postEphemeral(w http.ResponseWriter, r *http.Request) {
	at, _ := s.startPost("chat.postEphemeral", false)
	if !s.authorized(r, BotToken) {
		slackError(w, "invalid_auth")
		return
	}
	p := Post{At: at}
	if err := decodeMessage(r, &p); err != nil || p.Channel == "" || p.User == "" {
		slackError(w, "invalid_arguments")
		return
	}
	p.ResponseType = "ephemeral"
	s.record(func() {
		p.TS = s.nextTS(at)
		s.posts = append(s.posts, p)
	})
	writeJSON(w, map[string]any{"ok": true, "message_ts": p.TS})
}

// nextTS returns a message ts in Slack's shape ("1700000000.000100") for a message
// received at, later than every ts handed out before it: in Slack a ts names a message in
// its channel, so two messages never share one. Call it with s.mu held.
func (s *Server) nextTS(at time.Time) string {
	us := max(at.UnixMicro(), s.lastTS+1)
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// decodeMessage reads a chat.postMessage or chat.postEphemeral request, sent as a form (as
// slack-go does) or as JSON.
func decodeMessage(r *http.Request, p *Post) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(p)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	p.Channel, p.ThreadTS, p.Text, p.User = r.Form.Get("channel"), r.Form.Get("thread_ts"), r.Form.Get("text"), r.Form.Get("user")
	if b := r.Form.Get("blocks"); b != "" {
		p.Blocks = json.RawMessage(b)
	}
	return nil
}

// publishView records a Home tab. The answer echoes the view with the fields Slack adds
// (id, team_id, hash…), which slack-go decodes into its View: enough for PublishViewContext
// to succeed and return them.
func (s *Server) publishView(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	s.record(func() { s.calls["views.publish"]++ })
	if !s.authorized(r, BotToken) {
		slackError(w, "invalid_auth")
		return
	}
	v := View{At: at}
	var view map[string]json.RawMessage
	if err := decodeView(r, &v); err != nil || v.UserID == "" || json.Unmarshal(v.View, &view) != nil || view == nil {
		slackError(w, "invalid_arguments")
		return
	}
	s.record(func() { s.views = append(s.views, v) })
	id := fmt.Sprintf("V%d", s.nextView.Add(1))
	for k, val := range map[string]string{
		"id": id, "root_view_id": id, "team_id": "T0FAKE", "app_id": "A0FAKE", "bot_id": BotID,
		"app_installed_team_id": "T0FAKE", "hash": fmt.Sprintf("%d.fakehash", at.Unix()),
	} {
		view[k], _ = json.Marshal(val)
	}
	if _, ok := view["state"]; !ok {
		view["state"] = json.RawMessage(`{"values":{}}`)
	}
	writeJSON(w, map[string]any{"ok": true, "view": view})
}

// decodeView reads a views.publish request: JSON (as slack-go sends it) or a form whose
// view is a JSON string.
func decodeView(r *http.Request, v *View) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(v)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	v.UserID, v.View = r.Form.Get("user_id"), json.RawMessage(r.Form.Get("view"))
	return nil
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	s.mu.Lock()
	delay := s.postDelay
	s.mu.Unlock()
	time.Sleep(delay)
	p := Post{At: at}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&p); err != nil {
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
		slackError(w, "invalid_auth")
		return
	}
	writeJSON(w, map[string]any{"ok": true, "url": "ws://" + r.Host + "/ws"})
}
