package storage_test

import (
	"encoding/json"
	"errors"
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

var registrar = access.User{ID: 0, Username: "registrar"}

// auditEntry is one row of the audit log as the registry writes it.
type auditEntry struct {
	Action, ObjectType, ObjectID string
	Before, After                map[string]any
}

// mustAudit returns the audit entries of objectType, oldest first, left
// by the test's own actors: the seed's, recorded as the system, are not
// what a test looks for.
func mustAudit(tb testing.TB, db *storage.DB, objectType string) []auditEntry {
	tb.Helper()
	var rows []struct {
		Action   string  `db:"action"`
		ObjectID string  `db:"object_id"`
		Before   *string `db:"before"`
		After    *string `db:"after"`
	}
	const q = `SELECT action, object_id, before::text AS before, after::text AS after FROM audit_log WHERE object_type = $1 AND actor <> 'system' ORDER BY id`
	if err := storage.SQL(db).SelectContext(tb.Context(), &rows, q, objectType); err != nil {
		tb.Fatal(err)
	}
	out := make([]auditEntry, len(rows))
	for i, r := range rows {
		out[i] = auditEntry{Action: r.Action, ObjectType: objectType, ObjectID: r.ObjectID}
		for _, p := range []struct {
			raw *string
			m   *map[string]any
		}{{r.Before, &out[i].Before}, {r.After, &out[i].After}} {
			if p.raw != nil {
				if err := json.Unmarshal([]byte(*p.raw), p.m); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	return out
}

func problemFields(err error) []string {
	var v *menus.ValidationError
	if !errors.As(err, &v) {
		return nil
	}
	var fields []string
	for _, p := range v.Problems {
		fields = append(fields, p.Field)
	}
	return fields
}

func TestRegistryDirectorLifecycle(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()

	d, err := db.CreateDirector(ctx, registrar, registry.Director{ID: 99, Phone: "+8613800000009", Name: "李梅", Language: "zh", Village: "青山村", County: "云岭县"})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == 99 || !d.Active || d.Name != "李梅" {
		t.Fatalf("created %+v: the id is the database's and a new director is active", d)
	}
	_, err = db.CreateDirector(ctx, registrar, registry.Director{Phone: phoneAmy, Name: "Amy again", Language: "en", Village: "v", County: "c"})
	if !errors.Is(err, menus.ErrConflict) {
		t.Fatalf("taken phone: %v, want a conflict", err)
	}
	if strings.Contains(err.Error(), phoneAmy) {
		t.Errorf("error quotes the phone: %v", err)
	}

	d.Name, d.Active = "Li Mei", false // Active is not the update's business
	up, err := db.UpdateDirector(ctx, registrar, d)
	if err != nil || up.Name != "Li Mei" || !up.Active {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := db.UpdateDirector(ctx, registrar, up); err != nil {
		t.Fatalf("no-op update: %v", err)
	}
	moved := up
	moved.Phone = phoneBo
	if _, err := db.UpdateDirector(ctx, registrar, moved); !errors.Is(err, menus.ErrConflict) {
		t.Fatalf("phone of another director: %v, want a conflict", err)
	}
	if _, err := db.UpdateDirector(ctx, registrar, registry.Director{ID: 12345, Phone: "+8613800000010", Name: "x", Language: "zh", Village: "v", County: "c"}); !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}

	if _, err := db.CallerByPhone(ctx, d.Phone); err != nil {
		t.Fatalf("active director not found: %v", err)
	}
	off, err := db.SetDirectorActive(ctx, registrar, d.ID, false)
	if err != nil || off.Active {
		t.Fatalf("deactivate: %+v %v", off, err)
	}
	if _, err := db.SetDirectorActive(ctx, registrar, d.ID, false); err != nil {
		t.Fatalf("second deactivate: %v", err)
	}
	if _, err := db.CallerByPhone(ctx, d.Phone); !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("a deactivated director can still dial in: %v", err)
	}
	if got, err := db.DirectorByID(ctx, d.ID); err != nil || got.Active || got.Name != "Li Mei" {
		t.Fatalf("deactivated director is kept: %+v %v", got, err)
	}
	if _, err := db.SetDirectorActive(ctx, registrar, d.ID, true); err != nil {
		t.Fatal(err)
	}

	// One entry per change; the no-ops (an update to the same values, a
	// second deactivation) and the refused writes left none.
	entries := mustAudit(t, db, "director")
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.ObjectID != d.Phone {
			t.Errorf("%s: object id %q, want the phone", e.Action, e.ObjectID)
		}
	}
	if want := []string{"director.create", "director.update", "director.deactivate", "director.activate"}; !slices.Equal(actions, want) {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
	if entries[0].Before != nil || entries[0].After["name"] != "李梅" {
		t.Errorf("create: before %v after %v", entries[0].Before, entries[0].After)
	}
	if entries[1].Before["name"] != "李梅" || entries[1].After["name"] != "Li Mei" {
		t.Errorf("update: before %v after %v", entries[1].Before, entries[1].After)
	}
	if entries[2].Before["active"] != true || entries[2].After["active"] != false {
		t.Errorf("deactivate: before %v after %v", entries[2].Before, entries[2].After)
	}
}

func TestRegistryListSearchAndPaging(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()
	if _, err := db.CreateDirector(ctx, registrar, registry.Director{Phone: "+8613800000011", Name: "50%_off", Language: "en", Village: "v", County: "c"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    string
		want int
	}{
		{"", 4},
		{"AMY", 1},         // any case
		{"00000002", 1},    // part of a phone
		{"%", 1},           // a wildcard matches itself only
		{"_", 1},           //
		{`\`, 0},           //
		{"nobody here", 0}, //
	} {
		ds, total, err := db.ListDirectors(ctx, tt.q, 50, 0)
		if err != nil || total != tt.want || len(ds) != tt.want {
			t.Errorf("search %q: %d of %d, %v; want %d", tt.q, len(ds), total, err, tt.want)
		}
	}
	// Inactive directors are listed, and pages do not overlap.
	first, total, err := db.ListDirectors(ctx, "", 3, 0)
	if err != nil || len(first) != 3 || total != 4 {
		t.Fatalf("page 1: %d of %d, %v", len(first), total, err)
	}
	rest, total, err := db.ListDirectors(ctx, "", 3, 3)
	if err != nil || len(rest) != 1 || total != 4 {
		t.Fatalf("page 2: %d of %d, %v", len(rest), total, err)
	}
	var phones []string
	for _, d := range append(first, rest...) {
		phones = append(phones, d.Phone)
	}
	slices.Sort(phones)
	if want := []string{phoneAmy, phoneBo, phoneGone, "+8613800000011"}; !slices.Equal(phones, want) {
		t.Fatalf("pages hold %v, want %v", phones, want)
	}
	if empty, total, err := db.ListDirectors(ctx, "", 3, 30); err != nil || empty == nil || len(empty) != 0 || total != 4 {
		t.Fatalf("past the end: %v of %d, %v", empty, total, err)
	}

	// Children are found by code, name or a director's phone, and list
	// their directors.
	cs, total, err := db.ListChildren(ctx, "c000", 50, 0)
	if err != nil || total != 6 || len(cs) != 6 || cs[0].Code != "C0001" || !slices.Equal(cs[0].Directors, []string{phoneAmy}) {
		t.Fatalf("children by code: %+v %d %v", cs, total, err)
	}
	if cs, total, _ := db.ListChildren(ctx, phoneBo, 50, 0); total != 1 || cs[0].Code != "C0005" {
		t.Fatalf("children by director phone: %+v", cs)
	}
}

func TestRegistryChildDirectors(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()
	born := time.Date(2016, 5, 5, 0, 0, 0, 0, time.UTC)

	_, err := db.CreateChild(ctx, registrar, registry.ChildRecord{Child: registry.Child{Code: "C0100", Name: "孙丽", BirthDate: born, Village: "v", County: "c"}, Directors: []string{phoneBo, "+8613800000099"}})
	if f := problemFields(err); !slices.Equal(f, []string{"directors[1]"}) {
		t.Fatalf("unknown director: %v (fields %v)", err, f)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM children WHERE code = 'C0100'`); n != 0 {
		t.Fatalf("a refused child was stored")
	}

	c, err := db.CreateChild(ctx, registrar, registry.ChildRecord{Child: registry.Child{Code: "C0100", Name: "孙丽", BirthDate: born, Village: "v", County: "c"}, Directors: []string{phoneBo, phoneGone, phoneAmy, phoneAmy}})
	if err != nil {
		t.Fatal(err)
	}
	// The responsible director first, the others by phone, each once.
	if want := []string{phoneBo, phoneAmy, phoneGone}; !slices.Equal(c.Directors, want) || c.DirectorPhone != phoneBo || !c.BirthDate.Equal(born) {
		t.Fatalf("created %+v, want directors %v", c, want)
	}
	amy, _ := db.CallerByPhone(ctx, phoneAmy)
	if !slices.Contains(codes(amy), "C0100") {
		t.Fatalf("an assigned director does not see the child: %v", codes(amy))
	}

	c.Directors = []string{phoneAmy}
	c.BirthDate = time.Time{}
	if c, err = db.UpdateChild(ctx, registrar, c); err != nil || !slices.Equal(c.Directors, []string{phoneAmy}) || !c.BirthDate.IsZero() {
		t.Fatalf("update: %+v %v", c, err)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM child_directors cd JOIN children c ON c.id = cd.child_id WHERE c.code = 'C0100'`); n != 1 {
		t.Fatalf("%d assignments, want 1", n)
	}
	bo, _ := db.CallerByPhone(ctx, phoneBo)
	if slices.Contains(codes(bo), "C0100") {
		t.Fatalf("an unassigned director still sees the child")
	}
	c.Code = "C0001"
	if _, err := db.UpdateChild(ctx, registrar, c); !errors.Is(err, menus.ErrConflict) {
		t.Fatalf("taken code: %v", err)
	}
	entries := mustAudit(t, db, "child")
	if len(entries) != 2 || entries[1].ObjectID != "C0100" || len(entries[1].Before["directors"].([]any)) != 3 || len(entries[1].After["directors"].([]any)) != 1 {
		t.Fatalf("audit: %+v", entries)
	}
}

func TestRegistryGuardianSecret(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()
	const phone, moved = "+8613900000001", "+8613900000002"

	_, err := db.CreateGuardian(ctx, registrar, registry.Guardian{Phone: phone, Name: "王芳芳", Language: "zh", Children: []string{"C0001", "C9999"}})
	if f := problemFields(err); !slices.Equal(f, []string{"children[1]"}) {
		t.Fatalf("unknown child: %v", err)
	}
	g, err := db.CreateGuardian(ctx, registrar, registry.Guardian{Phone: phone, Name: "王芳芳", Language: "zh", Children: []string{"C0002", "C0001"}, StatusSecret: "0417"})
	if err != nil || !slices.Equal(g.Children, []string{"C0001", "C0002"}) || g.StatusSecret != "" {
		t.Fatalf("create: %+v %v", g, err)
	}
	if ok, _ := db.CheckStatusSecret(ctx, phone, "C0001", "0417"); !ok {
		t.Fatal("secret not stored")
	}

	g.Phone = moved
	if _, err := db.UpdateGuardian(ctx, registrar, g); !slices.Equal(problemFields(err), []string{"status_secret"}) {
		t.Fatalf("new phone without the secret: %v", err)
	}
	g.StatusSecret = "0417"
	if g, err = db.UpdateGuardian(ctx, registrar, g); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.CheckStatusSecret(ctx, moved, "C0001", "0417"); !ok {
		t.Fatal("secret lost with the new phone")
	}
	g.StatusSecret = "9876"
	if _, err := db.UpdateGuardian(ctx, registrar, g); err != nil {
		t.Fatal(err)
	}

	var raw string
	if err := storage.SQL(db).GetContext(ctx, &raw, `SELECT string_agg(COALESCE(before::text, '') || after::text, ' ') FROM audit_log WHERE object_type = 'guardian'`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "0417") || strings.Contains(raw, "9876") || strings.Contains(raw, "hash") {
		t.Fatalf("the audit log holds a secret or its hash: %s", raw)
	}
	entries := mustAudit(t, db, "guardian")
	last := entries[len(entries)-1]
	if len(entries) != 3 || last.After["status_secret_changed"] != true || last.After["status_secret_set"] != true {
		t.Fatalf("audit: %+v", entries)
	}
}

func TestRegistryAllowancesAndSupervisors(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()
	paid := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

	a, err := db.CreateAllowance(ctx, registrar, registry.AllowanceRecord{Allowance: menus.Allowance{ChildCode: "C0001", Scheme: "living", Status: "approved", MonthlyYuan: 500, LastPaid: paid}})
	if err != nil || a.ID == 0 || !a.Active || a.ChildName != "Chen Yi" || !a.LastPaid.Equal(paid) || !a.NextPayment.IsZero() {
		t.Fatalf("create: %+v %v", a, err)
	}
	if _, err := db.CreateAllowance(ctx, registrar, registry.AllowanceRecord{Allowance: menus.Allowance{ChildCode: "C0001", Scheme: "living", Status: "applied"}}); !errors.Is(err, menus.ErrConflict) {
		t.Fatalf("second living allowance: %v", err)
	}
	if _, err := db.CreateAllowance(ctx, registrar, registry.AllowanceRecord{Allowance: menus.Allowance{ChildCode: "C9999", Scheme: "living", Status: "applied"}}); !slices.Equal(problemFields(err), []string{"child"}) {
		t.Fatalf("unknown child: %v", err)
	}
	a.Status = "paid"
	if a, err = db.UpdateAllowance(ctx, registrar, a); err != nil || a.Status != "paid" {
		t.Fatalf("update: %+v %v", a, err)
	}
	if a, err = db.SetAllowanceActive(ctx, registrar, a.ID, false); err != nil || a.Active {
		t.Fatalf("deactivate: %+v %v", a, err)
	}
	if as, total, err := db.ListAllowances(ctx, "chen yi", 50, 0); err != nil || total != 1 || as[0].Active {
		t.Fatalf("list: %+v %d %v", as, total, err)
	}
	if entries := mustAudit(t, db, "allowance"); len(entries) != 3 || entries[0].ObjectID != "C0001:living" || entries[1].Before["status"] != "approved" || entries[1].After["status"] != "paid" {
		t.Fatalf("audit: %+v", entries)
	}

	s, err := db.CreateSupervisor(ctx, registrar, registry.Supervisor{Phone: "+8613700000001", Name: "赵主任", Language: "zh", County: "Leishan"})
	if err != nil {
		t.Fatal(err)
	}
	s.County = "Danzhai"
	if s, err = db.UpdateSupervisor(ctx, registrar, s); err != nil || s.County != "Danzhai" {
		t.Fatalf("update: %+v %v", s, err)
	}
	if s, err = db.SetSupervisorActive(ctx, registrar, s.ID, false); err != nil || s.Active {
		t.Fatalf("deactivate: %+v %v", s, err)
	}
	if _, err := db.SupervisorByID(ctx, s.ID+100); !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("unknown supervisor: %v", err)
	}
}

func TestRegistryImport(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeed(t, db)
	ctx := t.Context()
	rows := []registry.Director{
		{Phone: phoneAmy, Name: "Amy", Language: menus.LangEN, Village: "Shuiping", County: "Leishan"},    // unchanged
		{Phone: phoneBo, Name: "Bo Li", Language: menus.LangZH, Village: "Dagu", County: "Leishan"},       // renamed
		{Phone: phoneGone, Name: "Gone", Language: menus.LangZH, Village: "Dagu", County: "Leishan"},      // unchanged, stays inactive
		{Phone: "+8613800000012", Name: "新人", Language: menus.LangZH, Village: "Dagu", County: "Leishan"}, // new
	}
	countAll := func() int {
		return MustCount(t, db, `SELECT (SELECT count(*) FROM directors) + (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM directors WHERE name = 'Bo Li')`)
	}
	before := countAll()
	created, updated, err := db.ImportDirectors(ctx, registrar, rows, true)
	if err != nil || created != 1 || updated != 1 {
		t.Fatalf("dry run: %d created, %d updated, %v", created, updated, err)
	}
	if countAll() != before {
		t.Fatal("a dry run wrote")
	}
	if created, updated, err = db.ImportDirectors(ctx, registrar, rows, false); err != nil || created != 1 || updated != 1 {
		t.Fatalf("import: %d created, %d updated, %v", created, updated, err)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM directors WHERE phone = $1 AND active`, phoneGone); n != 0 {
		t.Fatal("an import brought back a deactivated director")
	}
	var actions []string
	for _, e := range mustAudit(t, db, "director") {
		actions = append(actions, e.Action+" "+e.ObjectID)
	}
	if want := []string{"director.update " + phoneBo, "director.create +8613800000012"}; !slices.Equal(actions, want) {
		t.Fatalf("audit %v, want %v", actions, want)
	}

	// All or nothing: the second child names an unknown director, so the
	// first is not written either.
	before = MustCount(t, db, `SELECT (SELECT count(*) FROM children) + (SELECT count(*) FROM audit_log)`)
	_, _, err = db.ImportChildren(ctx, registrar, []registry.ChildRecord{
		{Child: registry.Child{Code: "C0200", Name: "A", Village: "v", County: "c"}, Directors: []string{phoneAmy}},
		{Child: registry.Child{Code: "C0201", Name: "B", Village: "v", County: "c"}, Directors: []string{"+8613800000098"}},
	}, false)
	if !slices.Equal(problemFields(err), []string{"directors[0]"}) {
		t.Fatalf("import with an unknown director: %v", err)
	}
	if after := MustCount(t, db, `SELECT (SELECT count(*) FROM children) + (SELECT count(*) FROM audit_log)`); after != before {
		t.Fatal("a failed import wrote some rows")
	}
	if missing, err := db.UnknownDirectors(ctx, []string{phoneAmy, "+8613800000098", phoneGone, "+8613800000098"}); err != nil || !slices.Equal(missing, []string{"+8613800000098"}) {
		t.Fatalf("unknown directors: %v %v", missing, err)
	}
	if missing, err := db.UnknownChildren(ctx, []string{"C0004", "C0200"}); err != nil || !slices.Equal(missing, []string{"C0200"}) {
		t.Fatalf("unknown children: %v %v", missing, err)
	}
}
