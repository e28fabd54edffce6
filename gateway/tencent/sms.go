package tencent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Limits on reply callback fields, in bytes. A mainland number is 11
// digits; a country code at most 3. A long SMS is reassembled before it is
// pushed; four bytes a character for 1000 characters never refuses one.
const (
	maxMobile     = 20
	maxNationCode = 4
	maxSign       = 64
	maxExtend     = 32
	maxText       = 4 * 1000
	maxTime       = 20
)

// ack is the answer Tencent counts as received.
const ack = `{"result":0,"errmsg":"OK"}`

// SMS is the Tencent Cloud SMS reply callback adapter (短信回复): one JSON
// object per message,
//
//	{"extend":"","mobile":"13800138000","nationcode":"86","sign":"腾讯云","text":"状态","time":1714550400}
//
// answered {"result":0,"errmsg":"OK"} once recorded. Tencent treats any
// other answer as a failure and pushes the message again. Replies go
// through SendSms, not the callback's answer.
type SMS struct{}

// Route is the adapter's path under /sms/.
func (SMS) Route() string { return "tencent" }

// Carrier is the short name stored with messages.
func (SMS) Carrier() string { return CarrierName }

// Inline reports whether the carrier takes the reply in the HTTP response;
// Tencent does not.
func (SMS) Inline() bool { return false }

// reply is the callback's body. Tencent documents nationcode as a string
// and time as a number; either spelling of either is read, since refusing
// a guardian's message over a quote would lose it.
type reply struct {
	Extend     *string  `json:"extend"`
	Mobile     *string  `json:"mobile"`
	NationCode *numeric `json:"nationcode"`
	Sign       *string  `json:"sign"`
	Text       *string  `json:"text"`
	Time       *numeric `json:"time"`
}

// numeric is a JSON number or string, kept as written; Parse holds it to
// digits by the name of its field.
type numeric string

func (n *numeric) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = numeric(s)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*n = numeric(b)
	default:
		return &json.UnmarshalTypeError{Value: "value", Type: reflect.TypeFor[numeric]()}
	}
	return nil
}

// digits refuses a value that is not all ASCII digits.
func digits(field, v string) error {
	for _, d := range []byte(v) {
		if d < '0' || d > '9' {
			return wire.Invalid(field, "not a whole number")
		}
	}
	return nil
}

var replyObject = wire.Object{
	Fields: []string{"extend", "mobile", "nationcode", "sign", "text", "time"},
	// Tencent adds fields to its callbacks without notice; the ones read
	// here are held to the rules, others ignored.
	Open: true,
	Name: "Tencent reply callback",
}

// Parse reads a reply callback. The phone number is "+" + nationcode +
// mobile; the gateway normalises it. The text is kept as sent.
func (SMS) Parse(c *fiber.Ctx) (sms.Message, error) {
	var r reply
	if err := replyObject.Read(c, &r); err != nil {
		return sms.Message{}, err
	}
	if r.NationCode == nil {
		return sms.Message{}, wire.Invalid("nationcode", "required")
	}
	if r.Time == nil {
		return sms.Message{}, wire.Invalid("time", "required")
	}
	nation, at := string(*r.NationCode), string(*r.Time)
	err := wire.Check(
		wire.Field{Name: "mobile", Required: true, Max: maxMobile, To: r.Mobile},
		wire.Field{Name: "nationcode", Required: true, Max: maxNationCode, To: &nation},
		wire.Field{Name: "time", Required: true, Max: maxTime, To: &at},
		// An empty text is a message (a blank SMS) and is answered; a
		// missing one is a malformed callback.
		wire.Field{Name: "text", Required: false, Max: maxText, To: r.Text},
		wire.Field{Name: "sign", Max: maxSign, To: r.Sign},
		wire.Field{Name: "extend", Max: maxExtend, To: r.Extend},
	)
	if err != nil {
		return sms.Message{}, err
	}
	if r.Text == nil {
		return sms.Message{}, wire.Invalid("text", "required")
	}
	for _, f := range []struct{ name, v string }{{"mobile", *r.Mobile}, {"nationcode", nation}, {"time", at}} {
		if err := digits(f.name, f.v); err != nil {
			return sms.Message{}, err
		}
	}
	m := sms.Message{
		Direction: sms.In, Kind: sms.KindInbound, Carrier: CarrierName,
		Phone: "+" + nation + *r.Mobile, Body: *r.Text,
		CarrierID: replyID(nation, *r.Mobile, at, *r.Text),
	}
	if r.Extend != nil {
		// The extension code (扩展码) the phone replied to, after our
		// service number: the nearest thing to the number it was sent to.
		m.To = *r.Extend
	}
	if secs, err := strconv.ParseInt(at, 10, 64); err == nil && secs > 0 {
		m.ReceivedAt = time.Unix(secs, 0).UTC()
	}
	return m, nil
}

// replyID is the message's key for dropping Tencent's retries. Tencent
// sends no id of its own, so it is derived from everything that tells one
// message from another: the number, the second it was received and the
// text. A retried push carries the same four and is the same message; two
// identical texts from one phone in the same second cannot be told apart
// by anyone, and are recorded once. Hashed, so that the id quotes neither
// the number nor the text.
func replyID(nation, mobile, at, text string) string {
	h := sha256.New()
	for _, part := range []string{nation, mobile, at, text} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	return "mo-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// Write acknowledges the callback as Tencent expects. The gateway calls it
// only once the message is recorded; when it is not, the gateway answers
// 503 "try again later", which is not a result of 0, and Tencent pushes
// the message again.
func (SMS) Write(c *fiber.Ctx, _ string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(http.StatusOK).SendString(ack)
}
