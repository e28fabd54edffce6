package africastalking_test

import (
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"

	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/gofiber/fiber/v2"
)

// Incoming SMS callbacks, recorded in fixtures/carriers/sms/africastalking,
// go through a bare Fiber app that does what the gateway does with an SMS
// adapter: Parse, then Write, refusals mapped to their status.

// testReply is what the harness replies with; AT must not echo it.
const testReply = "Thanks <3 & welcome >"

// form is a well-formed callback with text replaced.
func form(text string) string {
	return url.Values{
		"from": {"+8613800138000"}, "to": {"38401"}, "text": {text},
		"id": {"0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d0ff"}, "date": {"2024-03-01 08:15:30"},
	}.Encode()
}

func TestSMS(t *testing.T) {
	const ct = fiber.MIMEApplicationForm
	in := func(id, phone, body string, at time.Time) sms.Message {
		return sms.Message{Direction: "in", Kind: "inbound", Carrier: "at", CarrierID: id, Phone: phone, To: "38401", Body: body, ReceivedAt: at}
	}
	march := time.Date(2024, 3, 1, 8, 15, 30, 0, time.UTC)
	cases := []struct {
		name        string
		file        string // a fixture, or
		body        string // a body built here
		contentType string // form when empty, no header when "-"
		status      int    // 200 when zero
		want        sms.Message
		wantErr     string // in the refusal's body
	}{
		{name: "chinese, ISO date", file: "zh_iso_date.txt",
			want: in("ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3", "+8613800138000", "状态", time.Date(2017, 5, 3, 6, 4, 45, 0, time.UTC))},
		{name: "full-width, space date", file: "fullwidth_space_date.txt",
			want: in("5c1d5b1e-0b4a-4c55-9b39-2b4f0f6a7e21", "+8613800138002", "ＳＴＡＴＵＳ", march)},
		// An unescaped '+' decodes to a space; the phone stays raw for the
		// gateway to normalise.
		{name: "unescaped plus", file: "plus_unescaped.txt",
			want: in("0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d001", " 8613800138000", "HELP", march)},
		{name: "empty text", file: "empty_text.txt",
			want: in("0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d002", "+8613800138000", "", march)},
		{name: "unparseable date", file: "bad_date.txt",
			want: in("0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d003", "+8613800138000", "STATUS", time.Time{})},
		{name: "6400 bytes", body: form(strings.Repeat("a", 6400)),
			want: in("0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d0ff", "+8613800138000", strings.Repeat("a", 6400), march)},
		{name: "1600 CJK characters", body: form(strings.Repeat("状", 1600)),
			want: in("0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d0ff", "+8613800138000", strings.Repeat("状", 1600), march)},
		{name: "content type with charset", body: form("状态"), contentType: ct + "; charset=UTF-8",
			want: in("0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d0ff", "+8613800138000", "状态", march)},

		{name: "missing from", file: "missing_from.txt", status: 400, wantErr: "from: required"},
		{name: "empty from", file: "empty_from.txt", status: 400, wantErr: "from: required"},
		{name: "missing id", file: "missing_id.txt", status: 400, wantErr: "id: required"},
		{name: "missing text", file: "missing_text.txt", status: 400, wantErr: "text: required"},
		{name: "duplicate id", file: "duplicate_id.txt", status: 400, wantErr: "id: sent more than once"},
		{name: "duplicate text", file: "duplicate_text.txt", status: 400, wantErr: "text: sent more than once"},
		{name: "invalid UTF-8", file: "invalid_utf8.txt", status: 400, wantErr: "text: not valid UTF-8"},
		{name: "NUL", file: "nul_byte.txt", status: 400, wantErr: "text: contains a NUL byte"},
		{name: "6401 bytes", body: form(strings.Repeat("a", 6401)), status: 400, wantErr: "text: longer than 6400 bytes"},
		{name: "JSON", file: "json_body.json", contentType: fiber.MIMEApplicationJSON, status: 415},
		{name: "no content type", file: "zh_iso_date.txt", contentType: "-", status: 415},
	}
	app, got := wiretest.SMSApp(t, africastalking.SMS{}, testReply)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.file != "" {
				body = wiretest.Fixture(t, "sms/africastalking/"+tc.file)
			}
			req := httptest.NewRequest(http.MethodPost, "/sms/africastalking", strings.NewReader(body))
			switch tc.contentType {
			case "":
				req.Header.Set(fiber.HeaderContentType, ct)
			case "-":
			default:
				req.Header.Set(fiber.HeaderContentType, tc.contentType)
			}
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
				if !strings.Contains(string(respBody), tc.wantErr) {
					t.Errorf("refusal %q, want it to hold %q", respBody, tc.wantErr)
				}
				select {
				case m := <-got:
					t.Errorf("refused, yet parsed %+v", m)
				default:
				}
				return
			}
			m := <-got
			if !m.ReceivedAt.Equal(tc.want.ReceivedAt) {
				t.Errorf("ReceivedAt %v, want %v", m.ReceivedAt, tc.want.ReceivedAt)
			}
			m.ReceivedAt = tc.want.ReceivedAt
			if m != tc.want {
				t.Errorf("parsed\n %+v\nwant\n %+v", m, tc.want)
			}
			// Replies go through the send API: the callback gets an empty 200.
			if mt, _, _ := mime.ParseMediaType(resp.Header.Get(fiber.HeaderContentType)); mt != "text/plain" {
				t.Errorf("content type %q", resp.Header.Get(fiber.HeaderContentType))
			}
			if len(respBody) != 0 {
				t.Errorf("body %q, want it empty", respBody)
			}
		})
	}
}

func TestSMSShape(t *testing.T) {
	a := africastalking.SMS{}
	if a.Route() != "africastalking" || a.Carrier() != "at" || a.Inline() {
		t.Fatalf("route %q, carrier %q, inline %v", a.Route(), a.Carrier(), a.Inline())
	}
}
