package bot

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/apiorint/apiorint/bot/fakeslack"
	"github.com/slack-go/slack"
)

// Slack's published example, from "Verifying requests from Slack".
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = "1531420618"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)

func headers(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	return h
}

func TestVerifySlackExample(t *testing.T) {
	sent := time.Unix(1531420618, 0)
	tests := []struct {
		name    string
		secrets string
		now     time.Time
		ts, sig string
		body    string
		want    error
	}{
		{"the example", exampleSecret, sent, exampleTimestamp, exampleSignature, exampleBody, nil},
		{"4m59s later", exampleSecret, sent.Add(4*time.Minute + 59*time.Second), exampleTimestamp, exampleSignature, exampleBody, nil},
		{"5m later", exampleSecret, sent.Add(5 * time.Minute), exampleTimestamp, exampleSignature, exampleBody, nil},
		{"5m01s later", exampleSecret, sent.Add(5*time.Minute + time.Second), exampleTimestamp, exampleSignature, exampleBody, errStale},
		{"5m01s earlier", exampleSecret, sent.Add(-5*time.Minute - time.Second), exampleTimestamp, exampleSignature, exampleBody, errStale},
		{"a year later", exampleSecret, sent.AddDate(1, 0, 0), exampleTimestamp, exampleSignature, exampleBody, errStale},
		{"rotation: old and new secret", "newsecret," + exampleSecret, sent, exampleTimestamp, exampleSignature, exampleBody, nil},
		{"another secret", "newsecret", sent, exampleTimestamp, exampleSignature, exampleBody, errBadSignature},
		{"a changed body", exampleSecret, sent, exampleTimestamp, exampleSignature, exampleBody + "&x=1", errBadSignature},
		{"a changed timestamp", exampleSecret, sent, "1531420619", exampleSignature, exampleBody, errBadSignature},
		{"no v0= prefix", exampleSecret, sent, exampleTimestamp, exampleSignature[3:], exampleBody, errBadSignature},
		{"v1", exampleSecret, sent, exampleTimestamp, "v1=" + exampleSignature[3:], exampleBody, errBadSignature},
		{"not hex", exampleSecret, sent, exampleTimestamp, "v0=zz", exampleBody, errBadSignature},
		{"short", exampleSecret, sent, exampleTimestamp, exampleSignature[:20], exampleBody, errBadSignature},
		{"no signature", exampleSecret, sent, exampleTimestamp, "", exampleBody, errUnsigned},
		{"no timestamp", exampleSecret, sent, "", exampleSignature, exampleBody, errUnsigned},
		{"timestamp not a number", exampleSecret, sent, "15314206l8", exampleSignature, exampleBody, errStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(tt.secrets, func() time.Time { return tt.now })
			if err := v.verify(headers(tt.ts, tt.sig), []byte(tt.body)); err != tt.want {
				t.Errorf("verify: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyAgreesWithSlackGo checks ours against slack-go's verifier on random requests,
// signed right or wrong, at the real time.
func TestVerifyAgreesWithSlackGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	v := newVerifier("s3cret", time.Now)
	for i := range 500 {
		body := make([]byte, rng.IntN(200))
		for j := range body {
			body[j] = byte(rng.IntN(256))
		}
		ts := strconv.FormatInt(time.Now().Add(time.Duration(rng.IntN(800)-400)*time.Second).Unix(), 10)
		secret := "s3cret"
		if rng.IntN(3) == 0 {
			secret = "other"
		}
		h := headers(ts, fakeslack.Sign(secret, ts, body))
		ours := v.verify(h, body) == nil
		sv, err := slack.NewSecretsVerifier(h, "s3cret")
		theirs := false
		if err == nil {
			sv.Write(body)
			theirs = sv.Ensure() == nil
		}
		if ours != theirs {
			t.Fatalf("case %d: ours %v, slack-go %v (ts %s, secret %s)", i, ours, theirs, ts, secret)
		}
	}
}
