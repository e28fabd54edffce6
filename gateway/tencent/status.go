package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// reportStatus maps Tencent's report_status to ours.
var reportStatus = map[string]string{
	"SUCCESS": sms.Delivered,
	"FAIL":    sms.Failed,
}

// Limits on a status push. One report is about 250 bytes; a push carries
// several, and Tencent does not say how many.
const (
	maxStatusBody    = 1 << 20
	maxReports       = 1000
	maxSid           = 128
	maxReportStatus  = 16
	maxReportField   = 256
	maxReceiveTime   = 32
	statusObjectName = "Tencent status report"
)

// report is one status report. Only sid and report_status are used; the
// rest is held to the same rules and dropped, as the store has no place
// for it (errmsg is the operator's code, such as DELIVRD).
type report struct {
	UserReceiveTime *string `json:"user_receive_time"`
	NationCode      *string `json:"nationcode"`
	Mobile          *string `json:"mobile"`
	ReportStatus    *string `json:"report_status"`
	Errmsg          *string `json:"errmsg"`
	Description     *string `json:"description"`
	Sid             *string `json:"sid"`
}

var reportObject = wire.Object{
	Fields: []string{"user_receive_time", "nationcode", "mobile", "report_status", "errmsg", "description", "sid"},
	Open:   true,
	Name:   statusObjectName,
}

// Status handles Tencent's status callback (POST /sms/tencent/status): a
// JSON array of reports, several per push, each naming by sid the SerialNo
// SendSms returned. The whole push is read before anything is applied, so
// a malformed one (400) changes nothing. Statuses only move forward, so a
// repeated or late report is harmless. A report for a message the store
// does not know is acknowledged, so that Tencent stops pushing it; a store
// failure is a 5xx (a 503 with Retry-After when the report beat its send's
// record), so that Tencent pushes the whole array again.
func Status(store gateway.Deliveries) fiber.Handler {
	return func(c *fiber.Ctx) error {
		reports, err := readStatus(c)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		for _, r := range reports {
			if err := update(ctx, store, r); err != nil {
				return wire.RetryLater(c, fmt.Errorf("tencent status callback: %w", err))
			}
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Status(http.StatusOK).SendString(ack)
	}
}

func update(ctx context.Context, store gateway.Deliveries, r gateway.DeliveryReport) error {
	_, err := store.UpdateDelivery(ctx, CarrierName, r.Ref, r.Status)
	return err
}

// readStatus reads a push: exactly one JSON array of report objects.
func readStatus(c *fiber.Ctx) ([]gateway.DeliveryReport, error) {
	if len(c.Request().Body()) > maxStatusBody {
		return nil, &wire.Error{Status: http.StatusRequestEntityTooLarge, Message: "request body too large"}
	}
	body, err := wire.ReadJSON(c)
	if err != nil {
		return nil, err
	}
	malformed := wire.Invalid("body", "not a JSON array of %ss", statusObjectName)
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, malformed
	}
	var out []gateway.DeliveryReport
	for i := 0; dec.More(); i++ {
		if i == maxReports {
			return nil, &wire.Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("more than %d reports", maxReports)}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed
		}
		r, err := readReport(raw)
		if err != nil {
			if e, ok := wire.AsError(err); ok {
				// Which report: "[2].sid: required".
				e.Field = fmt.Sprintf("[%d].%s", i, e.Field)
			}
			return nil, err
		}
		out = append(out, r)
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformed
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, wire.Invalid("body", "trailing data after the JSON array")
	}
	return out, nil
}

func readReport(raw []byte) (gateway.DeliveryReport, error) {
	var r report
	if err := reportObject.Decode(raw, &r); err != nil {
		return gateway.DeliveryReport{}, err
	}
	err := wire.Check(
		wire.Field{Name: "sid", Required: true, Max: maxSid, To: r.Sid},
		wire.Field{Name: "report_status", Required: true, Max: maxReportStatus, To: r.ReportStatus},
		wire.Field{Name: "user_receive_time", Max: maxReceiveTime, To: r.UserReceiveTime},
		wire.Field{Name: "nationcode", Max: maxNationCode, To: r.NationCode},
		wire.Field{Name: "mobile", Max: maxMobile, To: r.Mobile},
		wire.Field{Name: "errmsg", Max: maxReportField, To: r.Errmsg},
		wire.Field{Name: "description", Max: maxReportField, To: r.Description},
	)
	if err != nil {
		return gateway.DeliveryReport{}, err
	}
	status, ok := reportStatus[*r.ReportStatus]
	if !ok {
		return gateway.DeliveryReport{}, wire.Invalid("report_status", "not SUCCESS or FAIL")
	}
	return gateway.DeliveryReport{Ref: *r.Sid, Status: status}, nil
}
