// Package wire holds what every carrier adapter shares: strict reading of
// untrusted form callbacks and the one error type the gateway maps to HTTP
// statuses. Carriers retry on 5xx and give up on 4xx, so the status of a
// refusal is part of the contract: 4xx for input that will never be good.
package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/gofiber/fiber/v2"
)

// Error is a refused request: an HTTP status and a message safe to show the
// carrier (it never echoes the offending value, which may be personal).
type Error struct {
	Status  int
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid is a 400 about one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Form is a decoded x-www-form-urlencoded body.
type Form struct {
	args interface {
		PeekMulti(string) [][]byte
	}
}

// ReadForm checks the content type and returns the body's fields.
func ReadForm(c *fiber.Ctx) (Form, error) {
	ct := c.Request().Header.ContentType()
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !bytes.EqualFold(bytes.TrimSpace(ct), []byte(fiber.MIMEApplicationForm)) {
		return Form{}, &Error{Status: http.StatusUnsupportedMediaType, Message: "want application/x-www-form-urlencoded"}
	}
	return Form{args: c.Request().PostArgs()}, nil
}

// Field rules for Get.
type Field struct {
	Name     string
	Required bool
	// Max is the longest value accepted, in bytes.
	Max int
}

// Get returns a field's value as a fresh string (fasthttp reuses its
// buffers after the handler returns). A field sent twice is refused: which
// copy a parser keeps differs between libraries, and a signature or a
// dedupe key must not depend on that. Values must be UTF-8 without NUL,
// which Postgres would refuse later and turn into a poison retry.
func (f Form) Get(r Field) (string, error) {
	vals := f.args.PeekMulti(r.Name)
	switch {
	case len(vals) > 1:
		return "", Invalid(r.Name, "sent more than once")
	case len(vals) == 0 || (len(vals[0]) == 0 && r.Required):
		if r.Required {
			return "", Invalid(r.Name, "required")
		}
		return "", nil
	}
	v := vals[0]
	if r.Max > 0 && len(v) > r.Max {
		return "", Invalid(r.Name, "longer than %d bytes", r.Max)
	}
	if !utf8.Valid(v) {
		return "", Invalid(r.Name, "not valid UTF-8")
	}
	if bytes.IndexByte(v, 0) >= 0 {
		return "", Invalid(r.Name, "contains a NUL byte")
	}
	return string(v), nil
}

// RetryLater answers a callback that came too early (its error matches
// menus.ErrConflict: e.g. a delivery report before its send was recorded)
// with 503 and Retry-After, so the carrier delivers it again; other errors
// go on to the gateway's error handler.
func RetryLater(c *fiber.Ctx, err error) error {
	if errors.Is(err, menus.ErrConflict) {
		c.Set(fiber.HeaderRetryAfter, "30")
		return c.Status(http.StatusServiceUnavailable).SendString("not yet")
	}
	return err
}
