package storage

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// Hooks for the external tests in package storage_test.

// SQL returns the pool, for tests that check rows and columns directly.
func SQL(db *DB) *sqlx.DB { return db.db }

// SetRefSource replaces the random part of report references, for tests
// that force a collision.
func SetRefSource(db *DB, next func() (string, error)) { db.newRef = next }

// RandomRef is the production reference source.
var RandomRef = randomRef

// RegisterJob registers a job kind for a test; kinds are process-wide, so
// each test names its own.
var RegisterJob = registerJob

// ScheduleJob schedules a job in a transaction of its own.
func ScheduleJob(db *DB, kind, key string, due time.Time, payload any) error {
	return db.inTx(context.Background(), func(tx *sqlx.Tx) error { return scheduleTx(context.Background(), tx, kind, key, due, payload) })
}

// CancelJob cancels a pending job.
func CancelJob(db *DB, kind, key string, now time.Time) (bool, error) {
	var ok bool
	err := db.inTx(context.Background(), func(tx *sqlx.Tx) (err error) {
		ok, err = cancelJobTx(context.Background(), tx, kind, key, now)
		return err
	})
	return ok, err
}

// RescheduleJob moves a job to due, pending again.
func RescheduleJob(db *DB, kind, key string, due time.Time) error {
	return db.inTx(context.Background(), func(tx *sqlx.Tx) error { return rescheduleTx(context.Background(), tx, kind, key, due, nil) })
}

// BacklogQuery is OutboxBacklog's query, for a test of its plan.
const BacklogQuery = qBacklog

// CallerQueries counts the caller lookups that went to Postgres.
func CallerQueries(db *DB) int64 { return db.lookupQueries.Load() }

// CallersWarm reports whether the caller cache holds a warm of the
// registry as this process knows it: one no change has voided.
func CallersWarm(db *DB) bool {
	c := db.callers.Load()
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.warm != nil
}

// BeforeWarmInstall sets fn to run between a warm's read and its install.
func BeforeWarmInstall(db *DB, fn func()) { db.beforeWarmInstall = fn }
