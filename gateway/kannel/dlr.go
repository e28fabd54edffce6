package kannel

import (
	"context"
	"fmt"
	"strconv"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Deliveries is the store delivery reports update; *storage.DB implements
// it. Kannel's reports carry our own message id, so they are matched by it,
// even before the send has been recorded.
type Deliveries interface {
	UpdateDeliveryByID(ctx context.Context, carrier string, id int64, status string) (bool, error)
}

// dlrStatus maps Kannel's report types (%d) to ours: 1 delivered to the
// phone, 2 not delivered to it, 4 buffered at the SMSC, 8 accepted by it,
// 16 rejected by it.
var dlrStatus = map[string]string{
	"1":  sms.Delivered,
	"2":  sms.Failed,
	"4":  sms.Sent,
	"8":  sms.Sent,
	"16": sms.Failed,
}

// Limits on report fields.
const (
	dlrMaxID     = 20 // an int64
	dlrMaxStatus = 4
)

// DLR handles Kannel's delivery reports (GET /sms/kannel/dlr?id={id}&status=%d,
// the URL Sender.DLRURL gives Kannel): id is our message id, which Send
// returned as the carrier id, and status Kannel's report type.
//
// A report for a message we do not know is answered 200; an unknown type
// is a 400; a store failure is a 500 (Kannel retries only when
// http-request-retry is set). Statuses only move forward.
func DLR(store Deliveries) fiber.Handler {
	return func(c *fiber.Ctx) error {
		in := wire.ReadQuery(c)
		id, err := in.Get(wire.Field{Name: "id", Required: true, Max: dlrMaxID})
		if err != nil {
			return err
		}
		st, err := in.Get(wire.Field{Name: "status", Required: true, Max: dlrMaxStatus})
		if err != nil {
			return err
		}
		status, ok := dlrStatus[st]
		if !ok {
			return wire.Invalid("status", "not a known report type")
		}
		msgID, err := strconv.ParseInt(id, 10, 64)
		if err != nil || msgID < 1 {
			return wire.Invalid("id", "not a message id")
		}
		if _, err := store.UpdateDeliveryByID(c.UserContext(), CarrierName, msgID, status); err != nil {
			return fmt.Errorf("kannel delivery report: %w", err)
		}
		return c.SendString("ok")
	}
}
