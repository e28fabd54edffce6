// Package sms is a text message as the gateway keeps it, inbound or
// outbound, with the states it moves through: received and answered,
// queued, sending, sent, delivered or failed.
package sms

import "time"

// Directions.
const (
	In  = "in"
	Out = "out"
)

// Statuses. Inbound: received, then answered. Outbound: queued, sending
// (claimed by a sender), then sent (the carrier accepted it), delivered or
// failed (final); replied is an outbound reply given inline in the
// carrier's HTTP response (TwiML, Kannel), which has no send step.
const (
	Received  = "received"
	Answered  = "answered"
	Queued    = "queued"
	Sending   = "sending"
	Sent      = "sent"
	Delivered = "delivered"
	Failed    = "failed"
	Replied   = "replied"
)

// Kinds.
const (
	KindInbound = "inbound"
	KindReply   = "reply"
	KindAlert   = "alert"
	// KindReminder is a follow-up or monthly visit reminder: not urgent,
	// so held in quiet hours, unlike an alert.
	KindReminder = "reminder"
)

// Param is one variable of a template: its name and its value.
type Param struct {
	Name, Value string
}

// Message is one text message, in or out, in the gateway's own terms.
type Message struct {
	ID        int64
	Direction string
	Carrier   string // short carrier name: "at", "twilio", "kannel"
	// CarrierID is the carrier's id of the message: the retry key of an
	// inbound message, the send API's id of an outbound one.
	CarrierID string
	Phone     string // E.164: the sender of an inbound, the recipient of an outbound message
	// To is the number an inbound message was sent to (our short code).
	To     string
	Body   string
	Status string
	Kind   string
	// ReplyTo is the inbound message an outbound reply answers.
	ReplyTo int64
	// DLRToken is drawn per outbound message and given only to the
	// carrier, whose delivery reports that name our id must echo it.
	DLRToken string
	// DedupeKey makes an outbound message exactly-once: a second enqueue
	// with the same key is a no-op.
	DedupeKey string
	// Template is the key of the template an outbound Body was rendered
	// from ("status.reply"), and Params its variables, in the template's
	// order; "" for free text. Carriers that send only approved templates
	// (Tencent Cloud, Alibaba Cloud) send these, not Body.
	Template string
	Params   []Param
	// Lang is the language of the template's text ("zh", "en", or "zh+en"
	// when the recipient's was not known).
	Lang string
	// TemplateID is the carrier's id for Template, approved; the sender
	// sets it just before handing the message to such a carrier.
	TemplateID string
	Attempts   int
	LastError  string
	ReceivedAt time.Time
	CreatedAt  time.Time
}
