package twilio

import (
	"context"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// statusPath is where Twilio posts status callbacks: Sender's
// StatusCallback is BAREFOOT_PUBLIC_URL followed by it.
const statusPath = "/sms/twilio/status"

// statusMap maps Twilio's message statuses to ours. Statuses that say
// nothing about an outbound message's delivery (it is not yet sent, or it
// is an inbound one) map to "", which is acknowledged and changes nothing.
var statusMap = map[string]string{
	"queued":              sms.Sent,
	"sending":             sms.Sent,
	"sent":                sms.Sent,
	"delivered":           sms.Delivered,
	"read":                sms.Delivered,
	"failed":              sms.Failed,
	"undelivered":         sms.Failed,
	"accepted":            "",
	"scheduled":           "",
	"canceled":            "",
	"receiving":           "",
	"received":            "",
	"partially_delivered": "",
}

// Limits on status callback fields.
const (
	statusMaxSid    = 64
	statusMaxStatus = 32
	statusMaxCode   = 16
)

// Verifier returns the signature check of Status for an account: the
// request's X-Twilio-Signature must be Twilio's for publicURL (the base
// Twilio calls, as for SMS.PublicURL) followed by the request's path and
// query, and every parameter posted. Without an auth token nothing can be
// checked, and everything is refused, as with SMS.
func Verifier(authToken, publicURL string) func(c *fiber.Ctx) bool {
	return func(c *fiber.Ctx) bool {
		return SMS{AuthToken: authToken, PublicURL: publicURL}.verify(c) == nil
	}
}

// Status handles Twilio's status callbacks for messages we sent (POST
// /sms/twilio/status): a signed form with MessageSid and MessageStatus.
//
// verify checks the signature (Verifier builds it); a request it refuses
// is a 403 and changes nothing. An unknown status is a 400; statuses that
// say nothing about delivery are acknowledged; the rest is answered as
// gateway.DeliveryHandler says. Callbacks arrive out of order, and
// statuses only move forward.
func Status(store gateway.Deliveries, verify func(c *fiber.Ctx) bool) fiber.Handler {
	if verify == nil {
		panic("twilio: Status needs a signature verifier")
	}
	read := func(c *fiber.Ctx) (gateway.DeliveryReport, error) {
		f, err := wire.ReadForm(c)
		if err != nil {
			return gateway.DeliveryReport{}, err
		}
		if !verify(c) {
			return gateway.DeliveryReport{}, errBadSignature
		}
		var sid, st string
		err = f.Read(
			wire.Field{Name: "MessageSid", Required: true, Max: statusMaxSid, To: &sid},
			wire.Field{Name: "MessageStatus", Max: statusMaxStatus, To: &st},
		)
		if err != nil {
			return gateway.DeliveryReport{}, err
		}
		if st == "" { // the legacy name
			if st, err = f.Get(wire.Field{Name: "SmsStatus", Required: true, Max: statusMaxStatus}); err != nil {
				return gateway.DeliveryReport{}, err
			}
		}
		// Checked, but not kept: the store has no place for it yet.
		if _, err := f.Get(wire.Field{Name: "ErrorCode", Max: statusMaxCode}); err != nil {
			return gateway.DeliveryReport{}, err
		}
		status, ok := statusMap[st]
		if !ok {
			return gateway.DeliveryReport{}, wire.Invalid("MessageStatus", "not a known message status")
		}
		return gateway.DeliveryReport{Ref: sid, Status: status}, nil
	}
	return gateway.DeliveryHandler("twilio status callback", read, func(ctx context.Context, r gateway.DeliveryReport) error {
		_, err := store.UpdateDelivery(ctx, CarrierName, r.Ref, r.Status)
		return err
	})
}
