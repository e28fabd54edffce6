package storage_test

import (
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage"
)

// Phones of the seeded registry. They are test numbers, not real people.
const (
	phoneAmy  = "+8613800000001"
	phoneBo   = "+8613800000002"
	phoneGone = "+8613800000003" // an inactive director
)

// seeded is what MustSeed stored.
type seeded struct {
	Amy, Bo, Gone int64 // director ids
}

// MustSeed stores three directors and their children:
//
//	Amy (active):  C0003, C0001, C0002 active; C0004 inactive
//	Bo (active):   C0005
//	Gone (inactive): C0006
func MustSeed(tb testing.TB, db *storage.DB) seeded {
	tb.Helper()
	var reg seeded
	for _, d := range []struct {
		id *int64
		d  registry.Director
	}{
		{&reg.Amy, registry.Director{Phone: phoneAmy, Name: "Amy", Language: menus.LangEN, Village: "Shuiping", County: "Leishan", Active: true}},
		{&reg.Bo, registry.Director{Phone: phoneBo, Name: "Bo", Language: menus.LangZH, Village: "Dagu", County: "Leishan", Active: true}},
		{&reg.Gone, registry.Director{Phone: phoneGone, Name: "Gone", Language: menus.LangZH, Village: "Dagu", County: "Leishan", Active: false}},
	} {
		id, err := db.UpsertDirector(tb.Context(), d.d)
		if err != nil {
			tb.Fatalf("seed director %s: %v", d.d.Name, err)
		}
		*d.id = id
	}
	for _, c := range []registry.Child{
		{Code: "C0003", Name: "Chen San", DirectorPhone: phoneAmy, Active: true},
		{Code: "C0001", Name: "Chen Yi", DirectorPhone: phoneAmy, Active: true, BirthDate: time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC)},
		{Code: "C0002", Name: "Chen Er", DirectorPhone: phoneAmy, Active: true},
		{Code: "C0004", Name: "Chen Si", DirectorPhone: phoneAmy, Active: false},
		{Code: "C0005", Name: "Li Wu", DirectorPhone: phoneBo, Active: true},
		{Code: "C0006", Name: "Li Liu", DirectorPhone: phoneGone, Active: true},
	} {
		if _, err := db.UpsertChild(tb.Context(), c); err != nil {
			tb.Fatalf("seed child %s: %v", c.Code, err)
		}
	}
	return reg
}

// MustCount returns the result of a count(*) query.
func MustCount(tb testing.TB, db *storage.DB, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := storage.SQL(db).GetContext(tb.Context(), &n, q, args...); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}
