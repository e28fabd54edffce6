package twilio

import (
	"context"
	"fmt"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Deliveries is the store status callbacks update; *storage.DB implements
// it. UpdateDelivery reports whether the carrier id names a message.
type Deliveries interface {
	UpdateDelivery(ctx context.Context, carrier, carrierID, status string) (bool, error)
}

// statusMap maps Twilio's message statuses to ours. Statuses that say
// nothing about an outbound message's delivery (it is not yet sent, or it
// is an inbound one) map to "", which is acknowledged and ignored.
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
// query, and every parameter posted. Without an auth token nothing is
// checked, as with SMS: for local testing only.
func Verifier(authToken, publicURL string) func(c *fiber.Ctx) bool {
	return func(c *fiber.Ctx) bool {
		if authToken == "" {
			return true
		}
		return SMS{AuthToken: authToken, PublicURL: publicURL}.verify(c) == nil
	}
}

// Status handles Twilio's status callbacks for messages we sent (POST
// /sms/twilio/status): a signed form with MessageSid and MessageStatus.
//
// verify checks the signature (Verifier builds it); a request it refuses
// is a 403 and changes nothing. An unknown status is a 400; statuses that
// say nothing about delivery, and sids we do not know, are answered 200 so
// that Twilio stops; a store failure is a 500. Callbacks arrive out of
// order, and statuses only move forward.
func Status(store Deliveries, verify func(c *fiber.Ctx) bool) fiber.Handler {
	if verify == nil {
		panic("twilio: Status needs a signature verifier")
	}
	return func(c *fiber.Ctx) error {
		f, err := wire.ReadForm(c)
		if err != nil {
			return err
		}
		if !verify(c) {
			return errBadSignature
		}
		sid, err := f.Get(wire.Field{Name: "MessageSid", Required: true, Max: statusMaxSid})
		if err != nil {
			return err
		}
		st, err := f.Get(wire.Field{Name: "MessageStatus", Max: statusMaxStatus})
		if err != nil {
			return err
		}
		if st == "" { // the legacy name
			if st, err = f.Get(wire.Field{Name: "SmsStatus", Required: true, Max: statusMaxStatus}); err != nil {
				return err
			}
		}
		// Checked, but not kept: UpdateDelivery has no place for it yet.
		if _, err := f.Get(wire.Field{Name: "ErrorCode", Max: statusMaxCode}); err != nil {
			return err
		}
		status, ok := statusMap[st]
		if !ok {
			return wire.Invalid("MessageStatus", "not a known message status")
		}
		if status != "" {
			if _, err := store.UpdateDelivery(c.UserContext(), CarrierName, sid, status); err != nil {
				return wire.RetryLater(c, fmt.Errorf("twilio status callback: %w", err))
			}
		}
		return c.SendStatus(fiber.StatusOK)
	}
}
