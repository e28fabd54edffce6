package storage

import "github.com/jmoiron/sqlx"

// Hooks for the external tests in package storage_test.

// SQL returns the pool, for tests that check rows and columns directly.
func SQL(db *DB) *sqlx.DB { return db.db }

// SetRefSource replaces the random part of report references, for tests
// that force a collision.
func SetRefSource(db *DB, next func() (string, error)) { db.newRef = next }

// RandomRef is the production reference source.
var RandomRef = randomRef
