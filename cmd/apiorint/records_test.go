package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/bot/store"
)

// vote clicks a feedback button of an answer, as Slack would send it; the thanks go to
// fake's response URL.
func (s *served) vote(t *testing.T, fake *fakeslack.Server, answer string, actionID string) {
	t.Helper()
	var res struct {
		Blocks []struct {
			Elements []struct {
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(answer), &res); err != nil {
		t.Fatal(err)
	}
	value := ""
	for _, b := range res.Blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				value = e.Value
			}
		}
	}
	if value == "" {
		t.Fatalf("no %s button in %s", actionID, answer)
	}
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": "U1"}, "team": map[string]any{"id": "T0FAKE"},
		"response_url": fake.ResponseURL("vote"),
		"actions":      []map[string]any{{"type": "button", "block_id": "answer", "action_id": actionID, "value": value}},
	})
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	req, _ := http.NewRequest(http.MethodPost, s.url+"/slack/interactions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	fakeslack.SignRequest(req, secret, body)
	res2, err := http.DefaultClient.Do(req)
	if err != nil || res2.StatusCode != http.StatusOK {
		t.Fatalf("click: %v %v", res2, err)
	}
	res2.Body.Close()
}

// TestVoteDownThenGaps: a question is asked, its answer voted 👎, the bot stopped (as by
// SIGTERM, which writes every record): `apiorint gaps --json` lists it.
func TestVoteDownThenGaps(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	db := "sqlite:" + filepath.Join(t.TempDir(), "records.db")
	s := startServe(t, with(httpEnv(t, fake), "DATABASE_URL", db), bound(10*time.Second))
	_, answer, err := s.command("which one scales better?")
	if err != nil {
		t.Fatal(err)
	}
	s.vote(t, fake, answer, "feedback_down")
	if _, err := fake.WaitPosts(1, 5*time.Second); err != nil { // the thanks
		t.Fatal(err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, _, err := runWith(t, map[string]string{"DATABASE_URL": db}, "", "gaps", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Questions []store.Gap `json:"questions"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(report.Questions) != 1 || report.Questions[0].Outcome != "down" || report.Questions[0].Question != "which one scales better?" ||
		report.Questions[0].Section != "key-differences-between-apis-and-integrations/scalability-and-flexibility" {
		t.Errorf("gaps: %s", out)
	}
}

// childEnv marks the process TestKilledAfterVote starts as the bot, not as the tests.
const childEnv = "APIORINT_TEST_SERVE_CHILD"

// TestKilledAfterVote: the bot is killed (SIGKILL, nothing flushed) a second after a click:
// the click is on disk.
func TestKilledAfterVote(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		// The child: the bot itself, until it is killed.
		env := map[string]string{}
		json.Unmarshal([]byte(os.Getenv(childEnv)), &env)
		run(context.Background(), []string{"apiorint", "serve"}, mapEnv(env), strings.NewReader(""), os.Stderr, os.Stderr)
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("starts the bot as a separate process")
	}
	fake := fakeslack.New()
	defer fake.Close()
	path := filepath.Join(t.TempDir(), "records.db")
	env := with(httpEnv(t, fake), "DATABASE_URL", "sqlite:"+path)
	raw, _ := json.Marshal(env)
	child := exec.Command(os.Args[0], "-test.run=^TestKilledAfterVote$")
	child.Env = append(os.Environ(), childEnv+"="+string(raw))
	var logs bytes.Buffer
	child.Stdout, child.Stderr = &logs, &logs
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	s := &served{t: t, url: "http://" + env["LISTEN_ADDR"], exited: true}
	if !eventually(bound(15*time.Second), func() bool { code, _ := s.health(); return code == http.StatusOK }) {
		t.Fatalf("the bot never became healthy:\n%s", logs.String())
	}
	_, answer, err := s.command("why are integrations so hard?")
	if err != nil {
		t.Fatal(err)
	}
	s.vote(t, fake, answer, "feedback_down")
	time.Sleep(time.Second) // what is measured: a record is durable within a second
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()

	st, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gaps, err := st.Gaps(context.Background(), time.Now().Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) != 1 || gaps[0].Outcome != store.OutcomeDown {
		t.Errorf("after kill -9, gaps %+v, want the 👎\n%s", gaps, logs.String())
	}
}

// TestDatabaseUnreachableAtStart: a PostgreSQL that cannot be reached does not stop the bot:
// it answers, and says so in its log.
func TestDatabaseUnreachableAtStart(t *testing.T) {
	fake := fakeslack.New()
	defer fake.Close()
	env := with(httpEnv(t, fake), "DATABASE_URL", fmt.Sprintf("postgres://apiorint:secret-pw@127.0.0.1:%s/records?connect_timeout=1", takenPort(t)))
	s := startServe(t, env, bound(15*time.Second))
	if _, answer, err := s.command("what is an api"); err != nil || !strings.Contains(answer, "What Is An API?") {
		t.Fatalf("no answer with the database down: %v %s", err, answer)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "cannot be reached") || strings.Contains(logs, "secret-pw") {
		t.Errorf("log:\n%s", logs)
	}
}
