package aliyun_test

import (
	"flag"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/aliyun"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// -update is wiretest's: go test ./gateway/... -update records the
// outcomes of the payloads under fixtures/carriers/aliyun anew.
var _ = flag.Lookup("update")

// TestUpPayloads replays the recorded SmsUp pushes: batches, sequence_id
// as a number and as a string, and the malformed ones, each refused with a
// 4xx naming the message and the field.
func TestUpPayloads(t *testing.T) {
	h := wiretest.Mount(t, "/sms/aliyun", aliyun.ParseUp, func(c *fiber.Ctx, _ []sms.Message) error { return aliyun.Ack(c) })
	h.Replay(t, "aliyun/smsup", nil)
}

// TestReportPayloads replays the recorded SmsReport pushes.
func TestReportPayloads(t *testing.T) {
	h := wiretest.Mount(t, "/sms/aliyun/report", aliyun.ParseReport, func(c *fiber.Ctx, _ []gateway.DeliveryReport) error { return aliyun.Ack(c) })
	h.Replay(t, "aliyun/smsreport", nil)
}
