package bot

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLogLimit: one line per period, and the next says how many were held back.
func TestLogLimit(t *testing.T) {
	l := logLimit{every: 10 * time.Second}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at       time.Duration
		wantOK   bool
		wantHeld int
	}{
		{0, true, 0},
		{time.Second, false, 0},
		{9 * time.Second, false, 0},
		{10 * time.Second, true, 2},
		{11 * time.Second, false, 0},
		{30 * time.Second, true, 1},
	}
	for _, s := range steps {
		held, ok := l.allow(t0.Add(s.at))
		if ok != s.wantOK || held != s.wantHeld {
			t.Errorf("at %v: allow = %d, %v; want %d, %v", s.at, held, ok, s.wantHeld, s.wantOK)
		}
	}
}

// TestDefaultClientFollowsNoRedirect: a response URL that redirects is not followed to where
// the redirect points, which no check approved.
func TestDefaultClientFollowsNoRedirect(t *testing.T) {
	var reached atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Store(true) }))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	b := New(Config{BotToken: "xoxb-test", APIURL: redirect.URL + "/api/"}, nil, Options{})
	resp, err := b.http.Post(redirect.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || reached.Load() {
		t.Errorf("status %d, redirect followed: %v", resp.StatusCode, reached.Load())
	}
}
