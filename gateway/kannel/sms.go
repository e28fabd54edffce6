package kannel

import (
	"net/http"
	"strconv"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Limits on fields, in bytes. Kannel's %I is a 36-character UUID and %T
// a unix time. The text cap holds 341 Chinese characters, about six
// concatenated UCS-2 segments; it is bounded by what a GET query string may
// carry through the server's header buffer, not by Kannel.
const (
	maxPhone = 32
	maxTo    = 64
	maxText  = 1024
	maxID    = 128
	maxTS    = 20
)

// SMS is the Kannel incoming SMS adapter.
type SMS struct{}

// Route is the adapter's path under /sms/.
func (SMS) Route() string { return CarrierName }

// Carrier is the short name stored with messages.
func (SMS) Carrier() string { return CarrierName }

// Inline reports whether the carrier takes the reply in the HTTP response;
// Kannel sends the response body as the reply SMS.
func (SMS) Inline() bool { return true }

// Parse reads an incoming message from the query string (GET) or a form
// body (POST). Kannel's %I id is the dedupe key; a get-url without it
// gives a message with no CarrierID, which cannot be told from a retry
// (Kannel retries only when http-request-retry is set). The phone number
// is returned as sent; the gateway normalises it.
func (SMS) Parse(c *fiber.Ctx) (sms.Message, error) {
	var f wire.Form
	switch c.Method() {
	case fiber.MethodGet:
		f = wire.ReadQuery(c)
	case fiber.MethodPost:
		var err error
		if f, err = wire.ReadForm(c); err != nil {
			return sms.Message{}, err
		}
	default:
		return sms.Message{}, &wire.Error{Status: http.StatusMethodNotAllowed, Message: "want GET or POST"}
	}
	m := sms.Message{Direction: sms.In, Kind: sms.KindInbound, Carrier: CarrierName}
	var ts string
	err := f.Read(
		wire.Field{Name: "from", Required: true, Max: maxPhone, To: &m.Phone},
		wire.Field{Name: "to", Max: maxTo, To: &m.To},
		wire.Field{Name: "text", Max: maxText, To: &m.Body},
		wire.Field{Name: "id", Max: maxID, To: &m.CarrierID},
		wire.Field{Name: "ts", Max: maxTS, To: &ts},
	)
	if err != nil {
		return sms.Message{}, err
	}
	// An empty text is a message (%a of a blank SMS) and is answered; a
	// missing one is a get-url without text=%a.
	if !f.Has("text") {
		return sms.Message{}, wire.Invalid("text", "required")
	}
	m.ReceivedAt = parseTS(ts)
	return m, nil
}

// parseTS reads Kannel's %T, a unix time in seconds. A value that is not
// one is left zero for the gateway to stamp with its own clock: losing
// the carrier's time is better than refusing the message.
func parseTS(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// Write answers with the reply as a plain UTF-8 body, which Kannel sends
// to the phone. An empty reply sends nothing when the sms-service has
// omit-empty = true (without it Kannel sends its empty-message text).
func (SMS) Write(c *fiber.Ctx, reply string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(http.StatusOK).SendString(reply)
}
