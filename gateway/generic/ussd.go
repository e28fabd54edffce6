package generic

import (
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

// object is the request as the format spells it: its keys exactly, none
// unknown (encoding/json would also take "Session_ID", which a strict
// format must not).
var object = wire.Object{
	Fields: []string{"session_id", "phone", "service_code", "event", "text", "input", "seq"},
	Name:   "request",
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
	var req request
	if err := object.Read(c, &req); err != nil {
		return conversation.Hop{}, err
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
	err := wire.Check(
		wire.Field{Name: "session_id", Required: true, Max: maxSessionID, To: &r.SessionID},
		wire.Field{Name: "phone", Required: true, Max: maxPhone, To: &r.Phone},
		wire.Field{Name: "service_code", Required: true, Max: maxService, To: &r.ServiceCode},
		wire.Field{Name: "event", Required: true, Max: len(eventContinue), To: &r.Event},
		wire.Field{Name: "text", Max: maxText, To: r.Text},
		wire.Field{Name: "input", Max: maxInput, To: r.Input},
	)
	if err != nil {
		return err
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
