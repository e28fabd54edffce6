package storage_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

func TestCallerByPhone(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	tests := []struct {
		name    string
		phone   string
		want    menus.Caller
		wantErr error
	}{
		{
			name:  "children in code order, inactive child left out",
			phone: phoneAmy,
			want: menus.Caller{Phone: phoneAmy, DirectorID: reg.Amy, Language: menus.LangEN, Children: []menus.ChildBrief{
				{Code: "C0001", Name: "Chen Yi"}, {Code: "C0002", Name: "Chen Er"}, {Code: "C0003", Name: "Chen San"},
			}},
		},
		{
			name:  "own children only",
			phone: phoneBo,
			want:  menus.Caller{Phone: phoneBo, DirectorID: reg.Bo, Language: menus.LangZH, Children: []menus.ChildBrief{{Code: "C0005", Name: "Li Wu"}}},
		},
		{name: "unknown director", phone: "+8613899999999", wantErr: menus.ErrNotFound},
		{name: "inactive director", phone: phoneGone, wantErr: menus.ErrNotFound},
		{name: "not E.164", phone: "13800000001", wantErr: menus.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.CallerByPhone(t.Context(), tt.phone)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tt.phone, "+")) {
				t.Errorf("error %q quotes the phone number", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("caller = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCallerByPhoneWithoutChildren(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	id := mustDirectors(t, db, registry.Director{Phone: phoneAmy, Name: "Amy", Language: menus.LangEN, Village: "v", County: "c", Active: true})[phoneAmy]
	got, err := db.CallerByPhone(t.Context(), phoneAmy)
	if err != nil {
		t.Fatal(err)
	}
	want := menus.Caller{Phone: phoneAmy, DirectorID: id, Language: menus.LangEN}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("caller = %+v, want %+v", got, want)
	}
}

// TestImportDatesAndLinks: the registry's one write path keeps calendar
// dates as written whatever the zone, and replaces a guardian's children
// without losing what is recorded of links that stay; an unknown code
// writes nothing.
func TestImportDatesAndLinks(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()

	// Midnight in China is the day before in UTC: the date must not move.
	china := time.FixedZone("CST", 8*3600)
	mustChildren(t, db, registry.Child{Code: "C0100", Name: "Wang Xiao", BirthDate: time.Date(2016, 5, 1, 0, 0, 0, 0, china),
		Village: "Shuiping", County: "Leishan", DirectorPhone: phoneAmy, Active: true})
	if got := MustCount(t, db, `SELECT count(*) FROM children WHERE code = 'C0100' AND birth_date = '2016-05-01'`); got != 1 {
		t.Fatal("birth date moved")
	}

	const phone = "+8613911111111"
	load := func(name string, codes ...string) error {
		_, _, err := db.ImportGuardians(ctx, access.System, []registry.Guardian{{Phone: phone, Name: name, Language: menus.LangZH, Children: codes}}, false)
		return err
	}
	links := func() []string {
		t.Helper()
		var out []string
		const q = `
SELECT c.code || ':' || cg.relationship
FROM child_guardians cg JOIN children c ON c.id = cg.child_id JOIN guardians g ON g.id = cg.guardian_id
WHERE g.phone = $1 ORDER BY c.code`
		if err := storage.SQL(db).SelectContext(ctx, &out, q, phone); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := load("Mother Chen", "C0001", "C0002"); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE child_guardians SET relationship = 'mother'`); err != nil {
		t.Fatal(err)
	}
	if err := load("Chen Mei", "C0003", "C0002"); err != nil {
		t.Fatal(err)
	}
	if got, want := links(), []string{"C0002:mother", "C0003:"}; !slices.Equal(got, want) {
		t.Errorf("links after update = %v, want %v", got, want)
	}
	if err := load("Renamed", "C0001", "C9999"); err == nil {
		t.Fatal("a guardian of an unknown child was stored")
	}
	if got := MustCount(t, db, `SELECT count(*) FROM guardians WHERE name = 'Chen Mei'`); got != 1 {
		t.Error("a failed import changed the guardian's name")
	}
}
