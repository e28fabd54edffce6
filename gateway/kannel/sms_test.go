package kannel_test

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

	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/gofiber/fiber/v2"
)

// Incoming messages, recorded in fixtures/carriers/sms/kannel as the query
// strings a get-url produces, go through a bare Fiber app that does what
// the gateway does with an SMS adapter: Parse, then Write, refusals mapped
// to their status. Each is sent as a GET and again as a form POST.

// testReply is sent back as the reply SMS, byte for byte.
const testReply = "谢谢 <3 & welcome >"

// query is a well-formed get-url query with text replaced.
func query(text string) string {
	return url.Values{
		"from": {"+8613800138000"}, "to": {"10690001"}, "text": {text},
		"id": {"1b9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b"}, "ts": {"1714550400"},
	}.Encode()
}

func TestSMS(t *testing.T) {
	may1 := time.Unix(1714550400, 0).UTC()
	in := func(id, phone, body string, at time.Time) sms.Message {
		return sms.Message{Direction: "in", Kind: "inbound", Carrier: "kannel", CarrierID: id, Phone: phone, To: "10690001", Body: body, ReceivedAt: at}
	}
	cases := []struct {
		name    string
		file    string // a fixture, or
		query   string // a query built here
		status  int    // 200 when zero
		want    sms.Message
		wantErr string // in the refusal's body
	}{
		{name: "chinese", file: "zh.txt",
			want: in("7f9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", "+8613800138000", "状态", may1)},
		{name: "full-width, no plus", file: "fullwidth.txt",
			want: in("8f9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", "8613800138002", "ＳＴＡＴＵＳ", may1.Add(time.Minute))},
		// Without %I there is no dedupe key.
		{name: "no id", file: "no_id.txt", want: in("", "+8613800138000", "HELP", may1)},
		{name: "empty text", file: "empty_text.txt",
			want: in("9f9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", "+8613800138000", "", may1)},
		{name: "unparseable ts", file: "bad_ts.txt",
			want: in("af9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", "+8613800138000", "HELP", time.Time{})},
		{name: "1024 bytes", query: query(strings.Repeat("a", 1024)),
			want: in("1b9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", "+8613800138000", strings.Repeat("a", 1024), may1)},

		{name: "missing from", file: "missing_from.txt", status: 400, wantErr: "from: required"},
		{name: "missing text", file: "missing_text.txt", status: 400, wantErr: "text: required"},
		{name: "duplicate text", file: "duplicate_text.txt", status: 400, wantErr: "text: sent more than once"},
		{name: "duplicate from", file: "duplicate_from.txt", status: 400, wantErr: "from: sent more than once"},
		{name: "invalid UTF-8", file: "invalid_utf8.txt", status: 400, wantErr: "text: not valid UTF-8"},
		{name: "NUL", file: "nul_byte.txt", status: 400, wantErr: "text: contains a NUL byte"},
		{name: "1025 bytes", query: query(strings.Repeat("a", 1025)), status: 400, wantErr: "text: longer than 1024 bytes"},
	}
	app, got := wiretest.SMSApp(t, kannel.SMS{}, testReply)
	for _, tc := range cases {
		q := tc.query
		if tc.file != "" {
			q = wiretest.Fixture(t, "sms/kannel/"+tc.file)
		}
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				var req *http.Request
				if method == http.MethodGet {
					req = httptest.NewRequest(method, "/sms/kannel?"+q, nil)
				} else {
					req = httptest.NewRequest(method, "/sms/kannel", strings.NewReader(q))
					req.Header.Set(fiber.HeaderContentType, fiber.MIMEApplicationForm)
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
				// The body is the reply SMS, as plain UTF-8.
				mt, params, _ := mime.ParseMediaType(resp.Header.Get(fiber.HeaderContentType))
				if mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
					t.Errorf("content type %q", resp.Header.Get(fiber.HeaderContentType))
				}
				if string(respBody) != testReply {
					t.Errorf("reply %q, want %q", respBody, testReply)
				}
			})
		}
	}
}

// TestSMSRequests covers what is particular to the request rather than
// the fields: where they are read from, and what is not a Kannel call.
func TestSMSRequests(t *testing.T) {
	zh := wiretest.Fixture(t, "sms/kannel/"+"zh.txt")
	cases := []struct {
		name        string
		method      string
		target      string
		body        string
		contentType string
		reply       string
		status      int
		wantBody    string
	}{
		// Nothing to say: an empty body, which omit-empty turns into no SMS.
		{name: "empty reply", method: http.MethodGet, target: "/sms/kannel?" + zh, status: 200},
		{name: "POST with JSON", method: http.MethodPost, target: "/sms/kannel", body: `{"from":"+8613800138000","text":"HELP"}`,
			contentType: fiber.MIMEApplicationJSON, status: 415},
		{name: "POST without content type", method: http.MethodPost, target: "/sms/kannel", body: zh, status: 415},
		// A POST's fields are its body's; a query alongside is not read.
		{name: "POST with fields in the query", method: http.MethodPost, target: "/sms/kannel?" + zh, body: "",
			contentType: fiber.MIMEApplicationForm, status: 400, wantBody: "from: required"},
		{name: "PUT", method: http.MethodPut, target: "/sms/kannel?" + zh, status: 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app, _ := wiretest.SMSApp(t, kannel.SMS{}, tc.reply)
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set(fiber.HeaderContentType, tc.contentType)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			respBody, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, respBody, tc.status)
			}
			if tc.status == http.StatusOK && len(respBody) != 0 {
				t.Errorf("body %q, want it empty", respBody)
			}
			if !strings.Contains(string(respBody), tc.wantBody) {
				t.Errorf("body %q, want it to hold %q", respBody, tc.wantBody)
			}
		})
	}
}

func TestSMSShape(t *testing.T) {
	a := kannel.SMS{}
	if a.Route() != "kannel" || a.Carrier() != "kannel" || !a.Inline() {
		t.Fatalf("route %q, carrier %q, inline %v", a.Route(), a.Carrier(), a.Inline())
	}
}
