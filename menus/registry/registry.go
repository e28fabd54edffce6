// Package registry holds the people and places the programme keeps on
// record: directors, the children assigned to them, guardians and their
// allowances, and the supervisors who are alerted to urgent reports. These
// are plain values; storage keeps them and the admin API edits them.
package registry

import (
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Director is a Child Welfare Director in the registry.
type Director struct {
	ID       int64
	Phone    string // E.164
	Name     string
	Language string
	Village  string
	County   string
	// Area is the code of the director's village area; empty keeps the
	// stored link (old imports name none).
	Area   string
	Active bool
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
	// Area is the code of the child's village area; empty keeps the
	// stored link.
	Area   string
	Active bool
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

// Supervisor is an officer who answers for the cases of an area (a
// township, a county ...) and, by County, is alerted to urgent reports of
// children who have no area yet.
type Supervisor struct {
	ID       int64
	Phone    string // E.164
	Name     string
	Language string
	County   string
	// Area is the code of the area the supervisor answers for; empty
	// keeps the stored link.
	Area   string
	Active bool
}

// Area levels, highest first. An area's parent is of a higher level; a
// level may be skipped (a village directly under its county).
const (
	LevelPrefecture = "prefecture"
	LevelCounty     = "county"
	LevelTownship   = "township"
	LevelVillage    = "village"
)

// Levels are the area levels, highest first.
var Levels = []string{LevelPrefecture, LevelCounty, LevelTownship, LevelVillage}

// Area is a place in the hierarchy: a prefecture, county, township or
// village, under its parent (by code; empty at the top).
type Area struct {
	ID     int64
	Code   string
	Name   string
	Level  string
	Parent string
	Active bool
}

// ChildRecord is a child with every director assigned to it: the
// responsible director first, the others by phone.
type ChildRecord struct {
	Child
	Directors []string
}

// AllowanceRecord is an allowance with its id and state.
type AllowanceRecord struct {
	menus.Allowance
	ID     int64
	Active bool
}
