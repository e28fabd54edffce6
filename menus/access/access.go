// Package access holds who may use the console and the admin API, with
// which role, and the audit log of what they changed.
package access

import (
	"encoding/json"
	"errors"
)

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
	// Area is the area the user answers for (areas.id): they see the
	// children, reports and cases of that area and those under it. 0 is
	// the whole deployment.
	Area int64
	// AreaName names it, for the console; "" with Area 0.
	AreaName string
}

// Scoped reports whether the user sees only part of the deployment.
func (u User) Scoped() bool { return u.Area != 0 }

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

// System is the actor of changes no person made, such as loading the demo
// registry: its changes go through the same audited path as a person's
// and are recorded under this name.
var System = User{Username: "system", Role: RoleAdmin, Active: true}

// ErrBusy is returned when a password could not be checked in time
// because others were being checked: the caller should try again shortly.
var ErrBusy = errors.New("access: busy checking passwords")

// ReadEntry is one read of a child's record, a report or a case, for the
// read log that inspections ask for.
type ReadEntry struct {
	Actor      User
	ObjectType string // "child", "report", "case"; a list is "children" etc.
	ObjectID   string // empty for a list or an export
	Query      string // the list's or export's filters, as requested
	Remote     string // the address the request came from
}

// ReadRecord is a read as read back.
type ReadRecord struct {
	ID         int64  `json:"id" db:"id"`
	At         string `json:"at" db:"at"`
	Actor      string `json:"actor" db:"actor"`
	ObjectType string `json:"object_type" db:"object_type"`
	ObjectID   string `json:"object_id" db:"object_id"`
	Query      string `json:"query" db:"query"`
	Remote     string `json:"remote" db:"remote"`
}
