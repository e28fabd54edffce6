package africastalking

import (
	"net/http"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Limits on incoming SMS fields, in bytes. AT reassembles concatenated
// messages of up to 1600 characters; a character is at most four bytes of
// UTF-8, so the body cap is four times that and never refuses a real
// message, Chinese included. Ids are UUID-like, far shorter than the cap.
const (
	maxSMSBody   = 4 * 1600
	maxSMSID     = 128
	maxSMSTo     = 64
	maxSMSDate   = 64
	maxSMSLinkID = 128
)

// dateLayouts are the two spellings of the date field seen on the wire.
// The second carries no zone; like courier, it is read as UTC.
var dateLayouts = []string{time.RFC3339, "2006-01-02 15:04:05"}

// SMS is the Africa's Talking incoming SMS adapter. AT posts each message
// once and retries every minute for hours until it gets a 200, so the
// message id is the dedupe key. Replies go through AT's send API, not the
// callback's response.
type SMS struct{}

// Route is the adapter's path under /sms/.
func (SMS) Route() string { return "africastalking" }

// Carrier is the short name stored with messages.
func (SMS) Carrier() string { return CarrierName }

// Inline reports whether the carrier takes the reply in the HTTP response;
// AT does not.
func (SMS) Inline() bool { return false }

// Parse reads an incoming SMS callback. The phone number is returned as
// sent; the gateway normalises it. The body is kept as sent: the user's own
// words, with no case or width folding.
func (SMS) Parse(c *fiber.Ctx) (sms.Message, error) {
	f, err := wire.ReadForm(c)
	if err != nil {
		return sms.Message{}, err
	}
	m := sms.Message{Direction: sms.In, Kind: sms.KindInbound, Carrier: CarrierName}
	var date string
	err = f.Read(
		wire.Field{Name: "id", Required: true, Max: maxSMSID, To: &m.CarrierID},
		wire.Field{Name: "from", Required: true, Max: maxPhone, To: &m.Phone},
		wire.Field{Name: "to", Max: maxSMSTo, To: &m.To},
		wire.Field{Name: "text", Max: maxSMSBody, To: &m.Body},
		wire.Field{Name: "date", Max: maxSMSDate, To: &date},
		// Read only to hold them to the same rules: linkId matters only
		// to premium short codes, which this service does not use.
		wire.Field{Name: "linkId", Max: maxSMSLinkID},
		wire.Field{Name: "networkCode", Max: maxNetwork},
	)
	if err != nil {
		return sms.Message{}, err
	}
	// An empty text is a message (someone sent a blank SMS) and is
	// answered; a missing one is a malformed callback.
	if !f.Has("text") {
		return sms.Message{}, wire.Invalid("text", "required")
	}
	m.ReceivedAt = parseDate(date)
	return m, nil
}

// parseDate reads AT's date in either spelling. A date that reads as
// neither is left zero for the gateway to stamp with its own clock: losing
// the carrier's time is better than refusing the message.
func parseDate(s string) time.Time {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Write acknowledges the callback with an empty 200: AT retries anything
// else, and any body would be ignored. The reply is sent separately.
func (SMS) Write(c *fiber.Ctx, _ string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(http.StatusOK).SendString("")
}
