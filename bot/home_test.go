package bot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot"
)

func homeOpened(user string) map[string]any {
	return map[string]any{"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1.1"}
}

// homeClick is a click in App Home: no response URL, a view container.
func homeClick(user, actionID, value string) map[string]any {
	p := click(user, actionID, value, "")
	delete(p, "response_url")
	delete(p, "channel")
	p["container"] = map[string]any{"type": "view", "view_id": "V1"}
	p["view"] = map[string]any{"id": "V1", "type": "home"}
	return p
}

// TestAppHome: opening App Home publishes how to ask, the topics as buttons and example
// questions; admins also see the week's numbers and gaps. A topic clicked opens the tab on
// that section, with feedback, and a vote there is thanked at the top of the tab.
func TestAppHome(t *testing.T) {
	var opts bot.Options
	records(t, &opts)
	h := startWith(t, httpMode, nil, opts, func(c *bot.Config) { c.Admins = []string{"UADMIN"} })
	h.event(callback("EvHome1", homeOpened("U1")))
	h.event(callback("EvHome2", homeOpened("UADMIN")))
	views, err := h.slack.WaitViews(2, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[string]string{}
	for _, v := range views {
		byUser[v.UserID] = marshalView(t, v.View)
	}
	for user, view := range byUser {
		for _, want := range []string{`"type":"home"`, "home_topic_0", "Scalability And Flexibility", "Try asking"} {
			if !strings.Contains(view, want) {
				t.Errorf("%s's App Home lacks %q", user, want)
			}
		}
	}
	if strings.Contains(byUser["U1"], "admins only") || !strings.Contains(byUser["UADMIN"], "This week (admins only)") {
		t.Errorf("the admin part is shown to the wrong people:\nU1: %s\nUADMIN: %s", byUser["U1"], byUser["UADMIN"])
	}

	topic := button(t, json.RawMessage(blocksOf(t, views[0].View)), "home_topic_1")
	h.interact(homeClick("U1", "home_topic_1", topic))
	views, err = h.slack.WaitViews(3, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	shown := blocksOf(t, views[2].View)
	if headerOf(t, json.RawMessage(shown)) == "" || button(t, json.RawMessage(shown), "feedback_down") == "" {
		t.Fatalf("the topic clicked is not shown with feedback: %s", shown)
	}
	h.interact(homeClick("U1", "feedback_down", button(t, json.RawMessage(shown), "feedback_down")))
	views, err = h.slack.WaitViews(4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v := marshalView(t, views[3].View); !strings.Contains(v, "Thanks for telling me") {
		t.Errorf("no thanks after a vote in App Home: %s", v)
	}
}

func blocksOf(t *testing.T, view json.RawMessage) []byte {
	t.Helper()
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(view, &v); err != nil {
		t.Fatal(err)
	}
	return v.Blocks
}

// marshalView re-encodes a view as Slack reads it, without escaping < and >.
func marshalView(t *testing.T, view json.RawMessage) string {
	var v any
	if err := json.Unmarshal(view, &v); err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(marshal(v), ": ", ":")
}
