// Package cases holds casework: the case an urgent need or a worrying
// visit opens, the supervisors who must acknowledge it before a deadline,
// its climb up the chain of areas when nobody does, and its history. These
// are plain values and rules; storage keeps cases and runs escalations,
// the gateway reads acknowledgements from SMS and the console.
package cases

import (
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Statuses of a case. Acknowledged, referred and resolved each keep who
// and when; a case referred or resolved without an acknowledgement counts
// as acknowledged by that act.
const (
	Open         = "open"
	Acknowledged = "acknowledged"
	Referred     = "referred"
	Resolved     = "resolved"
)

// Statuses lists them in the order a case moves through them.
var Statuses = []string{Open, Acknowledged, Referred, Resolved}

// Kinds of events in a case's history.
const (
	EventOpened       = "opened"
	EventNotified     = "notified"
	EventEscalated    = "escalated"
	EventAcknowledged = "acknowledged"
	EventReferred     = "referred"
	EventResolved     = "resolved"
)

// Channels an event came through.
const (
	ChannelSystem  = "system"
	ChannelSMS     = "sms"
	ChannelUSSD    = "ussd"
	ChannelConsole = "console"
)

// CodeLength is the digits of a case code.
const CodeLength = 6

// Opens reports whether a report opens a case: an urgent report of either
// kind, or a visit that found an urgent situation or a concern.
func Opens(r menus.Report) bool {
	if r.Urgency == menus.UrgencyUrgent {
		return true
	}
	return r.Kind == menus.ReportVisit && (r.Situation == "urgent" || r.Situation == "concern")
}

// Category is what a report's case is about: the need's category or the
// visit's situation.
func Category(r menus.Report) string {
	if r.Kind == menus.ReportVisit {
		return r.Situation
	}
	return r.Category
}

// Case is a case as staff read it.
type Case struct {
	Code       string
	ReportKind menus.ReportKind
	ReportRef  string
	ChildCode  string
	Category   string
	Status     string
	// Origin is the child's village; Area the area whose supervisors
	// answer for the case now, at Level.
	OriginCode, OriginName string
	AreaCode, AreaName     string
	Level                  string
	OpenedAt               time.Time
	Deadline               time.Time
	Escalations            int
	AcknowledgedAt         time.Time
	AcknowledgedBy         string
	ReferredAt             time.Time
	ReferredBy             string
	ResolvedAt             time.Time
	ResolvedBy             string
	// Overdue is set on an open case past its deadline.
	Overdue bool
	// Events is the history, oldest first, where asked for.
	Events []Event
}

// Event is one step of a case's history.
type Event struct {
	At       time.Time
	Kind     string
	AreaCode string
	AreaName string
	Actor    string
	Channel  string
	Note     string
}

// Query selects cases. Area selects cases whose village lies within that
// area (by code); Overdue only open cases past their deadline.
type Query struct {
	Status string
	Area   string
	// Scope keeps the cases to villages of an area and those under it
	// (the reader's, access.User.Area); 0 is everywhere.
	Scope         int64
	Overdue       bool
	Limit, Offset int
}

// Deadlines is how long each level has to acknowledge a case, by category,
// with a default.
type Deadlines struct {
	Default    time.Duration
	ByCategory map[string]time.Duration
}

// DefaultDeadline is four hours: a morning's visits reported by noon are
// seen the same afternoon.
const DefaultDeadline = 4 * time.Hour

// For returns the deadline of a category.
func (d Deadlines) For(category string) time.Duration {
	if v, ok := d.ByCategory[strings.ToLower(category)]; ok && v > 0 {
		return v
	}
	if d.Default > 0 {
		return d.Default
	}
	return DefaultDeadline
}

// ackWords start an acknowledgement by SMS, upper-cased.
var ackWords = []string{"OK", "收到"}

// ParseAck reads an acknowledgement by SMS from its words, as the SMS
// word splitter gives them (upper-cased, full-width folded, punctuation
// separating): "OK 123456", "收到123456", "ok,123456". It returns the case
// code, and false for anything else.
func ParseAck(words []string) (string, bool) {
	var rest []string
	switch {
	case len(words) == 0:
		return "", false
	case isAckWord(words[0]):
		rest = words[1:]
	default:
		for _, w := range ackWords {
			if code, ok := strings.CutPrefix(words[0], w); ok && code != "" {
				rest = append([]string{code}, words[1:]...)
				break
			}
		}
	}
	if len(rest) != 1 || !IsCode(rest[0]) {
		return "", false
	}
	return rest[0], true
}

// IsAckWord reports whether w (upper-cased) is a word that starts an
// acknowledgement: a supervisor who sends it alone forgot the code.
func IsAckWord(w string) bool { return isAckWord(w) }

func isAckWord(w string) bool {
	for _, a := range ackWords {
		if w == a {
			return true
		}
	}
	return false
}

// IsCode reports whether s has the form of a case code.
func IsCode(s string) bool {
	if len(s) != CodeLength {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// AckOutcome is what became of an acknowledgement by SMS.
type AckOutcome int

const (
	// AckRefused: no case with that code awaits this phone, whether the
	// code is unknown or the phone answers for no area on its chain. The
	// reply is the same either way.
	AckRefused AckOutcome = iota
	// AckDone: the case is acknowledged now.
	AckDone
	// AckAlready: the case was acknowledged (or referred, resolved)
	// before, by someone entitled to.
	AckAlready
)

// Ack is the result of an acknowledgement by SMS: its outcome, and the
// supervisor's language when the phone is a supervisor's.
type Ack struct {
	Outcome    AckOutcome
	Supervisor bool
	Language   string
	Code       string
}
