// Package generic is Barefoot's own USSD callback format (FORMAT.md), for
// aggregators that have none of their own. One JSON request per hop carries
// either every input so far (cumulative, like Africa's Talking) or only the
// latest one with a hop number (incremental, like Hubtel), so either kind of
// upstream can be bridged without a new adapter. Because the format is ours,
// it is read strictly: a misspelt field is an error, not a silent default.
package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/gofiber/fiber/v2"
)

// Limits on request fields, in bytes, as for the carriers' own formats.
const (
	maxSessionID = 128
	maxPhone     = 32
	maxService   = 64
	maxText      = 1024
	maxInput     = 1024
)

// carrier is the short name stored with sessions and reports
// ("ussd:generic:<session_id>").
const carrier = "generic"

// Events.
const (
	eventBegin    = "begin"
	eventContinue = "continue"
	eventEnd      = "end"
)

// request is one hop. Text and Input are pointers because an empty text is
// a real first hop while an absent one says the request is incremental.
type request struct {
	SessionID   string  `json:"session_id"`
	Phone       string  `json:"phone"`
	ServiceCode string  `json:"service_code"`
	Event       string  `json:"event"`
	Text        *string `json:"text"`
	Input       *string `json:"input"`
	Seq         *int    `json:"seq"`
}

// fields are the request's keys exactly as spelt; encoding/json would also
// take "Session_ID", which a strict format must not.
var fields = map[string]bool{
	"session_id": true, "phone": true, "service_code": true, "event": true,
	"text": true, "input": true, "seq": true,
}

type response struct {
	SessionID string `json:"session_id"`
	Text      string `json:"text"`
	End       bool   `json:"end"`
}

// USSD is the generic JSON USSD adapter.
type USSD struct{}

// Route is the adapter's path under /ussd/.
func (USSD) Route() string { return carrier }

// Carrier is the short name stored with sessions and reports.
func (USSD) Carrier() string { return carrier }

// Parse reads a request into a hop. The phone number is returned as sent;
// the gateway normalises it.
func (USSD) Parse(c *fiber.Ctx) (conversation.Hop, error) {
	body, err := wire.ReadJSON(c)
	if err != nil {
		return conversation.Hop{}, err
	}
	keys, err := wire.ObjectKeys(body)
	if err != nil {
		return conversation.Hop{}, err
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		switch {
		case !fields[k]:
			return conversation.Hop{}, wire.Invalid("body", "unknown field%s", nameOf(k))
		case seen[k]:
			// encoding/json would keep the last copy silently.
			return conversation.Hop{}, wire.Invalid(k, "sent more than once")
		}
		seen[k] = true
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return conversation.Hop{}, decodeError(err)
	}
	if err := req.check(); err != nil {
		return conversation.Hop{}, err
	}
	h := conversation.Hop{
		Carrier: carrier,
		Session: req.SessionID,
		Phone:   req.Phone,
		Service: req.ServiceCode,
		Release: req.Event == eventEnd,
	}
	switch {
	case req.Input != nil:
		h.Incremental, h.Seq = true, *req.Seq
		if req.Event == eventBegin {
			h.New, h.Path = true, *req.Input // a shortcut dial's inputs
		} else {
			h.Input = *req.Input
		}
	case req.Text != nil:
		h.Path = *req.Text
	}
	return h, nil
}

// check applies the format's rules beyond JSON types.
func (r request) check() error {
	strs := []struct {
		name     string
		v        *string
		required bool
		max      int
	}{
		{"session_id", &r.SessionID, true, maxSessionID},
		{"phone", &r.Phone, true, maxPhone},
		{"service_code", &r.ServiceCode, true, maxService},
		{"event", &r.Event, true, len(eventContinue)},
		{"text", r.Text, false, maxText},
		{"input", r.Input, false, maxInput},
	}
	for _, f := range strs {
		switch {
		case f.v == nil:
		case f.required && *f.v == "":
			return wire.Invalid(f.name, "required")
		case len(*f.v) > f.max:
			return wire.Invalid(f.name, "longer than %d bytes", f.max)
		case strings.IndexByte(*f.v, 0) >= 0:
			// Postgres refuses NUL; let in, it would fail on every retry.
			return wire.Invalid(f.name, "contains a NUL byte")
		}
	}
	switch r.Event {
	case eventBegin, eventContinue, eventEnd:
	default:
		return wire.Invalid("event", "not begin, continue or end")
	}
	switch {
	case r.Text != nil && r.Input != nil:
		return wire.Invalid("input", "not allowed with text: send one style per request")
	case r.Input != nil && r.Seq == nil:
		return wire.Invalid("seq", "required with input")
	case r.Input != nil && *r.Seq < 1:
		return wire.Invalid("seq", "not a whole number from 1")
	case r.Text == nil && r.Input == nil && r.Event != eventEnd:
		return wire.Invalid("text", "text or input required")
	}
	return nil
}

// Write sends the reply. An end request is only a notice: the session is
// over, so the answer is an empty final screen.
func (USSD) Write(c *fiber.Ctx, h conversation.Hop, r conversation.Reply) error {
	out := response{SessionID: h.Session, Text: r.Text, End: r.End || h.Release}
	if h.Release {
		out.Text = ""
	}
	return c.JSON(out)
}

// nameOf quotes an unknown key for the error message when it looks like a
// field name, so a misspelling is easy to find; anything else may be data
// and is not echoed.
func nameOf(k string) string {
	if k == "" || len(k) > 32 {
		return ""
	}
	for _, r := range k {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return ""
		}
	}
	return " " + k
}

// decodeError names the field of a decoding failure without the value,
// which may be personal.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && fields[te.Field] {
		return wire.Invalid(te.Field, "wrong JSON type")
	}
	return wire.Invalid("body", "not a valid request")
}
