package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/apiorint/apiorint/bot/store"
)

// records gives a bot a real record of questions: SQLite in a temporary directory, behind a
// running Recorder. flush writes everything queued and returns the store to read.
func records(t *testing.T, opts *bot.Options) (flush func() store.Store) {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rec := store.NewRecorder(s, store.RecorderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	go rec.Run(ctx)
	t.Cleanup(cancel)
	opts.Recorder, opts.Reports = rec, s
	return func() store.Store {
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// TestFeedbackRecorded: every answer carries 👍/👎; a click is acknowledged at once, thanked
// to the clicker only, and recorded against the question and the section it got; a second
// click by the same person replaces the first; 👎 puts the question in the gap report.
func TestFeedbackRecorded(t *testing.T) {
	var opts bot.Options
	flush := records(t, &opts)
	h := start(t, httpMode, nil, opts)
	_, res := h.command("which one scales better?")
	up, down := button(t, res["blocks"], "feedback_up"), button(t, res["blocks"], "feedback_down")
	if up == "" || down == "" {
		t.Fatalf("no feedback buttons: %s", marshal(res))
	}
	start := time.Now()
	if code := h.interact(click("U1", "feedback_up", up, h.slack.ResponseURL("vote1"))); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("acknowledged after %v", took)
	}
	h.interact(click("U1", "feedback_down", down, h.slack.ResponseURL("vote2"))) // changes their mind
	h.interact(click("U2", "feedback_up", up, h.slack.ResponseURL("vote3")))     // someone else
	posts := h.finish()
	if len(posts) != 3 {
		t.Fatalf("%d thanks, want 3: %+v", len(posts), posts)
	}
	for _, p := range posts {
		if p.ResponseType != "ephemeral" || p.ReplaceOriginal || p.DeleteOriginal || !strings.Contains(p.Text, "Thanks") {
			t.Errorf("thanks %+v", p)
		}
	}
	s := flush()
	stats, err := s.Stats(context.Background(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got store.SectionStats
	for _, sec := range stats.Sections {
		if sec.Section == "key-differences-between-apis-and-integrations/scalability-and-flexibility" {
			got = sec
		}
	}
	if got.Answers != 1 || got.Up != 1 || got.Down != 1 {
		t.Errorf("section stats %+v, want 1 answer, 1 up (U2), 1 down (U1 changed their vote)", got)
	}
	gaps, err := s.Gaps(context.Background(), time.Now().Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) != 1 || gaps[0].Outcome != store.OutcomeDown || gaps[0].Question != "which one scales better?" {
		t.Errorf("gaps %+v", gaps)
	}
}

// TestQuestionsRecordedBySurface: a question asked by slash command, mention, DM, a related
// button and the message shortcut is each recorded once, with where it came from and what
// it got; help and small talk are not questions about the knowledge, and are not recorded.
func TestQuestionsRecordedBySurface(t *testing.T) {
	var opts bot.Options
	flush := records(t, &opts)
	h := start(t, httpMode, nil, opts)
	_, res := h.command("what is an api")
	h.command("help")
	h.command("thanks!")
	h.command("lasagna recipe please")
	h.command("rest vs soap?")
	h.event(callback("EvRec1", mention("<@U0BOT> which one is faster?", "C9", "90.1", "")))
	h.event(callback("EvRec2", directMessage("what is middleware", "D9", "90.2")))
	h.interact(click("U1", "show_section_0", button(t, res["blocks"], "show_section_0"), h.slack.ResponseURL("show")))
	h.interact(messageShortcut("are integrations hard to build?", h.slack.ResponseURL("shortcut")))
	h.finish()
	st, err := flush().Stats(context.Background(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{store.SurfaceSlash: 3, store.SurfaceMention: 1, store.SurfaceDM: 1, store.SurfaceButton: 1, store.SurfaceShortcut: 1}
	for surface, n := range want {
		if st.BySurface[surface] != n {
			t.Errorf("%s: %d questions, want %d (all: %v)", surface, st.BySurface[surface], n, st.BySurface)
		}
	}
	if st.Total != 7 || st.ByOutcome[store.OutcomeNone] != 1 || st.ByOutcome[store.OutcomeClosest] != 1 {
		t.Errorf("total %d, by outcome %v", st.Total, st.ByOutcome)
	}
}

// TestShare: the Share button of a slash answer posts it to the channel through the
// action's response URL, in_channel, deleting the ephemeral copy, saying who shared it; the
// shared copy has no Share button but keeps its related buttons, and they still work.
func TestShare(t *testing.T) {
	for _, m := range []mode{httpMode, socketMode} {
		t.Run([]string{"http", "socket"}[m], func(t *testing.T) {
			h := start(t, m, nil, bot.Options{})
			var blocks any
			if m == httpMode {
				_, res := h.command("which one scales better?")
				blocks = res["blocks"]
			} else {
				id, _ := h.slack.Send("slash_commands", slashPayload("which one scales better?", h.slack.ResponseURL("cmd")), 0)
				ack, err := h.slack.WaitAck(id, 3*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				var res map[string]any
				json.Unmarshal(ack.Payload, &res)
				blocks = res["blocks"]
			}
			share := button(t, blocks, "share")
			if share == "" {
				t.Fatal("no Share button")
			}
			shareClick := click("U5", "share", share, h.slack.ResponseURL("share"))
			if m == httpMode {
				h.interact(shareClick)
			} else {
				h.deliver("interactive", shareClick)
			}
			posts, err := h.slack.WaitPosts(1, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			p := posts[0]
			if p.ResponseURL != h.slack.ResponseURL("share") || p.ResponseType != "in_channel" || !p.DeleteOriginal {
				t.Errorf("shared as %+v", p)
			}
			var decoded any
			json.Unmarshal(p.Blocks, &decoded)
			raw := marshal(decoded) // as Slack reads it: no \u003c for <
			if headerOf(t, p.Blocks) != "Scalability And Flexibility" || !strings.Contains(raw, "Shared by <@U5>") ||
				strings.Contains(raw, `"share"`) || !strings.Contains(raw, "feedback_up") {
				t.Errorf("shared copy: %s", raw)
			}
			// Someone else in the channel clicks a related button of the shared copy.
			related := click("U6", "show_section_0", button(t, json.RawMessage(p.Blocks), "show_section_0"), h.slack.ResponseURL("related"))
			if m == httpMode {
				h.interact(related)
			} else {
				h.deliver("interactive", related)
			}
			posts, err = h.slack.WaitPosts(2, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if p := posts[1]; p.ResponseURL != h.slack.ResponseURL("related") || p.ResponseType != "ephemeral" || headerOf(t, p.Blocks) == "" {
				t.Errorf("related section shown as %+v", p)
			}
		})
	}
}

// TestMessageShortcut: "Ask apiorint" on a message answers its text, Slack markup removed,
// to the person who used it, with Share and feedback; a message without text gets a line
// saying so. Over both transports.
func TestMessageShortcut(t *testing.T) {
	for _, m := range []mode{httpMode, socketMode} {
		t.Run([]string{"http", "socket"}[m], func(t *testing.T) {
			h := start(t, m, nil, bot.Options{})
			send := func(payload any) {
				if m == httpMode {
					if code := h.interact(payload); code != http.StatusOK {
						t.Fatalf("status %d", code)
					}
				} else {
					h.deliver("interactive", payload)
				}
			}
			send(messageShortcut("<@U0BOT> <!here> which one is faster?", h.slack.ResponseURL("sc1")))
			send(messageShortcut("", h.slack.ResponseURL("sc2")))
			posts := h.finish()
			byURL := map[string]fakeslack.Post{}
			for _, p := range posts {
				byURL[p.ResponseURL] = p
			}
			answer, empty := byURL[h.slack.ResponseURL("sc1")], byURL[h.slack.ResponseURL("sc2")]
			if answer.ResponseType != "ephemeral" || headerOf(t, answer.Blocks) != "Performance Considerations" ||
				button(t, json.RawMessage(answer.Blocks), "share") == "" || button(t, json.RawMessage(answer.Blocks), "feedback_down") == "" {
				t.Errorf("shortcut answer: %+v %s", answer, answer.Blocks)
			}
			if empty.ResponseType != "ephemeral" || !strings.Contains(empty.Text, "no text") {
				t.Errorf("empty message: %+v", empty)
			}
			if len(posts) != 2 {
				t.Errorf("%d posts, want 2", len(posts))
			}
		})
	}
}

// TestDMFollowUp: in a DM, a reply in the thread of an answer is a follow-up question,
// answered in that thread; a new message is answered in the DM itself.
func TestDMFollowUp(t *testing.T) {
	for _, m := range []mode{httpMode, socketMode} {
		t.Run([]string{"http", "socket"}[m], func(t *testing.T) {
			h := start(t, m, nil, bot.Options{})
			send := func(payload any) {
				if m == httpMode {
					h.event(payload)
				} else {
					h.deliver("events_api", payload)
				}
			}
			send(callback("EvF1", directMessage("what is an api", "D5", "80.1")))
			first, err := h.slack.WaitPosts(1, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			followUp := directMessage("and which one scales better?", "D5", "80.3")
			followUp["thread_ts"] = first[0].TS // the reply is in the thread of the bot's answer
			send(callback("EvF2", followUp))
			posts := h.finish()
			if len(posts) != 2 {
				t.Fatalf("%d posts: %+v", len(posts), posts)
			}
			if p := posts[0]; p.Channel != "D5" || p.ThreadTS != "" {
				t.Errorf("first answer posted to %s thread %q", p.Channel, p.ThreadTS)
			}
			if p := posts[1]; p.Channel != "D5" || p.ThreadTS != first[0].TS || headerOf(t, p.Blocks) != "Scalability And Flexibility" {
				t.Errorf("follow-up answered in %s thread %q (want %q): %q", p.Channel, p.ThreadTS, first[0].TS, headerOf(t, p.Blocks))
			}
		})
	}
}

// TestGapsCommand: /apiorint gaps shows the report to admins, and to anyone else says who may
// see it.
func TestGapsCommand(t *testing.T) {
	var opts bot.Options
	flush := records(t, &opts)
	h := startWith(t, httpMode, nil, opts, func(c *bot.Config) { c.Admins = []string{"UADMIN"} })
	h.command("how do I paginate the stripe api?")
	h.command("lasagna recipe please")
	// Wait until both are written: the report reads the database.
	deadline := time.Now().Add(5 * time.Second)
	for {
		gaps, _ := opts.Reports.Gaps(context.Background(), time.Now().Add(-time.Hour), 10)
		if len(gaps) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gaps never recorded: %+v", gaps)
		}
		time.Sleep(20 * time.Millisecond)
	}
	form := func(user string) []byte {
		return []byte(strings.Replace(string(commandForm("gaps", h.slack.ResponseURL("g"))), "user_id=U1", "user_id="+user, 1))
	}
	_, _, admin := h.post("/slack/commands", "application/x-www-form-urlencoded", form("UADMIN"), true)
	_, _, other := h.post("/slack/commands", "application/x-www-form-urlencoded", form("U1"), true)
	if !strings.Contains(admin, "paginate") || !strings.Contains(admin, "lasagna") || !strings.Contains(admin, "ephemeral") {
		t.Errorf("admin's report: %s", admin)
	}
	if strings.Contains(other, "paginate") || !strings.Contains(other, "<@UADMIN>") {
		t.Errorf("non-admin's reply: %s", other)
	}
	flush()
}

// slowReports is a record that takes its time to read, and whose gaps may fail.
type slowReports struct {
	delay   time.Duration
	gapsErr error
}

func (r slowReports) Gaps(ctx context.Context, since time.Time, limit int) ([]store.Gap, error) {
	if r.gapsErr != nil {
		return nil, r.gapsErr
	}
	return []store.Gap{{Question: "what is graphql", Asked: 3, Outcome: store.OutcomeNone}}, nil
}

func (r slowReports) Stats(ctx context.Context, since time.Time) (store.Stats, error) {
	select {
	case <-time.After(r.delay):
		return store.Stats{Total: 3}, nil
	case <-ctx.Done():
		return store.Stats{}, ctx.Err()
	}
}

// TestGapsCommandSlowRecord: a record slow to read does not hold the slash command past
// Slack's 3 s: the reply says the report follows, and it comes to the response URL.
func TestGapsCommandSlowRecord(t *testing.T) {
	h := startWith(t, httpMode, nil, bot.Options{Reports: slowReports{delay: 2500 * time.Millisecond}},
		func(c *bot.Config) { c.Admins = []string{"UADMIN"} })
	form := strings.Replace(string(commandForm("gaps", h.slack.ResponseURL("g"))), "user_id=U1", "user_id=UADMIN", 1)
	start := time.Now()
	_, _, body := h.post("/slack/commands", "application/x-www-form-urlencoded", []byte(form), true)
	if took := time.Since(start); took > 2*time.Second || !strings.Contains(body, "follows") {
		t.Errorf("answered after %v with %s", took, body)
	}
	posts, err := h.slack.WaitPosts(1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p := posts[0]; p.ResponseURL != h.slack.ResponseURL("g") || !strings.Contains(string(p.Blocks), "what is graphql") {
		t.Errorf("report: %+v", p)
	}
}

// TestGapsCommandUnreadableGaps: gaps that cannot be read are said to be so, never shown as
// "none", which would look like good news.
func TestGapsCommandUnreadableGaps(t *testing.T) {
	h := startWith(t, httpMode, nil, bot.Options{Reports: slowReports{gapsErr: errors.New("database is locked")}},
		func(c *bot.Config) { c.Admins = []string{"UADMIN"} })
	form := strings.Replace(string(commandForm("gaps", h.slack.ResponseURL("g"))), "user_id=U1", "user_id=UADMIN", 1)
	_, _, body := h.post("/slack/commands", "application/x-www-form-urlencoded", []byte(form), true)
	if !strings.Contains(body, "cannot be read right now") || strings.Contains(body, "None: every question") {
		t.Errorf("report: %s", body)
	}
}
