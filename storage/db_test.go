package storage_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/pressly/goose/v3"
)

// wantTables are the tables the migrations create, goose's own included.
var wantTables = []string{
	"allowances", "api_tokens", "areas", "audit_log", "case_events", "cases", "child_directors", "child_guardians", "children", "directors", "follow_ups", "goose_db_version", "guardians", "jobs", "menu_trees", "messages", "need_status_history", "needs", "read_log", "supervisors", "template_approvals", "users", "visits",
}

func publicTables(tb testing.TB, db *storage.DB) []string {
	tb.Helper()
	var names []string
	const q = `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
	if err := storage.SQL(db).SelectContext(tb.Context(), &names, q); err != nil {
		tb.Fatalf("list tables: %v", err)
	}
	return names
}

// MustOpenFresh opens a database that does not exist yet, which Open
// creates; it is dropped when the test ends.
func MustOpenFresh(tb testing.TB) (*storage.DB, string) {
	tb.Helper()
	name := storagetest.RandomName("barefoot_test_")
	storagetest.MustDropDatabase(tb, name)
	db, err := storage.Open(tb.Context(), storagetest.DSNFor(name))
	if err != nil {
		tb.Fatalf("open %s: %v", name, err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db, name
}

func TestMigrateEmptyDatabase(t *testing.T) {
	t.Parallel()
	db, name := MustOpenFresh(t)

	var current string
	if err := storage.SQL(db).GetContext(t.Context(), &current, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	if current != name {
		t.Fatalf("connected to %q, want the created database %q", current, name)
	}
	if got := publicTables(t, db); len(got) != 0 {
		t.Fatalf("fresh database has tables %v", got)
	}

	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if got := publicTables(t, db); !slices.Equal(got, wantTables) {
		t.Fatalf("tables after Migrate = %v, want %v", got, wantTables)
	}
	const qVersions = `SELECT count(*) FROM goose_db_version`
	applied := MustCount(t, db, qVersions)
	if applied < 2 { // the zero version and at least one migration
		t.Fatalf("goose recorded %d versions", applied)
	}

	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if got := MustCount(t, db, qVersions); got != applied {
		t.Errorf("second Migrate recorded %d versions, want %d (a no-op)", got, applied)
	}
}

// TestMigrationsRollBack checks the Down sections, which nothing else runs:
// an operator rolling back a release depends on them.
func TestMigrationsRollBack(t *testing.T) {
	t.Parallel()
	db, _ := MustOpenFresh(t)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, storage.SQL(db).DB, storage.Migrations(),
		goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(t.Context(), 0); err != nil {
		t.Fatalf("down to 0: %v", err)
	}
	if got, want := publicTables(t, db), []string{"goose_db_version"}; !slices.Equal(got, want) {
		t.Fatalf("tables after rolling back = %v, want %v", got, want)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate after rolling back: %v", err)
	}
	if got := publicTables(t, db); !slices.Equal(got, wantTables) {
		t.Fatalf("tables = %v, want %v", got, wantTables)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// from applies migrations up to this version first (0: none).
		from int64
	}{
		// On a fresh database goose's own retries when creating its version
		// table happen to space the callers out; an upgrade, where that
		// table exists, is where only the lock keeps them apart.
		{name: "fresh database"},
		{name: "upgrade from version 1", from: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			first, name := MustOpenFresh(t)
			if tt.from > 0 {
				p, err := goose.NewProvider(goose.DialectPostgres, storage.SQL(first).DB, storage.Migrations(),
					goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.UpTo(t.Context(), tt.from); err != nil {
					t.Fatalf("migrate to version %d: %v", tt.from, err)
				}
			}

			// Handles of their own, as gateway processes starting at once
			// would have.
			// Waiters poll the lock every second, so each one more costs up
			// to a second.
			const n = 3
			dbs := []*storage.DB{first}
			for len(dbs) < n {
				db, err := storage.Open(t.Context(), storagetest.DSNFor(name))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				dbs = append(dbs, db)
			}
			start := make(chan struct{})
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i, db := range dbs {
				wg.Go(func() {
					<-start
					errs[i] = db.Migrate(t.Context())
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Migrate %d: %v", i, err)
				}
			}
			if got := publicTables(t, first); !slices.Equal(got, wantTables) {
				t.Fatalf("tables = %v, want %v", got, wantTables)
			}
			// Each migration recorded once: nobody applied one twice.
			if dup := MustCount(t, first, `SELECT count(*) FROM (SELECT version_id FROM goose_db_version GROUP BY version_id HAVING count(*) > 1) d`); dup != 0 {
				t.Errorf("%d versions recorded more than once", dup)
			}
		})
	}
}

func TestOpenErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	const password = "Sup3r-S3cret-Pw"
	tests := []struct {
		name     string
		dsn      string
		contains []string
	}{
		{
			name:     "URL, port closed",
			dsn:      "postgres://barefoot:" + password + "@127.0.0.1:1/barefoot?sslmode=disable",
			contains: []string{"connect to postgres at 127.0.0.1:1/barefoot", "connection refused"},
		},
		{
			name:     "key=value, port closed",
			dsn:      "host=127.0.0.1 port=1 user=barefoot password=" + password + " dbname=barefoot sslmode=disable",
			contains: []string{"connect to postgres at 127.0.0.1:1/barefoot", "connection refused"},
		},
		{
			// The test server trusts local connections, so a wrong password
			// cannot be tried; an unknown role is refused either way.
			name:     "URL, unknown role",
			dsn:      "postgres://nobody_here:" + password + "@127.0.0.1:5432/postgres?sslmode=disable",
			contains: []string{"connect to postgres at 127.0.0.1:5432/postgres", `role "nobody_here" does not exist`},
		},
		{
			name:     "URL that does not parse",
			dsn:      "postgres://barefoot:" + password + "@127.0.0.1:54x32/barefoot",
			contains: []string{"connect to postgres", "invalid port"},
		},
		{
			name:     "key=value that does not parse",
			dsn:      "host=127.0.0.1 password=" + password + " junk",
			contains: []string{"connect to postgres", "invalid key=value connection string"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			db, err := storage.Open(ctx, tt.dsn)
			if err == nil {
				_ = db.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, password) || strings.Contains(msg, password[:8]) {
				t.Errorf("error reveals the password: %s", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, want := range tt.contains {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestOpenRaceToCreateTheDatabase(t *testing.T) {
	t.Parallel()
	name := storagetest.RandomName("barefoot_test_")
	storagetest.MustDropDatabase(t, name)

	// Processes starting together on a fresh machine all find the database
	// missing; losing the race to create it must not fail.
	const n = 4
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			db, err := storage.Open(t.Context(), storagetest.DSNFor(name))
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

// TestMustDB checks the helper every package's tests rely on: a migrated
// database of one's own, gone once the test is over.
func TestMustDB(t *testing.T) {
	t.Parallel()
	var names []string
	t.Run("two databases", func(t *testing.T) {
		for range 2 {
			db := storagetest.MustDB(t)
			var name string
			if err := storage.SQL(db).GetContext(t.Context(), &name, `SELECT current_database()`); err != nil {
				t.Fatal(err)
			}
			if got := publicTables(t, db); !slices.Equal(got, wantTables) {
				t.Errorf("tables of %s = %v, want %v", name, got, wantTables)
			}
			names = append(names, name)
		}
		if names[0] == names[1] {
			t.Fatalf("MustDB gave the same database twice: %s", names[0])
		}
	})
	admin, err := sqlx.Open("postgres", storagetest.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, name := range names {
		var n int
		if err := admin.GetContext(t.Context(), &n, `SELECT count(*) FROM pg_database WHERE datname = $1`, name); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after its test ended", name)
		}
	}
}

// TestSchemaConstraints checks that the database itself refuses rows the
// code should never write, whatever writes them.
func TestSchemaConstraints(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)
	tests := []struct {
		name string
		q    string
		args []any
		code pqerror.Code
	}{
		{"director phone not E.164", `INSERT INTO directors (phone, name, language, village, county) VALUES ('13800000009', 'x', 'en', 'v', 'c')`, nil, pqerror.CheckViolation},
		{"director phone too short", `INSERT INTO directors (phone, name, language, village, county) VALUES ('+86123', 'x', 'en', 'v', 'c')`, nil, pqerror.CheckViolation},
		{"director language unknown", `INSERT INTO directors (phone, name, language, village, county) VALUES ('+8613800000009', 'x', 'fr', 'v', 'c')`, nil, pqerror.CheckViolation},
		{"director phone taken", `INSERT INTO directors (phone, name, language, village, county) VALUES ($1, 'x', 'en', 'v', 'c')`, []any{phoneAmy}, pqerror.UniqueViolation},
		{"child code lower case", `INSERT INTO children (code, name, village, county, director_id) VALUES ('c0009', 'x', 'v', 'c', $1)`, []any{reg.Amy}, pqerror.CheckViolation},
		{"child without director", `INSERT INTO children (code, name, village, county, director_id) VALUES ('C0009', 'x', 'v', 'c', -1)`, nil, pqerror.ForeignKeyViolation},
		{"visit ref with look-alike", `INSERT INTO visits (ref, session_key, child_id, director_id, situation, urgency, channel, carrier, menu_tree, menu_version, answers)
			SELECT 'V0OIL22', 'k', id, director_id, 'well', 'routine', 'ussd', 'c', 't', 1, '{}' FROM children WHERE code = 'C0001'`, nil, pqerror.CheckViolation},
		{"need status unknown", `INSERT INTO needs (ref, session_key, child_id, director_id, category, urgency, channel, carrier, menu_tree, menu_version, answers, status)
			SELECT 'N222222', 'k', id, director_id, 'school', 'routine', 'ussd', 'c', 't', 1, '{}', 'lost' FROM children WHERE code = 'C0001'`, nil, pqerror.CheckViolation},
		{"answers not an object", `INSERT INTO visits (ref, session_key, child_id, director_id, situation, urgency, channel, carrier, menu_tree, menu_version, answers)
			SELECT 'V222222', 'k', id, director_id, 'well', 'routine', 'ussd', 'c', 't', 1, '[]' FROM children WHERE code = 'C0001'`, nil, pqerror.CheckViolation},
		{"tree checksum not hex", `INSERT INTO menu_trees (name, version, format, source, checksum) VALUES ('t', 1, 'yaml', 's', 'nope')`, nil, pqerror.CheckViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := storage.SQL(db).ExecContext(t.Context(), tt.q, tt.args...)
			if pq.As(err, tt.code) == nil {
				t.Fatalf("got %v, want SQLSTATE %s", err, tt.code)
			}
		})
	}
}
