package storage_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
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
	id, err := db.UpsertDirector(t.Context(), registry.Director{Phone: phoneAmy, Name: "Amy", Language: menus.LangEN, Village: "v", County: "c", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.CallerByPhone(t.Context(), phoneAmy)
	if err != nil {
		t.Fatal(err)
	}
	want := menus.Caller{Phone: phoneAmy, DirectorID: id, Language: menus.LangEN}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("caller = %+v, want %+v", got, want)
	}
}

// directorRow is a director as the table holds it.
type directorRow struct {
	Phone    string `db:"phone"`
	Name     string `db:"name"`
	Language string `db:"language"`
	Village  string `db:"village"`
	County   string `db:"county"`
	Active   bool   `db:"active"`
}

func TestUpsertDirector(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	first := registry.Director{Phone: phoneAmy, Name: "Amy", Language: menus.LangEN, Village: "Shuiping", County: "Leishan", Active: true}
	id, err := db.UpsertDirector(ctx, first)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	second := registry.Director{Phone: phoneAmy, Name: "Amy Wang", Language: menus.LangZH, Village: "Dagu", County: "Taijiang", Active: false}
	id2, err := db.UpsertDirector(ctx, second)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if id2 != id {
		t.Errorf("update returned id %d, insert %d", id2, id)
	}
	var rows []directorRow
	if err := storage.SQL(db).SelectContext(ctx, &rows, `SELECT phone, name, language, village, county, active FROM directors`); err != nil {
		t.Fatal(err)
	}
	want := []directorRow{{Phone: phoneAmy, Name: "Amy Wang", Language: menus.LangZH, Village: "Dagu", County: "Taijiang", Active: false}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %+v, want %+v", rows, want)
	}

	if _, err := db.UpsertDirector(ctx, registry.Director{Phone: "0086 138", Name: "x", Language: "en", Village: "v", County: "c"}); err == nil {
		t.Error("a phone that is not E.164 was stored")
	} else if strings.Contains(err.Error(), "0086 138") {
		t.Errorf("error %q quotes the phone number", err)
	}
}

type childRow struct {
	Code       string  `db:"code"`
	Name       string  `db:"name"`
	BirthDate  *string `db:"birth_date"`
	Village    string  `db:"village"`
	County     string  `db:"county"`
	DirectorID int64   `db:"director_id"`
	Active     bool    `db:"active"`
}

func TestUpsertChild(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)
	ctx := t.Context()

	// Midnight in China is the day before in UTC: the date must not move.
	china := time.FixedZone("CST", 8*3600)
	child := registry.Child{Code: "C0100", Name: "Wang Xiao", BirthDate: time.Date(2016, 5, 1, 0, 0, 0, 0, china),
		Village: "Shuiping", County: "Leishan", DirectorPhone: phoneAmy, Active: true}
	id, err := db.UpsertChild(ctx, child)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	read := func() childRow {
		t.Helper()
		var row childRow
		const q = `SELECT code, name, to_char(birth_date, 'YYYY-MM-DD') AS birth_date, village, county, director_id, active FROM children WHERE id = $1`
		if err := storage.SQL(db).GetContext(ctx, &row, q, id); err != nil {
			t.Fatal(err)
		}
		return row
	}
	date := "2016-05-01"
	if got, want := read(), (childRow{Code: "C0100", Name: "Wang Xiao", BirthDate: &date, Village: "Shuiping", County: "Leishan", DirectorID: reg.Amy, Active: true}); !reflect.DeepEqual(got, want) {
		t.Errorf("after insert: %+v (birth %v), want %+v (birth %v)", got, deref(got.BirthDate), want, deref(want.BirthDate))
	}

	// Moved to another director, birth date unknown after all, deactivated.
	moved := registry.Child{Code: "C0100", Name: "Wang Xiaoming", Village: "Dagu", County: "Taijiang", DirectorPhone: phoneBo, Active: false}
	id2, err := db.UpsertChild(ctx, moved)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if id2 != id {
		t.Errorf("update returned id %d, insert %d", id2, id)
	}
	if got, want := read(), (childRow{Code: "C0100", Name: "Wang Xiaoming", Village: "Dagu", County: "Taijiang", DirectorID: reg.Bo, Active: false}); !reflect.DeepEqual(got, want) {
		t.Errorf("after update: %+v (birth %v), want %+v", got, deref(got.BirthDate), want)
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

func TestUpsertChildUnknownDirector(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	before := MustCount(t, db, `SELECT count(*) FROM children`)

	_, err := db.UpsertChild(t.Context(), registry.Child{Code: "C0200", Name: "x", Village: "v", County: "c", DirectorPhone: "+8613877777777", Active: true})
	if !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if strings.Contains(err.Error(), "8613877777777") {
		t.Errorf("error %q quotes the phone number", err)
	}
	if got := MustCount(t, db, `SELECT count(*) FROM children`); got != before {
		t.Errorf("%d children, want %d", got, before)
	}
}

// guardianChildren returns the guardian's child codes and relationships.
func guardianChildren(tb testing.TB, db *storage.DB, guardianID int64) []string {
	tb.Helper()
	var links []string
	const q = `
SELECT c.code || ':' || cg.relationship
FROM child_guardians cg JOIN children c ON c.id = cg.child_id
WHERE cg.guardian_id = $1
ORDER BY c.code`
	if err := storage.SQL(db).SelectContext(tb.Context(), &links, q, guardianID); err != nil {
		tb.Fatal(err)
	}
	return links
}

func TestUpsertGuardian(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()
	const phone = "+8613911111111"

	id, err := db.UpsertGuardian(ctx, registry.Guardian{Phone: phone, Name: "Mother Chen", Language: menus.LangZH, Children: []string{"C0001", "C0002", "C0001"}, Active: true})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	if got, want := guardianChildren(t, db, id), []string{"C0001:", "C0002:"}; !slices.Equal(got, want) {
		t.Fatalf("links after insert = %v, want %v", got, want)
	}
	// A relationship recorded elsewhere survives for links that stay.
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE child_guardians SET relationship = 'mother' WHERE guardian_id = $1`, id); err != nil {
		t.Fatal(err)
	}

	id2, err := db.UpsertGuardian(ctx, registry.Guardian{Phone: phone, Name: "Chen Mei", Language: menus.LangEN, Children: []string{"C0003", "C0002"}, Active: true})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if id2 != id {
		t.Errorf("update returned id %d, insert %d", id2, id)
	}
	if got, want := guardianChildren(t, db, id), []string{"C0002:mother", "C0003:"}; !slices.Equal(got, want) {
		t.Errorf("links after update = %v, want %v", got, want)
	}

	// An unknown code writes nothing, not even the new name.
	_, err = db.UpsertGuardian(ctx, registry.Guardian{Phone: phone, Name: "Renamed", Language: menus.LangEN, Children: []string{"C0001", "C9999"}, Active: true})
	if !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("unknown child: err = %v, want ErrNotFound", err)
	}
	if got, want := guardianChildren(t, db, id), []string{"C0002:mother", "C0003:"}; !slices.Equal(got, want) {
		t.Errorf("links after failed update = %v, want %v", got, want)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM guardians WHERE name = 'Chen Mei'`); n != 1 {
		t.Errorf("failed update changed the guardian's name")
	}

	// No children at all unlinks every child.
	if _, err := db.UpsertGuardian(ctx, registry.Guardian{Phone: phone, Name: "Chen Mei", Language: menus.LangEN, Active: true}); err != nil {
		t.Fatalf("no children: %v", err)
	}
	if got := guardianChildren(t, db, id); len(got) != 0 {
		t.Errorf("links after clearing = %v, want none", got)
	}
}
