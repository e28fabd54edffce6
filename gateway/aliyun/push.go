package aliyun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/gofiber/fiber/v2"
)

// What SmsUp and SmsReport pushes share: a JSON array of objects, and the
// answer that tells Alibaba Cloud the push was taken.

// maxPush bounds a push. Alibaba Cloud batches what accumulated since its
// last push; a thousand messages of 500 characters fit.
const maxPush = 1 << 20

// ackBody is the answer Alibaba Cloud wants for a push it may forget: it
// checks that code is a number, and 0 means taken.
const ackBody = `{"code":0,"msg":"接收成功"}`

// Ack answers a push that was recorded whole, as Alibaba Cloud wants.
func Ack(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.SendString(ackBody)
}

// readPush returns the objects of a push, each still raw, after the checks
// wire.ReadJSON makes of any JSON callback.
func readPush(c *fiber.Ctx) ([]json.RawMessage, error) {
	if len(c.Request().Body()) > maxPush {
		return nil, &wire.Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("push longer than %d bytes", maxPush)}
	}
	body, err := wire.ReadJSON(c)
	if err != nil {
		return nil, err
	}
	notArray := wire.Invalid("body", "not a JSON array")
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return nil, notArray
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var items []json.RawMessage
	if err := dec.Decode(&items); err != nil {
		return nil, notArray
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, wire.Invalid("body", "trailing data after the JSON array")
	}
	return items, nil
}

// decodeItem reads the i-th object of a push into v, held to o's rules;
// a refusal names the object by its place in the array: "[2].phone_number".
func decodeItem(o wire.Object, i int, raw json.RawMessage, v any) error {
	return at(i, o.Decode(raw, v))
}

// at puts an object's place in the array before the field a refusal names.
func at(i int, err error) error {
	e, ok := wire.AsError(err)
	if !ok {
		return err
	}
	field := fmt.Sprintf("[%d]", i)
	if e.Field != "" && e.Field != "body" {
		field += "." + e.Field
	}
	return &wire.Error{Status: e.Status, Field: field, Message: e.Message}
}
