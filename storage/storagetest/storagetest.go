// Package storagetest gives each test its own migrated PostgreSQL database,
// so tests of any package can use the real storage.DB, in parallel, without
// seeing each other's rows.
//
// Databases are cloned from a migrated template (CREATE DATABASE ... TEMPLATE),
// which is much faster than migrating each one. The template is named after a
// hash of the migration files, barefoot_tmpl_<hash>, and is left on the
// server on purpose: it cannot be dropped reliably at the end of a test
// binary (go test runs several binaries at once, and a TestMain hook would be
// needed in every package), and the next run with the same migrations reuses
// it. A change to the migrations gets a new template; old ones are a few
// megabytes each and can be dropped by hand:
//
//	psql -c 'DROP DATABASE barefoot_tmpl_...'
//
// The template is built under a temporary name and renamed once migrated, so
// a clone never sees a half-migrated template, and it refuses connections,
// because CREATE DATABASE ... TEMPLATE fails while anyone is connected to it.
package storagetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// EnvDatabaseURL names the environment variable holding the DSN of a role
// that may create databases, connected to a database other than the ones
// tests create.
const EnvDatabaseURL = "BAREFOOT_TEST_DATABASE_URL"

const defaultAdminDSN = "postgres://barefoot:barefoot@127.0.0.1:5432/postgres?sslmode=disable"

// templateSalt is mixed into the template's name. Bump it when the way the
// template is built changes, so that no test clones a template built the old
// way.
const templateSalt = "storagetest template v1\n"

// setupTimeout bounds the database work of one MustDB call, including
// building the template the first time.
const setupTimeout = 2 * time.Minute

// AdminDSN returns the DSN tests use to create and drop databases: the value
// of BAREFOOT_TEST_DATABASE_URL, or the local development server.
func AdminDSN() string {
	if dsn := os.Getenv(EnvDatabaseURL); dsn != "" {
		return dsn
	}
	return defaultAdminDSN
}

// DSNFor returns AdminDSN pointed at the database dbname.
func DSNFor(dbname string) string {
	dsn := AdminDSN()
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + dbname
		u.RawPath = ""
		return u.String()
	}
	// key=value form: a later dbname overrides an earlier one.
	return dsn + " dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(dbname) + "'"
}

// MustDB returns a storage.DB on a new, migrated database of its own, which
// is closed and dropped when the test ends.
func MustDB(tb testing.TB) *storage.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	admin, err := adminDB()
	if err != nil {
		tb.Fatalf("storagetest: %v", err)
	}
	tmpl, err := migratedTemplate(ctx, admin)
	if err != nil {
		tb.Fatalf("storagetest: migrated template database: %v", err)
	}
	name := RandomName("barefoot_test_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)+" TEMPLATE "+pq.QuoteIdentifier(tmpl)); err != nil {
		tb.Fatalf("storagetest: create database %s from template %s: %v", name, tmpl, err)
	}
	tb.Cleanup(func() {
		if err := dropDatabase(admin, name); err != nil {
			tb.Errorf("storagetest: %v", err)
		}
	})
	db, err := storage.Open(ctx, DSNFor(name))
	if err != nil {
		tb.Fatalf("storagetest: open %s: %v", name, err)
	}
	// Registered after the drop, so it runs before it.
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("storagetest: close %s: %v", name, err)
		}
	})
	return db
}

// MustDropDatabase registers a cleanup that drops the named database, for
// tests that create databases themselves (say through storage.Open).
func MustDropDatabase(tb testing.TB, name string) {
	tb.Helper()
	admin, err := adminDB()
	if err != nil {
		tb.Fatalf("storagetest: %v", err)
	}
	tb.Cleanup(func() {
		if err := dropDatabase(admin, name); err != nil {
			tb.Errorf("storagetest: %v", err)
		}
	})
}

// RandomName returns prefix followed by 16 random hex digits.
func RandomName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail (Go 1.24+)
	return prefix + hex.EncodeToString(b[:])
}

// dropDatabase drops name, disconnecting whoever is still connected: a test
// that forgot to close something must not leave databases behind.
func dropDatabase(admin *sql.DB, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// The admin pool is shared by all tests of a binary and never closed: it
// lives as long as the process.
var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

func adminDB() (*sql.DB, error) {
	admin.once.Do(func() {
		connector, err := pq.NewConnector(AdminDSN())
		if err != nil {
			// Not the DSN itself: it may hold a password.
			admin.err = fmt.Errorf("%s: invalid DSN", EnvDatabaseURL)
			return
		}
		db := sql.OpenDB(connector)
		// CREATE and DROP DATABASE are heavy on the server; a few at a time
		// is as fast as many.
		db.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			_ = db.Close()
			admin.err = fmt.Errorf("connect to the admin database (set %s): %w", EnvDatabaseURL, err)
			return
		}
		admin.db = db
	})
	return admin.db, admin.err
}

// The template is built at most once per test binary; a failure is kept so
// that every test reports it rather than retrying.
var tmpl struct {
	mu   sync.Mutex
	done bool
	name string
	err  error
}

func migratedTemplate(ctx context.Context, admin *sql.DB) (string, error) {
	tmpl.mu.Lock()
	defer tmpl.mu.Unlock()
	if !tmpl.done {
		tmpl.name, tmpl.err = ensureTemplate(ctx, admin)
		tmpl.done = true
	}
	return tmpl.name, tmpl.err
}

// ensureTemplate returns the name of the migrated template for the current
// migrations, building it if no test binary has yet.
func ensureTemplate(ctx context.Context, admin *sql.DB) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	exists, err := databaseExists(ctx, admin, name)
	if err != nil || exists {
		return name, err
	}

	// Build under a name of our own: other test binaries may be building
	// the same template right now.
	build := RandomName(name + "_")
	db, err := storage.Open(ctx, DSNFor(build)) // creates the database
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = dropDatabase(admin, build)
		return "", fmt.Errorf("migrate %s: %w", build, err)
	}
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(build)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		_ = dropDatabase(admin, build)
		return "", fmt.Errorf("seal %s: %w", build, err)
	}
	_, err = admin.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(build)+" RENAME TO "+pq.QuoteIdentifier(name))
	if err != nil {
		_ = dropDatabase(admin, build)
		if pq.As(err, pqerror.DuplicateDatabase) != nil {
			return name, nil // another binary finished first; its template is as good
		}
		return "", fmt.Errorf("rename %s to %s: %w", build, name, err)
	}
	return name, nil
}

func databaseExists(ctx context.Context, admin *sql.DB, name string) (bool, error) {
	var exists bool
	err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look for database %s: %w", name, err)
	}
	return exists, nil
}

// templateName is barefoot_tmpl_ and the first 16 hex digits of a hash of
// the migration files, names and contents.
func templateName() (string, error) {
	h := sha256.New()
	h.Write([]byte(templateSalt))
	err := fs.WalkDir(storage.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(storage.Migrations(), path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return "barefoot_tmpl_" + hex.EncodeToString(h.Sum(nil)[:8]), nil
}
