package aliyun

import (
	"fmt"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Limits on SmsReport fields, in bytes.
const (
	reportMaxBizID = 128
	reportMaxOutID = 64
	reportMaxCode  = 64
	reportMaxMsg   = 256
	reportMaxPhone = 32
	reportMaxTime  = 32
)

// reportObject is the shape of one receipt; open, as upObject.
var reportObject = wire.Object{
	Fields: []string{"phone_number", "send_time", "report_time", "success", "err_code", "err_msg", "sms_size", "biz_id", "out_id"},
	Open:   true, Name: "SmsReport receipt",
}

// receipt is one receipt of an SmsReport push. sms_size (the number of
// parts billed) is not read: it changes nothing here.
type receipt struct {
	PhoneNumber string `json:"phone_number"`
	SendTime    string `json:"send_time"`
	ReportTime  string `json:"report_time"`
	Success     *bool  `json:"success"`
	ErrCode     string `json:"err_code"`
	ErrMsg      string `json:"err_msg"`
	BizID       string `json:"biz_id"`
	OutID       string `json:"out_id"`
}

// ParseReport reads an SmsReport push: a report per receipt, in order, or
// the first refusal. A receipt is final: success is delivered to the
// phone (err_code DELIVERED), anything else failed (err_code says why).
func ParseReport(c *fiber.Ctx) ([]gateway.DeliveryReport, error) {
	items, err := readPush(c)
	if err != nil {
		return nil, err
	}
	out := make([]gateway.DeliveryReport, 0, len(items))
	for i, raw := range items {
		var r receipt
		if err := decodeItem(reportObject, i, raw, &r); err != nil {
			return nil, err
		}
		err := wire.Check(
			wire.Field{Name: "biz_id", Required: true, Max: reportMaxBizID, To: &r.BizID},
			wire.Field{Name: "out_id", Max: reportMaxOutID, To: &r.OutID},
			wire.Field{Name: "err_code", Max: reportMaxCode, To: &r.ErrCode},
			wire.Field{Name: "err_msg", Max: reportMaxMsg, To: &r.ErrMsg},
			wire.Field{Name: "phone_number", Max: reportMaxPhone, To: &r.PhoneNumber},
			wire.Field{Name: "send_time", Max: reportMaxTime, To: &r.SendTime},
			wire.Field{Name: "report_time", Max: reportMaxTime, To: &r.ReportTime},
		)
		if err != nil {
			return nil, at(i, err)
		}
		if r.Success == nil {
			return nil, at(i, wire.Invalid("success", "required"))
		}
		status := sms.Failed
		if *r.Success {
			status = sms.Delivered
		}
		out = append(out, gateway.DeliveryReport{Ref: r.BizID, Status: status})
	}
	return out, nil
}

// Report handles SmsReport pushes (POST /sms/aliyun/report): every receipt
// settles the message whose BizId it names. Statuses only move forward in
// the store, so a receipt pushed again, or after a later one, changes
// nothing; a receipt for a message the store does not know is
// acknowledged, so that Alibaba Cloud stops pushing it. The push is
// acknowledged once every receipt is applied; a store failure is a 5xx
// (503 when a receipt beat its send's record), and the push comes again.
func Report(store gateway.Deliveries) fiber.Handler {
	return func(c *fiber.Ctx) error {
		reports, err := ParseReport(c)
		if err != nil {
			return err
		}
		for i, r := range reports {
			if _, err := store.UpdateDelivery(c.UserContext(), CarrierName, r.Ref, r.Status); err != nil {
				return wire.RetryLater(c, fmt.Errorf("aliyun SmsReport push: receipt %d of %d: %w", i+1, len(reports), err))
			}
		}
		return Ack(c)
	}
}
