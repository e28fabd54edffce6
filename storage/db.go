// Package storage keeps Barefoot's registry (directors, children, guardians),
// the reports that walks produce (visits and needs) and the versions of menu
// trees in PostgreSQL.
//
// The SQL is written by hand, the schema lives in embedded goose migrations,
// and the row types never leave the package: callers see only the domain
// types of package menus. Every exported method owns its transaction, so a
// caller never holds a database handle or a half-written report.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrations is the migrations directory itself, because goose expects the
// versioned files at the root of the file system it is given.
var migrations = mustSub(embedded, "migrations")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("storage: embedded %s: %v", dir, err))
	}
	return sub
}

// Migrations returns the embedded migration files, at the root of the
// returned file system. storagetest fingerprints them to name its template
// database; tools may list them.
func Migrations() fs.FS { return migrations }

// Pool limits. A gateway process serves many short requests, each a couple of
// statements, so a modest pool suffices; keeping it well below the server's
// max_connections (100 by default) leaves room for several processes and a
// migration running beside them. Idle connections are kept up to the open
// limit: with fewer (10 of 20, as before), a burst closed and reopened
// connections constantly, a new Postgres backend every few requests, each
// costing a fork and its start-up on the database's core.
const (
	maxOpenConns    = 20
	maxIdleConns    = maxOpenConns
	connMaxIdleTime = 5 * time.Minute
)

// DB is Barefoot's PostgreSQL store. It is safe for concurrent use.
type DB struct {
	db   *sqlx.DB
	name string
	// dsn is kept for the notification listener's own connection.
	dsn string
	// alertCarrier sends alerts about urgent reports (SetAlertCarrier).
	alertCarrier string
	// caseDeadlines are how long each level has to acknowledge a case
	// (SetCaseDeadlines).
	caseDeadlines cases.Deadlines
	// newRef draws the random part of a report reference. It is a field so
	// that a test can force a collision; Open sets it to randomRef.
	newRef func() (string, error)
	// sealer seals reports' answers (SetSealer); nil stores them plain.
	sealer *Sealer
	// callers caches caller lookups (CacheCallers); nil caches nothing.
	callers atomic.Pointer[callerCache]
	// lookupQueries counts the caller lookups that went to Postgres, so
	// tests can tell a lookup answered from the cache.
	lookupQueries atomic.Int64
	// beforeWarmInstall, when set by a test, runs between a warm's read
	// and its install, where a registry change must void the warm.
	beforeWarmInstall func()
	// stmts holds the hot path's prepared statements, by query text.
	stmts sync.Map
	// profiles are how carriers count outbound SMS (SetSMSProfiles).
	profiles map[string]textlen.Profile
	// casework is the deployment's zone, quiet hours and reminder day
	// (SetCasework).
	casework Casework
}

// Open connects to PostgreSQL and checks the connection with ctx.
//
// If the database named in dsn does not exist yet, Open creates it (on the
// same server, with the same credentials, through the "postgres" database)
// and connects again, so that `barefoot migrate` works on a fresh machine.
//
// Errors are a single line naming the server and database, never the
// password: they end up in logs.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", dsnError(err))
	}
	if cfg.Database == "" {
		// What the server assumes too, and what a missing database is
		// created as.
		cfg.Database = cfg.User
	}
	where := describe(cfg)
	// One round trip per parameterised query instead of two: without it
	// lib/pq prepares an unnamed statement, waits, then binds and runs it.
	// The registry lookup on a session's first hop pays that wait on
	// every call. (It also sends []byte arguments as binary, which only
	// bytea columns receive here.)
	cfg.BinaryParameters = true

	db, err := connect(ctx, cfg)
	if pq.As(err, pqerror.InvalidCatalogName) != nil {
		if err := createDatabase(ctx, cfg); err != nil {
			return nil, fmt.Errorf("connect to postgres at %s: database does not exist and creating it failed: %w", where, err)
		}
		db, err = connect(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to postgres at %s: %w", where, err)
	}
	return &DB{db: db, name: cfg.Database, dsn: dsn, newRef: randomRef}, nil
}

// DSN is what the store connected with, for tests that open a connection
// of their own. It may hold a password: never log it.
func (db *DB) DSN() string { return db.dsn }

// Name is the database's name, for diagnostics and tests.
func (db *DB) Name() string { return db.name }

// connect opens a pool for cfg and pings it; on failure the pool is closed.
// It goes through a pq connector rather than sqlx.Open("postgres", dsn) so
// that the DSN is parsed once and its parsed form can be pointed at the
// "postgres" database when ours must be created.
func connect(ctx context.Context, cfg pq.Config) (*sqlx.DB, error) {
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// createDatabase creates cfg.Database through the maintenance database
// "postgres". Losing a race to another process creating the same database is
// success: the database exists either way.
func createDatabase(ctx context.Context, cfg pq.Config) error {
	name := cfg.Database
	if name == "" {
		return errors.New("no database name in the connection string")
	}
	admin := cfg.Clone()
	admin.Database = "postgres"
	db, err := connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to the postgres database: %w", err)
	}
	defer db.Close()

	// CREATE DATABASE takes no parameters, hence the quoted identifier.
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	if pq.As(err, pqerror.DuplicateDatabase, pqerror.UniqueViolation) != nil {
		return nil
	}
	return err
}

// describe names the server and database of cfg for error messages.
func describe(cfg pq.Config) string {
	host := cfg.Host
	if cfg.Hostaddr.IsValid() {
		host = cfg.Hostaddr.String()
	}
	if strings.HasPrefix(host, "/") || strings.HasPrefix(host, "@") {
		return host + "/" + cfg.Database // a unix socket directory has no port worth naming
	}
	port := cfg.Port
	if port == 0 {
		port = 5432
	}
	return host + ":" + strconv.Itoa(int(port)) + "/" + cfg.Database
}

// dsnError makes a connection-string parse error safe to log. net/url quotes
// the whole URL, password included, so only its inner error is kept; the
// key=value parser quotes fragments of the string, which may be the password,
// so its message is withheld.
func dsnError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("invalid connection URL: %w", ue.Err)
	}
	if strings.Contains(err.Error(), "connection info string") {
		return errors.New("invalid key=value connection string (details withheld as they may quote the password)")
	}
	return fmt.Errorf("invalid connection string: %w", err)
}

// Close closes the pool.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool {
		_ = v.(*sqlx.Stmt).Close()
		return true
	})
	return db.db.Close()
}

// prepared returns q prepared, once for the pool (database/sql prepares it
// again on each connection that runs it). It is for the statements every
// session runs: planning the registry lookup took Postgres longer than
// running it, and a prepared statement is planned once per connection.
func (db *DB) prepared(ctx context.Context, q string) (*sqlx.Stmt, error) {
	if s, ok := db.stmts.Load(q); ok {
		return s.(*sqlx.Stmt), nil
	}
	s, err := db.db.PreparexContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := db.stmts.LoadOrStore(q, s); loaded {
		_ = s.Close()
		return prev.(*sqlx.Stmt), nil
	}
	return s, nil
}

// Stats are the connection pool's statistics (open, idle and in-use
// connections, waits for one), for metrics.
func (db *DB) Stats() sql.DBStats { return db.db.Stats() }

// Ping checks that the server answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Migrate applies the pending embedded migrations.
//
// Several gateway processes may start, and so migrate, at once. A Postgres
// session advisory lock (scoped to this database) serialises them: the first
// applies the migrations, the others wait for the lock and then find nothing
// to do. The lock is polled every second rather than goose's default five, so
// a waiting process starts promptly.
func (db *DB) Migrate(ctx context.Context) error {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db.db.DB, migrations,
		goose.WithSessionLocker(locker),
		// Only our embedded SQL files, never Go migrations some other package
		// registered globally.
		goose.WithDisableGlobalRegistry(true),
		// goose's logger writes to stdout; a library should not.
		goose.WithLogger(goose.NopLogger()),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// provider.Close would close our pool, so the provider is just dropped.
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction, committing if fn returns nil and rolling back
// otherwise.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// clean makes s storable in a text column. Carrier payloads are not to be
// trusted: Postgres rejects invalid UTF-8 and NUL bytes (22021), and a
// rejected report would fail again on every retry of the same conversation,
// so both are repaired rather than refused.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// isUnique reports whether err is a unique violation of the named constraint.
func isUnique(err error, constraint string) bool {
	pqErr := pq.As(err, pqerror.UniqueViolation)
	return pqErr != nil && pqErr.Constraint == constraint
}
