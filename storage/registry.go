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
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Errors about the registry never quote a phone number: they end up in logs,
// and a phone number identifies a director or a guardian.

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
	// One statement rather than two: this runs on the first hop of every
	// session, and one snapshot cannot pair a director with children that a
	// concurrent import has just moved elsewhere. The code order is by bytes
	// (COLLATE "C") so that menus list children the same way whatever the
	// server's locale.
	const q = `
SELECT d.id AS director_id, d.phone, d.language, c.code AS child_code, c.name AS child_name
FROM directors d
LEFT JOIN child_directors cd ON cd.director_id = d.id
LEFT JOIN children c ON c.id = cd.child_id AND c.active
WHERE d.phone = $1 AND d.active
ORDER BY c.code COLLATE "C"`
	var rows []callerRow
	if err := db.db.SelectContext(ctx, &rows, q, phone); err != nil {
		return menus.Caller{}, fmt.Errorf("caller by phone: %w", err)
	}
	if len(rows) == 0 {
		return menus.Caller{}, fmt.Errorf("director: %w", menus.ErrNotFound)
	}
	caller := menus.Caller{
		Phone:      rows[0].Phone,
		DirectorID: rows[0].DirectorID,
		Language:   rows[0].Language,
	}
	for _, r := range rows {
		if r.ChildCode.Valid {
			caller.Children = append(caller.Children, menus.ChildBrief{Code: r.ChildCode.String, Name: r.ChildName.String})
		}
	}
	return caller, nil
}

// UpsertDirector inserts or updates the director with d.Phone and returns its
// id. d.ID is ignored: the phone is the key imports and seeds know.
func (db *DB) UpsertDirector(ctx context.Context, d registry.Director) (int64, error) {
	const q = `
INSERT INTO directors (phone, name, language, village, county, active)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (phone) DO UPDATE SET
    name = EXCLUDED.name,
    language = EXCLUDED.language,
    village = EXCLUDED.village,
    county = EXCLUDED.county,
    active = EXCLUDED.active,
    updated_at = now()
RETURNING id`
	var id int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &id, q,
			clean(d.Phone), clean(d.Name), clean(d.Language), clean(d.Village), clean(d.County), d.Active)
	})
	if err != nil {
		return 0, fmt.Errorf("upsert director: %w", err)
	}
	return id, nil
}

// UpsertChild inserts or updates the child with c.Code, assigned to the
// director with c.DirectorPhone, and returns its id. An unknown director is
// an error wrapping menus.ErrNotFound. A zero BirthDate is stored as unknown.
func (db *DB) UpsertChild(ctx context.Context, c registry.Child) (int64, error) {
	const q = `
INSERT INTO children (code, name, birth_date, village, county, director_id, active)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name,
    birth_date = EXCLUDED.birth_date,
    village = EXCLUDED.village,
    county = EXCLUDED.county,
    director_id = EXCLUDED.director_id,
    active = EXCLUDED.active,
    updated_at = now()
RETURNING id`
	// A birth date is a calendar date. Sending the time.Time would let the
	// session time zone move it to the day before or after.
	var birth *string
	if !c.BirthDate.IsZero() {
		s := c.BirthDate.Format(time.DateOnly)
		birth = &s
	}
	var id int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		directorID, err := directorIDByPhone(ctx, tx, clean(c.DirectorPhone))
		if err != nil {
			return err
		}
		// A new responsible director moves the child: the previous one is
		// no longer entitled to report on it.
		var previous sql.NullInt64
		const qPrev = `SELECT director_id FROM children WHERE code = $1 FOR UPDATE`
		if err := tx.GetContext(ctx, &previous, qPrev, clean(c.Code)); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.GetContext(ctx, &id, q,
			clean(c.Code), clean(c.Name), birth, clean(c.Village), clean(c.County), directorID, c.Active); err != nil {
			return err
		}
		if previous.Valid && previous.Int64 != directorID {
			const unassign = `DELETE FROM child_directors WHERE child_id = $1 AND director_id = $2`
			if _, err := tx.ExecContext(ctx, unassign, id, previous.Int64); err != nil {
				return err
			}
		}
		// The responsible director is always among those assigned.
		const assign = `INSERT INTO child_directors (child_id, director_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`
		_, err = tx.ExecContext(ctx, assign, id, directorID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("upsert child %s: %w", clean(c.Code), err)
	}
	return id, nil
}

// AssignChild makes directorPhones exactly the directors assigned to the
// child with code; the first becomes the responsible director. An unknown
// child or director is an error wrapping menus.ErrNotFound, and then nothing
// changes.
func (db *DB) AssignChild(ctx context.Context, code string, directorPhones []string) error {
	if len(directorPhones) == 0 {
		return fmt.Errorf("assign child %s: no director", clean(code))
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var childID int64
		err := tx.GetContext(ctx, &childID, `SELECT id FROM children WHERE code = $1 FOR UPDATE`, clean(code))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("child: %w", menus.ErrNotFound)
		}
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(directorPhones))
		for _, p := range directorPhones {
			id, err := directorIDByPhone(ctx, tx, clean(p))
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM child_directors WHERE child_id = $1 AND NOT director_id = ANY($2)`, childID, pq.Array(ids)); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO child_directors (child_id, director_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, childID, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE children SET director_id = $2, updated_at = now() WHERE id = $1 AND director_id <> $2`, childID, ids[0])
		return err
	})
	if err != nil {
		return fmt.Errorf("assign child %s: %w", clean(code), err)
	}
	return nil
}

// directorIDByPhone resolves a director of any state: an import may assign
// children to a director who is not active yet.
func directorIDByPhone(ctx context.Context, tx *sqlx.Tx, phone string) (int64, error) {
	const q = `SELECT id FROM directors WHERE phone = $1`
	var id int64
	err := tx.GetContext(ctx, &id, q, phone)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("director: %w", menus.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("director: %w", err)
	}
	return id, nil
}

// UpsertGuardian inserts or updates the guardian with g.Phone and makes
// g.Children (child codes) their children: links to other children are
// removed, links that stay keep their relationship. An unknown child code is
// an error wrapping menus.ErrNotFound, and then nothing is written.
func (db *DB) UpsertGuardian(ctx context.Context, g registry.Guardian) (int64, error) {
	const q = `
INSERT INTO guardians (phone, name, language, active)
VALUES ($1, $2, $3, $4)
ON CONFLICT (phone) DO UPDATE SET
    name = EXCLUDED.name,
    language = EXCLUDED.language,
    active = EXCLUDED.active,
    updated_at = now()
RETURNING id`
	codes := make([]string, 0, len(g.Children))
	seen := make(map[string]bool, len(g.Children))
	for _, code := range g.Children {
		code = clean(code)
		if !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	var id int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, q, clean(g.Phone), clean(g.Name), clean(g.Language), g.Active); err != nil {
			return err
		}
		if g.StatusSecret != "" {
			const qSecret = `UPDATE guardians SET status_secret_hash = $2 WHERE id = $1`
			if _, err := tx.ExecContext(ctx, qSecret, id, secretHash(clean(g.Phone), g.StatusSecret)); err != nil {
				return err
			}
		}
		return replaceGuardianChildren(ctx, tx, id, codes)
	})
	if err != nil {
		return 0, fmt.Errorf("upsert guardian: %w", err)
	}
	return id, nil
}

// replaceGuardianChildren makes codes, which hold no duplicates, the
// guardian's children.
func replaceGuardianChildren(ctx context.Context, tx *sqlx.Tx, guardianID int64, codes []string) error {
	const qMissing = `
SELECT u.code
FROM unnest($1::text[]) AS u(code)
WHERE NOT EXISTS (SELECT 1 FROM children c WHERE c.code = u.code)
ORDER BY u.code
LIMIT 1`
	var missing string
	err := tx.GetContext(ctx, &missing, qMissing, pq.Array(codes))
	if err == nil {
		return fmt.Errorf("child %s: %w", missing, menus.ErrNotFound)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check children: %w", err)
	}

	const qDelete = `
DELETE FROM child_guardians cg
USING children c
WHERE cg.guardian_id = $1 AND c.id = cg.child_id AND NOT (c.code = ANY ($2::text[]))`
	if _, err := tx.ExecContext(ctx, qDelete, guardianID, pq.Array(codes)); err != nil {
		return fmt.Errorf("unlink children: %w", err)
	}
	const qInsert = `
INSERT INTO child_guardians (child_id, guardian_id)
SELECT c.id, $1 FROM children c WHERE c.code = ANY ($2::text[])
ON CONFLICT (child_id, guardian_id) DO NOTHING`
	if _, err := tx.ExecContext(ctx, qInsert, guardianID, pq.Array(codes)); err != nil {
		return fmt.Errorf("link children: %w", err)
	}
	return nil
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
	return nil
}

// UpsertAllowance inserts or updates a child's allowance under a scheme.
// An unknown child is an error wrapping menus.ErrNotFound.
func (db *DB) UpsertAllowance(ctx context.Context, a menus.Allowance) error {
	const q = `
INSERT INTO allowances (child_id, scheme, status, monthly_yuan, last_paid, next_payment)
SELECT c.id, $2, $3, $4, $5, $6 FROM children c WHERE c.code = $1
ON CONFLICT (child_id, scheme) DO UPDATE SET
    status = EXCLUDED.status,
    monthly_yuan = EXCLUDED.monthly_yuan,
    last_paid = EXCLUDED.last_paid,
    next_payment = EXCLUDED.next_payment,
    updated_at = now()`
	res, err := db.db.ExecContext(ctx, q, clean(a.ChildCode), a.Scheme, a.Status, a.MonthlyYuan, dateOrNull(a.LastPaid), dateOrNull(a.NextPayment))
	if err != nil {
		return fmt.Errorf("upsert allowance of %s: %w", clean(a.ChildCode), err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("upsert allowance: child %s: %w", clean(a.ChildCode), menus.ErrNotFound)
	}
	return nil
}

// dateOrNull sends a calendar date as text, so the session time zone
// cannot move it, and the zero time as NULL.
func dateOrNull(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
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
	const q = `
SELECT g.id AS guardian_id, g.phone, g.language, c.code AS child_code, c.name AS child_name,
       a.scheme, a.status, a.monthly_yuan, a.last_paid, a.next_payment
FROM guardians g
LEFT JOIN child_guardians cg ON cg.guardian_id = g.id
LEFT JOIN children c ON c.id = cg.child_id AND c.active
LEFT JOIN allowances a ON a.child_id = c.id AND a.active
WHERE g.phone = $1 AND g.active
ORDER BY c.code COLLATE "C", a.scheme`
	var rows []guardianRow
	if err := db.db.SelectContext(ctx, &rows, q, phone); err != nil {
		return menus.Caller{}, fmt.Errorf("guardian by phone: %w", err)
	}
	if len(rows) == 0 {
		return menus.Caller{}, fmt.Errorf("guardian: %w", menus.ErrNotFound)
	}
	c := menus.Caller{Phone: rows[0].Phone, GuardianID: rows[0].GuardianID, Language: rows[0].Language}
	for _, r := range rows {
		if !r.ChildCode.Valid {
			continue
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
	return c, nil
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
