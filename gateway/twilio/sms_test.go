package twilio_test

import (
	"encoding/xml"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"

	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/gofiber/fiber/v2"
)

// Incoming message webhooks, recorded in fixtures/carriers/sms/twilio, go
// through a bare Fiber app that does what the gateway does with an SMS
// adapter: Parse, then Write, refusals mapped to their status. Signatures
// are computed here from the documented algorithm, not with twilio.Sign.

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

// message is an accepted message's fields from the recorded payloads.
func message(sid, body string) sms.Message {
	return sms.Message{Direction: "in", Kind: "inbound", Carrier: "twilio", CarrierID: sid, Phone: "+8613800138000", To: "+14155550100", Body: body}
}

// base is a well-formed webhook body with Body replaced.
func base(body string) string {
	return url.Values{
		"MessageSid": {"SM0f0e2d3c4b5a69788796a5b4c3d2e1f0"}, "AccountSid": {"ACae7d1f3c2b4a5968778695a4b3c2d1e0"},
		"From": {"+8613800138000"}, "To": {"+14155550100"}, "Body": {body}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"},
	}.Encode()
}

func TestSMS(t *testing.T) {
	signed := twilio.SMS{AuthToken: token, PublicURL: publicBase}
	unsigned := twilio.SMS{}
	cases := []struct {
		name        string
		adapter     twilio.SMS
		target      string // the request's path and query; /sms/twilio when empty
		file        string // a fixture, or
		body        string // a body built here
		contentType string // form when empty, no header when "-"
		// signURL is the URL the header is computed for: publicBase +
		// target when empty, no header when "-". signBody, when set, is
		// signed instead of the body sent; flip spoils one byte.
		signURL  string
		signBody string
		flip     bool
		reply    string // testReply when empty, none when "-"
		status   int    // 200 when zero
		want     sms.Message
		wantBody string // the whole reply, or what a refusal holds
	}{
		{name: "chinese", adapter: signed, file: "zh.txt",
			want: message("SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "状态"), wantBody: twiml},
		{name: "full-width", adapter: signed, file: "fullwidth.txt",
			want: message("SM2f0e2d3c4b5a69788796a5b4c3d2e1f0", "ＳＴＡＴＵＳ"), wantBody: twiml},
		{name: "MMS without text", adapter: signed, file: "mms_no_body.txt",
			want: message("MM3f0e2d3c4b5a69788796a5b4c3d2e1f0", ""), wantBody: twiml},
		{name: "nothing to reply", adapter: signed, file: "zh.txt", reply: "-",
			want:     message("SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "状态"),
			wantBody: `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
		{name: "6400 bytes", adapter: signed, body: base(strings.Repeat("a", 6400)),
			want: message("SM0f0e2d3c4b5a69788796a5b4c3d2e1f0", strings.Repeat("a", 6400)), wantBody: twiml},
		{name: "no token, no check", adapter: unsigned, file: "zh.txt", signURL: "-",
			want: message("SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "状态"), wantBody: twiml},

		// Signatures.
		{name: "unknown parameters, one repeated, are signed", adapter: signed, file: "unknown_repeated.txt",
			want: message("SM4f0e2d3c4b5a69788796a5b4c3d2e1f0", "HELP"), wantBody: twiml},
		{name: "signed without the unknown parameters", adapter: signed, file: "unknown_repeated.txt",
			signBody: strings.ReplaceAll(wiretest.Fixture(t, "sms/twilio/"+"unknown_repeated.txt"), "&ChannelMetadata=b&ChannelMetadata=a", ""),
			status:   403, wantBody: "bad signature"},
		{name: "signed with :443", adapter: signed, file: "zh.txt", signURL: "https://gw.example.org:443/sms/twilio",
			want: message("SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "状态"), wantBody: twiml},
		{name: "configured with :443, signed without", adapter: twilio.SMS{AuthToken: token, PublicURL: "https://gw.example.org:443"},
			file: "zh.txt", signURL: "https://gw.example.org/sms/twilio",
			want: message("SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "状态"), wantBody: twiml},
		{name: "query string is signed", adapter: signed, target: "/sms/twilio?ch=cn&k=%E7%8A%B6", file: "zh.txt",
			want: message("SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "状态"), wantBody: twiml},
		{name: "signed without the query string", adapter: signed, target: "/sms/twilio?ch=cn", file: "zh.txt",
			signURL: publicBase + "/sms/twilio", status: 403, wantBody: "bad signature"},
		{name: "behind a proxy that strips a prefix", adapter: twilio.SMS{AuthToken: token, PublicURL: "https://example.org/barefoot/"},
			file: "zh.txt", signURL: "https://example.org/barefoot/sms/twilio",
			want: message("SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "状态"), wantBody: twiml},
		{name: "one byte flipped", adapter: signed, file: "zh.txt", flip: true, status: 403, wantBody: "bad signature"},
		{name: "no signature", adapter: signed, file: "zh.txt", signURL: "-", status: 403, wantBody: "bad signature"},
		{name: "signed for another host", adapter: signed, file: "zh.txt", signURL: "https://other.example.org/sms/twilio",
			status: 403, wantBody: "bad signature"},
		{name: "signed for http", adapter: signed, file: "zh.txt", signURL: "http://gw.example.org/sms/twilio",
			status: 403, wantBody: "bad signature"},
		{name: "another token", adapter: twilio.SMS{AuthToken: token + "x", PublicURL: publicBase}, file: "zh.txt",
			status: 403, wantBody: "bad signature"},
		{name: "body changed after signing", adapter: signed, file: "zh.txt",
			signBody: strings.Replace(wiretest.Fixture(t, "sms/twilio/"+"zh.txt"), "Body=%E7%8A%B6%E6%80%81", "Body=STOP", 1),
			status:   403, wantBody: "bad signature"},
		// Authentication comes before validation: an unsigned bad request
		// learns nothing about what else is wrong with it.
		{name: "unsigned and malformed", adapter: signed, file: "missing_from.txt", signURL: "-", status: 403, wantBody: "bad signature"},
		{name: "token without public URL", adapter: twilio.SMS{AuthToken: token}, file: "zh.txt", status: 500},

		// Bad input, properly signed.
		{name: "missing MessageSid", adapter: signed, file: "missing_message_sid.txt", status: 400, wantBody: "MessageSid: required"},
		{name: "missing AccountSid", adapter: signed, file: "missing_account_sid.txt", status: 400, wantBody: "AccountSid: required"},
		{name: "missing From", adapter: signed, file: "missing_from.txt", status: 400, wantBody: "From: required"},
		{name: "duplicate Body", adapter: signed, file: "duplicate_body.txt", status: 400, wantBody: "Body: sent more than once"},
		{name: "invalid UTF-8", adapter: signed, file: "invalid_utf8.txt", status: 400, wantBody: "Body: not valid UTF-8"},
		{name: "NUL", adapter: signed, file: "nul_byte.txt", status: 400, wantBody: "Body: contains a NUL byte"},
		{name: "6401 bytes", adapter: signed, body: base(strings.Repeat("a", 6401)), status: 400, wantBody: "Body: longer than 6400 bytes"},
		{name: "JSON", adapter: signed, file: "json_body.json", contentType: fiber.MIMEApplicationJSON, status: 415},
		{name: "no content type", adapter: unsigned, file: "zh.txt", contentType: "-", status: 415},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.file != "" {
				body = wiretest.Fixture(t, "sms/twilio/"+tc.file)
			}
			target := tc.target
			if target == "" {
				target = "/sms/twilio"
			}
			req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
			switch tc.contentType {
			case "":
				req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationForm)
			case "-":
			default:
				req.Header.Set(fiber.HeaderContentType, tc.contentType)
			}
			if tc.signURL != "-" {
				u, sb := tc.signURL, tc.signBody
				if u == "" {
					u = publicBase + target
				}
				if sb == "" {
					sb = body
				}
				sig := signature(t, token, u, sb)
				if tc.flip {
					b := []byte(sig)
					b[len(b)/2] ^= 0x01
					sig = string(b)
				}
				req.Header.Set(twilio.SignatureHeader, sig)
			}
			reply := tc.reply
			switch reply {
			case "":
				reply = testReply
			case "-":
				reply = ""
			}
			app, got := wiretest.SMSApp(t, tc.adapter, reply)
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			respBody, _ := io.ReadAll(resp.Body)
			want := tc.status
			if want == 0 {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, respBody, want)
			}
			if want != http.StatusOK {
				if !strings.Contains(string(respBody), tc.wantBody) {
					t.Errorf("refusal %q, want it to hold %q", respBody, tc.wantBody)
				}
				if want == http.StatusForbidden && string(respBody) != "bad signature" {
					t.Errorf("refusal %q says more than %q", respBody, "bad signature")
				}
				select {
				case m := <-got:
					t.Errorf("refused, yet parsed %+v", m)
				default:
				}
				return
			}
			if m := <-got; m != tc.want {
				t.Errorf("parsed\n %+v\nwant\n %+v", m, tc.want)
			}
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get(fiber.HeaderContentType)); mt != "text/xml" {
				t.Errorf("content type %q", resp.Header.Get(fiber.HeaderContentType))
			}
			if string(respBody) != tc.wantBody {
				t.Errorf("reply\n %s\nwant\n %s", respBody, tc.wantBody)
			}
			var doc struct {
				XMLName xml.Name
				Message []string `xml:"Message"`
			}
			if err := xml.Unmarshal(respBody, &doc); err != nil || doc.XMLName.Local != "Response" {
				t.Fatalf("reply is not TwiML (%v): %s", err, respBody)
			}
			if wantMsgs := []string{reply}; reply != "" && !slices.Equal(doc.Message, wantMsgs) {
				t.Errorf("TwiML messages %q, want %q", doc.Message, wantMsgs)
			} else if reply == "" && len(doc.Message) != 0 {
				t.Errorf("TwiML messages %q, want none", doc.Message)
			}
		})
	}
}

func TestSMSShape(t *testing.T) {
	a := twilio.SMS{}
	if a.Route() != "twilio" || a.Carrier() != "twilio" || !a.Inline() {
		t.Fatalf("route %q, carrier %q, inline %v", a.Route(), a.Carrier(), a.Inline())
	}
}
