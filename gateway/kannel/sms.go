package kannel

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/encoding/charmap"
)

// Limits on fields, in bytes. Kannel's %I is a 36-character UUID and %T
// a unix time. The text cap is sixteen concatenated segments, past what
// handsets send (carriers cap long messages at six to ten): 16 x 134 bytes
// of UCS-2, or 16 x 153 characters of GSM-7 written as UTF-8 with room for
// its two-byte characters.
const (
	maxPhone   = 32
	maxTo      = 64
	maxText    = 16 * 153 * 2
	maxID      = 128
	maxTS      = 20
	maxCoding  = 2
	maxCharset = 32
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
	var ts, coding, charset string
	err := f.Read(
		wire.Field{Name: "from", Required: true, Max: maxPhone, To: &m.Phone},
		wire.Field{Name: "to", Max: maxTo, To: &m.To},
		wire.Field{Name: "id", Max: maxID, To: &m.CarrierID},
		wire.Field{Name: "ts", Max: maxTS, To: &ts},
		wire.Field{Name: "coding", Max: maxCoding, To: &coding},
		wire.Field{Name: "charset", Max: maxCharset, To: &charset},
	)
	if err != nil {
		return sms.Message{}, err
	}
	// An empty text is a message (%b of a blank SMS) and is answered; a
	// missing one is a get-url without text=.
	if !f.Has("text") {
		return sms.Message{}, wire.Invalid("text", "required")
	}
	raw, err := f.Bytes("text", maxText)
	if err != nil {
		return sms.Message{}, err
	}
	if m.Body, err = Decode(raw, coding, charset); err != nil {
		return sms.Message{}, err
	}
	m.ReceivedAt = parseTS(ts)
	return m, nil
}

// Decode reads a message's text as Kannel passes it, by its coding (%c)
// and charset (%C), so that the gateway works whether or not smsbox
// recodes messages (mo-recode): a UCS-2 message arrives as its UTF-16BE
// bytes unless recoded to UTF-8, and a 7-bit one as UTF-8 or, recoded
// by older setups, in Windows-1252. A get-url without coding and charset
// is taken to send UTF-8, as the gateway's earlier documentation had it.
// Binary (8-bit data) messages are not text and are refused.
func Decode(raw []byte, coding, charset string) (string, error) {
	cs := strings.ToUpper(strings.TrimSpace(charset))
	switch {
	case coding == "1" && cs != "UTF-8":
		return "", wire.Invalid("text", "a binary message is not text")
	case coding == "2" && cs != "UTF-8", cs == "UTF-16BE", cs == "UCS-2", cs == "UTF-16":
		if len(raw)%2 != 0 {
			return "", wire.Invalid("text", "not UTF-16: an odd number of bytes")
		}
		u := make([]uint16, len(raw)/2)
		for i := range u {
			u[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
		}
		return checked(string(utf16.Decode(u)))
	case cs == "WINDOWS-1252", cs == "CP1252":
		text, err := charmap.Windows1252.NewDecoder().Bytes(raw)
		if err != nil {
			return "", wire.Invalid("text", "not Windows-1252")
		}
		return checked(string(text))
	case cs == "ISO-8859-1", cs == "LATIN1":
		text, _ := charmap.ISO8859_1.NewDecoder().Bytes(raw)
		return checked(string(text))
	case cs == "", cs == "UTF-8", cs == "GSM":
		return checked(string(raw))
	}
	return "", wire.Invalid("charset", "not one Kannel sends")
}

// checked holds decoded text to the rules of every field (UTF-8, no NUL).
func checked(text string) (string, error) {
	if err := wire.Text("text", text); err != nil {
		return "", err
	}
	return text, nil
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
// to the phone. Kannel sends a reply as GSM 7-bit unless told otherwise,
// turning every Chinese character into "?": a reply that needs UCS-2
// carries X-Kannel-Coding: 2 (read when the sms-service has
// accept-x-kannel-headers = true), and the charset in the content type
// tells Kannel to convert the UTF-8 body. An empty reply sends nothing
// when the sms-service has omit-empty = true.
func (SMS) Write(c *fiber.Ctx, reply string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	if enc, _ := textlen.Measure(reply); enc == textlen.UCS2 {
		c.Set("X-Kannel-Coding", "2")
	}
	return c.Status(http.StatusOK).SendString(reply)
}

// Refuse answers a message the gateway cannot use (a sender that is not a
// phone number, text that is not text). Kannel would text the phone "Could
// not fetch content, sorry." for any 4xx, and retry it as if the gateway
// were down: a 200 with the keywords tells the sender what works, and ends
// it. A request that is not a message at all keeps its 4xx.
func (s SMS) Refuse(c *fiber.Ctx, err error) error {
	e, ok := wire.AsError(err)
	if !ok || e.Status == http.StatusMethodNotAllowed || e.Status == http.StatusUnsupportedMediaType || e.Status == http.StatusRequestEntityTooLarge {
		return err
	}
	return s.Write(c, menus.Message(menus.MsgHelpFamily, ""))
}
