// Package bot is everything Slack: configuration, the Socket Mode and HTTP transports,
// request verification, dispatch, deduplication, Block Kit rendering, replies, feedback and
// App Home.
package bot

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Config is how the bot reaches Slack. Its String method never shows a secret.
type Config struct {
	BotToken      string   // SLACK_BOT_TOKEN, xoxb-…
	AppToken      string   // SLACK_APP_TOKEN, xapp-…: Socket Mode when set
	SigningSecret string   // SLACK_SIGNING_SECRET: verifies HTTP requests
	APIURL        string   // SLACK_API_URL, ending in "/"
	ListenAddr    string   // LISTEN_ADDR
	Admins        []string // ADMIN_USER_IDS: who may see the gap report
}

// Defaults for what the environment leaves unset.
const (
	DefaultAPIURL     = "https://slack.com/api/"
	DefaultListenAddr = ":3000"
)

// SocketMode reports whether the bot connects to Slack over Socket Mode rather than taking
// HTTP requests.
func (c Config) SocketMode() bool { return c.AppToken != "" }

// ServesSlackHTTP reports whether the /slack/* endpoints are served: in HTTP mode, and in
// Socket Mode when a signing secret allows verifying them too.
func (c Config) ServesSlackHTTP() bool { return c.SigningSecret != "" }

// IsAdmin reports whether a Slack user may see the gap report.
func (c Config) IsAdmin(user string) bool { return user != "" && slices.Contains(c.Admins, user) }

func (c Config) String() string {
	mode := "http"
	if c.SocketMode() {
		mode = "socket"
	}
	return fmt.Sprintf("mode=%s api=%s listen=%s admins=%d", mode, redactURL(c.APIURL), c.ListenAddr, len(c.Admins))
}

// redactURL hides the password of an address that carries one.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an address that does not parse)"
	}
	return u.Redacted()
}

// ConfigFromEnv reads and checks the configuration. Each error is one line that names the
// variable and what it should hold. It quotes a value only where that is harmless (an
// address, a log level), with any password in it hidden, and never a token or a secret.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		BotToken:      strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		AppToken:      strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		SigningSecret: strings.TrimSpace(getenv("SLACK_SIGNING_SECRET")),
		APIURL:        strings.TrimSpace(getenv("SLACK_API_URL")),
		ListenAddr:    strings.TrimSpace(getenv("LISTEN_ADDR")),
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	switch {
	case c.BotToken == "":
		return Config{}, errors.New("SLACK_BOT_TOKEN is required: the bot token (xoxb-…) from your app's OAuth & Permissions page")
	case !strings.HasPrefix(c.BotToken, "xoxb-") || strings.ContainsAny(c.BotToken, " \t\r\n"):
		return Config{}, errors.New("SLACK_BOT_TOKEN must start with xoxb- (a bot token, not a user or app token)")
	case c.AppToken != "" && (!strings.HasPrefix(c.AppToken, "xapp-") || strings.ContainsAny(c.AppToken, " \t\r\n")):
		return Config{}, errors.New("SLACK_APP_TOKEN must start with xapp- (an app-level token with connections:write)")
	case c.AppToken == "" && c.SigningSecret == "":
		return Config{}, errors.New("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN to use Socket Mode)")
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Config{}, fmt.Errorf("SLACK_API_URL must be an http(s) URL like %s, not %q", DefaultAPIURL, redactURL(c.APIURL))
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if _, port, err := net.SplitHostPort(c.ListenAddr); err != nil || port == "" {
		return Config{}, fmt.Errorf("LISTEN_ADDR must be host:port or :port, like %s, not %q", DefaultListenAddr, c.ListenAddr)
	}
	for _, id := range strings.Split(getenv("ADMIN_USER_IDS"), ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !validUserID(id) {
			return Config{}, fmt.Errorf("ADMIN_USER_IDS must be Slack user IDs separated by commas, like U012AB3CD,W0456EF7G; %q is not one", id)
		}
		c.Admins = append(c.Admins, id)
	}
	return c, nil
}

// validUserID reports whether id looks like a Slack user ID: U or W, then capitals and
// digits.
func validUserID(id string) bool {
	if len(id) < 3 || len(id) > 20 || (id[0] != 'U' && id[0] != 'W') {
		return false
	}
	for _, r := range id[1:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
