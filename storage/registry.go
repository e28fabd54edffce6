package storage

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Errors about the registry never quote a phone number: they end up in logs,
// and a phone number identifies a director or a guardian.

// Not-found errors of the lookups, shared by the queries and the cache.
var (
	errNoDirector = fmt.Errorf("director: %w", menus.ErrNotFound)
	errNoGuardian = fmt.Errorf("guardian: %w", menus.ErrNotFound)
)

// directorRows and guardianRows are the rows a caller is built from, for
// the lookup of one phone and for the warm of the whole registry alike, so
// that both build the same callers; each adds its WHERE and ORDER BY.
const (
	directorRows = `
SELECT d.id AS director_id, d.phone, d.language, c.code AS child_code, c.name AS child_name
FROM directors d
LEFT JOIN child_directors cd ON cd.director_id = d.id
LEFT JOIN children c ON c.id = cd.child_id AND c.active`
	guardianRows = `
SELECT g.id AS guardian_id, g.phone, g.language, c.code AS child_code, c.name AS child_name,
       a.scheme, a.status, a.monthly_yuan, a.last_paid, a.next_payment
FROM guardians g
LEFT JOIN child_guardians cg ON cg.guardian_id = g.id
LEFT JOIN children c ON c.id = cg.child_id AND c.active
LEFT JOIN allowances a ON a.child_id = c.id AND a.active`
)

// callerRow is one row of the caller lookup: the director, repeated, beside
// one of their children (NULL when they have none).
type callerRow struct {
	DirectorID int64          `db:"director_id"`
	Phone      string         `db:"phone"`
	Language   string         `db:"language"`
	ChildCode  sql.NullString `db:"child_code"`
	ChildName  sql.NullString `db:"child_name"`
}

// CallerByPhone returns the active director with the given E.164 phone and
// the active children assigned to them, ordered by code. An unknown or
// inactive director is an error wrapping menus.ErrNotFound; Children is nil
// when the director has no active child.
func (db *DB) CallerByPhone(ctx context.Context, phone string) (menus.Caller, error) {
	return db.cachedLookup(ctx, phone, true, db.callerByPhone)
}

func (db *DB) callerByPhone(ctx context.Context, phone string) (menus.Caller, error) {
	db.lookupQueries.Add(1)
	// One statement rather than two: this runs on the first hop of every
	// session, and one snapshot cannot pair a director with children that a
	// concurrent import has just moved elsewhere. The code order is by bytes
	// (COLLATE "C") so that menus list children the same way whatever the
	// server's locale.
	const q = directorRows + `
WHERE d.phone = $1 AND d.active
ORDER BY c.code COLLATE "C"`
	var rows []callerRow
	stmt, err := db.prepared(ctx, q)
	if err != nil {
		return menus.Caller{}, fmt.Errorf("caller by phone: %w", err)
	}
	if err := stmt.SelectContext(ctx, &rows, phone); err != nil {
		return menus.Caller{}, fmt.Errorf("caller by phone: %w", err)
	}
	if len(rows) == 0 {
		return menus.Caller{}, errNoDirector
	}
	caller := rows[0].caller()
	for _, r := range rows {
		r.addTo(&caller)
	}
	return caller, nil
}

// caller is the director of r, without children.
func (r *callerRow) caller() menus.Caller {
	return menus.Caller{Phone: r.Phone, DirectorID: r.DirectorID, Language: r.Language}
}

// addTo adds r's child, if any, to its director c; rows come in code
// order.
func (r *callerRow) addTo(c *menus.Caller) {
	if r.ChildCode.Valid {
		c.Children = append(c.Children, menus.ChildBrief{Code: r.ChildCode.String, Name: r.ChildName.String})
	}
}

// SetLanguage records the language a caller chose for their phone, on the
// director and the guardian with that number, whichever exist. An unknown
// phone or language is an error wrapping menus.ErrNotFound.
func (db *DB) SetLanguage(ctx context.Context, phone, lang string) error {
	const q = `
WITH d AS (UPDATE directors SET language = $2, updated_at = now() WHERE phone = $1 AND language <> $2 RETURNING 1),
     g AS (UPDATE guardians SET language = $2, updated_at = now() WHERE phone = $1 AND language <> $2 RETURNING 1)
SELECT (SELECT count(*) FROM directors WHERE phone = $1) + (SELECT count(*) FROM guardians WHERE phone = $1)`
	if lang != menus.LangZH && lang != menus.LangEN {
		return fmt.Errorf("set language: %q: %w", lang, menus.ErrNotFound)
	}
	var n int
	if err := db.db.GetContext(ctx, &n, q, phone, lang); err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("set language: caller: %w", menus.ErrNotFound)
	}
	db.registryChanged()
	return nil
}

// guardianRow is one row of the guardian lookup: the guardian, repeated,
// beside one allowance of one of their children (NULLs when none).
type guardianRow struct {
	GuardianID  int64          `db:"guardian_id"`
	Phone       string         `db:"phone"`
	Language    string         `db:"language"`
	ChildCode   sql.NullString `db:"child_code"`
	ChildName   sql.NullString `db:"child_name"`
	Scheme      sql.NullString `db:"scheme"`
	Status      sql.NullString `db:"status"`
	MonthlyYuan sql.NullInt64  `db:"monthly_yuan"`
	LastPaid    sql.NullTime   `db:"last_paid"`
	NextPayment sql.NullTime   `db:"next_payment"`
}

// GuardianByPhone returns the active guardian with the given E.164 phone,
// their active children (by code) and those children's allowances. An
// unknown or inactive guardian is an error wrapping menus.ErrNotFound.
func (db *DB) GuardianByPhone(ctx context.Context, phone string) (menus.Caller, error) {
	return db.cachedLookup(ctx, phone, false, db.guardianByPhone)
}

func (db *DB) guardianByPhone(ctx context.Context, phone string) (menus.Caller, error) {
	db.lookupQueries.Add(1)
	const q = guardianRows + `
WHERE g.phone = $1 AND g.active
ORDER BY c.code COLLATE "C", a.scheme`
	var rows []guardianRow
	stmt, err := db.prepared(ctx, q)
	if err != nil {
		return menus.Caller{}, fmt.Errorf("guardian by phone: %w", err)
	}
	if err := stmt.SelectContext(ctx, &rows, phone); err != nil {
		return menus.Caller{}, fmt.Errorf("guardian by phone: %w", err)
	}
	if len(rows) == 0 {
		return menus.Caller{}, errNoGuardian
	}
	c := rows[0].caller()
	for _, r := range rows {
		r.addTo(&c)
	}
	return c, nil
}

// caller is the guardian of r, without children or allowances.
func (r *guardianRow) caller() menus.Caller {
	return menus.Caller{Phone: r.Phone, GuardianID: r.GuardianID, Language: r.Language}
}

// addTo adds r's child, unless it is the last one added, and its
// allowance, if any, to its guardian c; rows come by child code, then
// scheme.
func (r *guardianRow) addTo(c *menus.Caller) {
	if !r.ChildCode.Valid {
		return
	}
	if n := len(c.Children); n == 0 || c.Children[n-1].Code != r.ChildCode.String {
		c.Children = append(c.Children, menus.ChildBrief{Code: r.ChildCode.String, Name: r.ChildName.String})
	}
	if r.Scheme.Valid {
		c.Allowances = append(c.Allowances, menus.Allowance{
			ChildCode: r.ChildCode.String, ChildName: r.ChildName.String, Scheme: r.Scheme.String, Status: r.Status.String,
			MonthlyYuan: int(r.MonthlyYuan.Int64), LastPaid: r.LastPaid.Time, NextPayment: r.NextPayment.Time,
		})
	}
}

// secretHash binds a status secret to the guardian's phone, so equal
// secrets of two guardians do not hash alike. A few digits are no defence
// against anyone holding the database; the secret guards the SMS channel,
// where replies are rate limited.
func secretHash(phone, secret string) string {
	sum := sha256.Sum256([]byte("barefoot-status-secret\x00" + phone + "\x00" + strings.TrimSpace(secret)))
	return hex.EncodeToString(sum[:])
}

// CheckStatusSecret reports whether the active guardian with phone is
// linked to the child with code and gave their secret. Every mismatch (no
// such guardian, child, link or secret) is the same false, so a caller
// learns nothing from which one it was.
func (db *DB) CheckStatusSecret(ctx context.Context, phone, code, secret string) (bool, error) {
	const q = `
SELECT g.status_secret_hash FROM guardians g
JOIN child_guardians cg ON cg.guardian_id = g.id
JOIN children c ON c.id = cg.child_id AND c.active
WHERE g.phone = $1 AND g.active AND c.code = $2 AND g.status_secret_hash IS NOT NULL`
	var stored string
	err := db.db.GetContext(ctx, &stored, q, phone, code)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check status secret: %w", err)
	}
	return subtle.ConstantTimeCompare([]byte(stored), []byte(secretHash(phone, secret))) == 1, nil
}
