package bot

import (
	"context"
	"errors"
	"net/url"

	"github.com/slack-go/slack"
)

// responseHosts says where the bot may post to a response URL: Slack's own
// https://hooks.slack.com, and the host of SLACK_API_URL (a proxy, or a test stand-in).
// A payload can name any address, and the bot must not be made to post to an internal one.
type responseHosts struct {
	apiScheme, apiHost string
}

func newResponseHosts(apiURL string) responseHosts {
	u, err := url.Parse(apiURL)
	if err != nil {
		return responseHosts{}
	}
	return responseHosts{apiScheme: u.Scheme, apiHost: u.Host}
}

// allowed reports whether raw is an address the bot may post a reply to.
func (h responseHosts) allowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Host == "" {
		return false
	}
	return (u.Scheme == "https" && u.Host == "hooks.slack.com") || (h.apiHost != "" && u.Scheme == h.apiScheme && u.Host == h.apiHost)
}

// errResponseURL is what a reply to an address outside responseHosts fails with.
var errResponseURL = errors.New("the response URL is not Slack's (hooks.slack.com) nor SLACK_API_URL's host: refused")

// respond posts msg to a response URL, as an ephemeral message that replaces nothing
// unless shape changes the webhook message it is sent as.
func (b *Bot) respond(ctx context.Context, responseURL string, msg message, shape ...func(*slack.WebhookMessage)) error {
	if !b.responses.allowed(responseURL) {
		b.metrics.refused.WithLabelValues("response_url").Inc()
		return errResponseURL
	}
	w := msg.webhook()
	for _, f := range shape {
		f(w)
	}
	return redactError(slack.PostWebhookCustomHTTPContext(ctx, responseURL, b.http, w))
}

// hostOf is what logs say of a response URL: its host. The rest is a credential, good for
// posting to a conversation for half an hour.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "(unparsable)"
}

// redactError hides what an error from net/http says of the address it was calling beyond
// its host: response URLs are credentials, and SLACK_API_URL may carry a password.
func redactError(err error) error {
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	return &redactedError{err: err, redacted: &url.Error{Op: ue.Op, URL: hostOf(ue.URL), Err: ue.Err}}
}

// A redactedError reads as its redacted form and unwraps to the original.
type redactedError struct {
	err      error
	redacted error
}

func (e *redactedError) Error() string { return e.redacted.Error() }
func (e *redactedError) Unwrap() error { return e.err }
