package kannel_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Incoming messages go through the bare adapter (wiretest): those recorded
// in fixtures/carriers/sms/kannel, as the query strings a get-url
// produces, each with its outcome beside it, and those built here. Each is
// sent as a GET and again as a form POST, with the same outcome.

// testReply is sent back as the reply SMS, byte for byte.
const testReply = "谢谢 <3 & welcome >"

// getAndPost carries a get-url query as Kannel sends it, in a GET, and as
// a form POST, which is read too.
func getAndPost(_ testing.TB, path, _, query string) []*http.Request {
	return []*http.Request{
		wiretest.Request(http.MethodGet, path+"?"+query, "", ""),
		wiretest.Request(http.MethodPost, path, fiber.MIMEApplicationForm, query),
	}
}

// message is an accepted message, answered with reply.
func message(id, text string, at time.Time, reply string) wiretest.Outcome {
	return wiretest.Outcome{Status: http.StatusOK, ContentType: fiber.MIMETextPlainCharsetUTF8, Body: reply, Parsed: sms.Message{
		Direction: "in", Kind: "inbound", Carrier: "kannel", CarrierID: id, Phone: "+8613800138000", To: "10690001", Body: text, ReceivedAt: at,
	}}
}

func TestSMS(t *testing.T) {
	h := wiretest.SMS(t, kannel.SMS{}, testReply)
	h.Replay(t, "sms/kannel", getAndPost)
	query := func(text string) []*http.Request {
		return getAndPost(t, h.Path, "", url.Values{
			"from": {"+8613800138000"}, "to": {"10690001"}, "text": {text},
			"id": {"1b9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b"}, "ts": {"1714550400"},
		}.Encode())
	}
	h.Run(t,
		wiretest.Case{Name: "sixteen segments", Requests: query(strings.Repeat("a", 4896)),
			Want: message("1b9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", strings.Repeat("a", 4896), time.Unix(1714550400, 0).UTC(), testReply)},
		wiretest.Case{Name: "past sixteen segments", Requests: query(strings.Repeat("a", 4897)),
			Want: wiretest.Refused(http.StatusRequestEntityTooLarge, "text: longer than 4896 bytes")},
	)
}

// TestSMSRequests covers what is particular to the request rather than
// the fields: where they are read from, and what is not a Kannel call.
func TestSMSRequests(t *testing.T) {
	h := wiretest.SMS(t, kannel.SMS{}, "")
	zh := wiretest.Fixture(t, "sms/kannel/zh.txt")
	notForm := wiretest.Refused(http.StatusUnsupportedMediaType, "want application/x-www-form-urlencoded")
	h.Run(t,
		// Nothing to say: an empty body, which omit-empty turns into no SMS.
		wiretest.Case{Name: "empty reply", Requests: []*http.Request{wiretest.Request(http.MethodGet, h.Path+"?"+zh, "", "")},
			Want: message("7f9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", "状态", time.Unix(1714550400, 0).UTC(), "")},
		wiretest.Case{Name: "POST with JSON", Want: notForm, Requests: []*http.Request{
			wiretest.Request(http.MethodPost, h.Path, fiber.MIMEApplicationJSON, `{"from":"+8613800138000","text":"HELP"}`)}},
		wiretest.Case{Name: "POST without content type", Want: notForm, Requests: []*http.Request{
			wiretest.Request(http.MethodPost, h.Path, "", zh)}},
		// A POST's fields are its body's; a query alongside is not read.
		wiretest.Case{Name: "POST with fields in the query", Want: wiretest.Refused(http.StatusBadRequest, "from: required"),
			Requests: []*http.Request{wiretest.Request(http.MethodPost, h.Path+"?"+zh, fiber.MIMEApplicationForm, "")}},
		wiretest.Case{Name: "PUT", Want: wiretest.Refused(http.StatusMethodNotAllowed, "want GET or POST"),
			Requests: []*http.Request{wiretest.Request(http.MethodPut, h.Path+"?"+zh, "", "")}},
	)
}

func TestSMSShape(t *testing.T) {
	a := kannel.SMS{}
	if a.Route() != "kannel" || a.Carrier() != "kannel" || !a.Inline() {
		t.Fatalf("route %q, carrier %q, inline %v", a.Route(), a.Carrier(), a.Inline())
	}
}

// TestDecode: Kannel passes a message's text as it has it, by coding and
// charset, with or without mo-recode: every form reads as the same text.
func TestDecode(t *testing.T) {
	tests := []struct {
		name            string
		raw             string
		coding, charset string
		want            string
		bad             bool
	}{
		{"UCS-2 as UTF-16BE, no recode", "r\xb6\x60\x01", "2", "UTF-16BE", "状态", false},
		{"need with spaces kept, %b", "\x97\x00\x6c\x42\x00 \x00C\x000\x000\x000\x001\x00 \x006\x00 \x002", "2", "UTF-16BE", "需求 C0001 6 2", false},
		{"recoded to UTF-8", "状态", "0", "UTF-8", "状态", false},
		{"UCS-2 recoded to UTF-8 keeps coding 2", "需求 C0001 6 2", "2", "UTF-8", "需求 C0001 6 2", false},
		{"7-bit as UTF-8", "STATUS", "0", "UTF-8", "STATUS", false},
		{"Windows-1252", "caf\xe9", "0", "WINDOWS-1252", "café", false},
		{"no coding or charset: UTF-8", "HELP", "", "", "HELP", false},
		{"emoji as a surrogate pair", "\xd8\x3d\xde\x00", "2", "UTF-16BE", "😀", false},
		{"odd UTF-16 bytes", "r\xb6\x60", "2", "UTF-16BE", "", true},
		{"binary", "\x01\x02", "1", "binary", "", true},
		{"invalid UTF-8", "\xff", "0", "UTF-8", "", true},
		{"NUL in UCS-2", "\x00\x00", "2", "UTF-16BE", "", true},
		{"unknown charset", "x", "0", "EBCDIC", "", true},
	}
	for _, tt := range tests {
		got, err := kannel.Decode([]byte(tt.raw), tt.coding, tt.charset)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("%s: %q, %v; want %q (refused: %v)", tt.name, got, err, tt.want, tt.bad)
		}
	}
}

// TestStartupNotes: Kannel configured for sending without a sender or a
// public URL works, but says in one line each what it will lose.
func TestStartupNotes(t *testing.T) {
	env := map[string]string{"BAREFOOT_KANNEL_URL": "http://127.0.0.1:13013", "BAREFOOT_KANNEL_USERNAME": "u", "BAREFOOT_KANNEL_PASSWORD": "p"}
	c, err := kannel.New(gateway.CarrierEnv{Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(c.Notes, "\n")
	if len(c.Notes) != 2 || !strings.Contains(notes, "BAREFOOT_KANNEL_FROM is empty") || !strings.Contains(notes, "BAREFOOT_PUBLIC_URL is empty") {
		t.Fatalf("notes: %q", c.Notes)
	}
	env["BAREFOOT_KANNEL_FROM"] = "10690001"
	if c, _ := kannel.New(gateway.CarrierEnv{Getenv: func(k string) string { return env[k] }, PublicURL: "https://gw.example.org"}); len(c.Notes) != 0 {
		t.Fatalf("a complete configuration has notes: %q", c.Notes)
	}
}
