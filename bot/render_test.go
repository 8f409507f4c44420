package bot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/index/indextest"
	"github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// section returns a section of the article by ID, for answers built by hand: the goldens
// show rendering, and must not change when the search ranks differently.
func section(t testing.TB, id string) index.Result {
	t.Helper()
	r, ok := indextest.Article(t).Section(id)
	if !ok {
		t.Fatalf("no section %q in the article", id)
	}
	return r
}

// TestRenderGolden compares rendered messages with testdata/*.golden.json; run with
// -update to accept a change, then read the diff.
func TestRenderGolden(t *testing.T) {
	const (
		scalability = "key-differences-between-apis-and-integrations/scalability-and-flexibility"
		performance = "key-differences-between-apis-and-integrations/performance-considerations"
		complexity  = "key-differences-between-apis-and-integrations/complexity"
		differences = "key-differences-between-apis-and-integrations"
		functional  = "key-differences-between-apis-and-integrations/functionality"
		whatIsAPI   = "understanding-apis/what-is-an-api"
		typesOfAPIs = "understanding-apis/types-of-apis"
	)
	topics := indextest.Article(t).Topics()
	answer := func(q string, match index.Match, uncovered []string, ids ...string) index.Answer {
		a := index.Answer{Query: q, Match: match, Uncovered: uncovered}
		for _, id := range ids {
			a.Results = append(a.Results, section(t, id))
		}
		return a
	}
	long := index.Result{ID: "guide/long", Title: "A Long Section With <Angle> & Ampersand", Source: "guide.md", Path: []string{"Guide", "A Long Section With <Angle> & Ampersand"},
		Text: strings.Repeat("A paragraph about **integrations**, with `code`, a [link](https://example.com/a|b) and <!channel>.\n\n", 80) +
			"```\nfunc main() { fmt.Println(\"<@U1>\") }\n```\n\n- one\n- two\n\n1. first\n2. second\n"}
	rn := newRenderer(newRefSigner("xoxb-test"))
	tests := map[string]message{
		"answer":      rn.answer(answer("which one scales better?", index.MatchAnswer, nil, scalability, performance, complexity), "a1", topics, view{share: true}),
		"comparison":  rn.answer(answer("api vs integration", index.MatchAnswer, nil, differences, functional, complexity, scalability), "a2", topics, view{}),
		"closest":     rn.answer(answer("rest vs soap?", index.MatchClosest, []string{"rest", "soap"}, whatIsAPI, typesOfAPIs), "a3", topics, view{share: true}),
		"no-match":    rn.answer(index.Answer{Query: "<!channel> where is the <@U123> pizza?", Match: index.MatchNone}, "", topics, view{share: true}),
		"small-talk":  rn.answer(index.Answer{Query: "thanks!", Match: index.MatchNone, SmallTalk: true}, "", topics, view{share: true}),
		"usage":       usageMessage(topics),
		"long":        rn.section(long, nil, nil),
		"button-show": rn.answer(answer("which one is harder?", index.MatchAnswer, nil, complexity), "a4", nil, view{share: true}),
		"shared":      rn.answer(answer("which one scales better?", index.MatchAnswer, nil, scalability, performance), "a1", nil, view{sharedBy: "U7"}),
	}
	for name, msg := range tests {
		t.Run(name, func(t *testing.T) {
			checkLimits(t, msg)
			var buf strings.Builder
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // the golden file shows what Slack reads
			enc.SetIndent("", "  ")
			if err := enc.Encode(struct {
				Text   string        `json:"text"`
				Blocks []slack.Block `json:"blocks"`
			}{msg.Text, msg.Blocks}); err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot -run TestRenderGolden -update)", err)
			}
			if string(want) != got {
				t.Errorf("%s differs from the rendering; run with -update and read the diff:\n%s", path, got)
			}
		})
	}
}

// checkLimits fails t when msg breaks one of Slack's limits or lets markup through.
func checkLimits(t testing.TB, msg message) {
	t.Helper()
	if len(msg.Blocks) > maxBlocks {
		t.Errorf("%d blocks", len(msg.Blocks))
	}
	if msg.Text == "" {
		t.Error("no fallback text")
	}
	raw, _ := json.Marshal(msg.Blocks)
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type     string `json:"type"`
			Text     any    `json:"text"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		switch b.Type {
		case "header":
			if n := utf8.RuneCountInString(b.Text.Text); n > maxHeaderText || n == 0 {
				t.Errorf("block %d: header of %d characters", i, n)
			}
		case "section":
			if n := utf8.RuneCountInString(b.Text.Text); n > maxSectionText || n == 0 {
				t.Errorf("block %d: section of %d characters", i, n)
			}
			if strings.Contains(b.Text.Text, "<!") || strings.Contains(b.Text.Text, "<@") {
				t.Errorf("block %d: live mention in %q", i, b.Text.Text)
			}
		case "actions":
			if len(b.Elements) > 25 {
				t.Errorf("block %d: %d buttons", i, len(b.Elements))
			}
			for _, e := range b.Elements {
				if len(e.Value) > maxButtonValue || len(e.ActionID) > 255 {
					t.Errorf("block %d: button %q too long", i, e.ActionID)
				}
			}
		}
	}
}

func TestSplit(t *testing.T) {
	word := strings.Repeat("x", 10)
	tests := []struct {
		name string
		text string
		max  int
	}{
		{"short", "hello world", 3000},
		{"paragraphs", strings.Repeat("one two three.\n\n", 500), 3000},
		{"one line of words", strings.Repeat(word+" ", 1000), 3000},
		{"multibyte", strings.Repeat("héllo wörld ✓ ", 500), 100},
		{"a word longer than a section", strings.Repeat("y", 7000), 3000},
		{"entities", strings.Repeat("a&amp;b ", 600), 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := split(tt.text, tt.max, 1<<20)
			for i, c := range chunks {
				if n := utf8.RuneCountInString(c); n > tt.max || n == 0 {
					t.Errorf("chunk %d has %d characters", i, n)
				}
			}
			if strings.Join(strings.Fields(strings.Join(chunks, " ")), " ") != strings.Join(strings.Fields(tt.text), " ") &&
				tt.name != "a word longer than a section" {
				t.Error("words were cut or lost")
			}
			if tt.name == "a word longer than a section" && strings.Join(chunks, "") != tt.text {
				t.Error("text lost")
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"short", "short"},
		{"Scalability And Flexibility Considerations", "Scalability And…"},
		{"AAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAA…"},
		{"a &amp;&amp;&amp;&amp;&amp;", "a &amp;&amp;&amp;…"}, // not cut inside an entity
	}
	for _, tt := range tests {
		if got := truncate(tt.in, 20); got != tt.want {
			t.Errorf("truncate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMrkdwn(t *testing.T) {
	tests := []struct{ md, want string }{
		{"plain text", "plain text"},
		{"**bold** and *em* and _em_", "*bold* and _em_ and _em_"},
		{"`a < b`", "`a &lt; b`"},
		{"[docs](https://example.com/x?a=1&b=2)", "<https://example.com/x?a=1&amp;b=2|docs>"},
		{"[evil](javascript:alert(1))", "evil"},
		{"<https://example.com>", "<https://example.com>"},
		{"<!channel> <@U123> <#C1> & <b>", "&lt;!channel&gt; &lt;@U123&gt; &lt;#C1&gt; &amp; &lt;b&gt;"},
		{"- one\n- two", "• one\n• two"},
		{"3. three\n4. four", "3. three\n4. four"},
		{"#### Detail\n\ntext", "*Detail*\n\ntext"},
		{"> quoted\n> more", "> quoted more"},
		{"```\ncode <here>\n```", "```\ncode &lt;here&gt;\n```"},
		{"line one\nline two", "line one line two"},
		{"para one\n\npara two", "para one\n\npara two"},
		{"---", "———"},
	}
	for _, tt := range tests {
		if got := mrkdwn(tt.md); got != tt.want {
			t.Errorf("mrkdwn(%q) = %q, want %q", tt.md, got, tt.want)
		}
	}
}

// TestAppendJSONString: strings are written as encoding/json writes them without HTML
// escaping, so that what the bot sends does not depend on which of the two wrote it.
func TestAppendJSONString(t *testing.T) {
	cases := []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f", "<&>", "é ✓ 🙂",
		"bad \xff utf-8", "line\u2028separator\u2029", "\u007f"}
	for i := range 200 { // and every byte value, in pairs
		cases = append(cases, string([]byte{byte(i), byte(255 - i)}))
	}
	for _, s := range cases {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := string(appendJSONString(nil, s)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("%q: got %s, want %s", s, got, want.String())
		}
	}
}

// TestRenderHugeSections: a section of one 10 MB line of words, or of one 10 MB "word", is
// rendered within Slack's limits in a bounded time: splitting looks ahead at most a block's
// worth of text at each cut (it once recounted the rest of the text at every cut, and took
// seconds).
func TestRenderHugeSections(t *testing.T) {
	for name, text := range map[string]string{
		"a line of words": strings.Repeat("integration melds systems ", 10<<20/26),
		"one word":        strings.Repeat("x", 10<<20),
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			msg := newRenderer(newRefSigner("xoxb-test")).answer(index.Answer{Query: "q", Match: index.MatchAnswer,
				Results: []index.Result{{ID: "huge", Title: "Huge", Text: text, Source: "huge.md", Path: []string{"Huge"}}}}, "a", nil, view{share: true})
			if took := time.Since(start); took > renderBound {
				t.Errorf("rendered in %v, want under %v", took, renderBound)
			}
			checkLimits(t, msg)
		})
	}
}

// TestRefsSigned: a button value the bot wrote reads back as signed; one changed in any way,
// or written by someone else, does not.
func TestRefsSigned(t *testing.T) {
	s := newRefSigner("xoxb-one")
	r := ref{Answer: "a1", Section: "s", Question: "what's a <@U1> \xff api?", Outcome: "closest", Related: []string{"x", "y"}, Uncovered: []string{"rest"}}
	value := s.encode(r)
	got, ok := s.decode(value)
	if !ok || got.Section != "s" || got.Outcome != "closest" || len(got.Uncovered) != 1 {
		t.Fatalf("decode(%s) = %+v, %v", value, got, ok)
	}
	forged := strings.Replace(value, `"u":["rest"]`, `"u":["<!channel>"]`, 1)
	for name, v := range map[string]string{
		"changed":               forged,
		"signed by another bot": newRefSigner("xoxb-two").encode(r),
		"unsigned":              `{"a":"a1","s":"s"}`,
		"a bare section ID":     "s",
	} {
		if _, ok := s.decode(v); ok {
			t.Errorf("%s: %s reads as signed", name, v)
		}
	}
}
