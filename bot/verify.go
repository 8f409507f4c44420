package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Why a request was refused, for logs and metrics; none of them says more to the caller
// than "401".
var (
	errUnsigned     = errors.New("no signature headers")
	errStale        = errors.New("timestamp outside the 5-minute window")
	errBadSignature = errors.New("signature does not match")
)

// maxClockSkew is how far a request's timestamp may be from now, either way, as Slack asks:
// an older request may be a replay.
const maxClockSkew = 5 * time.Minute

// A verifier checks Slack's signature on a request: "v0=" and the hex HMAC-SHA256 of
// "v0:timestamp:body" under the signing secret, compared in constant time. It does what
// slack.NewSecretsVerifier does, with a clock of its own so that it can be tested, and with
// room for two secrets while one is being rotated.
type verifier struct {
	secrets [][]byte
	now     func() time.Time
}

// newVerifier accepts requests signed with any of the comma-separated secrets.
func newVerifier(secrets string, now func() time.Time) verifier {
	v := verifier{now: now}
	for _, s := range strings.Split(secrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			v.secrets = append(v.secrets, []byte(s))
		}
	}
	return v
}

// checkHeaders refuses a request without signature headers, with either header more than
// once (which one would be checked?) or with a timestamp outside the window, before its body
// is read.
func (v verifier) checkHeaders(h http.Header) error {
	tss, sigs := h.Values("X-Slack-Request-Timestamp"), h.Values("X-Slack-Signature")
	if len(tss) == 0 || len(sigs) == 0 || tss[0] == "" || sigs[0] == "" {
		return errUnsigned
	}
	if len(tss) > 1 || len(sigs) > 1 {
		return errBadSignature
	}
	ts := tss[0]
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errStale
	}
	if skew := v.now().Sub(time.Unix(sec, 0)); skew > maxClockSkew || skew < -maxClockSkew {
		return errStale
	}
	return nil
}

// verify checks the headers and the signature of body.
func (v verifier) verify(h http.Header, body []byte) error {
	if err := v.checkHeaders(h); err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(h.Get("X-Slack-Signature"), "v0=")
	// Exactly what Slack sends: 64 lower-case hex digits.
	if !ok || len(hexSig) != 2*sha256.Size || strings.ToLower(hexSig) != hexSig {
		return errBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return errBadSignature
	}
	match := false
	for _, secret := range v.secrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("v0:" + h.Get("X-Slack-Request-Timestamp") + ":"))
		mac.Write(body)
		// Every secret is tried, so that timing says nothing about which one matched.
		match = hmac.Equal(mac.Sum(nil), got) || match
	}
	if !match {
		return errBadSignature
	}
	return nil
}
