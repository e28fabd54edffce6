package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/jmoiron/sqlx"
)

type treeRow struct {
	Name        string       `db:"name"`
	Version     int          `db:"version"`
	Format      string       `db:"format"`
	Source      string       `db:"source"`
	Checksum    string       `db:"checksum"`
	CreatedAt   time.Time    `db:"created_at"`
	PublishedAt sql.NullTime `db:"published_at"`
	Author      string       `db:"author"`
	Note        string       `db:"note"`
}

func (r treeRow) toStored() menus.TreeVersion {
	t := menus.TreeVersion{
		Name:      r.Name,
		Version:   r.Version,
		Format:    r.Format,
		Source:    []byte(r.Source),
		Checksum:  r.Checksum,
		CreatedAt: r.CreatedAt,
		Author:    r.Author,
		Note:      r.Note,
	}
	if r.PublishedAt.Valid {
		at := r.PublishedAt.Time
		t.PublishedAt = &at
	}
	return t
}

// saveTreeAttempts bounds the retries of SaveTreeVersion. Each round of
// concurrent saves of one tree lets at least one of them through, so this
// many concurrent editors of one tree all succeed.
const saveTreeAttempts = 10

// SaveTreeVersion stores source as the next version of the named tree and
// returns it. If the newest version already has the same content and format,
// that version is returned unchanged, so saving twice does not add versions.
// Concurrent saves of one tree each get their own version number.
//
// Unlike report text, a tree's source is refused rather than repaired when it
// is not UTF-8 text: silently altering a menu would be worse than an error.
func (db *DB) SaveTreeVersion(ctx context.Context, name, format string, source []byte) (menus.TreeVersion, error) {
	return db.SaveTreeVersionAs(ctx, access.System, name, format, source)
}

// SaveTreeVersionAs is SaveTreeVersion by actor: a new version is recorded
// in the audit log with its source.
func (db *DB) SaveTreeVersionAs(ctx context.Context, actor access.User, name, format string, source []byte) (menus.TreeVersion, error) {
	return db.SaveTreeVersionNoted(ctx, actor, name, format, "", source)
}

// maxTreeNote bounds a version's note: a sentence or two.
const maxTreeNote = 500

// SaveTreeVersionNoted is SaveTreeVersionAs with a note saying why; the
// version records its author. Saving the newest version's content again
// returns that version, note unchanged.
func (db *DB) SaveTreeVersionNoted(ctx context.Context, actor access.User, name, format, note string, source []byte) (menus.TreeVersion, error) {
	if utf8.RuneCountInString(note) > maxTreeNote || !utf8.ValidString(note) || strings.IndexByte(note, 0) >= 0 {
		return menus.TreeVersion{}, fmt.Errorf("save tree %q: the note is not text of at most %d characters", clean(name), maxTreeNote)
	}
	author := actor.Username
	if author == "" {
		author = "system"
	}
	if name == "" {
		return menus.TreeVersion{}, errors.New("save tree: empty name")
	}
	if !utf8.Valid(source) || bytes.IndexByte(source, 0) >= 0 {
		return menus.TreeVersion{}, fmt.Errorf("save tree %q: source is not UTF-8 text", clean(name))
	}
	sum := sha256.Sum256(source)
	checksum := hex.EncodeToString(sum[:])

	const q = `
INSERT INTO menu_trees (name, version, format, source, checksum, author, note)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING name, version, format, source, checksum, created_at, published_at, author, note`
	for attempt := 1; ; attempt++ {
		var saved treeRow
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			latest, ok, err := latestTree(ctx, tx, name)
			if err != nil {
				return err
			}
			if ok && latest.Checksum == checksum && latest.Format == format {
				saved = latest
				return nil
			}
			next := 1
			if ok {
				next = latest.Version + 1
			}
			if err := tx.GetContext(ctx, &saved, q, name, next, format, string(source), checksum, author, strings.TrimSpace(note)); err != nil {
				return err
			}
			var before any
			if ok {
				before = map[string]any{"version": latest.Version, "source": latest.Source}
			}
			return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "menu.save", ObjectType: "menu_tree", ObjectID: name,
				Before: before, After: map[string]any{"version": next, "format": format, "source": string(source), "note": strings.TrimSpace(note)}})
		})
		if err == nil {
			return saved.toStored(), nil
		}
		// Another save took the number first; the next round sees it.
		if isUnique(err, "menu_trees_name_version_key") && attempt < saveTreeAttempts {
			continue
		}
		return menus.TreeVersion{}, fmt.Errorf("save tree %q: %w", clean(name), err)
	}
}

func latestTree(ctx context.Context, tx *sqlx.Tx, name string) (treeRow, bool, error) {
	const q = `
SELECT name, version, format, source, checksum, created_at, published_at, author, note
FROM menu_trees
WHERE name = $1
ORDER BY version DESC
LIMIT 1`
	var row treeRow
	err := tx.GetContext(ctx, &row, q, name)
	if errors.Is(err, sql.ErrNoRows) {
		return treeRow{}, false, nil
	}
	if err != nil {
		return treeRow{}, false, fmt.Errorf("latest version: %w", err)
	}
	return row, true, nil
}

// PublishTree makes the version the one walks use: the published version of
// a tree is the one published last, so publishing an older version again
// rolls back. An unknown version is an error wrapping menus.ErrNotFound.
func (db *DB) PublishTree(ctx context.Context, name string, version int) error {
	return db.PublishTreeAs(ctx, access.System, name, version)
}

// MenusChannel is the Postgres notification channel a publish signals on,
// so every gateway process loads the new version at once.
const MenusChannel = "barefoot_menus"

// PublishTreeAs is PublishTree by actor, audited, and announced to every
// gateway process with a notification that is delivered when it commits.
func (db *DB) PublishTreeAs(ctx context.Context, actor access.User, name string, version int) error {
	const q = `UPDATE menu_trees SET published_at = now() WHERE name = $1 AND version = $2`
	const qBefore = `
SELECT COALESCE((SELECT version FROM menu_trees WHERE name = $1 AND published_at IS NOT NULL
                 ORDER BY published_at DESC, version DESC LIMIT 1), 0)`
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkClaims(ctx, tx, name, version); err != nil {
			return err
		}
		var was int
		if err := tx.GetContext(ctx, &was, qBefore, name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, q, name, version)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return menus.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, MenusChannel, name); err != nil {
			return err
		}
		return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "menu.publish", ObjectType: "menu_tree", ObjectID: name,
			Before: map[string]any{"published": was}, After: map[string]any{"published": version}})
	})
	if err != nil {
		return fmt.Errorf("publish tree %q version %d: %w", clean(name), version, err)
	}
	return nil
}

// publishedQuery selects, for each tree with a published version, the
// version published last. Versions published in one transaction share
// now(); the higher version wins such a tie.
const publishedQuery = `
SELECT DISTINCT ON (name) name, version, format, source, checksum, created_at, published_at, author, note
FROM menu_trees
WHERE published_at IS NOT NULL
ORDER BY name, published_at DESC, version DESC`

// publishLock serialises publishes, so two trees cannot each take a code
// the other's check did not see yet.
const publishLock = 0x6d656e75 // "menu"

// checkClaims refuses to publish a version that claims a service code or
// an SMS keyword another live tree owns: the error names the owner.
func checkClaims(ctx context.Context, tx *sqlx.Tx, name string, version int) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, publishLock); err != nil {
		return fmt.Errorf("lock publishes: %w", err)
	}
	var row treeRow
	err := tx.GetContext(ctx, &row, `SELECT name, version, format, source, checksum, created_at, published_at, author, note FROM menu_trees WHERE name = $1 AND version = $2`, name, version)
	if errors.Is(err, sql.ErrNoRows) {
		return menus.ErrNotFound
	}
	if err != nil {
		return err
	}
	tree, err := menus.Parse([]byte(row.Source), row.Format)
	if err != nil {
		// It will answer nothing (the catalog skips a tree that does not
		// compile), so it takes nothing from anyone; the API refuses to
		// save such a version in the first place.
		return nil
	}
	codes, words := tree.Claims()
	var live []treeRow
	if err := tx.SelectContext(ctx, &live, publishedQuery); err != nil {
		return fmt.Errorf("live trees: %w", err)
	}
	for _, r := range live {
		if r.Name == name {
			continue
		}
		other, err := menus.Parse([]byte(r.Source), r.Format)
		if err != nil {
			continue // a live tree that no longer parses answers nothing
		}
		oc, ow := other.Claims()
		for _, c := range codes {
			if slices.Contains(oc, c) {
				return &menus.ClaimError{What: "service code", Value: c, Owner: r.Name}
			}
		}
		for _, w := range words {
			if slices.Contains(ow, w) {
				return &menus.ClaimError{What: "SMS keyword", Value: w, Owner: r.Name}
			}
		}
	}
	return nil
}

// PublishedTrees returns, for each tree with a published version, the version
// published last, ordered by name.
func (db *DB) PublishedTrees(ctx context.Context) ([]menus.TreeVersion, error) {
	var rows []treeRow
	if err := db.db.SelectContext(ctx, &rows, publishedQuery); err != nil {
		return nil, fmt.Errorf("published trees: %w", err)
	}
	trees := make([]menus.TreeVersion, len(rows))
	for i, r := range rows {
		trees[i] = r.toStored()
	}
	return trees, nil
}

// TreeVersion returns one version of a tree. An unknown name or version is an
// error wrapping menus.ErrNotFound.
func (db *DB) TreeVersion(ctx context.Context, name string, version int) (menus.TreeVersion, error) {
	const q = `
SELECT name, version, format, source, checksum, created_at, published_at, author, note
FROM menu_trees
WHERE name = $1 AND version = $2`
	var row treeRow
	err := db.db.GetContext(ctx, &row, q, name, version)
	if errors.Is(err, sql.ErrNoRows) {
		return menus.TreeVersion{}, fmt.Errorf("tree %q version %d: %w", clean(name), version, menus.ErrNotFound)
	}
	if err != nil {
		return menus.TreeVersion{}, fmt.Errorf("tree %q version %d: %w", clean(name), version, err)
	}
	return row.toStored(), nil
}

// TreeVersions lists every version of every tree, newest first within a
// tree, without their sources.
func (db *DB) TreeVersions(ctx context.Context) ([]menus.TreeVersion, error) {
	const q = `
SELECT name, version, format, '' AS source, checksum, created_at, published_at, author, note
FROM menu_trees ORDER BY name, version DESC`
	var rows []treeRow
	if err := db.db.SelectContext(ctx, &rows, q); err != nil {
		return nil, fmt.Errorf("tree versions: %w", err)
	}
	out := make([]menus.TreeVersion, len(rows))
	for i, r := range rows {
		out[i] = r.toStored()
	}
	return out, nil
}

// TreeVersionAuthor returns who saved a version of a tree, as the audit
// log recorded it ("system" for the seed). A version with no record is an
// error wrapping menus.ErrNotFound.
func (db *DB) TreeVersionAuthor(ctx context.Context, name string, version int) (string, error) {
	const q = `
SELECT actor FROM audit_log
WHERE action = 'menu.save' AND object_type = 'menu_tree' AND object_id = $1 AND (after->>'version')::int = $2
ORDER BY id LIMIT 1`
	var actor string
	err := db.db.GetContext(ctx, &actor, q, name, version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("author of tree %q version %d: %w", clean(name), version, menus.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("author of tree %q version %d: %w", clean(name), version, err)
	}
	return actor, nil
}
