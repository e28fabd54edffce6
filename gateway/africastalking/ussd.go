package africastalking

import (
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/gofiber/fiber/v2"
)

// Limits on callback fields. Text is capped so that a path bomb (thousands
// of '*') costs little; no real session comes near it.
const (
	maxSessionID = 128
	maxPhone     = 32
	maxService   = 64
	maxNetwork   = 16
	maxText      = 1024
)

// USSD is the Africa's Talking USSD adapter.
type USSD struct{}

// Route is the adapter's path under /ussd/.
func (USSD) Route() string { return "africastalking" }

// Carrier is the short name stored with sessions and reports.
func (USSD) Carrier() string { return CarrierName }

// Budget is what Africa's Talking's operators show on one screen: 160
// GSM-7 characters on Safaricom (the smallest of its Kenyan networks), and
// 80 UCS-2 characters, the protocol's limit, less room for the "CON " the
// gateway adds, which operators may or may not count.
func (USSD) Budget() textlen.Budget { return textlen.Budget{GSM7: 156, UCS2: 76} }

// Parse reads a callback into a hop. The phone number is returned as sent;
// the gateway normalises it.
func (USSD) Parse(c *fiber.Ctx) (conversation.Hop, error) {
	f, err := wire.ReadForm(c)
	if err != nil {
		return conversation.Hop{}, err
	}
	h := conversation.Hop{Carrier: CarrierName}
	err = f.Read(
		wire.Field{Name: "sessionId", Required: true, Max: maxSessionID, To: &h.Session},
		wire.Field{Name: "phoneNumber", Required: true, Max: maxPhone, To: &h.Phone},
		wire.Field{Name: "serviceCode", Required: true, Max: maxService, To: &h.Service},
		wire.Field{Name: "text", Max: maxText, To: &h.Path},
		wire.Field{Name: "networkCode", Max: maxNetwork},
	)
	if err != nil {
		return conversation.Hop{}, err
	}
	return h, nil
}

// Write sends the reply in Africa's Talking's text format.
func (USSD) Write(c *fiber.Ctx, _ conversation.Hop, r conversation.Reply) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	prefix := "CON "
	if r.End {
		prefix = "END "
	}
	return c.SendString(prefix + r.Text)
}
