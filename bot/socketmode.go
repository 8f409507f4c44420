package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocketMode takes Slack's requests over a Socket Mode websocket until ctx ends,
// reconnecting when Slack asks or the connection drops (slack-go's client does that). Every
// envelope is acknowledged at once: a slash command with its answer, anything else empty
// before the work it asks for is queued. It returns an error when Slack refuses the app
// token.
func (b *Bot) runSocketMode(ctx context.Context) error {
	client := socketmode.New(b.api)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				b.socketEvent(ctx, client, evt)
			}
		}
	}()
	err := client.RunContext(ctx)
	cancel()
	<-done
	b.connected.Store(false)
	if errors.Is(err, context.Canceled) {
		return nil // stopped, as asked
	}
	return fmt.Errorf("SLACK_APP_TOKEN: Socket Mode could not connect (%v): check the app-level token and that Socket Mode is enabled for the app", err)
}

// socketEvent handles one event of the Socket Mode client. A panic is recovered, counted and
// logged, and the connection goes on.
func (b *Bot) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	defer func() {
		if p := recover(); p != nil {
			b.metrics.panics.Inc()
			b.log.Error("panic in Socket Mode handler", "type", evt.Type, "panic", p)
			// Acknowledged all the same (again, if it was already), or Slack would send it
			// back to fail the same way.
			b.ack(ctx, client, evt.Request, nil)
		}
	}()
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.log.Debug("connecting to Slack over Socket Mode")
	case socketmode.EventTypeConnected:
		b.connected.Store(true)
		b.everConnected.Store(true)
		b.log.Info("connected to Slack over Socket Mode")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		b.connected.Store(false)
		b.log.Warn("Socket Mode connection trouble; the client reconnects", "event", evt.Type, "err", eventError(evt.Data))
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("Slack refused the app-level token")
	case socketmode.EventTypeDisconnect:
		b.connected.Store(false)
		b.log.Info("Slack asked to reconnect")
	case socketmode.EventTypeEventsAPI:
		b.metrics.requests.WithLabelValues("socket", "event").Inc()
		b.ack(ctx, client, evt.Request, nil)
		if e, ok := evt.Data.(slackevents.EventsAPIEvent); ok {
			if evt.Request.RetryAttempt > 0 {
				b.log.Info("Slack is retrying an event", "attempt", evt.Request.RetryAttempt, "reason", evt.Request.RetryReason)
			}
			b.event(ctx, e)
		}
	case socketmode.EventTypeSlashCommand:
		b.metrics.requests.WithLabelValues("socket", "command").Inc()
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			b.ack(ctx, client, evt.Request, nil)
			return
		}
		msg := b.command(ctx, cmd)
		if err := b.ack(ctx, client, evt.Request, json.RawMessage(msg.ephemeralJSON())); err != nil && cmd.ResponseURL != "" {
			// Too big for an acknowledgement (20 KB): acknowledged empty, sent to the
			// command's response URL instead.
			b.ack(ctx, client, evt.Request, nil)
			url := cmd.ResponseURL
			b.queue("slash_command", cmd.TriggerID, func(ctx context.Context) error { return b.respond(ctx, url, msg) })
		}
	case socketmode.EventTypeInteractive:
		b.metrics.requests.WithLabelValues("socket", "interaction").Inc()
		b.ack(ctx, client, evt.Request, nil)
		if cb, ok := evt.Data.(slack.InteractionCallback); ok {
			b.interaction(cb)
		}
	case socketmode.EventTypeErrorBadMessage:
		// An envelope slack-go cannot parse (an event type it does not know): acknowledged
		// all the same, or Slack would send it again and again.
		b.metrics.requests.WithLabelValues("socket", "other").Inc()
		if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			var env struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if json.Unmarshal(bad.Message, &env) == nil && env.EnvelopeID != "" {
				b.ack(ctx, client, &socketmode.Request{EnvelopeID: env.EnvelopeID}, nil)
			}
		}
	}
}

// ack acknowledges a Socket Mode envelope, with payload if not nil.
func (b *Bot) ack(ctx context.Context, client *socketmode.Client, req *socketmode.Request, payload any) error {
	if req == nil || req.EnvelopeID == "" {
		return nil
	}
	err := client.AckCtx(ctx, req.EnvelopeID, payload)
	if err != nil && payload == nil {
		b.log.Warn("could not acknowledge a Socket Mode envelope", "err", err)
	}
	return err
}

func eventError(data any) any {
	switch d := data.(type) {
	case *slack.ConnectionErrorEvent:
		return d.ErrorObj
	case *slack.IncomingEventError:
		return d.ErrorObj
	}
	return data
}
