package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
)

// runWith runs the program with args and env in a fresh working directory and returns its
// output and error.
func runWith(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	err = run(context.Background(), append([]string{"apiorint"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var e exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e.code
	default:
		return 1
	}
}

func TestAsk(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantOut   []string
		wantErr   string
		wantTitle string // with --json: the first title; "-" for no results
	}{
		{name: "plain", args: []string{"ask", "which", "one", "scales", "better?"},
			wantOut: []string{"Scalability And Flexibility\n", "api-vs-integration.md › Key Differences Between APIs And Integrations › Scalability And Flexibility", "APIs excel in scalability"}},
		{name: "comparison", args: []string{"ask", "api vs integration"},
			wantOut: []string{"Key Differences Between APIs And Integrations", "- Functionality: APIs focus", "See also: Functionality · Complexity"}},
		{name: "json", args: []string{"ask", "--json", "what is an api"}, wantTitle: "What Is An API?"},
		{name: "json -n 1", args: []string{"ask", "-json", "-n", "1", "<@U0BOT> what is middleware?"}, wantTitle: "Types Of Integrations"},
		{name: "json off-topic", args: []string{"ask", "--json", "how do I bake bread"}, wantTitle: "-"},
		{name: "no match", args: []string{"ask", "how do I bake bread"}, wantOut: []string{"No good match", "Scalability And Flexibility"}},
		{name: "no question", args: []string{"ask"}, wantCode: 2, wantErr: "usage: apiorint ask"},
		{name: "blank question", args: []string{"ask", " "}, wantCode: 2, wantErr: "usage: apiorint ask"},
		{name: "bad -n", args: []string{"ask", "-n", "0", "api"}, wantCode: 2},
		{name: "unknown flag", args: []string{"ask", "--nope", "api"}, wantCode: 2},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runWith(t, nil, "", tt.args...)
			if code := exitCode(err); code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d; stderr: %s", code, err, tt.wantCode, errOut)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q: %s", tt.wantErr, errOut)
			}
			if tt.wantTitle != "" {
				var doc struct {
					Query   string `json:"query"`
					Results []struct {
						ID, Title, Text string
						Score           float64
					} `json:"results"`
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil || strings.Count(out, "\n") != 1 {
					t.Fatalf("not one JSON object: %v\n%s", err, out)
				}
				if doc.Results == nil || strings.Contains(out, `"results":null`) {
					t.Fatalf("results is not a list: %s", out)
				}
				got := "-"
				if len(doc.Results) > 0 {
					got = doc.Results[0].Title
					if doc.Results[0].ID == "" || doc.Results[0].Text == "" || doc.Results[0].Score <= 0 {
						t.Errorf("incomplete result: %s", out)
					}
				}
				if got != tt.wantTitle {
					t.Errorf("first title %q, want %q", got, tt.wantTitle)
				}
			}
		})
	}
}

// TestInteractive: with no Slack configured, the program answers questions from stdin, a
// pipe here, until it ends or says quit.
func TestInteractive(t *testing.T) {
	t.Chdir(t.TempDir())
	out, _, err := runWith(t, nil, "what is middleware?\n\nscalability\nquit\nperformance\n")
	if err != nil {
		t.Fatal(err)
	}
	if !contains(out, "Types Of Integrations", "Scalability And Flexibility") || strings.Contains(out, "Performance Considerations\n") {
		t.Errorf("output:\n%s", out)
	}
}

// TestPartlyConfigured: with some Slack setting but not all, `apiorint` says what is missing
// instead of starting the terminal session.
func TestPartlyConfigured(t *testing.T) {
	t.Chdir(t.TempDir())
	_, _, err := runWith(t, map[string]string{"SLACK_APP_TOKEN": "xapp-1"}, "what is an api\n")
	if err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN is required") {
		t.Errorf("error %v", err)
	}
}

func TestDotEnvAndRealEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile(".env", []byte("KNOWLEDGE_DIR=missing-dir\nLOG_LEVEL=debug\n"), 0o644)
	if _, _, err := runWith(t, nil, "", "ask", "api"); err == nil || !strings.Contains(err.Error(), "KNOWLEDGE_DIR") {
		t.Errorf(".env not read: %v", err)
	}
	kdir := filepath.Join(dir, "kb")
	os.Mkdir(kdir, 0o755)
	os.WriteFile(filepath.Join(kdir, "runbook.md"), []byte("# Widget Runbook\n\nRestart the widget with care.\n"), 0o644)
	out, _, err := runWith(t, map[string]string{"KNOWLEDGE_DIR": kdir}, "", "ask", "how do I restart the widget")
	if err != nil || !strings.Contains(out, "Widget Runbook") {
		t.Errorf("the real environment did not win: %v\n%s", err, out)
	}
	os.WriteFile(".env", []byte("SLACK_BOT_TOKEN=\"unterminated\n"), 0o644)
	if _, _, err := runWith(t, nil, "", "ask", "api"); err == nil || !strings.Contains(err.Error(), ".env") {
		t.Errorf("a broken .env: %v", err)
	}
}

func TestConfigurationErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	fake := fakeslack.New()
	defer fake.Close()
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "ok.md"), []byte("# Fine\n\ntext\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "bad.md"), []byte("# Bad\n\n\xff\xfe\n"), 0o644)
	base := map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.APIURL, "LISTEN_ADDR": "127.0.0.1:0"}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no token", with("SLACK_BOT_TOKEN", ""), "SLACK_BOT_TOKEN is required"},
		{"malformed token", with("SLACK_BOT_TOKEN", "xoxp-user-token"), "SLACK_BOT_TOKEN must start with xoxb-"},
		{"malformed app token", with("SLACK_APP_TOKEN", "xoxb-nope"), "SLACK_APP_TOKEN must start with xapp-"},
		{"no secret in HTTP mode", with("SLACK_SIGNING_SECRET", ""), "SLACK_SIGNING_SECRET is required"},
		{"bad log level", with("LOG_LEVEL", "loud"), "LOG_LEVEL must be"},
		{"bad log format", with("LOG_FORMAT", "xml"), "LOG_FORMAT must be"},
		{"unreadable knowledge dir", with("KNOWLEDGE_DIR", "/no/such/dir"), "KNOWLEDGE_DIR"},
		{"broken knowledge file", with("KNOWLEDGE_DIR", broken), filepath.Join(broken, "bad.md") + ": not UTF-8"},
		{"revoked token", with("SLACK_BOT_TOKEN", "xoxb-revoked"), "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)"},
		{"Slack unreachable", with("SLACK_API_URL", "http://127.0.0.1:1/api/"), "auth.test at http://127.0.0.1:1/api/ failed"},
		{"port taken", with("LISTEN_ADDR", "127.0.0.1:"+takenPort(t)), "LISTEN_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := fake.Calls("auth.test")
			start := time.Now()
			_, _, err := runWith(t, tt.env, "", "serve")
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line with %q", err, tt.want)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v to fail", took)
			}
			if strings.Contains(err.Error(), "xoxb-revoked") || strings.Contains(err.Error(), fakeslack.BotToken) {
				t.Errorf("the error shows the token: %v", err)
			}
			if strings.Contains(tt.name, "malformed") && fake.Calls("auth.test") != calls {
				t.Error("a malformed token was sent to Slack")
			}
		})
	}
}

func takenPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestServeUntilCancelled runs the bot as `apiorint` alone does with Slack configured, checks
// it with the healthcheck command, then stops it as SIGTERM would: it exits cleanly.
func TestServeUntilCancelled(t *testing.T) {
	t.Chdir(t.TempDir())
	fake := fakeslack.New()
	defer fake.Close()
	port := freePort(t)
	env := map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL, "LISTEN_ADDR": "127.0.0.1:" + port}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs strings.Builder
	go func() {
		done <- run(ctx, []string{"apiorint"}, func(k string) string { return env[k] }, strings.NewReader(""), &strings.Builder{}, &logs)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, err := runWith(t, env, "", "healthcheck"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never healthy")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := fake.WaitConnections(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop")
	}
	if _, _, err := runWith(t, env, "", "healthcheck"); err == nil {
		t.Error("healthy after stopping")
	}
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/healthz", port))
	if err == nil {
		res.Body.Close()
		t.Error("still listening")
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
