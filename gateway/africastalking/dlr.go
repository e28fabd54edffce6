package africastalking

import (
	"context"
	"fmt"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Deliveries is the store delivery reports update; *storage.DB implements
// it. UpdateDelivery reports whether the carrier id names a message.
type Deliveries interface {
	UpdateDelivery(ctx context.Context, carrier, carrierID, status string) (bool, error)
}

// dlrStatus maps AT's delivery statuses to ours: Sent has left AT,
// Submitted and Buffered are with the operator, Success is on the handset.
var dlrStatus = map[string]string{
	"Sent":      sms.Sent,
	"Submitted": sms.Sent,
	"Buffered":  sms.Sent,
	"Success":   sms.Delivered,
	"Rejected":  sms.Failed,
	"Failed":    sms.Failed,
	"Expired":   sms.Failed,
}

// Limits on delivery report fields.
const (
	dlrMaxID     = 128
	dlrMaxStatus = 32
	dlrMaxReason = 128
)

// DLR handles AT's delivery report callback (POST /sms/africastalking/dlr):
// a form with id (the send API's messageId), status and, for failures,
// failureReason.
//
// A report for a message we do not know is answered 200, so that AT stops
// retrying it; an unknown status is a 400; a store failure is a 500, so
// that AT tries again later. Statuses only move forward, so retries and
// reports out of order are harmless.
func DLR(store Deliveries) fiber.Handler {
	return func(c *fiber.Ctx) error {
		f, err := wire.ReadForm(c)
		if err != nil {
			return err
		}
		id, err := f.Get(wire.Field{Name: "id", Required: true, Max: dlrMaxID})
		if err != nil {
			return err
		}
		st, err := f.Get(wire.Field{Name: "status", Required: true, Max: dlrMaxStatus})
		if err != nil {
			return err
		}
		// Checked, but not kept: UpdateDelivery has no place for it yet.
		if _, err := f.Get(wire.Field{Name: "failureReason", Max: dlrMaxReason}); err != nil {
			return err
		}
		status, ok := dlrStatus[st]
		if !ok {
			return wire.Invalid("status", "not a known delivery status")
		}
		if _, err := store.UpdateDelivery(c.UserContext(), CarrierName, id, status); err != nil {
			return wire.RetryLater(c, fmt.Errorf("africastalking delivery report: %w", err))
		}
		return c.SendString("ok")
	}
}
