package kannel

import (
	"context"
	"strconv"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// dlrPath is where Kannel reports delivery, the path of Sender.DLRURL.
const dlrPath = "/sms/kannel/dlr"

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
	dlrMaxToken  = 64
	dlrMaxStatus = 4
)

// DLR handles Kannel's delivery reports (GET
// /sms/kannel/dlr?id={id}&t={token}&status=%d, the URL Sender.DLRURL gives
// Kannel): id is our message id, which Send returned as the carrier id, t
// the message's delivery token, and status Kannel's report type. A report
// without the right token changes nothing. Reports are
// matched by our id, so one that beats the send's record is kept. An
// unknown type is a 400; the rest is answered as gateway.DeliveryHandler
// says (Kannel retries a 5xx only when http-request-retry is set).
func DLR(store gateway.Deliveries) fiber.Handler {
	return gateway.DeliveryHandler("kannel delivery report", readDLR, func(ctx context.Context, r gateway.DeliveryReport) error {
		_, err := store.UpdateDeliveryByID(ctx, CarrierName, r.ID, r.Token, r.Status)
		return err
	})
}

func readDLR(c *fiber.Ctx) (gateway.DeliveryReport, error) {
	var id, token, st string
	err := wire.ReadQuery(c).Read(
		wire.Field{Name: "id", Required: true, Max: dlrMaxID, To: &id},
		wire.Field{Name: "t", Required: true, Max: dlrMaxToken, To: &token},
		wire.Field{Name: "status", Required: true, Max: dlrMaxStatus, To: &st},
	)
	if err != nil {
		return gateway.DeliveryReport{}, err
	}
	status, ok := dlrStatus[st]
	if !ok {
		return gateway.DeliveryReport{}, wire.Invalid("status", "not a known report type")
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return gateway.DeliveryReport{}, wire.Invalid("id", "not a message id")
	}
	return gateway.DeliveryReport{ID: n, Token: token, Status: status}, nil
}
