package menus

import (
	"errors"
	"time"
)

// Errors shared by the adapters so that callers can tell "nothing there" from
// a failure without importing each other.
var (
	// ErrNotFound is wrapped by stores when a looked-up record does not exist.
	ErrNotFound = errors.New("menus: not found")
	// ErrConflict is wrapped by stores when a write lost a race or broke a
	// uniqueness rule that the caller can act on.
	ErrConflict = errors.New("menus: conflict")
)

// Languages every built-in text is written in. A tree may only declare
// languages from this list, so that prompts, errors and labels always exist.
const (
	LangZH = "zh"
	LangEN = "en"
)

// MaxNameLength is the longest name, in characters, the registry keeps
// for a person or a place. Screens that show a name shorten it to fit, and
// the tree check renders every screen with names this long.
const MaxNameLength = 100

// Caller is who is walking a menu: a registered director and the children
// assigned to them, or a guardian, their children and their allowances.
// Only who they are travels inside a stored snapshot: their children and
// allowances (ten thousand children make a snapshot of hundreds of
// kilobytes) are attached again from the registry when a snapshot is
// loaded, so stored sessions stay small and see registry changes.
type Caller struct {
	Phone      string       `json:"p"`
	DirectorID int64        `json:"d,omitempty"`
	GuardianID int64        `json:"g,omitempty"`
	Language   string       `json:"l"`
	Children   []ChildBrief `json:"-"`
	// Allowances are a guardian's children's allowance records.
	Allowances []Allowance `json:"-"`
	// Needs are a director's children's needs not yet resolved, attached
	// by the channel to walks of trees that list follow-ups or take need
	// references (Machine.WantsNeeds); never stored with a snapshot.
	Needs []NeedBrief `json:"-"`
}

// Attached reports whether the caller's children and allowances are
// here, rather than left behind when the snapshot was stored.
func (c Caller) Attached() bool { return c.Children != nil || c.Allowances != nil }

// Audiences a tree is written for: who may dial it, and so which registry
// a caller is looked up in.
const (
	AudienceDirector = "director"
	AudienceGuardian = "guardian"
)

// Allowance statuses, in the order a claim usually moves through them.
const (
	AllowanceApplied   = "applied"
	AllowanceApproved  = "approved"
	AllowancePaid      = "paid"
	AllowanceSuspended = "suspended"
	AllowanceRejected  = "rejected"
)

// Allowance is one child's allowance under one scheme.
type Allowance struct {
	ChildCode   string    `json:"c"`
	ChildName   string    `json:"n"`
	Scheme      string    `json:"s"` // living, orphan, disability, other
	Status      string    `json:"st"`
	MonthlyYuan int       `json:"y,omitempty"`
	LastPaid    time.Time `json:"lp,omitempty"`
	NextPayment time.Time `json:"np,omitempty"`
}

// ChildBrief is what a walk needs to know of a child: enough to check the
// caller may report on it and to name it on the confirm screen.
type ChildBrief struct {
	Code string `json:"c"`
	Name string `json:"n"`
}

// Child returns the caller's child with the given canonical code.
func (c Caller) Child(code string) (ChildBrief, bool) {
	for _, ch := range c.Children {
		if ch.Code == code {
			return ch, true
		}
	}
	return ChildBrief{}, false
}

// ReportKind tells visits from needs.
type ReportKind string

const (
	ReportVisit ReportKind = "visit"
	ReportNeed  ReportKind = "need"
)

// Channel a report arrived on.
const (
	ChannelUSSD = "ussd"
	ChannelSMS  = "sms"
)

// Report is a structured visit or need report, ready to be stored. It is the
// effect of a confirm node whose action is save_visit or save_need.
type Report struct {
	Kind       ReportKind
	SessionKey string // idempotency key: one report per conversation
	Channel    string
	Carrier    string
	DirectorID int64
	ChildCode  string
	// Situation is set on visits (well, needs_support, concern, urgent ...).
	Situation string
	// Category is set on needs (registration, school, health ...).
	Category string
	// Urgency is "routine" or "urgent" for both kinds.
	Urgency string
	Answers map[string]string
	// Alert is set when the step that confirmed the report asked for its
	// area's supervisors to be alerted (AlertSupervisors).
	Alert bool
	// FollowUp is the tree's follow-up rule for a need's category: the
	// store schedules the need's follow-up with it. Nil for visits and
	// for categories the tree follows up on no schedule.
	FollowUp   *FollowUpRule `json:",omitempty"`
	Tree       string
	Version    int
	StartedAt  time.Time
	ReportedAt time.Time
}

// Urgency values.
const (
	UrgencyRoutine = "routine"
	UrgencyUrgent  = "urgent"
)

// TreeVersion is one stored version of a menu tree.
type TreeVersion struct {
	Name        string
	Version     int
	Format      string // "yaml" or "json"
	Source      []byte
	Checksum    string // hex SHA-256 of Source
	CreatedAt   time.Time
	PublishedAt *time.Time // nil until published
	Author      string     // who saved it ("system" for the seed)
	Note        string     // why, in the author's words
}

// SavedError is a store's answer to a report whose key already holds a
// different report: the conversation's report was saved before, as Ref,
// with other answers. It matches ErrConflict.
type SavedError struct{ Ref string }

func (e *SavedError) Error() string { return "menus: report key already holds report " + e.Ref }

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *SavedError) Unwrap() error { return ErrConflict }
