// Package reports holds the read models of stored visits and needs: the
// query that selects them, a report as staff read it, a need's follow-up
// history and the dashboard's month at a glance.
package reports

import (
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Query selects visits or needs. Empty strings and zero times do not
// filter. Places are the child's village and county; Director is the E.164
// phone of the director who reported; Detail is the situation of a visit or
// the category of a need; Status applies to needs only. Limit 0 means every
// matching report.
type Query struct {
	Kind menus.ReportKind
	// From (inclusive) and Before (exclusive) bound reported_at.
	From, Before    time.Time
	Village, County string
	Director        string
	Child           string
	Detail          string
	Urgency         string
	Status          string
	Channel         string
	// Scope keeps the reports to children of an area and those under it
	// (the reader's, access.User.Area); 0 is everywhere.
	Scope         int64
	Limit, Offset int
}

// Item is a visit or need with what staff need to read it: the
// child and their place, the director, and for needs the follow-up status
// (empty on visits) with, from ReportWithHistory and SetNeedStatus, its
// history oldest first.
type Item struct {
	Ref                         string
	Kind                        menus.ReportKind
	ChildCode, ChildName        string
	Village, County             string
	DirectorPhone, DirectorName string
	// Detail is the situation of a visit or the category of a need.
	Detail          string
	Urgency         string
	Status          string
	StatusChangedAt time.Time
	Channel         string
	Carrier         string
	Tree            string
	Version         int
	Answers         map[string]string
	// CaseHolders are who acknowledged, referred or resolved the case the
	// report opened (usernames, or a supervisor's name by SMS); none when
	// it opened none.
	CaseHolders []string
	// Restricted marks an item whose answers were withheld from its
	// reader (admin.withhold).
	Restricted bool
	StartedAt  time.Time
	ReportedAt time.Time
	History    []StatusChange
	// LastChange is a need's latest follow-up step, zero when nobody has
	// acted on it yet (and on visits).
	LastChange StatusChange
}

// StatusChange is one step of a need's follow-up: from which status to
// which, the note written with it, who made it and when.
type StatusChange struct {
	From, To string
	Note     string
	Actor    string
	// Channel is where the change was made: console, or ussd or sms when
	// the child's director made it from the field.
	Channel string
	At      time.Time
}

// FollowUpQuery selects follow-ups. Empty fields do not filter.
type FollowUpQuery struct {
	// Director is the E.164 phone of a director of the child.
	Director string
	// Due is "due" (fallen due) or "overdue" (due for more than a week
	// and still open).
	Due string
	// Status is "open" (not cleared) or "cleared".
	Status string
	// Scope keeps them to children of an area and those under it; 0 is
	// everywhere.
	Scope         int64
	Limit, Offset int
}

// FollowUp is a need's follow-up as staff read it: whose, when it falls
// due and why, whether the director was reminded, and whether and how it
// was cleared. No child's name: the code is what the reminders name.
type FollowUp struct {
	Ref           string
	ChildCode     string
	Category      string
	NeedStatus    string
	DirectorPhone string
	Rule          string
	DueAt         time.Time
	RemindedAt    time.Time // zero until reminded
	ClearedAt     time.Time // zero while open
	ClearedBy     string    // status or visit
}

// Dashboard is a month at a glance: reports per village, and the
// urgent needs nobody has acted on yet.
type Dashboard struct {
	Villages []VillageCount
	// OpenUrgent counts every open urgent need, whenever reported;
	// OpenUrgentRefs lists the longest waiting of them.
	OpenUrgent     int
	OpenUrgentRefs []string
}

// VillageCount is the number of visits and needs reported on a village's
// children.
type VillageCount struct {
	County, Village string
	Visits, Needs   int
}

// MonthCount is the number of visits and needs reported in one month.
type MonthCount struct {
	Month         time.Time // its first instant
	Visits, Needs int
}

// Unvisited is an active child without a visit since a given time, with
// the time of their latest visit (zero when never visited).
type Unvisited struct {
	Code, Name      string
	Village, County string
	LastVisit       time.Time
}
