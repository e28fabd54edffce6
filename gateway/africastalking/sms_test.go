package africastalking_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Incoming SMS callbacks go through the bare adapter (wiretest): those
// recorded in fixtures/carriers/sms/africastalking, each with its outcome
// beside it, and those built here. AT's replies go through its send API,
// so every accepted callback is answered with an empty 200.

// testReply is what the harness replies with; AT must not echo it.
const testReply = "Thanks <3 & welcome >"

// form is a well-formed callback with text replaced.
func form(text string) string {
	return url.Values{
		"from": {"+8613800138000"}, "to": {"38401"}, "text": {text},
		"id": {"0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d0ff"}, "date": {"2024-03-01 08:15:30"},
	}.Encode()
}

// received is the outcome of form(text): the message, and an empty 200.
func received(text string) wiretest.Outcome {
	return wiretest.Outcome{Status: http.StatusOK, ContentType: fiber.MIMETextPlainCharsetUTF8, Parsed: sms.Message{
		Direction: "in", Kind: "inbound", Carrier: "at", CarrierID: "0f3a6e0c-7e53-4f44-a0c2-a6f3a5e0d0ff",
		Phone: "+8613800138000", To: "38401", Body: text, ReceivedAt: time.Date(2024, 3, 1, 8, 15, 30, 0, time.UTC),
	}}
}

func TestSMS(t *testing.T) {
	h := wiretest.SMS(t, africastalking.SMS{}, testReply)
	h.Replay(t, "sms/africastalking", nil)
	post := func(contentType, body string) []*http.Request {
		return []*http.Request{wiretest.Request(http.MethodPost, h.Path, contentType, body)}
	}
	const ct = fiber.MIMEApplicationForm
	h.Run(t,
		wiretest.Case{Name: "6400 bytes", Requests: post(ct, form(strings.Repeat("a", 6400))), Want: received(strings.Repeat("a", 6400))},
		wiretest.Case{Name: "1600 CJK characters", Requests: post(ct, form(strings.Repeat("状", 1600))), Want: received(strings.Repeat("状", 1600))},
		wiretest.Case{Name: "content type with charset", Requests: post(ct+"; charset=UTF-8", form("状态")), Want: received("状态")},
		wiretest.Case{Name: "6401 bytes", Requests: post(ct, form(strings.Repeat("a", 6401))),
			Want: wiretest.Refused(http.StatusBadRequest, "text: longer than 6400 bytes")},
		wiretest.Case{Name: "no content type", Requests: post("", wiretest.Fixture(t, "sms/africastalking/zh_iso_date.txt")),
			Want: wiretest.Refused(http.StatusUnsupportedMediaType, "want application/x-www-form-urlencoded")},
	)
}

func TestSMSShape(t *testing.T) {
	a := africastalking.SMS{}
	if a.Route() != "africastalking" || a.Carrier() != "at" || a.Inline() {
		t.Fatalf("route %q, carrier %q, inline %v", a.Route(), a.Carrier(), a.Inline())
	}
}
