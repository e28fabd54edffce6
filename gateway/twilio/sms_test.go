package twilio_test

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Incoming message webhooks go through the bare adapter (wiretest): those
// recorded in fixtures/carriers/sms/twilio, signed, each with its outcome
// beside it, and those built here. Signatures are computed here from the
// documented algorithm, not with twilio.Sign.

// signature is X-Twilio-Signature for a form body posted to u: the URL,
// then every name in byte order followed by each of its values, in an
// HMAC-SHA1 keyed with the token.
func signature(tb testing.TB, token, u, body string) string {
	tb.Helper()
	form, err := url.ParseQuery(body)
	if err != nil {
		tb.Fatalf("signature: %v", err)
	}
	s := u
	for _, name := range slices.Sorted(maps.Keys(form)) {
		for _, v := range slices.Sorted(slices.Values(form[name])) {
			s += name + v
		}
	}
	return hmacSHA1(token, s)
}

const (
	token      = "0123456789abcdef0123456789abcdef"
	publicBase = "https://gw.example.org"
	testReply  = "Thanks <3 & welcome >"
	// twiml is testReply as TwiML, byte for byte.
	twiml = `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thanks &lt;3 &amp; welcome &gt;</Message></Response>`
)

// signedAt posts body to target, signed with token for the URL u and the
// body signed (body itself when ""); unsigned when u is "".
func signedAt(t *testing.T, target, body, u, signed string) []*http.Request {
	req := wiretest.Request(http.MethodPost, target, fiber.MIMEApplicationForm, body)
	if signed == "" {
		signed = body
	}
	if u != "" {
		req.Header.Set(twilio.SignatureHeader, signature(t, token, u, signed))
	}
	return []*http.Request{req}
}

// answered is a message Twilio sent, answered with TwiML.
func answered(sid, body, twiml string) wiretest.Outcome {
	return wiretest.Outcome{Status: http.StatusOK, ContentType: fiber.MIMETextXMLCharsetUTF8, Body: twiml, Parsed: sms.Message{
		Direction: "in", Kind: "inbound", Carrier: "twilio", CarrierID: sid, Phone: "+8613800138000", To: "+14155550100", Body: body,
	}}
}

func TestSMS(t *testing.T) {
	zh, unknown := wiretest.Fixture(t, "sms/twilio/zh.txt"), wiretest.Fixture(t, "sms/twilio/unknown_repeated.txt")
	zhSid := "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0"
	badSignature := wiretest.Refused(http.StatusForbidden, "bad signature")
	long := func(n int) string {
		return url.Values{
			"MessageSid": {"SM0f0e2d3c4b5a69788796a5b4c3d2e1f0"}, "AccountSid": {"ACae7d1f3c2b4a5968778695a4b3c2d1e0"},
			"From": {"+8613800138000"}, "To": {"+14155550100"}, "Body": {strings.Repeat("a", n)}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"},
		}.Encode()
	}

	h := wiretest.SMS(t, twilio.SMS{AuthToken: token, PublicURL: publicBase}, testReply)
	h.Replay(t, "sms/twilio", func(t testing.TB, path, file, payload string) []*http.Request {
		reqs := wiretest.Post(t, path, file, payload)
		reqs[0].Header.Set(twilio.SignatureHeader, signature(t, token, publicBase+path, payload))
		return reqs
	})
	h.Run(t,
		wiretest.Case{Name: "6400 bytes", Requests: signedAt(t, h.Path, long(6400), publicBase+h.Path, ""),
			Want: answered("SM0f0e2d3c4b5a69788796a5b4c3d2e1f0", strings.Repeat("a", 6400), twiml)},
		wiretest.Case{Name: "6401 bytes", Requests: signedAt(t, h.Path, long(6401), publicBase+h.Path, ""),
			Want: wiretest.Refused(http.StatusBadRequest, "Body: longer than 6400 bytes")},
		// Every parameter posted is signed, unknown and repeated ones too.
		wiretest.Case{Name: "signed without the unknown parameters", Want: badSignature,
			Requests: signedAt(t, h.Path, unknown, publicBase+h.Path, strings.ReplaceAll(unknown, "&ChannelMetadata=b&ChannelMetadata=a", ""))},
		wiretest.Case{Name: "signed with :443", Requests: signedAt(t, h.Path, zh, "https://gw.example.org:443/sms/twilio", ""), Want: answered(zhSid, "状态", twiml)},
		wiretest.Case{Name: "query string is signed", Requests: signedAt(t, h.Path+"?ch=cn&k=%E7%8A%B6", zh, publicBase+h.Path+"?ch=cn&k=%E7%8A%B6", ""),
			Want: answered(zhSid, "状态", twiml)},
		wiretest.Case{Name: "signed without the query string", Requests: signedAt(t, h.Path+"?ch=cn", zh, publicBase+h.Path, ""), Want: badSignature},
		wiretest.Case{Name: "one byte flipped", Requests: flipped(t, signedAt(t, h.Path, zh, publicBase+h.Path, "")), Want: badSignature},
		wiretest.Case{Name: "no signature", Requests: signedAt(t, h.Path, zh, "", ""), Want: badSignature},
		wiretest.Case{Name: "signed for another host", Requests: signedAt(t, h.Path, zh, "https://other.example.org/sms/twilio", ""), Want: badSignature},
		wiretest.Case{Name: "signed for http", Requests: signedAt(t, h.Path, zh, "http://gw.example.org/sms/twilio", ""), Want: badSignature},
		wiretest.Case{Name: "body changed after signing", Want: badSignature,
			Requests: signedAt(t, h.Path, strings.Replace(zh, "Body=%E7%8A%B6%E6%80%81", "Body=STOP", 1), publicBase+h.Path, zh)},
		// Authentication comes before validation: an unsigned bad request
		// learns nothing about what else is wrong with it.
		wiretest.Case{Name: "unsigned and malformed", Requests: signedAt(t, h.Path, wiretest.Fixture(t, "sms/twilio/missing_from.txt"), "", ""), Want: badSignature},
	)

	// Nothing to reply: an empty Response.
	wiretest.SMS(t, twilio.SMS{AuthToken: token, PublicURL: publicBase}, "").Run(t, wiretest.Case{
		Name: "nothing to reply", Requests: signedAt(t, h.Path, zh, publicBase+h.Path, ""),
		Want: answered(zhSid, "状态", `<?xml version="1.0" encoding="UTF-8"?><Response/>`),
	})
	// Without a token nothing can be checked, so nothing is taken: an
	// unsigned webhook could come from anyone.
	wiretest.SMS(t, twilio.SMS{}, testReply).Run(t,
		wiretest.Case{Name: "no token, refused", Requests: signedAt(t, h.Path, zh, "", ""),
			Want: wiretest.Refused(http.StatusForbidden, "Twilio is not configured here: no auth token to check the signature")},
		wiretest.Case{Name: "no content type", Requests: []*http.Request{wiretest.Request(http.MethodPost, h.Path, "", zh)},
			Want: wiretest.Refused(http.StatusUnsupportedMediaType, "want application/x-www-form-urlencoded")},
	)
	// The URL signed is the public one configured, however it is spelt.
	wiretest.SMS(t, twilio.SMS{AuthToken: token, PublicURL: "https://gw.example.org:443"}, testReply).Run(t, wiretest.Case{
		Name: "configured with :443, signed without", Requests: signedAt(t, h.Path, zh, publicBase+h.Path, ""), Want: answered(zhSid, "状态", twiml),
	})
	wiretest.SMS(t, twilio.SMS{AuthToken: token, PublicURL: "https://example.org/barefoot/"}, testReply).Run(t, wiretest.Case{
		Name: "behind a proxy that strips a prefix", Requests: signedAt(t, h.Path, zh, "https://example.org/barefoot/sms/twilio", ""),
		Want: answered(zhSid, "状态", twiml),
	})
	wiretest.SMS(t, twilio.SMS{AuthToken: token + "x", PublicURL: publicBase}, testReply).Run(t, wiretest.Case{
		Name: "another token", Requests: signedAt(t, h.Path, zh, publicBase+h.Path, ""), Want: badSignature,
	})
	// A configuration mistake, not the caller's: a 500, logged.
	wiretest.SMS(t, twilio.SMS{AuthToken: token}, testReply).Run(t, wiretest.Case{
		Name: "token without public URL", Requests: signedAt(t, h.Path, zh, publicBase+h.Path, ""),
		Want: wiretest.Refused(http.StatusInternalServerError, "internal error"),
	})
}

// flipped spoils one byte of each request's signature.
func flipped(t *testing.T, reqs []*http.Request) []*http.Request {
	for _, r := range reqs {
		b := []byte(r.Header.Get(twilio.SignatureHeader))
		b[len(b)/2] ^= 0x01
		r.Header.Set(twilio.SignatureHeader, string(b))
	}
	return reqs
}

func TestSMSShape(t *testing.T) {
	a := twilio.SMS{}
	if a.Route() != "twilio" || a.Carrier() != "twilio" || !a.Inline() {
		t.Fatalf("route %q, carrier %q, inline %v", a.Route(), a.Carrier(), a.Inline())
	}
}
