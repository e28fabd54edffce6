package storage_test

import (
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
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
	ids := mustDirectors(tb, db,
		registry.Director{Phone: phoneAmy, Name: "Amy", Language: menus.LangEN, Village: "Shuiping", County: "Leishan", Active: true},
		registry.Director{Phone: phoneBo, Name: "Bo", Language: menus.LangZH, Village: "Dagu", County: "Leishan", Active: true},
		registry.Director{Phone: phoneGone, Name: "Gone", Language: menus.LangZH, Village: "Dagu", County: "Leishan", Active: false},
	)
	mustChildren(tb, db,
		registry.Child{Code: "C0003", Name: "Chen San", DirectorPhone: phoneAmy, Active: true},
		registry.Child{Code: "C0001", Name: "Chen Yi", DirectorPhone: phoneAmy, Active: true, BirthDate: time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC)},
		registry.Child{Code: "C0002", Name: "Chen Er", DirectorPhone: phoneAmy, Active: true},
		registry.Child{Code: "C0004", Name: "Chen Si", DirectorPhone: phoneAmy, Active: false},
		registry.Child{Code: "C0005", Name: "Li Wu", DirectorPhone: phoneBo, Active: true},
		registry.Child{Code: "C0006", Name: "Li Liu", DirectorPhone: phoneGone, Active: true},
	)
	return seeded{Amy: ids[phoneAmy], Bo: ids[phoneBo], Gone: ids[phoneGone]}
}

// mustDirectors stores directors through the registry's one write path,
// the audited import the seed and the console use, deactivates those
// given Active false, and returns their ids by phone.
func mustDirectors(tb testing.TB, db *storage.DB, ds ...registry.Director) map[string]int64 {
	tb.Helper()
	if _, _, err := db.ImportDirectors(tb.Context(), access.System, ds, false); err != nil {
		tb.Fatalf("import directors: %v", err)
	}
	ids := map[string]int64{}
	for _, d := range ds {
		var id int64
		if err := storage.SQL(db).GetContext(tb.Context(), &id, `SELECT id FROM directors WHERE phone = $1`, d.Phone); err != nil {
			tb.Fatal(err)
		}
		if !d.Active {
			if _, err := db.SetDirectorActive(tb.Context(), access.System, id, false); err != nil {
				tb.Fatal(err)
			}
		}
		ids[d.Phone] = id
	}
	return ids
}

// mustChildren stores children, each assigned to its DirectorPhone,
// through the audited import, and sets each one's active flag as given.
func mustChildren(tb testing.TB, db *storage.DB, cs ...registry.Child) {
	tb.Helper()
	recs := make([]registry.ChildRecord, len(cs))
	for i, c := range cs {
		recs[i] = registry.ChildRecord{Child: c}
	}
	if _, _, err := db.ImportChildren(tb.Context(), access.System, recs, false); err != nil {
		tb.Fatalf("import children: %v", err)
	}
	for _, c := range cs {
		var id int64
		if err := storage.SQL(db).GetContext(tb.Context(), &id, `SELECT id FROM children WHERE code = $1`, c.Code); err != nil {
			tb.Fatal(err)
		}
		if _, err := db.SetChildActive(tb.Context(), access.System, id, c.Active); err != nil {
			tb.Fatal(err)
		}
	}
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
