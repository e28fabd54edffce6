// Package wiretest runs one carrier adapter on a bare Fiber app, with the
// gateway's mapping of refusals to statuses, so adapter tests drive it
// through real HTTP parsing without the rest of the gateway.
package wiretest

import (
	"bytes"
	"io/fs"
	"net/http"
	"testing"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// App returns a Fiber app with h at method and path, whose error handler
// answers refusals (*wire.Error) with their status and anything else with
// 500, as the gateway does.
func App(method, path string, h fiber.Handler) *fiber.App {
	app := newApp()
	app.Add(method, path, h)
	return app
}

func newApp() *fiber.App {
	return fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			if e, ok := wire.AsError(err); ok {
				return c.Status(e.Status).SendString(e.Error())
			}
			return c.Status(http.StatusInternalServerError).SendString("internal error")
		},
	})
}

// SMSAdapter is what SMSApp needs of an inbound SMS adapter.
type SMSAdapter interface {
	Route() string
	Parse(c *fiber.Ctx) (sms.Message, error)
	Write(c *fiber.Ctx, reply string) error
}

// SMSApp mounts a at /sms/<route> for every method, answering accepted
// messages with reply, and returns the app and the messages it parsed. The
// channel is buffered generously: a test that expected a refusal and got a
// message fails on its status, rather than hanging on the send.
func SMSApp(tb testing.TB, a SMSAdapter, reply string) (*fiber.App, <-chan sms.Message) {
	tb.Helper()
	got := make(chan sms.Message, 256)
	app := newApp()
	app.All("/sms/"+a.Route(), func(c *fiber.Ctx) error {
		m, err := a.Parse(c)
		if err != nil {
			return err
		}
		select {
		case got <- m:
		default:
			tb.Errorf("wiretest: more than %d messages parsed and not read", cap(got))
		}
		return a.Write(c, reply)
	})
	return app, got
}

// Fixture returns a recorded carrier payload under fixtures/carriers.
// Editors add a final newline; no carrier sends one.
func Fixture(tb testing.TB, path string) string {
	tb.Helper()
	b, err := fs.ReadFile(fixtures.Carriers(), path)
	if err != nil {
		tb.Fatalf("wiretest: fixture: %v", err)
	}
	return string(bytes.TrimSuffix(b, []byte("\n")))
}
