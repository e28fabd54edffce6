// Package wire holds what every carrier adapter shares: strict reading of
// untrusted callbacks (form bodies, query strings, JSON objects) and the
// one error type the gateway maps to HTTP statuses. Carriers retry on 5xx
// and give up on 4xx, so the status of a refusal is part of the contract:
// 4xx for input that will never be good.
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

// Form is a decoded x-www-form-urlencoded body or query string.
type Form struct {
	args interface {
		PeekMulti(string) [][]byte
		Has(string) bool
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

// ReadQuery returns the query string's fields, read by the same rules as a
// form body's, for carriers that call with GET (Kannel's get-url and
// dlr-url).
func ReadQuery(c *fiber.Ctx) Form {
	return Form{args: c.Context().QueryArgs()}
}

// Field rules for Get and Read.
type Field struct {
	Name     string
	Required bool
	// Max is the longest value accepted, in bytes.
	Max int
	// To is where the value goes in Read (when nil the field is only held
	// to the rules) and where Check finds it.
	To *string
}

// Has reports whether the field was sent at all, even empty.
func (f Form) Has(name string) bool { return f.args.Has(name) }

// Read gets every field, in order, into its To and returns the first
// refusal.
func (f Form) Read(fields ...Field) error {
	for _, r := range fields {
		v, err := f.Get(r)
		if err != nil {
			return err
		}
		if r.To != nil {
			*r.To = v
		}
	}
	return nil
}

// Get returns a field's value as a fresh string (fasthttp reuses its
// buffers after the handler returns). A field sent twice is refused: which
// copy a parser keeps differs between libraries, and a signature or a
// dedupe key must not depend on that.
func (f Form) Get(r Field) (string, error) {
	vals := f.args.PeekMulti(r.Name)
	if len(vals) > 1 {
		return "", Invalid(r.Name, "sent more than once")
	}
	var v []byte
	if len(vals) == 1 {
		v = vals[0]
	}
	if err := r.check(v); err != nil {
		return "", err
	}
	return string(v), nil
}

// Bytes returns a field's raw bytes (a fresh copy), for a value whose
// encoding the carrier states in another field (Kannel's text with its
// coding and charset): only the duplicate and size rules apply here, and
// the caller decodes and checks the text.
func (f Form) Bytes(name string, max int) ([]byte, error) {
	vals := f.args.PeekMulti(name)
	switch {
	case len(vals) > 1:
		return nil, Invalid(name, "sent more than once")
	case len(vals) == 0:
		return nil, nil
	case max > 0 && len(vals[0]) > max:
		// Past what any carrier delivers as one message: 413, not a
		// malformed request.
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Field: name, Message: fmt.Sprintf("longer than %d bytes", max)}
	}
	return bytes.Clone(vals[0]), nil
}

// Text holds decoded text to the rules every value is held to (UTF-8,
// no NUL), as Get does.
func Text(name, v string) error { return Field{Name: name}.check([]byte(v)) }

// Check holds values decoded from JSON to their fields' rules: each
// field's value is the one its To points at, and a nil To is a field not
// sent, which only a Required one may not be.
func Check(fields ...Field) error {
	for _, r := range fields {
		if r.To == nil {
			if r.Required {
				return Invalid(r.Name, "required")
			}
			continue
		}
		if err := r.check([]byte(*r.To)); err != nil {
			return err
		}
	}
	return nil
}

// check applies the rules every value is held to: present when required,
// at most Max bytes, UTF-8 without NUL, which Postgres would refuse later
// and turn into a poison retry.
func (r Field) check(v []byte) error {
	switch {
	case len(v) == 0 && r.Required:
		return Invalid(r.Name, "required")
	case r.Max > 0 && len(v) > r.Max:
		return Invalid(r.Name, "longer than %d bytes", r.Max)
	case !utf8.Valid(v):
		return Invalid(r.Name, "not valid UTF-8")
	case bytes.IndexByte(v, 0) >= 0:
		return Invalid(r.Name, "contains a NUL byte")
	}
	return nil
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
