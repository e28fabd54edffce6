package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// Areas: prefectures, counties, townships and villages, each under a
// parent of a higher level (the database keeps that rule: see migration
// 00019). They are registry records like the others: listed, created,
// updated, deactivated and imported through regKind, audited.

// areaCodeCol is the code of a registry row's area, "" when it has none.
const areaCodeCol = `COALESCE((SELECT a.code FROM areas a WHERE a.id = r.area_id), '') AS area`

// areaLink resolves the area code a registry row names to its id: NULL
// for "" (the stored link is kept), a validation error for a code no area
// has, or for an area not of level when level is set.
func areaLink(ctx context.Context, tx *sqlx.Tx, code, level string) (sql.NullInt64, error) {
	if code == "" {
		return sql.NullInt64{}, nil
	}
	var row struct {
		ID    int64  `db:"id"`
		Level string `db:"level"`
	}
	err := tx.GetContext(ctx, &row, `SELECT id, level FROM areas WHERE code = $1`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return sql.NullInt64{}, fieldProblem("area", "no area has this code")
	}
	if err != nil {
		return sql.NullInt64{}, fmt.Errorf("area: %w", err)
	}
	if level != "" && row.Level != level {
		return sql.NullInt64{}, fieldProblem("area", "must be a "+level)
	}
	return sql.NullInt64{Int64: row.ID, Valid: true}, nil
}

type regArea struct {
	ID     int64  `db:"id" json:"id"`
	Code   string `db:"code" json:"code"`
	Name   string `db:"name" json:"name"`
	Level  string `db:"level" json:"level"`
	Parent string `db:"parent" json:"parent"`
	Active bool   `db:"active" json:"active"`
}

func (r regArea) ident() int64        { return r.ID }
func (r regArea) objectID() string    { return r.Code }
func (r regArea) isActive() bool      { return r.Active }
func (r regArea) area() registry.Area { return registry.Area(r) }
func (r regArea) same(w regArea) bool { w.ID, w.Active = r.ID, r.Active; return r == w }
func newRegArea(a registry.Area) regArea {
	return regArea{Code: clean(a.Code), Name: clean(a.Name), Level: clean(a.Level), Parent: clean(a.Parent)}
}

// areaParent resolves a parent's code; "" is the top.
func areaParent(ctx context.Context, tx *sqlx.Tx, code string) (sql.NullInt64, error) {
	if code == "" {
		return sql.NullInt64{}, nil
	}
	var id int64
	err := tx.GetContext(ctx, &id, `SELECT id FROM areas WHERE code = $1`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return sql.NullInt64{}, fieldProblem("parent", "no area has this code")
	}
	if err != nil {
		return sql.NullInt64{}, fmt.Errorf("parent area: %w", err)
	}
	return sql.NullInt64{Int64: id, Valid: true}, nil
}

// areaWriteError turns the level rule's violations into field problems.
func areaWriteError(err error) error {
	if pqErr := pq.As(err, pqerror.CheckViolation); pqErr != nil {
		switch pqErr.Constraint {
		case "areas_parent_level":
			return fieldProblem("parent", "must be an area of a higher level")
		case "areas_child_level":
			return fieldProblem("level", "areas under this one must stay of a lower level")
		}
	}
	return regUniqueOr(err, "areas_code_key", "code")
}

var areaKind = regKind[regArea]{
	noun: "area", table: "areas",
	cols:   `r.id, r.code, r.name, r.level, COALESCE(p.code, '') AS parent, r.active`,
	from:   `areas r LEFT JOIN areas p ON p.id = r.parent_id`,
	search: `r.name ILIKE $2 OR r.code ILIKE $2`,
	order:  `barefoot_area_rank(r.level) DESC, r.name, r.id`,
	key:    `r.code = $1`, keyCols: []string{"r.code"},
	keyArgs: func(w regArea) []any { return []any{w.Code} },
	insert: func(ctx context.Context, tx *sqlx.Tx, w regArea) (int64, error) {
		parent, err := areaParent(ctx, tx, w.Parent)
		if err != nil {
			return 0, err
		}
		const q = `INSERT INTO areas (code, name, level, parent_id) VALUES ($1, $2, $3, $4) RETURNING id`
		var id int64
		if err := tx.GetContext(ctx, &id, q, w.Code, w.Name, w.Level, parent); err != nil {
			return 0, areaWriteError(err)
		}
		return id, nil
	},
	update: func(ctx context.Context, tx *sqlx.Tx, before, w regArea) error {
		parent, err := areaParent(ctx, tx, w.Parent)
		if err != nil {
			return err
		}
		const q = `UPDATE areas SET code = $2, name = $3, level = $4, parent_id = $5, updated_at = now() WHERE id = $1`
		if _, err := tx.ExecContext(ctx, q, before.ID, w.Code, w.Name, w.Level, parent); err != nil {
			return areaWriteError(err)
		}
		return nil
	},
}

// ListAreas returns a page of areas, active or not, whose name or code
// contains q, highest level first, and how many match in all.
func (db *DB) ListAreas(ctx context.Context, q string, limit, offset int) ([]registry.Area, int, error) {
	rows, total, err := areaKind.list(ctx, db, q, limit, offset)
	return convertRows(rows, regArea.area), total, err
}

// AreaByID returns an area, active or not.
func (db *DB) AreaByID(ctx context.Context, id int64) (registry.Area, error) {
	r, err := areaKind.get(ctx, db, id)
	return r.area(), err
}

// CreateArea adds an active area under a.Parent (by code; "" for the top).
func (db *DB) CreateArea(ctx context.Context, actor access.User, a registry.Area) (registry.Area, error) {
	r, err := areaKind.create(ctx, db, actor, newRegArea(a))
	return r.area(), err
}

// UpdateArea rewrites the area with a.ID; a.Active is ignored.
func (db *DB) UpdateArea(ctx context.Context, actor access.User, a registry.Area) (registry.Area, error) {
	r, err := areaKind.change(ctx, db, actor, a.ID, newRegArea(a))
	return r.area(), err
}

// SetAreaActive activates or deactivates an area. Cases climb past an
// inactive area as past one without supervisors.
func (db *DB) SetAreaActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Area, error) {
	r, err := areaKind.setActive(ctx, db, actor, id, active)
	return r.area(), err
}

// ImportAreas upserts areas by code in one transaction (rolled back when
// dryRun). A parent is named by code and must be stored already or be in
// the file: rows are written from the highest level down, whatever the
// file's order.
func (db *DB) ImportAreas(ctx context.Context, actor access.User, as []registry.Area, dryRun bool) (created, updated int, err error) {
	rows := convertRows(as, newRegArea)
	rank := func(level string) int { return len(registry.Levels) - slices.Index(registry.Levels, level) }
	slices.SortStableFunc(rows, func(a, b regArea) int { return rank(b.Level) - rank(a.Level) })
	return areaKind.load(ctx, db, actor, rows, dryRun)
}

// UnknownAreas returns those of codes that no area, active or not, has.
func (db *DB) UnknownAreas(ctx context.Context, codes []string) ([]string, error) {
	return unknownKeys(ctx, db.db, "areas", "code", codes)
}
