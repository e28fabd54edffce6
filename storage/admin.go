package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/alexedwards/argon2id"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/jmoiron/sqlx"
)

// Users, API tokens and the audit log of the admin console and API.

type userRow struct {
	ID       int64  `db:"id"`
	Username string `db:"username"`
	Role     string `db:"role"`
	Active   bool   `db:"active"`
	Hash     string `db:"password_hash"`
	AreaID   int64  `db:"area_id"`
	AreaName string `db:"area_name"`
}

func (r userRow) user() access.User {
	return access.User{ID: r.ID, Username: r.Username, Role: r.Role, Active: r.Active, Area: r.AreaID, AreaName: r.AreaName}
}

// userCols are a userRow's columns, of users u.
const userCols = `u.id, u.username, u.role, u.active, u.password_hash, COALESCE(u.area_id, 0) AS area_id,
       COALESCE((SELECT name FROM areas WHERE id = u.area_id), '') AS area_name`

// passwordParams are argon2id's settings for new password hashes: OWASP's
// recommended 19 MiB, two passes, one lane. A hash keeps the settings it
// was made with, so older, costlier hashes still verify.
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// hashSlots bounds the password hashes computed at once. Each takes its
// memory (19 MiB, or 64 MiB for older hashes) and a core for tens of
// milliseconds: thirty sign-in attempts at once took a process past 3 GB
// and held USSD hops for seconds. Beyond the slots, an attempt waits, and
// gives up with its request.
var hashSlots = make(chan struct{}, 2)

func withHashSlot(ctx context.Context, f func()) error {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return access.ErrBusy
	}
	defer func() { <-hashSlots }()
	f()
	return nil
}

// dummyHash is compared against when no user has the name, so that an
// unknown name costs what a wrong password does and reveals nothing.
var dummyHash = func() string {
	h, err := argon2id.CreateHash("no user has this password", passwordParams)
	if err != nil {
		panic(err)
	}
	return h
}()

// CreateUser adds a user with an argon2id password hash. A taken username
// is an error wrapping menus.ErrConflict. actor is who did it (the zero
// user for the command line), recorded in the audit log.
func (db *DB) CreateUser(ctx context.Context, actor access.User, username, password, role string) (access.User, error) {
	if len(password) < 10 {
		return access.User{}, errors.New("create user: a password needs at least 10 characters")
	}
	var hash string
	var herr error
	if err := withHashSlot(ctx, func() { hash, herr = argon2id.CreateHash(password, passwordParams) }); err != nil {
		return access.User{}, fmt.Errorf("create user: %w", err)
	}
	if herr != nil {
		return access.User{}, fmt.Errorf("create user: %w", herr)
	}
	const q = `INSERT INTO users AS u (username, password_hash, role) VALUES ($1, $2, $3) RETURNING ` + userCols
	var r userRow
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &r, q, clean(username), hash, role); err != nil {
			return err
		}
		return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "user.create", ObjectType: "user", ObjectID: r.Username,
			After: map[string]any{"username": r.Username, "role": r.Role}})
	})
	if isUnique(err, "users_username_key") {
		return access.User{}, fmt.Errorf("create user %s: %w", clean(username), menus.ErrConflict)
	}
	if err != nil {
		return access.User{}, fmt.Errorf("create user: %w", err)
	}
	return r.user(), nil
}

// Authenticate checks a username and password. Any mismatch is an error
// wrapping menus.ErrNotFound, the same whichever part was wrong.
func (db *DB) Authenticate(ctx context.Context, username, password string) (access.User, error) {
	const q = `SELECT ` + userCols + ` FROM users u WHERE u.username = $1 AND u.active`
	var r userRow
	err := db.db.GetContext(ctx, &r, q, clean(username))
	known := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		// Compare anyway, so a missing user takes as long as a wrong
		// password.
		r.Hash = dummyHash
	} else if err != nil {
		return access.User{}, fmt.Errorf("authenticate: %w", err)
	}
	var ok bool
	var cerr error
	if err := withHashSlot(ctx, func() { ok, cerr = argon2id.ComparePasswordAndHash(password, r.Hash) }); err != nil {
		return access.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if cerr != nil || !ok || !known {
		return access.User{}, fmt.Errorf("authenticate: %w", menus.ErrNotFound)
	}
	return r.user(), nil
}

// CreateToken issues an API token for a user and returns it; only its hash
// is stored, so this is the one time it can be seen. It does not expire.
func (db *DB) CreateToken(ctx context.Context, actor access.User, userID int64, name string) (string, error) {
	return db.CreateSessionToken(ctx, actor, userID, name, 0)
}

// CreateSessionToken is CreateToken for a token that stops working after
// ttl (none when 0): a console sign-in should not outlive a working day.
func (db *DB) CreateSessionToken(ctx context.Context, actor access.User, userID int64, name string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	token := "bft_" + base64.RawURLEncoding.EncodeToString(b)
	const q = `INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`
	var expires *time.Time
	if ttl > 0 {
		at := time.Now().Add(ttl)
		expires = &at
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		if err := tx.GetContext(ctx, &id, q, userID, clean(name), tokenHash(token), expires); err != nil {
			return err
		}
		return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "token.create", ObjectType: "api_token", ObjectID: fmt.Sprint(id),
			After: map[string]any{"user_id": userID, "name": clean(name)}})
	})
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return token, nil
}

// UserByToken returns the active user an unrevoked token belongs to, or an
// error wrapping menus.ErrNotFound.
func (db *DB) UserByToken(ctx context.Context, token string) (access.User, error) {
	const q = `
UPDATE api_tokens t SET last_used_at = now()
FROM users u
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
  AND u.id = t.user_id AND u.active
RETURNING ` + userCols
	var r userRow
	err := db.db.GetContext(ctx, &r, q, tokenHash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return access.User{}, fmt.Errorf("token: %w", menus.ErrNotFound)
	}
	if err != nil {
		return access.User{}, fmt.Errorf("token: %w", err)
	}
	return r.user(), nil
}

// RevokeToken ends the token it is given (a sign-out): it stops working at
// once, on every process. An unknown or revoked token is an error wrapping
// menus.ErrNotFound.
func (db *DB) RevokeToken(ctx context.Context, actor access.User, token string) error {
	const q = `UPDATE api_tokens SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id`
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var id int64
		err := tx.GetContext(ctx, &id, q, tokenHash(token))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoke token: %w", menus.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "token.revoke", ObjectType: "api_token", ObjectID: fmt.Sprint(id)})
	})
}

// Audit writes one entry to the audit log, for a read or an action that
// changes nothing stored (a simulation as a real phone).
func (db *DB) Audit(ctx context.Context, e access.AuditEntry) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error { return audit(ctx, tx, e) })
}

// RecordLoginFailure writes a failed sign-in to the audit log: who was
// tried, from where, and why it was refused (wrong credentials, or
// throttled).
func (db *DB) RecordLoginFailure(ctx context.Context, username, address, reason string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, access.AuditEntry{Actor: access.User{Username: "anonymous"}, Action: "login.failed", ObjectType: "user",
			ObjectID: clean(username), After: map[string]any{"address": clean(address), "reason": reason}})
	})
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// audit writes one audit entry in the transaction of the change it
// records, so there is no change without its entry and no entry without
// its change.
func audit(ctx context.Context, tx *sqlx.Tx, e access.AuditEntry) error {
	const q = `INSERT INTO audit_log (actor_id, actor, action, object_type, object_id, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	var actorID *int64
	actor := e.Actor.Username
	if e.Actor.ID != 0 {
		actorID = &e.Actor.ID
	}
	if actor == "" {
		actor = "system"
	}
	before, err := jsonOrNull(e.Before)
	if err != nil {
		return err
	}
	after, err := jsonOrNull(e.After)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, q, actorID, actor, e.Action, e.ObjectType, e.ObjectID, before, after); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// auditMany writes the audit entries of one actor's import, a thousand
// rows a statement.
func auditMany(ctx context.Context, tx *sqlx.Tx, entries []access.AuditEntry) error {
	const chunk = 1000
	const q = `
INSERT INTO audit_log (actor_id, actor, action, object_type, object_id, before, after)
SELECT $1, $2, u.action, u.object_type, u.object_id, NULLIF(u.before, '')::jsonb, NULLIF(u.after, '')::jsonb
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY
     AS u(action, object_type, object_id, before, after, n)
ORDER BY u.n`
	for len(entries) > 0 {
		n := min(chunk, len(entries))
		batch := entries[:n]
		entries = entries[n:]
		var actorID *int64
		actor := batch[0].Actor.Username
		if batch[0].Actor.ID != 0 {
			actorID = &batch[0].Actor.ID
		}
		if actor == "" {
			actor = "system"
		}
		cols := make([][]string, 5)
		for _, e := range batch {
			if e.Actor != batch[0].Actor {
				return errors.New("audit: one import, one actor")
			}
			before, err := jsonOrNull(e.Before)
			if err != nil {
				return err
			}
			after, err := jsonOrNull(e.After)
			if err != nil {
				return err
			}
			cols[0] = append(cols[0], e.Action)
			cols[1] = append(cols[1], e.ObjectType)
			cols[2] = append(cols[2], e.ObjectID)
			cols[3] = append(cols[3], deref(before))
			cols[4] = append(cols[4], deref(after))
		}
		if _, err := tx.ExecContext(ctx, q, actorID, actor, pq.Array(cols[0]), pq.Array(cols[1]), pq.Array(cols[2]), pq.Array(cols[3]), pq.Array(cols[4])); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func jsonOrNull(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	s := string(b)
	return &s, nil
}

type auditRow struct {
	ID         int64           `db:"id"`
	At         string          `db:"at"`
	Actor      string          `db:"actor"`
	Action     string          `db:"action"`
	ObjectType string          `db:"object_type"`
	ObjectID   string          `db:"object_id"`
	Before     json.RawMessage `db:"before"`
	After      json.RawMessage `db:"after"`
}

// AuditLog returns the newest entries, at most limit.
func (db *DB) AuditLog(ctx context.Context, limit int) ([]access.AuditRecord, error) {
	const q = `
SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, actor, action, object_type, object_id,
       COALESCE(before, 'null'::jsonb) AS before, COALESCE(after, 'null'::jsonb) AS after
FROM audit_log ORDER BY id DESC LIMIT $1`
	var rows []auditRow
	if err := db.db.SelectContext(ctx, &rows, q, limit); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	out := make([]access.AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = access.AuditRecord(r)
	}
	return out, nil
}

// SetUserArea makes the user answer for the area with the given code (""
// for the whole deployment), audited. An unknown user or area is an error
// wrapping menus.ErrNotFound.
func (db *DB) SetUserArea(ctx context.Context, actor access.User, username, areaCode string) (access.User, error) {
	var r userRow
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var area *int64
		if areaCode != "" {
			var id int64
			if err := tx.GetContext(ctx, &id, `SELECT id FROM areas WHERE code = $1 AND active`, clean(areaCode)); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("area %s: %w", clean(areaCode), menus.ErrNotFound)
			} else if err != nil {
				return err
			}
			area = &id
		}
		var before string
		if err := tx.GetContext(ctx, &before, `SELECT COALESCE((SELECT code FROM areas WHERE id = area_id), '') FROM users WHERE username = $1 FOR UPDATE`, clean(username)); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %s: %w", clean(username), menus.ErrNotFound)
		} else if err != nil {
			return err
		}
		q := `UPDATE users AS u SET area_id = $2, updated_at = now() WHERE username = $1 RETURNING ` + userCols
		if err := tx.GetContext(ctx, &r, q, clean(username), area); err != nil {
			return err
		}
		return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "user.area", ObjectType: "user", ObjectID: r.Username,
			Before: map[string]any{"area": before}, After: map[string]any{"area": clean(areaCode)}})
	})
	if err != nil {
		return access.User{}, fmt.Errorf("set the area of %s: %w", clean(username), err)
	}
	return r.user(), nil
}
