package kannel_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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
		wiretest.Case{Name: "1024 bytes", Requests: query(strings.Repeat("a", 1024)),
			Want: message("1b9c2a4e-1b3d-4e5f-8a6b-9c0d1e2f3a4b", strings.Repeat("a", 1024), time.Unix(1714550400, 0).UTC(), testReply)},
		wiretest.Case{Name: "1025 bytes", Requests: query(strings.Repeat("a", 1025)),
			Want: wiretest.Refused(http.StatusBadRequest, "text: longer than 1024 bytes")},
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
