package bot_test

import (
	"strings"
	"testing"

	"github.com/apiorint/apiorint/bot"
)

func TestConfigFromEnv(t *testing.T) {
	const bot0, app0 = "xoxb-1-secretpart", "xapp-1-secretpart"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // a part of the error; "" for none
		check   func(bot.Config) bool
	}{
		{"socket mode", map[string]string{"SLACK_BOT_TOKEN": bot0, "SLACK_APP_TOKEN": app0}, "",
			func(c bot.Config) bool {
				return c.SocketMode() && !c.ServesSlackHTTP() && c.APIURL == bot.DefaultAPIURL && c.ListenAddr == ":3000"
			}},
		{"http mode", map[string]string{"SLACK_BOT_TOKEN": bot0, "SLACK_SIGNING_SECRET": "abc", "SLACK_API_URL": "http://127.0.0.1:9/api", "LISTEN_ADDR": "127.0.0.1:8080"}, "",
			func(c bot.Config) bool {
				return !c.SocketMode() && c.ServesSlackHTTP() && c.APIURL == "http://127.0.0.1:9/api/" && c.ListenAddr == "127.0.0.1:8080"
			}},
		{"no bot token", map[string]string{"SLACK_APP_TOKEN": app0}, "SLACK_BOT_TOKEN is required", nil},
		{"user token as bot token", map[string]string{"SLACK_BOT_TOKEN": "xoxp-1-secretpart", "SLACK_APP_TOKEN": app0}, "SLACK_BOT_TOKEN must start with xoxb-", nil},
		{"app token as bot token", map[string]string{"SLACK_BOT_TOKEN": app0, "SLACK_APP_TOKEN": app0}, "SLACK_BOT_TOKEN must start with xoxb-", nil},
		{"bad app token", map[string]string{"SLACK_BOT_TOKEN": bot0, "SLACK_APP_TOKEN": "xoxb-secretpart"}, "SLACK_APP_TOKEN must start with xapp-", nil},
		{"http mode without secret", map[string]string{"SLACK_BOT_TOKEN": bot0}, "SLACK_SIGNING_SECRET is required", nil},
		{"bad API URL", map[string]string{"SLACK_BOT_TOKEN": bot0, "SLACK_APP_TOKEN": app0, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be", nil},
		{"bad listen address", map[string]string{"SLACK_BOT_TOKEN": bot0, "SLACK_APP_TOKEN": app0, "LISTEN_ADDR": "3000"}, "LISTEN_ADDR must be", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := bot.ConfigFromEnv(func(k string) string { return tt.env[k] })
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one with %q", err, tt.wantErr)
			case err != nil && (strings.Contains(err.Error(), "secretpart") || strings.Contains(err.Error(), "\n")):
				t.Errorf("error repeats a secret or spans lines: %q", err)
			case tt.check != nil && !tt.check(c):
				t.Errorf("config %+v", c)
			}
			if strings.Contains(c.String(), "secretpart") {
				t.Errorf("String shows a secret: %s", c)
			}
		})
	}
}
