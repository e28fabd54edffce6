package menus

import (
	"encoding/json"
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

// Director is a Child Welfare Director in the registry.
type Director struct {
	ID       int64
	Phone    string // E.164
	Name     string
	Language string
	Village  string
	County   string
	Active   bool
}

// Child is a child in the registry, assigned to one director.
type Child struct {
	ID            int64
	Code          string // registry code such as C0001
	Name          string
	BirthDate     time.Time
	Village       string
	County        string
	DirectorPhone string // E.164 of the assigned director; used by imports and seeds
	Active        bool
}

// Guardian is a parent or carer of one or more children.
type Guardian struct {
	ID       int64
	Phone    string // E.164
	Name     string
	Language string
	Children []string // child codes
	Active   bool
	// StatusSecret, when set, is the short secret the guardian gives with
	// a STATUS query where the deployment requires one. Stores keep only
	// a hash of it.
	StatusSecret string
}

// Caller is who is walking a menu: a registered director and the children
// assigned to them, or a guardian, their children and their allowances. It
// travels inside the session snapshot so that a hop needs no registry
// lookup after the first one.
type Caller struct {
	Phone      string       `json:"p"`
	DirectorID int64        `json:"d,omitempty"`
	GuardianID int64        `json:"g,omitempty"`
	Language   string       `json:"l"`
	Children   []ChildBrief `json:"c,omitempty"`
	// Allowances are a guardian's children's allowance records.
	Allowances []Allowance `json:"al,omitempty"`
}

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
	Urgency    string
	Answers    map[string]string
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

// Supervisor is a county officer who is alerted to urgent reports.
type Supervisor struct {
	ID       int64
	Phone    string // E.164
	Name     string
	Language string
	County   string
	Active   bool
}

// Roles of console users and API tokens.
const (
	RoleAdmin  = "admin"  // everything
	RoleEditor = "editor" // menus
	RoleViewer = "viewer" // read reports
)

// User is a county administrator.
type User struct {
	ID       int64
	Username string
	Role     string
	Active   bool
}

// Allows reports whether a role may do what needs role need: admins may do
// everything, editors what editors and viewers may, viewers only read.
func (u User) Allows(need string) bool {
	rank := map[string]int{RoleViewer: 1, RoleEditor: 2, RoleAdmin: 3}
	return u.Active && rank[u.Role] >= rank[need] && rank[need] > 0
}

// AuditEntry is one change, for the audit log.
type AuditEntry struct {
	Actor      User
	Action     string // e.g. "menu.publish"
	ObjectType string // e.g. "menu_tree"
	ObjectID   string
	Before     any
	After      any
}

// TreeVersion is one stored version of a menu tree.
type TreeVersion struct {
	Name        string
	Version     int
	Format      string // "yaml" or "json"
	Source      []byte
	Checksum    string // hex SHA-256 of Source
	CreatedAt   time.Time
	PublishedAt *time.Time // nil until published
}

// AuditRecord is an audit log entry as read back.
type AuditRecord struct {
	ID         int64  `json:"id"`
	At         string `json:"at"`
	Actor      string `json:"actor"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	// Before and After are the changed object as JSON (null when absent).
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}
