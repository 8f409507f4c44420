package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
)

// askJSON is what `ask --json` prints: the contract's shape.
type askJSON struct {
	Query     string   `json:"query"`
	Match     string   `json:"match"`
	Uncovered []string `json:"uncovered"`
	Results   []struct {
		ID    string  `json:"id"`
		Title string  `json:"title"`
		Score float64 `json:"score"`
		Text  string  `json:"text"`
	} `json:"results"`
	// Only with --explain: for a person, so only its scores are checked.
	Explain json.RawMessage `json:"explain"`
}

func TestAsk(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // plain text: each must be in stdout
		notOut   []string // plain text: none may be in stdout
		wantErr  string   // in stderr
		// With --json: the match, what is uncovered, and the first title ("-" for no results).
		json          bool
		wantMatch     string
		wantUncovered []string
		wantTitle     string
	}{
		{name: "plain", args: []string{"ask", "which", "one", "scales", "better?"},
			wantOut: []string{"Scalability And Flexibility\n", "api-vs-integration.md › Key Differences Between APIs And Integrations › Scalability And Flexibility", "APIs excel in scalability"},
			notOut:  []string{"**", "I have nothing on"}},
		{name: "comparison", args: []string{"ask", "api vs integration"},
			wantOut: []string{"Key Differences Between APIs And Integrations", "- Functionality: APIs focus", "See also: "}},
		{name: "closest", args: []string{"ask", "rest vs soap?"},
			wantOut: []string{"I have nothing on rest, soap. The closest I have:\n\nKey Differences Between APIs And Integrations"}},
		{name: "small talk", args: []string{"ask", "good morning!"},
			wantOut: []string{"Hi! I answer questions about APIs and integrations"}, notOut: []string{"No good match", "api-vs-integration.md"}},
		{name: "no match", args: []string{"ask", "how do I bake bread"},
			wantOut: []string{`No good match for "how do I bake bread"`, "  - Scalability And Flexibility\n"}},
		{name: "explain", args: []string{"ask", "--explain", "what is an api"},
			wantOut: []string{"What Is An API?\n", "\n--- how it was read\n", "\nsearched: ", " = text ", "  What Is An API?\n"}},

		{name: "json answer", args: []string{"ask", "--json", "what is an api"}, json: true,
			wantMatch: "answer", wantUncovered: []string{}, wantTitle: "What Is An API?"},
		{name: "json closest", args: []string{"ask", "--json", "rest vs soap?"}, json: true,
			wantMatch: "closest", wantUncovered: []string{"rest", "soap"}, wantTitle: "Key Differences Between APIs And Integrations"},
		{name: "json small talk", args: []string{"ask", "--json", "good morning!"}, json: true,
			wantMatch: "none", wantUncovered: []string{}, wantTitle: "-"},
		{name: "json off-topic", args: []string{"ask", "--json", "how do I bake bread"}, json: true,
			wantMatch: "none", wantUncovered: []string{}, wantTitle: "-"},
		{name: "json -n 1, Slack markup", args: []string{"ask", "-json", "-n", "1", "<@U0BOT> what is middleware?"}, json: true,
			wantMatch: "answer", wantUncovered: []string{}, wantTitle: "Types Of Integrations"},
		{name: "json explain", args: []string{"ask", "--json", "--explain", "what is an api"}, json: true,
			wantMatch: "answer", wantUncovered: []string{}, wantTitle: "What Is An API?"},
		{name: "json explain small talk", args: []string{"ask", "--json", "--explain", "good morning!"}, json: true,
			wantMatch: "none", wantUncovered: []string{}, wantTitle: "-"},

		{name: "no question", args: []string{"ask"}, wantCode: 2, wantErr: "usage: apiorint ask"},
		{name: "blank question", args: []string{"ask", " "}, wantCode: 2, wantErr: "usage: apiorint ask"},
		{name: "only flags", args: []string{"ask", "--json"}, wantCode: 2, wantErr: "usage: apiorint ask"},
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
			if tt.wantCode != 0 && out != "" {
				t.Errorf("a failure printed to stdout: %s", out)
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, not := range tt.notOut {
				if strings.Contains(out, not) {
					t.Errorf("output has %q:\n%s", not, out)
				}
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q: %s", tt.wantErr, errOut)
			}
			if !tt.json {
				return
			}
			// Exactly one JSON object on stdout, with lists that are lists (never null).
			var doc askJSON
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&doc); err != nil || strings.Count(out, "\n") != 1 {
				t.Fatalf("not one JSON object of the contract's shape: %v\n%s", err, out)
			}
			if doc.Results == nil || doc.Uncovered == nil || strings.Contains(out, "null") {
				t.Fatalf("results, uncovered or a list in explain is not a list: %s", out)
			}
			if want := tt.args[len(tt.args)-1]; doc.Query != want {
				t.Errorf("query %q, want %q", doc.Query, want)
			}
			if doc.Match != tt.wantMatch || !slices.Equal(doc.Uncovered, tt.wantUncovered) {
				t.Errorf("match %q uncovered %q, want %q %q", doc.Match, doc.Uncovered, tt.wantMatch, tt.wantUncovered)
			}
			got := "-"
			if len(doc.Results) > 0 {
				got = doc.Results[0].Title
			}
			if got != tt.wantTitle {
				t.Errorf("first title %q, want %q", got, tt.wantTitle)
			}
			for i, r := range doc.Results {
				// The sub-sections listed under a group section's answer come with score 0.
				if r.ID == "" || r.Text == "" || r.Score < 0 || (i == 0 && r.Score <= 0) || (i > 0 && r.Score > doc.Results[i-1].Score) {
					t.Errorf("result %d incomplete or out of order: %+v", i, r)
				}
			}
			if slices.Contains(tt.args, "-n") && len(doc.Results) > 1 {
				t.Errorf("-n 1 gave %d results", len(doc.Results))
			}
			// The contract's four keys, and "explain" only when asked for: it scores the
			// results listed.
			var why struct {
				Scores []struct {
					ID string `json:"id"`
				} `json:"scores"`
			}
			switch {
			case !slices.Contains(tt.args, "--explain") && doc.Explain != nil:
				t.Errorf("explain without --explain: %s", out)
			case !slices.Contains(tt.args, "--explain"), len(doc.Results) == 0:
			case json.Unmarshal(doc.Explain, &why) != nil || len(why.Scores) == 0 || why.Scores[0].ID != doc.Results[0].ID:
				t.Errorf("--explain does not score the first result: %s", doc.Explain)
			}
		})
	}
}

// TestInteractive: with no Slack configured, `apiorint` answers questions from stdin, a pipe
// here (so no prompt), until it ends or says quit.
func TestInteractive(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name, stdin string
		want, not   []string
	}{
		{"answers until quit", "what is middleware?\n\nscalability\nquit\nperformance\n",
			// After quit nothing is answered: no answer's path names Performance (a "See
			// also" line may).
			[]string{"Types Of Integrations\n", "Scalability And Flexibility\n"}, []string{"› Performance Considerations\n", "> "}},
		{"until the end of input", "good morning!\nrest vs soap?",
			[]string{"Hi! I answer questions", "I have nothing on rest, soap."}, nil},
		{"exit and q leave too", "exit\nwhat is an api\n", nil, []string{"What Is An API?"}},
		{"nothing at all", "", nil, []string{"Slack is not configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runWith(t, nil, tt.stdin)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}

// TestInteractiveStopsWithContext: the terminal session ends when its context does (Ctrl-C
// at the prompt), although stdin is still open and sends nothing more.
func TestInteractiveStopsWithContext(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	var out logBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"apiorint"}, mapEnv(nil), stdinR, &out, &logBuffer{}) }()
	fmt.Fprintln(stdinW, "what is an api")
	if !eventually(10*time.Second, func() bool { return strings.Contains(out.String(), "What Is An API?") }) {
		t.Fatalf("no answer: %s", out.String())
	}
	// Ctrl-C at the prompt: no further line comes, and the session must end all the same.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting for a line 5 s after the context ended")
	}
}

// TestPartlyConfigured: with some Slack setting but not all, `apiorint` says what is missing
// instead of starting the terminal session.
func TestPartlyConfigured(t *testing.T) {
	t.Chdir(t.TempDir())
	out, _, err := runWith(t, map[string]string{"SLACK_APP_TOKEN": "xapp-1", "DATABASE_URL": "off"}, "what is an api\n")
	if err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN is required") || out != "" {
		t.Errorf("error %v, output %q", err, out)
	}
}

func TestDotEnvAndRealEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	kdir := filepath.Join(dir, "kb")
	os.Mkdir(kdir, 0o755)
	os.WriteFile(filepath.Join(kdir, "runbook.md"), []byte("# Widget Runbook\n\nRestart the widget with care.\n"), 0o644)
	tests := []struct {
		name    string
		dotenv  string // "" for no .env file
		env     map[string]string
		wantOut string
		wantErr string
	}{
		{name: "no .env", wantOut: "What Is An API?"},
		{name: ".env is read", dotenv: "KNOWLEDGE_DIR=missing-dir\nLOG_LEVEL=debug\n", wantErr: "KNOWLEDGE_DIR"},
		{name: ".env gives the knowledge", dotenv: "KNOWLEDGE_DIR=kb\n", wantOut: "Widget Runbook"},
		{name: "the real environment wins", dotenv: "KNOWLEDGE_DIR=missing-dir\n", env: map[string]string{"KNOWLEDGE_DIR": kdir}, wantOut: "Widget Runbook"},
		{name: "a broken .env", dotenv: "SLACK_BOT_TOKEN=\"unterminated\n", wantErr: ".env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(".env")
			if tt.dotenv != "" {
				os.WriteFile(".env", []byte(tt.dotenv), 0o644)
			}
			q := "what is an api"
			if tt.wantOut == "Widget Runbook" {
				q = "how do I restart the widget"
			}
			out, _, err := runWith(t, tt.env, "", "ask", q)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one naming %s", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case !strings.Contains(out, tt.wantOut):
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out)
			}
		})
	}
}

func TestConfigurationErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	fake := fakeslack.New()
	defer fake.Close()
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "ok.md"), []byte("# Fine\n\ntext\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "bad.md"), []byte("# Bad\n\n\xff\xfe\n"), 0o644)
	nul := t.TempDir()
	os.WriteFile(filepath.Join(nul, "nul.md"), []byte("# Nul\n\n\x00\x00\x00\n"), 0o644)
	base := map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.APIURL,
		"LISTEN_ADDR": "127.0.0.1:0", "DATABASE_URL": "off"}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no token", with(base, "SLACK_BOT_TOKEN", ""), "SLACK_BOT_TOKEN is required"},
		{"malformed token", with(base, "SLACK_BOT_TOKEN", "xoxp-user-token"), "SLACK_BOT_TOKEN must start with xoxb-"},
		{"malformed app token", with(base, "SLACK_APP_TOKEN", "xoxb-nope"), "SLACK_APP_TOKEN must start with xapp-"},
		{"no secret in HTTP mode", with(base, "SLACK_SIGNING_SECRET", ""), "SLACK_SIGNING_SECRET is required"},
		{"bad Slack API URL", with(base, "SLACK_API_URL", "ftp://x"), "SLACK_API_URL must be"},
		{"bad listen address", with(base, "LISTEN_ADDR", "nope"), "LISTEN_ADDR must be"},
		{"bad log level", with(base, "LOG_LEVEL", "loud"), "LOG_LEVEL must be"},
		{"bad log format", with(base, "LOG_FORMAT", "xml"), "LOG_FORMAT must be"},
		{"bad retention", with(base, "RETENTION_DAYS", "0"), "RETENTION_DAYS must be"},
		{"retention not a number", with(base, "RETENTION_DAYS", "a week"), "RETENTION_DAYS must be"},
		{"unsupported database", with(base, "DATABASE_URL", "mysql://db/x"), "DATABASE_URL mysql://db/x is not supported"},
		{"database with no scheme", with(base, "DATABASE_URL", "records.db"), "DATABASE_URL"},
		{"database file in a missing directory", with(base, "DATABASE_URL", "sqlite:/no/such/dir/x.db"), "DATABASE_URL"},
		{"Redis unreachable", with(base, "REDIS_URL", "redis://127.0.0.1:1"), "REDIS_URL"},
		{"Redis URL malformed", with(base, "REDIS_URL", "localhost:6379"), "REDIS_URL must be"},
		{"unreadable knowledge dir", with(base, "KNOWLEDGE_DIR", "/no/such/dir"), "KNOWLEDGE_DIR"},
		{"broken knowledge file", with(base, "KNOWLEDGE_DIR", broken), "KNOWLEDGE_DIR: " + filepath.Join(broken, "bad.md") + ": not UTF-8"},
		{"knowledge file of NUL bytes", with(base, "KNOWLEDGE_DIR", nul), "KNOWLEDGE_DIR: " + filepath.Join(nul, "nul.md")},
		{"revoked token", with(base, "SLACK_BOT_TOKEN", "xoxb-revoked"), "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)"},
		{"Slack unreachable", with(base, "SLACK_API_URL", "http://127.0.0.1:1/api/"), "auth.test at http://127.0.0.1:1/api/ failed"},
		{"port taken", with(base, "LISTEN_ADDR", "127.0.0.1:"+takenPort(t)), "LISTEN_ADDR"},
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
	if _, err := os.Stat("apiorint.db"); err == nil {
		t.Error("a configuration error wrote apiorint.db")
	}
}

// TestEval: `apiorint eval` needs no source tree (the sets are embedded; this runs in an
// empty directory), and measures a FILE given instead.
func TestEval(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.tsv", "# a comment\nkeyword\tapi\tWhat Is An API?\nkeyword\tscalability\tComplexity\n"+
		"smalltalk\tgood morning!\t-\nuncovered\trest vs soap?\trest|soap\nofftopic\thow do I bake bread\t-\n")
	bad := write("bad.tsv", "keyword\tapi\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout
		wantErr  string   // in the error
	}{
		{name: "embedded sets", args: []string{"eval"},
			want: []string{"== article (", "== dev (", "answerable ", "top-1 ", "MRR "}},
		{name: "a file", args: []string{"eval", good}, want: []string{
			"== " + good + " (5 questions)\n",
			"answerable 2: top-1 50.0% top-3 ",
			"uncovered: closest or none 1/1 · small talk: none 1/1 (told as small talk 1) · off-topic: none 1/1",
			`miss [` + good + `/keyword] "scalability"`,
		}},
		{name: "a malformed file", args: []string{"eval", bad}, wantCode: 1, wantErr: bad + ": line 1: want kind, question and titles"},
		{name: "a missing file", args: []string{"eval", "nope.tsv"}, wantCode: 1, wantErr: "nope.tsv"},
		{name: "two files", args: []string{"eval", good, good}, wantCode: 2, wantErr: "usage: apiorint eval [FILE]"},
		{name: "a flag", args: []string{"eval", "--help"}, wantCode: 2, wantErr: "usage: apiorint eval [FILE]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runWith(t, map[string]string{"DATABASE_URL": "off"}, "", tt.args...)
			if code := exitCode(err); code != tt.wantCode {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.wantCode)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("eval wrote into its working directory: %v", entries)
	}
}

// TestServeUntilCancelled runs the bot as `apiorint` alone does with Slack configured, checks
// it with the healthcheck command and /healthz, then stops it as SIGTERM would: it exits
// cleanly, and stops listening.
func TestServeUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	fake := fakeslack.New()
	defer fake.Close()
	port := freePort(t)
	db := filepath.Join(dir, "records.db")
	env := map[string]string{"SLACK_BOT_TOKEN": fakeslack.BotToken, "SLACK_APP_TOKEN": fakeslack.AppToken,
		"SLACK_API_URL": fake.APIURL, "LISTEN_ADDR": "127.0.0.1:" + port, "DATABASE_URL": "sqlite:" + db}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var logs logBuffer
	go func() {
		done <- run(ctx, []string{"apiorint"}, mapEnv(env), strings.NewReader(""), &logBuffer{}, &logs)
	}()
	if !eventually(10*time.Second, func() bool { _, _, err := runWith(t, env, "", "healthcheck"); return err == nil }) {
		t.Fatalf("never healthy\n%s", logs.String())
	}
	if err := fake.WaitConnections(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	s := &served{url: "http://127.0.0.1:" + port}
	code, h := s.health()
	if code != http.StatusOK || h.Sections < 10 || len(h.Knowledge) < 8 {
		t.Errorf("/healthz %d %+v", code, h)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("DATABASE_URL not used: %v", err)
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
	if res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/healthz", port)); err == nil {
		res.Body.Close()
		t.Error("still listening")
	}
	if _, err := os.Stat(filepath.Join(dir, "apiorint.db")); err == nil {
		t.Error("apiorint.db written although DATABASE_URL names another file")
	}
}
