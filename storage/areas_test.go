package storage_test

import (
	"errors"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// TestAreaLevels: an area sits under one of a higher level, levels may be
// skipped, and no write (create, update, import) can break that; a
// director's area is a village.
func TestAreaLevels(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	sys := access.System
	seed := []registry.Area{
		{Code: "C1", Name: "县", Level: registry.LevelCounty},
		{Code: "T1", Name: "镇", Level: registry.LevelTownship, Parent: "C1"},
		{Code: "V1", Name: "村", Level: registry.LevelVillage, Parent: "T1"},
	}
	if created, _, err := db.ImportAreas(ctx, sys, seed, false); err != nil || created != 3 {
		t.Fatalf("import: %d, %v", created, err)
	}
	tests := []struct {
		name  string
		area  registry.Area
		field string // of the validation problem; "" for success
	}{
		{"a village straight under its county", registry.Area{Code: "V2", Name: "村二", Level: registry.LevelVillage, Parent: "C1"}, ""},
		{"a prefecture at the top", registry.Area{Code: "P1", Name: "州", Level: registry.LevelPrefecture}, ""},
		{"a county under a village", registry.Area{Code: "C2", Name: "县二", Level: registry.LevelCounty, Parent: "V1"}, "parent"},
		{"a township under a township", registry.Area{Code: "T2", Name: "镇二", Level: registry.LevelTownship, Parent: "T1"}, "parent"},
		{"an unknown parent", registry.Area{Code: "T3", Name: "镇三", Level: registry.LevelTownship, Parent: "NOPE"}, "parent"},
	}
	for _, tt := range tests {
		_, err := db.CreateArea(ctx, sys, tt.area)
		checkProblem(t, tt.name, err, tt.field)
	}
	// A township with a village under it cannot become a village.
	var t1 int64
	list, _, err := db.ListAreas(ctx, "T1", 10, 0)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %v", list, err)
	}
	t1 = list[0].ID
	_, err = db.UpdateArea(ctx, sys, registry.Area{ID: t1, Code: "T1", Name: "镇", Level: registry.LevelVillage, Parent: "C1"})
	checkProblem(t, "a township with villages made a village", err, "level")
	// A director belongs to a village, not a township.
	_, err = db.CreateDirector(ctx, sys, registry.Director{Phone: "+8613800138201", Name: "x", Language: menus.LangZH, Village: "村", County: "县", Area: "T1"})
	checkProblem(t, "a director in a township", err, "area")
	d, err := db.CreateDirector(ctx, sys, registry.Director{Phone: "+8613800138202", Name: "y", Language: menus.LangZH, Village: "村", County: "县", Area: "V1"})
	if err != nil || d.Area != "V1" {
		t.Fatalf("director in a village: %+v, %v", d, err)
	}
	// An update that names no area keeps the link.
	d.Name = "z"
	d.Area = ""
	if d, err = db.UpdateDirector(ctx, sys, d); err != nil || d.Area != "V1" || d.Name != "z" {
		t.Fatalf("update without an area: %+v, %v", d, err)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM audit_log WHERE object_type = 'area'`); n != 5 {
		t.Fatalf("%d area audit entries, want 5", n)
	}
}

func checkProblem(t *testing.T, name string, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return
	}
	var v *menus.ValidationError
	if !errors.As(err, &v) || len(v.Problems) != 1 || v.Problems[0].Field != field {
		t.Errorf("%s: %v, want a problem with %s", name, err, field)
	}
}
