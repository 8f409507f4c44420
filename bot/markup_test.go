package bot

import "testing"

func TestPlainText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<@U0BOT> what is middleware?", "what is middleware?"},
		{"<@U0BOT|apiorint> <!here> <!channel> <!subteam^S123|@team> scalability", "scalability"},
		{"see <https://example.com/x|performance>", "see performance"},
		{"<https://example.com/scalability>", ""},
		{"<#C123|complexity>", ""},
		{"APIs &amp; integrations: a &lt; b &gt; c", "APIs & integrations: a < b > c"},
		{"hey <@U0BOT>,   what are\n the types?", "hey , what are the types?"},
		{"plain question", "plain question"},
	}
	for _, tt := range tests {
		if got := PlainText(tt.in); got != tt.want {
			t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
