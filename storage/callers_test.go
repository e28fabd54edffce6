package storage_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/jmoiron/sqlx"
)

// More phones of the seeded registry (MustSeedCallers).
const (
	phoneLone     = "+8613800000004" // a director with no children
	phoneShade    = "+8613800000005" // a director whose only child is inactive
	phoneMother   = "+8613911111111" // a guardian with allowances
	phoneFather   = "+8613911111112" // a guardian without allowances
	phoneAway     = "+8613911111113" // an inactive guardian
	phoneAlone    = "+8613911111114" // a guardian with no children
	phoneStranger = "+8613899999999"
)

// MustSeedCallers stores MustSeed's registry and, around it, the cases a
// caller lookup tells apart:
//
//	Lone (active): no children
//	Shade (active): C0007 inactive
//	Mother (guardian): C0001 (living, orphan), C0002 (disability; other
//	  inactive), C0004 inactive (its allowance too)
//	Father (guardian): C0005, no allowances
//	Away (inactive guardian): C0001
//	Alone (guardian): no children
//	Amy is a guardian too: C0003
func MustSeedCallers(tb testing.TB, db *storage.DB) {
	tb.Helper()
	ctx := tb.Context()
	MustSeed(tb, db)
	mustDirectors(tb, db,
		registry.Director{Phone: phoneLone, Name: "Lone", Language: menus.LangZH, Village: "Dagu", County: "Leishan", Active: true},
		registry.Director{Phone: phoneShade, Name: "Shade", Language: menus.LangEN, Village: "Dagu", County: "Leishan", Active: true},
	)
	mustChildren(tb, db, registry.Child{Code: "C0007", Name: "Li Qi", DirectorPhone: phoneShade, Active: false})
	gs := []registry.Guardian{
		{Phone: phoneMother, Name: "Mother", Language: menus.LangZH, Children: []string{"C0002", "C0004", "C0001"}},
		{Phone: phoneFather, Name: "Father", Language: menus.LangEN, Children: []string{"C0005"}},
		{Phone: phoneAway, Name: "Away", Language: menus.LangZH, Children: []string{"C0001"}},
		{Phone: phoneAlone, Name: "Alone", Language: menus.LangZH},
		{Phone: phoneAmy, Name: "Amy", Language: menus.LangEN, Children: []string{"C0003"}},
	}
	if _, _, err := db.ImportGuardians(ctx, access.System, gs, false); err != nil {
		tb.Fatalf("import guardians: %v", err)
	}
	var away int64
	if err := storage.SQL(db).GetContext(ctx, &away, `SELECT id FROM guardians WHERE phone = $1`, phoneAway); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.SetGuardianActive(ctx, access.System, away, false); err != nil {
		tb.Fatal(err)
	}
	day := func(m, d int) time.Time { return time.Date(2026, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	as := []registry.AllowanceRecord{
		{Allowance: menus.Allowance{ChildCode: "C0001", Scheme: "orphan", Status: "applied"}},
		{Allowance: menus.Allowance{ChildCode: "C0001", Scheme: "living", Status: "approved", MonthlyYuan: 500, LastPaid: day(1, 15), NextPayment: day(2, 15)}},
		{Allowance: menus.Allowance{ChildCode: "C0002", Scheme: "disability", Status: "paid", MonthlyYuan: 300, LastPaid: day(1, 20)}},
		{Allowance: menus.Allowance{ChildCode: "C0002", Scheme: "other", Status: "suspended", MonthlyYuan: 50}},
		{Allowance: menus.Allowance{ChildCode: "C0004", Scheme: "living", Status: "paid", MonthlyYuan: 500}},
	}
	if _, _, err := db.ImportAllowances(ctx, access.System, as, false); err != nil {
		tb.Fatalf("import allowances: %v", err)
	}
	const off = `
UPDATE allowances a SET active = false FROM children c
WHERE c.id = a.child_id AND (c.code, a.scheme) IN (('C0002', 'other'), ('C0004', 'living'))`
	if _, err := storage.SQL(db).ExecContext(ctx, off); err != nil {
		tb.Fatal(err)
	}
}

// mustWarm warms db's caller cache and returns the phones read.
func mustWarm(tb testing.TB, db *storage.DB) []string {
	tb.Helper()
	phones, err := db.WarmCallers(tb.Context())
	if err != nil {
		tb.Fatalf("warm callers: %v", err)
	}
	return phones
}

// lookup is a lookup's outcome, comparable whole.
type lookup struct {
	Caller menus.Caller
	Err    string
}

func lookupOf(c menus.Caller, err error) lookup {
	if err != nil {
		return lookup{Err: err.Error()}
	}
	return lookup{Caller: c}
}

// TestWarmCallersMatchLookups: for every phone of the registry, and a
// stranger's, a warmed cache answers as the one-phone queries do, found
// or not, to the order of children and allowances, without a query.
func TestWarmCallersMatchLookups(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeedCallers(t, db)
	ctx := t.Context()
	plain, err := storage.Open(ctx, db.DSN()) // no cache: every lookup queries
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plain.Close() })

	db.CacheCallers(time.Hour)
	phones := mustWarm(t, db)
	var all, active []string
	if err := storage.SQL(db).SelectContext(ctx, &all, `SELECT phone FROM directors UNION SELECT phone FROM guardians ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if err := storage.SQL(db).SelectContext(ctx, &active, `SELECT phone FROM directors WHERE active UNION SELECT phone FROM guardians WHERE active ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if slices.Sort(phones); !slices.Equal(phones, active) {
		t.Errorf("warm read phones %v, want the active ones %v", phones, active)
	}

	queries := storage.CallerQueries(db)
	for _, phone := range append(all, phoneStranger) {
		for _, kind := range []struct {
			name           string
			warmed, lookup func(context.Context, string) (menus.Caller, error)
		}{
			{"director", db.CallerByPhone, plain.CallerByPhone},
			{"guardian", db.GuardianByPhone, plain.GuardianByPhone},
		} {
			got, want := lookupOf(kind.warmed(ctx, phone)), lookupOf(kind.lookup(ctx, phone))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: warmed %+v, queried %+v", kind.name, phone, got, want)
			}
		}
	}
	if n := storage.CallerQueries(db) - queries; n != 0 {
		t.Errorf("%d lookups went to Postgres after the warm", n)
	}

	// The registry's shapes are all there, so the comparison meant
	// something.
	mother, _ := db.GuardianByPhone(ctx, phoneMother)
	shade, _ := db.CallerByPhone(ctx, phoneShade)
	if len(mother.Children) != 2 || len(mother.Allowances) != 3 || mother.Allowances[0].LastPaid.IsZero() || shade.DirectorID == 0 || shade.Children != nil {
		t.Errorf("seeded registry not as described: mother %+v, shade %+v", mother, shade)
	}
}

// TestWarmCallersNeedNoQuery: once warmed, a dial's lookup, as director or
// guardian, registered or not, goes nowhere near Postgres; before, it
// does (so the count is not blind).
func TestWarmCallersNeedNoQuery(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeedCallers(t, db)
	db.CacheCallers(time.Hour)
	ctx := t.Context()

	tests := []struct {
		name    string
		lookup  func(context.Context, string) (menus.Caller, error)
		phone   string
		wantErr error
	}{
		{"registered director", db.CallerByPhone, phoneAmy, nil},
		{"director without children", db.CallerByPhone, phoneLone, nil},
		{"inactive director", db.CallerByPhone, phoneGone, menus.ErrNotFound},
		{"stranger as director", db.CallerByPhone, phoneStranger, menus.ErrNotFound},
		{"registered guardian", db.GuardianByPhone, phoneMother, nil},
		{"inactive guardian", db.GuardianByPhone, phoneAway, menus.ErrNotFound},
		{"stranger as guardian", db.GuardianByPhone, "+8613899999998", menus.ErrNotFound},
	}
	before := storage.CallerQueries(db)
	if _, err := tests[0].lookup(ctx, tests[0].phone); err != nil {
		t.Fatal(err)
	}
	if storage.CallerQueries(db) == before {
		t.Fatal("a lookup in a cold cache counted no query")
	}
	mustWarm(t, db)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := storage.CallerQueries(db)
			c, err := tt.lookup(ctx, tt.phone)
			if !errors.Is(err, tt.wantErr) || (err == nil && c.Phone != tt.phone) {
				t.Fatalf("lookup = %+v, %v; want %v", c, err, tt.wantErr)
			}
			if n := storage.CallerQueries(db) - before; n != 0 {
				t.Errorf("%d queries", n)
			}
		})
	}
}

// TestWarmCallersAfterOwnChange: a change made through this process voids
// the warm at once; until the next warm, lookups go to Postgres and keep
// what they find, as without one.
func TestWarmCallersAfterOwnChange(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeedCallers(t, db)
	db.CacheCallers(time.Hour)
	ctx := t.Context()
	mustWarm(t, db)
	if err := db.SetLanguage(ctx, phoneAmy, menus.LangZH); err != nil {
		t.Fatal(err)
	}
	if storage.CallersWarm(db) {
		t.Fatal("the warm outlived a change")
	}
	for i, wantQueries := range []int64{1, 0} {
		before := storage.CallerQueries(db)
		c, err := db.CallerByPhone(ctx, phoneAmy)
		if err != nil || c.Language != menus.LangZH {
			t.Fatalf("lookup %d after the change = %+v, %v", i+1, c, err)
		}
		if n := storage.CallerQueries(db) - before; n != wantQueries {
			t.Errorf("lookup %d after the change: %d queries, want %d", i+1, n, wantQueries)
		}
	}
}

// TestWarmCallersOvertaken: a warm during which the registry changes,
// here or in another process, keeps nothing of what it read; the next
// lookup finds the registry as changed.
func TestWarmCallersOvertaken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, db *storage.DB)
	}{
		{"this process's change", func(t *testing.T, db *storage.DB) {
			if err := db.SetLanguage(t.Context(), phoneAmy, menus.LangZH); err != nil {
				t.Fatal(err)
			}
		}},
		{"another process's change", func(t *testing.T, db *storage.DB) {
			mustExecBehind(t, db, `UPDATE directors SET language = 'zh' WHERE phone = $1`, phoneAmy)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := storagetest.MustDB(t)
			MustSeedCallers(t, db)
			db.CacheCallers(time.Hour)
			mustListen(t, db)
			storage.BeforeWarmInstall(db, func() { tt.change(t, db) })
			if _, err := db.WarmCallers(t.Context()); !errors.Is(err, storage.ErrWarmOvertaken) {
				t.Fatalf("warm overtaken by a change = %v, want ErrWarmOvertaken", err)
			}
			if storage.CallersWarm(db) {
				t.Error("an overtaken warm was kept")
			}
			if c, err := db.CallerByPhone(t.Context(), phoneAmy); err != nil || c.Language != menus.LangZH {
				t.Errorf("lookup after an overtaken warm = %+v, %v; want language zh", c, err)
			}
		})
	}
}

// TestKeepCallersWarmFollowsTheRegistry: changes made behind the process's
// back, a burst of them, are heard and warmed again: a new director is
// found, a deactivated one, child or guardian is gone, a new language is
// spoken, each without a query. The phones read reach the hook.
func TestKeepCallersWarmFollowsTheRegistry(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeedCallers(t, db)
	db.CacheCallers(time.Hour)
	mustListen(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	warms := make(chan []string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.KeepCallersWarm(ctx, slog.New(slog.DiscardHandler), func(phones []string) { warms <- phones })
	}()
	t.Cleanup(func() { cancel(); <-done })
	first := mustNextWarm(t, warms)
	if !slices.Contains(first, phoneAmy) || slices.Contains(first, phoneGone) {
		t.Fatalf("first warm read %v", first)
	}

	const newcomer = "+8613800000009"
	mustExecBehind(t, db, `
WITH d AS (INSERT INTO directors (phone, name, language, village, county) VALUES ($1, 'New', 'en', 'Dagu', 'Leishan') RETURNING id)
INSERT INTO child_directors (child_id, director_id) SELECT c.id, d.id FROM children c, d WHERE c.code = 'C0005'`, newcomer)
	mustExecBehind(t, db, `UPDATE directors SET active = false WHERE phone = $1`, phoneBo)
	mustExecBehind(t, db, `UPDATE children SET active = false WHERE code = 'C0002'`)
	mustExecBehind(t, db, `UPDATE guardians SET active = false WHERE phone = $1`, phoneFather)
	mustExecBehind(t, db, `UPDATE directors SET language = 'zh' WHERE phone = $1`, phoneAmy)
	// Every change has been heard: the warm that follows them is the one
	// no later change voids.
	heard := db.RegistryGeneration()
	deadline := time.Now().Add(30 * time.Second)
	for !storage.CallersWarm(db) || db.RegistryGeneration() != heard {
		if time.Now().After(deadline) {
			t.Fatal("the registry was not warmed again after the changes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		again := mustNextWarm(t, warms)
		if slices.Contains(again, newcomer) {
			if slices.Contains(again, phoneBo) || slices.Contains(again, phoneFather) {
				t.Errorf("warm after the changes read %v", again)
			}
			break
		}
	}

	tests := []struct {
		name    string
		lookup  func(context.Context, string) (menus.Caller, error)
		phone   string
		want    []string // children's codes
		wantErr error
	}{
		{"new director", db.CallerByPhone, newcomer, []string{"C0005"}, nil},
		{"deactivated director", db.CallerByPhone, phoneBo, nil, menus.ErrNotFound},
		{"deactivated child", db.CallerByPhone, phoneAmy, []string{"C0001", "C0003"}, nil},
		{"deactivated guardian", db.GuardianByPhone, phoneFather, nil, menus.ErrNotFound},
		{"deactivated child of a guardian", db.GuardianByPhone, phoneMother, []string{"C0001"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := storage.CallerQueries(db)
			c, err := tt.lookup(t.Context(), tt.phone)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var codes []string
			for _, ch := range c.Children {
				codes = append(codes, ch.Code)
			}
			if !slices.Equal(codes, tt.want) {
				t.Errorf("children %v, want %v", codes, tt.want)
			}
			if n := storage.CallerQueries(db) - before; n != 0 {
				t.Errorf("%d queries", n)
			}
		})
	}
	if c, _ := db.CallerByPhone(t.Context(), phoneAmy); c.Language != menus.LangZH {
		t.Errorf("language after the change = %q", c.Language)
	}
}

// TestWarmCallersStaleWhenPostgresIsAway: entries of a warm past the TTL
// are looked up again, and while Postgres is away they are served as
// they are, found or not, rather than refused.
func TestWarmCallersStaleWhenPostgresIsAway(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSeedCallers(t, db)
	db.CacheCallers(time.Nanosecond) // every entry is past its time
	ctx := t.Context()
	mustWarm(t, db)
	before := storage.CallerQueries(db)
	if _, err := db.CallerByPhone(ctx, phoneBo); err != nil {
		t.Fatal(err)
	}
	if storage.CallerQueries(db) == before {
		t.Error("an expired entry was served while Postgres was up")
	}

	if err := storage.SQL(db).Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := db.CallerByPhone(ctx, phoneAmy); err != nil || c.DirectorID == 0 || len(c.Children) != 3 {
		t.Errorf("director while Postgres is away = %+v, %v", c, err)
	}
	if c, err := db.GuardianByPhone(ctx, phoneMother); err != nil || len(c.Allowances) != 3 {
		t.Errorf("guardian while Postgres is away = %+v, %v", c, err)
	}
	if _, err := db.CallerByPhone(ctx, phoneStranger); !errors.Is(err, menus.ErrNotFound) {
		t.Errorf("stranger while Postgres is away: %v, want not found", err)
	}
}

// mustListen runs db's registry listener until the test ends, and waits
// until it hears: a change made before it listens would be missed.
func mustListen(t *testing.T, db *storage.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.ListenForRegistryChanges(ctx, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-done })
	// Touch the registry (a no-op statement still notifies) until it is
	// heard.
	deadline := time.Now().Add(10 * time.Second)
	before := db.RegistryGeneration()
	for db.RegistryGeneration() == before {
		if time.Now().After(deadline) {
			t.Fatal("the registry listener never heard a change")
		}
		if _, err := storage.SQL(db).ExecContext(t.Context(), `UPDATE directors SET name = name WHERE false`); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustExecBehind changes the registry on a connection of its own, as
// another process would, and waits until db has heard of it.
func mustExecBehind(t *testing.T, db *storage.DB, q string, args ...any) {
	t.Helper()
	other, err := sqlx.Open("postgres", db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	before := db.RegistryGeneration()
	if _, err := other.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.RegistryGeneration() == before {
		if time.Now().After(deadline) {
			t.Fatal("the change was never heard")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustNextWarm waits for KeepCallersWarm's next warm and returns its
// phones.
func mustNextWarm(t *testing.T, warms <-chan []string) []string {
	t.Helper()
	select {
	case phones := <-warms:
		return phones
	case <-time.After(30 * time.Second):
		t.Fatal("no warm")
		return nil
	}
}
