package fakeslack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// pingEvery is how often the fake pings each connection. slack-go's socketmode client
// reconnects when pings stop for OptionPingInterval (30 s by default), and its first check
// fails if none came at all, so this must be well under the interval a test sets.
const pingEvery = time.Second

// A connection is one open Socket Mode websocket: one bot replica.
type connection struct {
	id int             // opening order, from 0; see Ack.Conn
	ws *websocket.Conn // written only with mu held: gorilla allows one writer at a time
	mu sync.Mutex
}

func (c *connection) write(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// websocket serves one Socket Mode connection: hello, then envelopes, with a ping every
// pingEvery so the client stays. Like Slack, it keeps every connection open until it is
// dropped (up to 10 per app there; the fake does not limit them).
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	if s.refuseSockets.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &connection{ws: ws}
	// Hold the write lock until hello is written: the connection is visible to Send as soon
	// as it is recorded, and Slack sends nothing before hello.
	c.mu.Lock()
	var open int
	s.record(func() {
		c.id = s.conns
		s.conns++
		s.open = append(s.open, c)
		open = len(s.open)
	})
	ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	ws.WriteJSON(map[string]any{
		"type": "hello", "num_connections": open,
		"connection_info": map[string]any{"app_id": "A0FAKE"},
		"debug_info":      map[string]any{"host": fmt.Sprintf("fakeslack-%d", c.id), "build_number": 1, "approximate_connection_time": 18060},
	})
	c.mu.Unlock()

	stop := make(chan struct{})
	defer close(stop)
	go c.ping(stop)
	for {
		var ack Ack
		if err := ws.ReadJSON(&ack); err != nil {
			break
		}
		ack.At, ack.Conn = time.Now(), c.id
		s.record(func() { s.acks = append(s.acks, ack) })
	}
	s.forget(c)
	ws.Close()
}

// ping pings c every pingEvery until stop is closed or a ping fails.
func (c *connection) ping(stop <-chan struct{}) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.mu.Lock()
			err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

// forget removes c from the open connections, if it is still there.
func (s *Server) forget(c *connection) {
	s.record(func() {
		s.open = slices.DeleteFunc(s.open, func(o *connection) bool { return o == c })
	})
}

// Connections returns how many Socket Mode connections were opened so far, closed ones
// included.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// OpenConnections returns how many Socket Mode connections are open now.
func (s *Server) OpenConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// OpenConnectionIDs returns, for each open connection in the order SendTo indexes them
// (oldest first), its number in opening order, the one its acks carry in Ack.Conn.
func (s *Server) OpenConnectionIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, len(s.open))
	for i, c := range s.open {
		ids[i] = c.id
	}
	return ids
}

// WaitConnections waits until n Socket Mode connections were opened (closed ones count)
// and one is open.
func (s *Server) WaitConnections(n int, timeout time.Duration) error {
	err := s.wait(timeout, func() bool { return s.conns >= n && len(s.open) > 0 })
	if err != nil {
		err = fmt.Errorf("%w: %d Socket Mode connections opened (%d open), want %d", err, s.Connections(), s.OpenConnections(), n)
	}
	return err
}

// newest is the index of the most recent open connection for connAt.
const newest = -1

// connAt returns the open connection at index i (oldest first), or the most recent one for
// newest.
func (s *Server) connAt(i int) (*connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i == newest {
		i = len(s.open) - 1
	}
	if len(s.open) == 0 {
		return nil, errors.New("fakeslack: no Socket Mode connection")
	}
	if i < 0 || i >= len(s.open) {
		return nil, fmt.Errorf("fakeslack: no Socket Mode connection %d: %d open", i, len(s.open))
	}
	return s.open[i], nil
}

// Send sends an envelope of type kind ("events_api", "slash_commands", "interactive") over
// the most recent open Socket Mode connection and returns its envelope ID. retry is its
// retry_attempt.
func (s *Server) Send(kind string, payload any, retry int) (string, error) {
	return s.SendTo(newest, kind, payload, retry)
}

// SendTo is Send over the open connection at index conn, counting from 0 for the oldest
// still open: how Slack picks one replica out of several.
func (s *Server) SendTo(conn int, kind string, payload any, retry int) (envelopeID string, err error) {
	id := fmt.Sprintf("env-%d", s.nextEnv.Add(1))
	return id, s.SendEnvelopeTo(conn, id, kind, payload, retry)
}

// SendEnvelope sends an envelope with a given ID over the most recent open connection, as
// Slack does when it sends one again.
func (s *Server) SendEnvelope(id, kind string, payload any, retry int) error {
	return s.SendEnvelopeTo(newest, id, kind, payload, retry)
}

// SendEnvelopeTo is SendEnvelope over the open connection at index conn (0 = oldest): Slack
// may send an envelope again to another replica than the first time.
func (s *Server) SendEnvelopeTo(conn int, id, kind string, payload any, retry int) error {
	c, err := s.connAt(conn)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	return c.write(map[string]any{
		"type": kind, "envelope_id": id, "payload": json.RawMessage(raw),
		"accepts_response_payload": kind != "events_api", "retry_attempt": retry,
	})
}

// SendRaw sends a message as it is over the most recent open connection.
func (s *Server) SendRaw(msg string) error {
	c, err := s.connAt(newest)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, []byte(msg))
}

// Disconnect asks the client of the most recent open connection to reconnect, as Slack does
// before it moves a connection.
func (s *Server) Disconnect() error {
	return s.SendRaw(`{"type":"disconnect","reason":"refresh_requested"}`)
}

// DropConnection closes the most recent open websocket abruptly, as a network failure
// would. It stops counting as open at once, so the next Send goes to the connection
// before it, if any.
func (s *Server) DropConnection() {
	var c *connection
	s.record(func() { // pick and forget at once, so that two calls drop two connections
		if n := len(s.open); n > 0 {
			c = s.open[n-1]
			s.open = s.open[:n-1]
		}
	})
	if c != nil {
		c.ws.Close()
	}
}
