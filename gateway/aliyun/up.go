package aliyun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Limits on SmsUp fields, in bytes. A message from a phone is at most a
// few hundred characters, each at most four bytes of UTF-8.
const (
	upMaxPhone    = 32
	upMaxContent  = 4 * 1000
	upMaxDestCode = 32
	upMaxSeq      = 64
	upMaxSignName = 128
	upMaxTime     = 32
)

// sendTimeLayout is send_time's, "yyyy-MM-dd HH:mm:ss" in Beijing time.
const sendTimeLayout = "2006-01-02 15:04:05"

// beijing is China Standard Time, which has no daylight saving: a fixed
// zone needs no time zone database on the host.
var beijing = time.FixedZone("CST", 8*60*60)

// upObject is the shape of one SmsUp message. Open: Alibaba Cloud adds
// fields without notice (sign_name is in some revisions, not others).
var upObject = wire.Object{
	Fields: []string{"phone_number", "content", "send_time", "dest_code", "sequence_id", "sign_name"},
	Open:   true, Name: "SmsUp message",
}

// upMessage is one message of an SmsUp push.
type upMessage struct {
	PhoneNumber string     `json:"phone_number"`
	Content     string     `json:"content"`
	SendTime    string     `json:"send_time"`
	DestCode    string     `json:"dest_code"`
	SequenceID  sequenceID `json:"sequence_id"`
	SignName    string     `json:"sign_name"`
}

// sequenceID is SmsUp's message id, a number in older revisions of the
// push and a string in newer ones; both are kept as the digits or the
// string sent, so that either spelling of one id dedupes the same.
type sequenceID string

func (s *sequenceID) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil // not sent: refused as required
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return wire.Invalid("sequence_id", "not a valid string")
		}
		*s = sequenceID(v)
		return nil
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return wire.Invalid("sequence_id", "neither a whole number nor a string")
		}
	}
	*s = sequenceID(b)
	return nil
}

// ParseUp reads an SmsUp push: every message in it, in order, or the first
// refusal (a *wire.Error naming the message by its place, "[1].content").
// The numbers are as Alibaba Cloud sent them, not yet normalised.
func ParseUp(c *fiber.Ctx) ([]sms.Message, error) {
	items, err := readPush(c)
	if err != nil {
		return nil, err
	}
	out := make([]sms.Message, 0, len(items))
	for i, raw := range items {
		var m upMessage
		if err := decodeItem(upObject, i, raw, &m); err != nil {
			return nil, err
		}
		seq := string(m.SequenceID)
		err := wire.Check(
			wire.Field{Name: "phone_number", Required: true, Max: upMaxPhone, To: &m.PhoneNumber},
			wire.Field{Name: "content", Max: upMaxContent, To: &m.Content},
			wire.Field{Name: "send_time", Max: upMaxTime, To: &m.SendTime},
			wire.Field{Name: "dest_code", Max: upMaxDestCode, To: &m.DestCode},
			wire.Field{Name: "sequence_id", Required: true, Max: upMaxSeq, To: &seq},
			wire.Field{Name: "sign_name", Max: upMaxSignName, To: &m.SignName},
		)
		if err != nil {
			return nil, at(i, err)
		}
		var sent time.Time
		if m.SendTime != "" {
			if sent, err = time.ParseInLocation(sendTimeLayout, m.SendTime, beijing); err != nil {
				return nil, at(i, wire.Invalid("send_time", "not yyyy-MM-dd HH:mm:ss"))
			}
		}
		out = append(out, sms.Message{
			Carrier: CarrierName, CarrierID: seq, Phone: m.PhoneNumber, To: m.DestCode, Body: m.Content,
			Direction: sms.In, Kind: sms.KindInbound, ReceivedAt: sent.UTC(),
		})
	}
	return out, nil
}

// Up handles SmsUp pushes (POST /sms/aliyun): it hands every message, in
// the order sent, to receive, which records it, processes it and queues
// its reply for the send client (Alibaba Cloud takes no reply in the
// answer). The push is acknowledged only once every message is recorded;
// the first that could not be stops it with a 5xx, and Alibaba Cloud
// pushes it all again, the messages already recorded being recognised by
// their sequence_id. A message whose number is not a phone's is refused
// with a 400 naming it, the others of the push recorded all the same.
func Up(receive gateway.Receive) fiber.Handler {
	return func(c *fiber.Ctx) error {
		msgs, err := ParseUp(c)
		if err != nil {
			return err
		}
		var refused error
		for i, m := range msgs {
			err := receive(c.UserContext(), m)
			if _, ok := wire.AsError(err); ok {
				if refused == nil {
					refused = at(i, wire.Invalid("phone_number", "not a valid phone number"))
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("aliyun SmsUp push: message %d of %d: %w", i+1, len(msgs), err)
			}
		}
		if refused != nil {
			return refused
		}
		return Ack(c)
	}
}
