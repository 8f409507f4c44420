package fakeslack_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/apiorint/apiorint/bot/fakeslack"
)

const wait = 5 * time.Second

// A replica is a real slack-go Socket Mode client on the fake, as one bot replica would
// run it. It acks every envelope with {"replica": name}, and reports each hello's
// num_connections and each envelope it received.
type replica struct {
	name     string
	hellos   chan int
	received chan string // envelope IDs
}

func connect(t *testing.T, fake *fakeslack.Server, name string) *replica {
	t.Helper()
	api := slack.New(fakeslack.BotToken, slack.OptionAppLevelToken(fakeslack.AppToken), slack.OptionAPIURL(fake.APIURL))
	client := socketmode.New(api)
	r := &replica{name: name, hellos: make(chan int, 10), received: make(chan string, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
	})
	go func() {
		defer close(done)
		client.RunContext(ctx)
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-client.Events:
				if ev.Request == nil {
					continue
				}
				switch ev.Type {
				case socketmode.EventTypeHello:
					r.hellos <- ev.Request.NumConnections
				case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
					r.received <- ev.Request.EnvelopeID
					client.Ack(*ev.Request, map[string]string{"replica": name})
				}
			}
		}
	}()
	return r
}

// hello waits for the replica's next hello and checks how many connections it counts.
func (r *replica) hello(t *testing.T, want int) {
	t.Helper()
	select {
	case n := <-r.hellos:
		if n != want {
			t.Errorf("%s: hello says num_connections %d, want %d", r.name, n, want)
		}
	case <-time.After(wait):
		t.Fatalf("%s: no hello", r.name)
	}
}

// slash is a slash command payload that slack-go parses.
func slash(text string) map[string]any {
	return map[string]any{"command": "/apiorint", "text": text, "user_id": "U1", "channel_id": "C1", "team_id": "T0FAKE"}
}

// TestTwoConnections: two replicas stay connected at once; each gets what SendTo sends it,
// and its acks are attributed to its own connection, also after one of them reconnects.
func TestTwoConnections(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)

	a := connect(t, fake, "a")
	a.hello(t, 1)
	b := connect(t, fake, "b")
	b.hello(t, 2)
	if n := fake.OpenConnections(); n != 2 {
		t.Fatalf("OpenConnections = %d, want 2", n)
	}

	// expect sends one envelope over the open connection at index conn and checks that r
	// received it and that its ack came over connection id.
	expect := func(conn int, r *replica, id int) {
		t.Helper()
		env, err := fake.SendTo(conn, "slash_commands", slash("to "+r.name), 0)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := fake.WaitAck(env, wait)
		if err != nil {
			t.Fatal(err)
		}
		var from struct{ Replica string }
		json.Unmarshal(ack.Payload, &from)
		if from.Replica != r.name || ack.Conn != id {
			t.Errorf("envelope for %s over open connection %d: acked by %q over connection %d, want %s over %d",
				r.name, conn, from.Replica, ack.Conn, r.name, id)
		}
		select {
		case got := <-r.received:
			if got != env {
				t.Errorf("%s received %s, want %s", r.name, got, env)
			}
		default:
			t.Errorf("%s acked %s without receiving it", r.name, env)
		}
	}
	expect(0, a, 0)
	expect(1, b, 1)

	// Send and SendEnvelope still mean the most recent connection.
	env, _ := fake.Send("events_api", map[string]any{"type": "event_callback", "event_id": "Ev1",
		"event": map[string]any{"type": "app_mention", "text": "hi", "channel": "C1", "ts": "1.1"}}, 0)
	if ack, err := fake.WaitAck(env, wait); err != nil || ack.Conn != 1 {
		t.Errorf("Send: ack over connection %d (%v), want 1", ack.Conn, err)
	}
	if err := fake.SendEnvelope("env-again", "slash_commands", slash("again"), 1); err != nil {
		t.Fatal(err)
	}
	if ack, err := fake.WaitAck("env-again", wait); err != nil || ack.Conn != 1 {
		t.Errorf("SendEnvelope: ack over connection %d (%v), want 1", ack.Conn, err)
	}
	<-b.received
	<-b.received

	// Drop b's connection: it stops counting at once (b may already be back, under a new
	// number), and slack-go reconnects as a third connection, which now sits at index 1
	// while a stays at 0.
	fake.DropConnection()
	if ids := fake.OpenConnectionIDs(); len(ids) == 0 || ids[0] != 0 || slices.Contains(ids, 1) {
		t.Errorf("after the drop, open connections %v, want a's 0 and not b's 1", ids)
	}
	if err := fake.WaitConnections(3, wait); err != nil {
		t.Fatal(err)
	}
	b.hello(t, 2)
	if ids := fake.OpenConnectionIDs(); !slices.Equal(ids, []int{0, 2}) {
		t.Errorf("after b reconnected, open connections %v, want [0 2]", ids)
	}
	expect(0, a, 0)
	expect(1, b, 2)

	if _, err := fake.SendTo(2, "slash_commands", slash("nobody"), 0); err == nil {
		t.Error("SendTo a connection that is not open: no error")
	}
}

// TestNoConnection: with no connection open, sending fails instead of blocking.
func TestNoConnection(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	if _, err := fake.Send("slash_commands", slash("x"), 0); err == nil {
		t.Error("Send: no error")
	}
	if err := fake.SendEnvelopeTo(0, "env-x", "slash_commands", slash("x"), 0); err == nil {
		t.Error("SendEnvelopeTo: no error")
	}
	fake.DropConnection() // nothing to drop: no panic
	if err := fake.WaitConnections(1, 50*time.Millisecond); err == nil {
		t.Error("WaitConnections: no error")
	}
}

// TestPostMessage: chat.postMessage is recorded with when it arrived and the ts it was
// answered with; ts are Slack-shaped, unique and increasing; PostsTo picks one channel.
func TestPostMessage(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(fake.APIURL))

	before := time.Now()
	var sent []string
	for _, channel := range []string{"C1", "C2", "C1"} {
		_, ts, err := api.PostMessage(channel, slack.MsgOptionText("hello "+channel, false), slack.MsgOptionTS("9.1"))
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ts)
	}
	after := time.Now()

	posts, err := fake.WaitPosts(3, wait)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range posts {
		if p.TS != sent[i] || p.At.Before(before) || p.At.After(after) || p.ThreadTS != "9.1" {
			t.Errorf("post %d: ts %q at %v in thread %q; want ts %q between %v and %v in thread 9.1",
				i, p.TS, p.At, p.ThreadTS, sent[i], before, after)
		}
		if sec, frac, ok := strings.Cut(p.TS, "."); !ok || len(frac) != 6 || len(sec) < 10 {
			t.Errorf("ts %q is not shaped like Slack's 1700000000.000100", p.TS)
		}
		if i > 0 && p.TS <= posts[i-1].TS {
			t.Errorf("ts %q is not after %q", p.TS, posts[i-1].TS)
		}
	}
	if got := fake.PostsTo("C1"); len(got) != 2 || got[0].Text != "hello C1" || got[1].TS != sent[2] {
		t.Errorf("PostsTo(C1) = %+v", got)
	}
	if n := fake.Calls("chat.postMessage"); n != 3 {
		t.Errorf("Calls = %d, want 3", n)
	}
}

// TestResponseURL: what slack-go posts to a response URL is recorded with its flags.
func TestResponseURL(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(fake.APIURL))
	url := fake.ResponseURL("share")
	if _, _, err := api.PostMessage("", slack.MsgOptionText("shared", false),
		slack.MsgOptionResponseURL(url, slack.ResponseTypeInChannel), slack.MsgOptionDeleteOriginal(url)); err != nil {
		t.Fatal(err)
	}
	posts, err := fake.WaitPostsMatching(func(p fakeslack.Post) bool { return p.ResponseURL == url }, 1, wait)
	if err != nil {
		t.Fatal(err)
	}
	if p := posts[0]; p.ResponseType != "in_channel" || !p.DeleteOriginal || p.ReplaceOriginal || p.Text != "shared" || p.At.IsZero() {
		t.Errorf("response URL post = %+v", p)
	}
}

// TestPostEphemeral: chat.postEphemeral is recorded as an ephemeral post to its user, and
// slack-go gets the ts the fake recorded.
func TestPostEphemeral(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(fake.APIURL))

	api.PostMessage("C1", slack.MsgOptionText("for everyone", false))
	block := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*just you*", false, false), nil, nil)
	ts, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("just you", false), slack.MsgOptionBlocks(block))
	if err != nil {
		t.Fatal(err)
	}
	ephemeral := func(p fakeslack.Post) bool { return p.ResponseType == "ephemeral" }
	posts, err := fake.WaitPostsMatching(ephemeral, 1, wait)
	if err != nil {
		t.Fatal(err)
	}
	p := posts[0]
	if len(posts) != 1 || p.Channel != "C1" || p.User != "U1" || p.Text != "just you" || p.TS != ts || ts == "" || p.At.IsZero() {
		t.Errorf("ephemeral posts = %+v, ts %q", posts, ts)
	}
	if !strings.Contains(string(p.Blocks), "*just you*") {
		t.Errorf("blocks = %s", p.Blocks)
	}
	if n := fake.Calls("chat.postEphemeral"); n != 1 {
		t.Errorf("Calls = %d, want 1", n)
	}
}

// TestPublishView: views.publish is recorded, and slack-go decodes the view it answers.
func TestPublishView(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(fake.APIURL))

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, CallbackID: "home", Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "apiorint", false, false)),
	}}}
	res, err := api.PublishViewContext(context.Background(), slack.PublishViewContextRequest{UserID: "U1", View: home})
	if err != nil {
		t.Fatal(err)
	}
	if res.View.ID == "" || res.View.Type != slack.VTHomeTab || res.View.CallbackID != "home" || len(res.View.Blocks.BlockSet) != 1 {
		t.Errorf("PublishView answered %+v", res.View)
	}
	views, err := fake.WaitViews(1, wait)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type   string `json:"type"`
		Blocks []struct {
			Type string `json:"type"`
		} `json:"blocks"`
	}
	json.Unmarshal(views[0].View, &got)
	if views[0].UserID != "U1" || got.Type != "home" || len(got.Blocks) != 1 || got.Blocks[0].Type != "header" || views[0].At.IsZero() {
		t.Errorf("view = %+v (%s)", views[0], views[0].View)
	}
}

// TestWrongToken: the new methods check the bot token, and record nothing when it is wrong.
func TestWrongToken(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	api := slack.New("xoxb-wrong", slack.OptionAPIURL(fake.APIURL))

	for name, call := range map[string]func() error{
		"chat.postEphemeral": func() error {
			_, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("x", false))
			return err
		},
		"views.publish": func() error {
			_, err := api.PublishView("U1", slack.HomeTabViewRequest{Type: slack.VTHomeTab}, "")
			return err
		},
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "invalid_auth") {
			t.Errorf("%s: %v, want invalid_auth", name, err)
		}
		if n := fake.Calls(name); n != 1 {
			t.Errorf("%s: Calls = %d, want 1", name, n)
		}
	}
	if len(fake.Posts()) != 0 || len(fake.Views()) != 0 {
		t.Errorf("recorded %+v and %+v", fake.Posts(), fake.Views())
	}
}

// TestWaitPostsMatching returns the matching posts only, and on a timeout those so far.
func TestWaitPostsMatching(t *testing.T) {
	fake := fakeslack.New()
	t.Cleanup(fake.Close)
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(fake.APIURL))
	for _, c := range []string{"C1", "C2", "C1"} {
		if _, _, err := api.PostMessage(c, slack.MsgOptionText(c, false)); err != nil {
			t.Fatal(err)
		}
	}
	inC1 := func(p fakeslack.Post) bool { return p.Channel == "C1" }
	if posts, err := fake.WaitPostsMatching(inC1, 2, wait); err != nil || len(posts) != 2 {
		t.Errorf("2 in C1: %d posts, %v", len(posts), err)
	}
	if posts, err := fake.WaitPostsMatching(inC1, 3, 50*time.Millisecond); err == nil || len(posts) != 2 {
		t.Errorf("3 in C1: %d posts, %v; want 2 and a timeout", len(posts), err)
	}
}
