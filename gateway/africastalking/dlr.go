package africastalking

import (
	"context"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// dlrPath is where AT posts delivery reports: the account's delivery
// reports callback URL is BAREFOOT_PUBLIC_URL followed by it.
const dlrPath = "/sms/africastalking/dlr"

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
// failureReason. An unknown status is a 400; the rest is answered as
// gateway.DeliveryHandler says.
func DLR(store gateway.Deliveries) fiber.Handler {
	return gateway.DeliveryHandler("africastalking delivery report", readDLR, func(ctx context.Context, r gateway.DeliveryReport) error {
		_, err := store.UpdateDelivery(ctx, CarrierName, r.Ref, r.Status)
		return err
	})
}

func readDLR(c *fiber.Ctx) (gateway.DeliveryReport, error) {
	f, err := wire.ReadForm(c)
	if err != nil {
		return gateway.DeliveryReport{}, err
	}
	var id, st string
	err = f.Read(
		wire.Field{Name: "id", Required: true, Max: dlrMaxID, To: &id},
		wire.Field{Name: "status", Required: true, Max: dlrMaxStatus, To: &st},
		// Checked, but not kept: the store has no place for it yet.
		wire.Field{Name: "failureReason", Max: dlrMaxReason},
	)
	if err != nil {
		return gateway.DeliveryReport{}, err
	}
	status, ok := dlrStatus[st]
	if !ok {
		return gateway.DeliveryReport{}, wire.Invalid("status", "not a known delivery status")
	}
	return gateway.DeliveryReport{Ref: id, Status: status}, nil
}
