package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The registry as county administrators edit it through the admin API:
// lists with search and paging, creates and updates audited in the
// transaction that makes them, deactivation rather than deletion (reports
// point at directors and children), and CSV imports that write every row or
// none.
//
// Errors: an unknown id wraps menus.ErrNotFound; a phone, code, or child and
// scheme that another record holds wraps menus.ErrConflict; a director or
// child that a record names but that does not exist is a
// *menus.ValidationError naming the field. None of them quotes a phone or a
// name.
//
// A write that would change nothing writes nothing: no updated_at bump and
// no audit entry. Imports upsert by phone, code, or child and scheme; they
// create records active and leave the active flag of existing ones alone,
// so re-importing a roster does not bring back someone who was deactivated.

// errRegDryRun rolls back an import that was only a rehearsal.
var errRegDryRun = errors.New("storage: dry run")

// regLikeEscaper makes a search text match itself only under ILIKE, whose
// default escape character is the backslash.
var regLikeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// regRow is what the generic operations ask of a registry row type.
type regRow[R any] interface {
	ident() int64
	// objectID names the record in the audit log: its phone or code.
	objectID() string
	isActive() bool
	// same reports whether writing w over the record would change nothing;
	// w's id and active flag do not count.
	same(w R) bool
}

// regKind is one kind of registry record, R being its row type. The SQL
// fragments are constants; the row alias is always r.
type regKind[R regRow[R]] struct {
	noun  string // audit object type and action prefix: "director"
	table string
	cols  string // the select list
	from  string
	// search is a condition on $2, the ILIKE pattern of the search text.
	search string
	order  string
	// key selects the record with the natural key that keyArgs gives;
	// keyCols are the key's columns, in keyArgs' order.
	key     string
	keyCols []string
	keyArgs func(R) []any
	insert  func(ctx context.Context, tx *sqlx.Tx, w R) (int64, error)
	update  func(ctx context.Context, tx *sqlx.Tx, before, w R) error
	// diff, when set, turns a change into what the audit log records.
	diff func(before, after R) (any, any)
}

func (k regKind[R]) list(ctx context.Context, db *DB, q string, limit, offset int) ([]R, int, error) {
	q = strings.TrimSpace(clean(q))
	pattern := "%" + regLikeEscaper.Replace(q) + "%"
	where := ` WHERE ($1 = '' OR ` + k.search + `)`
	var total int
	if err := db.db.GetContext(ctx, &total, `SELECT count(*) FROM `+k.from+where, q, pattern); err != nil {
		return nil, 0, fmt.Errorf("count %s records: %w", k.noun, err)
	}
	rows := []R{}
	query := `SELECT ` + k.cols + ` FROM ` + k.from + where + ` ORDER BY ` + k.order + ` LIMIT $3 OFFSET $4`
	if err := db.db.SelectContext(ctx, &rows, query, q, pattern, limit, offset); err != nil {
		return nil, 0, fmt.Errorf("list %s records: %w", k.noun, err)
	}
	return rows, total, nil
}

// byID reads a record, locked for an update when lock is set.
func (k regKind[R]) byID(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (R, error) {
	query := `SELECT ` + k.cols + ` FROM ` + k.from + ` WHERE r.id = $1`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	var r R
	err := sqlx.GetContext(ctx, q, &r, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%s %d: %w", k.noun, id, menus.ErrNotFound)
	}
	return r, err
}

// byKey reads and locks the record with w's natural key.
func (k regKind[R]) byKey(ctx context.Context, tx *sqlx.Tx, w R) (R, bool, error) {
	var r R
	err := tx.GetContext(ctx, &r, `SELECT `+k.cols+` FROM `+k.from+` WHERE `+k.key+` FOR UPDATE OF r`, k.keyArgs(w)...)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

func (k regKind[R]) get(ctx context.Context, db *DB, id int64) (R, error) {
	r, err := k.byID(ctx, db.db, id, false)
	if err != nil {
		return r, fmt.Errorf("get %w", err)
	}
	return r, nil
}

// record writes the audit entry of a change; before is nil for a create.
func (k regKind[R]) record(ctx context.Context, tx *sqlx.Tx, actor access.User, verb string, before *R, after R) error {
	e := access.AuditEntry{Actor: actor, Action: k.noun + "." + verb, ObjectType: k.noun, ObjectID: after.objectID(), After: after}
	if before != nil {
		e.Before = *before
		if k.diff != nil {
			e.Before, e.After = k.diff(*before, after)
		}
	}
	return audit(ctx, tx, e)
}

// registryTx is inTx for registry writes: once one commits, this
// process's caller cache is dropped at once (other processes hear of it
// from the trigger's notification).
func (db *DB) registryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	if err := db.inTx(ctx, fn); err != nil {
		return err
	}
	db.registryChanged()
	return nil
}

func (k regKind[R]) create(ctx context.Context, db *DB, actor access.User, w R) (R, error) {
	var after R
	err := db.registryTx(ctx, func(tx *sqlx.Tx) error {
		id, err := k.insert(ctx, tx, w)
		if err != nil {
			return err
		}
		if after, err = k.byID(ctx, tx, id, false); err != nil {
			return err
		}
		return k.record(ctx, tx, actor, "create", nil, after)
	})
	if err != nil {
		return after, fmt.Errorf("create %s: %w", k.noun, err)
	}
	return after, nil
}

func (k regKind[R]) change(ctx context.Context, db *DB, actor access.User, id int64, w R) (R, error) {
	var after R
	err := db.registryTx(ctx, func(tx *sqlx.Tx) error {
		before, err := k.byID(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if after = before; before.same(w) {
			return nil
		}
		if err := k.update(ctx, tx, before, w); err != nil {
			return err
		}
		if after, err = k.byID(ctx, tx, id, false); err != nil {
			return err
		}
		return k.record(ctx, tx, actor, "update", &before, after)
	})
	if err != nil {
		return after, fmt.Errorf("update %s: %w", k.noun, err)
	}
	return after, nil
}

func (k regKind[R]) setActive(ctx context.Context, db *DB, actor access.User, id int64, active bool) (R, error) {
	verb := "deactivate"
	if active {
		verb = "activate"
	}
	var after R
	err := db.registryTx(ctx, func(tx *sqlx.Tx) error {
		before, err := k.byID(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if after = before; before.isActive() == active {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+k.table+` SET active = $2, updated_at = now() WHERE id = $1`, id, active); err != nil {
			return err
		}
		if after, err = k.byID(ctx, tx, id, false); err != nil {
			return err
		}
		return k.record(ctx, tx, actor, verb, &before, after)
	})
	if err != nil {
		return after, fmt.Errorf("%s %s: %w", verb, k.noun, err)
	}
	return after, nil
}

// load upserts rows by their natural key in one transaction, audited row
// by row, and counts what it created and updated; rows that would change
// nothing are left alone. A dry run does the same and rolls back.
func (k regKind[R]) load(ctx context.Context, db *DB, actor access.User, rows []R, dryRun bool) (created, updated int, err error) {
	err = db.registryTx(ctx, func(tx *sqlx.Tx) error {
		// The records the rows name, read and locked in one query rather
		// than one a row: an import of 10,000 rows was 10,000 round trips
		// before it wrote anything.
		stored, err := k.byKeys(ctx, tx, rows)
		if err != nil {
			return err
		}
		type change struct {
			verb   string
			id     int64
			before *R
		}
		var changes []change
		written := make(map[string]bool)
		for i, w := range rows {
			key := k.keyOf(w)
			before, found := stored[key]
			if written[key] {
				// The file names this record twice: read what the row
				// before wrote.
				if before, found, err = k.byKey(ctx, tx, w); err != nil {
					return fmt.Errorf("row %d: %w", i+1, err)
				}
			}
			switch {
			case !found:
				id, err := k.insert(ctx, tx, w)
				if err != nil {
					return fmt.Errorf("row %d: %w", i+1, err)
				}
				changes = append(changes, change{verb: "create", id: id})
				created++
			case !before.same(w):
				if err := k.update(ctx, tx, before, w); err != nil {
					return fmt.Errorf("row %d: %w", i+1, err)
				}
				changes = append(changes, change{verb: "update", id: before.ident(), before: &before})
				updated++
			default:
				continue
			}
			written[key] = true
		}
		// Every change is audited with the record as it was written, read
		// back in one query. A record the file names twice is audited twice
		// with its final state.
		ids := make([]int64, len(changes))
		for i, c := range changes {
			ids[i] = c.id
		}
		after, err := k.byIDs(ctx, tx, ids)
		if err != nil {
			return err
		}
		entries := make([]access.AuditEntry, 0, len(changes))
		for _, c := range changes {
			a, ok := after[c.id]
			if !ok {
				return fmt.Errorf("%s %d vanished during the import", k.noun, c.id)
			}
			e := access.AuditEntry{Actor: actor, Action: k.noun + "." + c.verb, ObjectType: k.noun, ObjectID: a.objectID(), After: a}
			if c.before != nil {
				e.Before = *c.before
				if k.diff != nil {
					e.Before, e.After = k.diff(*c.before, a)
				}
			}
			entries = append(entries, e)
		}
		if err := auditMany(ctx, tx, entries); err != nil {
			return err
		}
		if dryRun {
			return errRegDryRun
		}
		return nil
	})
	if errors.Is(err, errRegDryRun) {
		err = nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("import %s records: %w", k.noun, err)
	}
	return created, updated, nil
}

// keyOf is w's natural key as one map key.
func (k regKind[R]) keyOf(w R) string {
	args := k.keyArgs(w)
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
	}
	return strings.Join(parts, "\x00")
}

// byKeys reads and locks the records with the natural keys of rows, by key.
func (k regKind[R]) byKeys(ctx context.Context, tx *sqlx.Tx, rows []R) (map[string]R, error) {
	cols := make([][]string, len(k.keyCols))
	for _, w := range rows {
		for i, a := range k.keyArgs(w) {
			cols[i] = append(cols[i], fmt.Sprint(a))
		}
	}
	args := make([]any, len(cols))
	params := make([]string, len(cols))
	for i := range cols {
		args[i] = pq.Array(cols[i])
		params[i] = fmt.Sprintf("$%d::text[]", i+1)
	}
	query := `SELECT ` + k.cols + ` FROM ` + k.from + `
WHERE (` + strings.Join(k.keyCols, ", ") + `) IN (SELECT * FROM unnest(` + strings.Join(params, ", ") + `))
FOR UPDATE OF r`
	var found []R
	if err := tx.SelectContext(ctx, &found, query, args...); err != nil {
		return nil, fmt.Errorf("read %s records: %w", k.noun, err)
	}
	out := make(map[string]R, len(found))
	for _, r := range found {
		out[k.keyOf(r)] = r
	}
	return out, nil
}

// byIDs reads the records with ids, by id.
func (k regKind[R]) byIDs(ctx context.Context, tx *sqlx.Tx, ids []int64) (map[int64]R, error) {
	out := make(map[int64]R, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var found []R
	if err := tx.SelectContext(ctx, &found, `SELECT `+k.cols+` FROM `+k.from+` WHERE r.id = ANY ($1::bigint[])`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("read %s records back: %w", k.noun, err)
	}
	for _, r := range found {
		out[r.ident()] = r
	}
	return out, nil
}

// regUniqueOr turns a unique violation of constraint into menus.ErrConflict.
func regUniqueOr(err error, constraint, what string) error {
	if isUnique(err, constraint) {
		return fmt.Errorf("%s is taken: %w", what, menus.ErrConflict)
	}
	return err
}

// fieldProblem is a validation error of one field.
func fieldProblem(field, message string) error {
	return &menus.ValidationError{Problems: []menus.Problem{{Field: field, Message: message}}}
}

// missingKeys returns the positions in keys of those that no row of table
// holds in column.
func missingKeys(ctx context.Context, q sqlx.QueryerContext, table, column string, keys []string) ([]int, error) {
	query := `
SELECT u.n - 1 FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n)
WHERE NOT EXISTS (SELECT 1 FROM ` + table + ` t WHERE t.` + column + ` = u.k)
ORDER BY u.n`
	var at []int
	if err := sqlx.SelectContext(ctx, q, &at, query, pq.Array(keys)); err != nil {
		return nil, fmt.Errorf("check %s: %w", table, err)
	}
	return at, nil
}

// unknownKeys returns those of keys, once each, that no row of table holds
// in column.
func unknownKeys(ctx context.Context, q sqlx.QueryerContext, table, column string, keys []string) ([]string, error) {
	at, err := missingKeys(ctx, q, table, column, keys)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, i := range at {
		if !slices.Contains(out, keys[i]) {
			out = append(out, keys[i])
		}
	}
	return out, nil
}

// UnknownDirectors returns those of phones that no director, active or
// not, has.
func (db *DB) UnknownDirectors(ctx context.Context, phones []string) ([]string, error) {
	return unknownKeys(ctx, db.db, "directors", "phone", phones)
}

// UnknownChildren returns those of codes that no child, active or not, has.
func (db *DB) UnknownChildren(ctx context.Context, codes []string) ([]string, error) {
	return unknownKeys(ctx, db.db, "children", "code", codes)
}

// convertRows maps a slice.
func convertRows[R, T any](rows []R, f func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}

// regDateText is a calendar date as YYYY-MM-DD, or "" for the zero time.
func regDateText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// regDateOf reads a date written by regDateText or to_char.
func regDateOf(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

// Directors.

type regDirector struct {
	ID       int64  `db:"id" json:"id"`
	Phone    string `db:"phone" json:"phone"`
	Name     string `db:"name" json:"name"`
	Language string `db:"language" json:"language"`
	Village  string `db:"village" json:"village"`
	County   string `db:"county" json:"county"`
	Area     string `db:"area" json:"area"`
	Active   bool   `db:"active" json:"active"`
}

func (r regDirector) ident() int64                { return r.ID }
func (r regDirector) objectID() string            { return r.Phone }
func (r regDirector) isActive() bool              { return r.Active }
func (r regDirector) director() registry.Director { return registry.Director(r) }
func (r regDirector) same(w regDirector) bool {
	w.ID, w.Active = r.ID, r.Active
	if w.Area == "" {
		w.Area = r.Area
	}
	return r == w
}
func newRegDirector(d registry.Director) regDirector {
	return regDirector{Phone: clean(d.Phone), Name: clean(d.Name), Language: clean(d.Language), Village: clean(d.Village), County: clean(d.County), Area: clean(d.Area)}
}

var directorKind = regKind[regDirector]{
	noun: "director", table: "directors",
	cols:   `r.id, r.phone, r.name, r.language, r.village, r.county, ` + areaCodeCol + `, r.active`,
	from:   `directors r`,
	search: `r.name ILIKE $2 OR r.phone ILIKE $2`,
	order:  `r.name, r.id`,
	key:    `r.phone = $1`, keyCols: []string{"r.phone"},
	keyArgs: func(w regDirector) []any { return []any{w.Phone} },
	insert: func(ctx context.Context, tx *sqlx.Tx, w regDirector) (int64, error) {
		area, err := areaLink(ctx, tx, w.Area, registry.LevelVillage)
		if err != nil {
			return 0, err
		}
		const q = `INSERT INTO directors (phone, name, language, village, county, area_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
		var id int64
		err = tx.GetContext(ctx, &id, q, w.Phone, w.Name, w.Language, w.Village, w.County, area)
		return id, regUniqueOr(err, "directors_phone_key", "phone")
	},
	update: func(ctx context.Context, tx *sqlx.Tx, before, w regDirector) error {
		area, err := areaLink(ctx, tx, w.Area, registry.LevelVillage)
		if err != nil {
			return err
		}
		const q = `
UPDATE directors SET phone = $2, name = $3, language = $4, village = $5, county = $6, area_id = COALESCE($7, area_id), updated_at = now()
WHERE id = $1`
		_, err = tx.ExecContext(ctx, q, before.ID, w.Phone, w.Name, w.Language, w.Village, w.County, area)
		return regUniqueOr(err, "directors_phone_key", "phone")
	},
}

// ListDirectors returns a page of directors, active or not, whose name or
// phone contains q (any case; every director when q is empty), by name,
// and how many match in all.
func (db *DB) ListDirectors(ctx context.Context, q string, limit, offset int) ([]registry.Director, int, error) {
	rows, total, err := directorKind.list(ctx, db, q, limit, offset)
	return convertRows(rows, regDirector.director), total, err
}

// DirectorByID returns a director, active or not.
func (db *DB) DirectorByID(ctx context.Context, id int64) (registry.Director, error) {
	r, err := directorKind.get(ctx, db, id)
	return r.director(), err
}

// CreateDirector adds an active director. d.ID and d.Active are ignored.
func (db *DB) CreateDirector(ctx context.Context, actor access.User, d registry.Director) (registry.Director, error) {
	r, err := directorKind.create(ctx, db, actor, newRegDirector(d))
	return r.director(), err
}

// UpdateDirector rewrites the director with d.ID; d.Active is ignored.
func (db *DB) UpdateDirector(ctx context.Context, actor access.User, d registry.Director) (registry.Director, error) {
	r, err := directorKind.change(ctx, db, actor, d.ID, newRegDirector(d))
	return r.director(), err
}

// SetDirectorActive activates or deactivates a director. An inactive
// director cannot dial in; their reports and children stay.
func (db *DB) SetDirectorActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Director, error) {
	r, err := directorKind.setActive(ctx, db, actor, id, active)
	return r.director(), err
}

// ImportDirectors upserts directors by phone in one transaction (rolled
// back when dryRun) and returns how many it created and updated.
func (db *DB) ImportDirectors(ctx context.Context, actor access.User, ds []registry.Director, dryRun bool) (created, updated int, err error) {
	return directorKind.load(ctx, db, actor, convertRows(ds, newRegDirector), dryRun)
}

// Children.

type regChild struct {
	ID        int64          `db:"id" json:"id"`
	Code      string         `db:"code" json:"code"`
	Name      string         `db:"name" json:"name"`
	BirthDate string         `db:"birth_date" json:"birth_date"` // "" when unknown
	Village   string         `db:"village" json:"village"`
	County    string         `db:"county" json:"county"`
	Directors pq.StringArray `db:"directors" json:"directors"`
	Area      string         `db:"area" json:"area"`
	Active    bool           `db:"active" json:"active"`
}

func (r regChild) ident() int64     { return r.ID }
func (r regChild) objectID() string { return r.Code }
func (r regChild) isActive() bool   { return r.Active }
func (r regChild) same(w regChild) bool {
	return r.Code == w.Code && r.Name == w.Name && r.BirthDate == w.BirthDate && r.Village == w.Village &&
		r.County == w.County && slices.Equal(r.Directors, w.Directors) && (w.Area == "" || w.Area == r.Area)
}

func (r regChild) record() registry.ChildRecord {
	c := registry.ChildRecord{
		Child:     registry.Child{ID: r.ID, Code: r.Code, Name: r.Name, BirthDate: regDateOf(r.BirthDate), Village: r.Village, County: r.County, Area: r.Area, Active: r.Active},
		Directors: []string(r.Directors),
	}
	if len(c.Directors) > 0 {
		c.DirectorPhone = c.Directors[0]
	}
	return c
}

// newRegChild orders the directors as they are read back: the responsible
// one first, the others by phone, each once. Without Directors, the child's
// DirectorPhone is its only director.
func newRegChild(c registry.ChildRecord) regChild {
	phones := c.Directors
	if len(phones) == 0 && c.DirectorPhone != "" {
		phones = []string{c.DirectorPhone}
	}
	var directors pq.StringArray
	for i, p := range phones {
		if p = clean(p); i == 0 || !slices.Contains(directors, p) {
			directors = append(directors, p)
		}
	}
	if len(directors) > 1 {
		rest := slices.Compact(slices.Sorted(slices.Values(directors[1:])))
		directors = append(directors[:1], rest...)
	}
	return regChild{Code: clean(c.Code), Name: clean(c.Name), BirthDate: regDateText(c.BirthDate), Village: clean(c.Village), County: clean(c.County), Directors: directors, Area: clean(c.Area)}
}

var childKind = regKind[regChild]{
	noun: "child", table: "children",
	cols: `r.id, r.code, r.name, COALESCE(to_char(r.birth_date, 'YYYY-MM-DD'), '') AS birth_date, r.village, r.county, r.active, ` + areaCodeCol + `,
       ARRAY(SELECT d.phone FROM child_directors cd JOIN directors d ON d.id = cd.director_id
             WHERE cd.child_id = r.id ORDER BY d.id <> r.director_id, d.phone COLLATE "C") AS directors`,
	from: `children r`,
	search: `r.name ILIKE $2 OR r.code ILIKE $2 OR EXISTS (
    SELECT 1 FROM child_directors cd JOIN directors d ON d.id = cd.director_id WHERE cd.child_id = r.id AND d.phone ILIKE $2)`,
	order: `r.code COLLATE "C"`,
	key:   `r.code = $1`, keyCols: []string{"r.code"},
	keyArgs: func(w regChild) []any { return []any{w.Code} },
	insert: func(ctx context.Context, tx *sqlx.Tx, w regChild) (int64, error) {
		if len(w.Directors) == 0 {
			_, err := directorIDs(ctx, tx, w.Directors)
			return 0, err
		}
		area, err := areaLink(ctx, tx, w.Area, registry.LevelVillage)
		if err != nil {
			return 0, err
		}
		// The child and its directors in one statement, as an import runs
		// it once a row; it inserts nothing when a phone is no director's.
		const q = `
WITH ids AS (
    SELECT d.id, u.n FROM unnest($6::text[]) WITH ORDINALITY AS u(phone, n)
    JOIN directors d ON d.phone = u.phone
), child AS (
    INSERT INTO children (code, name, birth_date, village, county, director_id, area_id)
    SELECT $1, $2, CAST(NULLIF($3, '') AS date), $4, $5, (SELECT id FROM ids WHERE n = 1), $7::bigint
    WHERE (SELECT count(*) FROM ids) = cardinality($6::text[])
    RETURNING id
), assigned AS (
    INSERT INTO child_directors (child_id, director_id)
    SELECT DISTINCT child.id, ids.id FROM child, ids
)
SELECT id FROM child`
		var id int64
		err = tx.GetContext(ctx, &id, q, w.Code, w.Name, w.BirthDate, w.Village, w.County, w.Directors, area)
		if errors.Is(err, sql.ErrNoRows) {
			// Which phone is no director's, as a validation error.
			if _, err := directorIDs(ctx, tx, w.Directors); err != nil {
				return 0, err
			}
			return 0, errors.New("insert child: directors changed during the insert")
		}
		if err != nil {
			return 0, regUniqueOr(err, "children_code_key", "code")
		}
		return id, nil
	},
	update: func(ctx context.Context, tx *sqlx.Tx, before, w regChild) error {
		ids, err := directorIDs(ctx, tx, w.Directors)
		if err != nil {
			return err
		}
		area, err := areaLink(ctx, tx, w.Area, registry.LevelVillage)
		if err != nil {
			return err
		}
		const q = `
UPDATE children SET code = $2, name = $3, birth_date = CAST(NULLIF($4, '') AS date), village = $5, county = $6,
    director_id = $7, area_id = COALESCE($8, area_id), updated_at = now()
WHERE id = $1`
		if _, err := tx.ExecContext(ctx, q, before.ID, w.Code, w.Name, w.BirthDate, w.Village, w.County, ids[0], area); err != nil {
			return regUniqueOr(err, "children_code_key", "code")
		}
		if slices.Equal(before.Directors, w.Directors) {
			return nil // the usual update: the same directors
		}
		return assignTx(ctx, tx, before.ID, ids)
	},
}

// directorIDs resolves phones to director ids, in order. A phone no
// director has is a validation error pointing at it.
func directorIDs(ctx context.Context, tx *sqlx.Tx, phones []string) ([]int64, error) {
	if len(phones) == 0 {
		return nil, fieldProblem("directors", "a child needs at least one director")
	}
	const q = `
SELECT d.id FROM unnest($1::text[]) WITH ORDINALITY AS u(phone, n)
LEFT JOIN directors d ON d.phone = u.phone
ORDER BY u.n`
	var ids []sql.NullInt64
	if err := tx.SelectContext(ctx, &ids, q, pq.Array(phones)); err != nil {
		return nil, fmt.Errorf("directors: %w", err)
	}
	out := make([]int64, len(ids))
	var problems []menus.Problem
	for i, id := range ids {
		if !id.Valid {
			problems = append(problems, menus.Problem{Field: fmt.Sprintf("directors[%d]", i), Message: "no director has this phone"})
		}
		out[i] = id.Int64
	}
	if problems != nil {
		return nil, &menus.ValidationError{Problems: problems}
	}
	return out, nil
}

// assignTx makes ids exactly the directors assigned to a child. It is
// AssignChild's work inside the caller's transaction.
func assignTx(ctx context.Context, tx *sqlx.Tx, childID int64, ids []int64) error {
	const qDelete = `DELETE FROM child_directors WHERE child_id = $1 AND NOT director_id = ANY ($2::bigint[])`
	if _, err := tx.ExecContext(ctx, qDelete, childID, pq.Array(ids)); err != nil {
		return fmt.Errorf("unassign directors: %w", err)
	}
	const qInsert = `INSERT INTO child_directors (child_id, director_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`
	if _, err := tx.ExecContext(ctx, qInsert, childID, pq.Array(ids)); err != nil {
		return fmt.Errorf("assign directors: %w", err)
	}
	return nil
}

// ListChildren returns a page of children, active or not, whose name or
// code or one of whose directors' phones contains q, by code.
func (db *DB) ListChildren(ctx context.Context, q string, limit, offset int) ([]registry.ChildRecord, int, error) {
	rows, total, err := childKind.list(ctx, db, q, limit, offset)
	return convertRows(rows, regChild.record), total, err
}

// ChildByID returns a child, active or not, with its directors.
func (db *DB) ChildByID(ctx context.Context, id int64) (registry.ChildRecord, error) {
	r, err := childKind.get(ctx, db, id)
	return r.record(), err
}

// CreateChild adds an active child assigned to c.Directors, the first
// responsible for it.
func (db *DB) CreateChild(ctx context.Context, actor access.User, c registry.ChildRecord) (registry.ChildRecord, error) {
	r, err := childKind.create(ctx, db, actor, newRegChild(c))
	return r.record(), err
}

// UpdateChild rewrites the child with c.ID and makes c.Directors exactly
// its directors; c.Active is ignored.
func (db *DB) UpdateChild(ctx context.Context, actor access.User, c registry.ChildRecord) (registry.ChildRecord, error) {
	r, err := childKind.change(ctx, db, actor, c.ID, newRegChild(c))
	return r.record(), err
}

// SetChildActive activates or deactivates a child. Directors no longer see
// an inactive child in their menus; its reports stay.
func (db *DB) SetChildActive(ctx context.Context, actor access.User, id int64, active bool) (registry.ChildRecord, error) {
	r, err := childKind.setActive(ctx, db, actor, id, active)
	return r.record(), err
}

// ImportChildren upserts children by code, with their directors, in one
// transaction (rolled back when dryRun).
func (db *DB) ImportChildren(ctx context.Context, actor access.User, cs []registry.ChildRecord, dryRun bool) (created, updated int, err error) {
	return childKind.load(ctx, db, actor, convertRows(cs, newRegChild), dryRun)
}

// Guardians.

type regGuardian struct {
	ID         int64          `db:"id" json:"id"`
	Phone      string         `db:"phone" json:"phone"`
	Name       string         `db:"name" json:"name"`
	Language   string         `db:"language" json:"language"`
	Children   pq.StringArray `db:"children" json:"children"`
	Active     bool           `db:"active" json:"active"`
	SecretSet  bool           `db:"secret_set" json:"status_secret_set"`
	SecretHash sql.NullString `db:"status_secret_hash" json:"-"`
	// Secret is a new status secret to store; it is never read back.
	Secret string `db:"-" json:"-"`
}

func (r regGuardian) ident() int64     { return r.ID }
func (r regGuardian) objectID() string { return r.Phone }
func (r regGuardian) isActive() bool   { return r.Active }
func (r regGuardian) same(w regGuardian) bool {
	return r.Phone == w.Phone && r.Name == w.Name && r.Language == w.Language && slices.Equal(r.Children, w.Children) &&
		(w.Secret == "" || (r.SecretHash.Valid && r.SecretHash.String == secretHash(w.Phone, w.Secret)))
}

func (r regGuardian) guardian() registry.Guardian {
	return registry.Guardian{ID: r.ID, Phone: r.Phone, Name: r.Name, Language: r.Language, Children: []string(r.Children), Active: r.Active}
}

func newRegGuardian(g registry.Guardian) regGuardian {
	var codes pq.StringArray
	for _, c := range g.Children {
		codes = append(codes, clean(c))
	}
	slices.Sort(codes)
	return regGuardian{Phone: clean(g.Phone), Name: clean(g.Name), Language: clean(g.Language), Children: slices.Compact(codes), Secret: clean(g.StatusSecret)}
}

// newHash is the hash to store for r's secret, or nil to keep the stored one.
func (r regGuardian) newHash() *string {
	if r.Secret == "" {
		return nil
	}
	h := secretHash(r.Phone, r.Secret)
	return &h
}

var guardianKind = regKind[regGuardian]{
	noun: "guardian", table: "guardians",
	cols: `r.id, r.phone, r.name, r.language, r.active, r.status_secret_hash, r.status_secret_hash IS NOT NULL AS secret_set,
       ARRAY(SELECT c.code FROM child_guardians cg JOIN children c ON c.id = cg.child_id
             WHERE cg.guardian_id = r.id ORDER BY c.code COLLATE "C") AS children`,
	from: `guardians r`,
	search: `r.name ILIKE $2 OR r.phone ILIKE $2 OR EXISTS (
    SELECT 1 FROM child_guardians cg JOIN children c ON c.id = cg.child_id WHERE cg.guardian_id = r.id AND c.code ILIKE $2)`,
	order: `r.name, r.id`,
	key:   `r.phone = $1`, keyCols: []string{"r.phone"},
	keyArgs: func(w regGuardian) []any { return []any{w.Phone} },
	insert: func(ctx context.Context, tx *sqlx.Tx, w regGuardian) (int64, error) {
		if err := knownChildren(ctx, tx, w.Children); err != nil {
			return 0, err
		}
		const q = `INSERT INTO guardians (phone, name, language, status_secret_hash) VALUES ($1, $2, $3, $4) RETURNING id`
		var id int64
		if err := tx.GetContext(ctx, &id, q, w.Phone, w.Name, w.Language, w.newHash()); err != nil {
			return 0, regUniqueOr(err, "guardians_phone_key", "phone")
		}
		return id, replaceGuardianChildren(ctx, tx, id, w.Children)
	},
	update: func(ctx context.Context, tx *sqlx.Tx, before, w regGuardian) error {
		if err := knownChildren(ctx, tx, w.Children); err != nil {
			return err
		}
		const q = `
UPDATE guardians SET phone = $2, name = $3, language = $4, status_secret_hash = COALESCE($5, status_secret_hash), updated_at = now()
WHERE id = $1`
		if _, err := tx.ExecContext(ctx, q, before.ID, w.Phone, w.Name, w.Language, w.newHash()); err != nil {
			return regUniqueOr(err, "guardians_phone_key", "phone")
		}
		// The stored hash binds the secret to the phone (secretHash): a new
		// number needs the secret again, or STATUS would stop working. (A
		// taken phone is the conflict it is, whatever the secret.)
		if w.Phone != before.Phone && before.SecretHash.Valid && w.Secret == "" {
			return fieldProblem("status_secret", "the secret is bound to the phone number: give it again with a new phone")
		}
		return replaceGuardianChildren(ctx, tx, before.ID, w.Children)
	},
	// The audit log holds no secret nor its hash (a few digits are quickly
	// found from a hash), only that it changed.
	diff: func(before, after regGuardian) (any, any) {
		if before.SecretHash.Valid && after.SecretHash != before.SecretHash {
			return before, struct {
				regGuardian
				Changed bool `json:"status_secret_changed"`
			}{after, true}
		}
		return before, after
	},
}

// knownChildren is a validation error pointing at each code no child has.
func knownChildren(ctx context.Context, tx *sqlx.Tx, codes []string) error {
	at, err := missingKeys(ctx, tx, "children", "code", codes)
	if err != nil || len(at) == 0 {
		return err
	}
	v := &menus.ValidationError{}
	for _, i := range at {
		v.Problems = append(v.Problems, menus.Problem{Field: fmt.Sprintf("children[%d]", i), Message: "no child has this code"})
	}
	return v
}

// ListGuardians returns a page of guardians, active or not, whose name or
// phone or one of whose children's codes contains q, by name.
func (db *DB) ListGuardians(ctx context.Context, q string, limit, offset int) ([]registry.Guardian, int, error) {
	rows, total, err := guardianKind.list(ctx, db, q, limit, offset)
	return convertRows(rows, regGuardian.guardian), total, err
}

// GuardianByID returns a guardian, active or not, with their children's
// codes. The status secret is never returned.
func (db *DB) GuardianByID(ctx context.Context, id int64) (registry.Guardian, error) {
	r, err := guardianKind.get(ctx, db, id)
	return r.guardian(), err
}

// CreateGuardian adds an active guardian of g.Children, with g.StatusSecret
// when set.
func (db *DB) CreateGuardian(ctx context.Context, actor access.User, g registry.Guardian) (registry.Guardian, error) {
	r, err := guardianKind.create(ctx, db, actor, newRegGuardian(g))
	return r.guardian(), err
}

// UpdateGuardian rewrites the guardian with g.ID and makes g.Children
// exactly their children. An empty g.StatusSecret keeps the stored one,
// which a new phone number invalidates: changing the phone of a guardian
// with a secret needs the secret again.
func (db *DB) UpdateGuardian(ctx context.Context, actor access.User, g registry.Guardian) (registry.Guardian, error) {
	r, err := guardianKind.change(ctx, db, actor, g.ID, newRegGuardian(g))
	return r.guardian(), err
}

// SetGuardianActive activates or deactivates a guardian.
func (db *DB) SetGuardianActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Guardian, error) {
	r, err := guardianKind.setActive(ctx, db, actor, id, active)
	return r.guardian(), err
}

// ImportGuardians upserts guardians by phone, with their children, in one
// transaction (rolled back when dryRun).
func (db *DB) ImportGuardians(ctx context.Context, actor access.User, gs []registry.Guardian, dryRun bool) (created, updated int, err error) {
	return guardianKind.load(ctx, db, actor, convertRows(gs, newRegGuardian), dryRun)
}

// Allowances.

type regAllowance struct {
	ID          int64  `db:"id" json:"id"`
	ChildCode   string `db:"child_code" json:"child"`
	ChildName   string `db:"child_name" json:"-"`
	Scheme      string `db:"scheme" json:"scheme"`
	Status      string `db:"status" json:"status"`
	MonthlyYuan int    `db:"monthly_yuan" json:"monthly_yuan"`
	LastPaid    string `db:"last_paid" json:"last_paid"`
	NextPayment string `db:"next_payment" json:"next_payment"`
	Active      bool   `db:"active" json:"active"`
}

func (r regAllowance) ident() int64     { return r.ID }
func (r regAllowance) objectID() string { return r.ChildCode + ":" + r.Scheme }
func (r regAllowance) isActive() bool   { return r.Active }
func (r regAllowance) same(w regAllowance) bool {
	w.ID, w.Active, w.ChildName = r.ID, r.Active, r.ChildName
	return r == w
}

func (r regAllowance) record() registry.AllowanceRecord {
	return registry.AllowanceRecord{
		Allowance: menus.Allowance{ChildCode: r.ChildCode, ChildName: r.ChildName, Scheme: r.Scheme, Status: r.Status,
			MonthlyYuan: r.MonthlyYuan, LastPaid: regDateOf(r.LastPaid), NextPayment: regDateOf(r.NextPayment)},
		ID: r.ID, Active: r.Active,
	}
}

func newRegAllowance(a registry.AllowanceRecord) regAllowance {
	return regAllowance{ChildCode: clean(a.ChildCode), Scheme: clean(a.Scheme), Status: clean(a.Status), MonthlyYuan: a.MonthlyYuan,
		LastPaid: regDateText(a.LastPaid), NextPayment: regDateText(a.NextPayment)}
}

// allowanceChild resolves the child an allowance is for.
func allowanceChild(ctx context.Context, tx *sqlx.Tx, code string) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `SELECT id FROM children WHERE code = $1`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fieldProblem("child", "no child has this code")
	}
	return id, err
}

var allowanceKind = regKind[regAllowance]{
	noun: "allowance", table: "allowances",
	cols: `r.id, c.code AS child_code, c.name AS child_name, r.scheme, r.status, r.monthly_yuan,
       COALESCE(to_char(r.last_paid, 'YYYY-MM-DD'), '') AS last_paid,
       COALESCE(to_char(r.next_payment, 'YYYY-MM-DD'), '') AS next_payment, r.active`,
	from:   `allowances r JOIN children c ON c.id = r.child_id`,
	search: `c.code ILIKE $2 OR c.name ILIKE $2`,
	order:  `c.code COLLATE "C", r.scheme`,
	key:    `c.code = $1 AND r.scheme = $2`, keyCols: []string{"c.code", "r.scheme"},
	keyArgs: func(w regAllowance) []any { return []any{w.ChildCode, w.Scheme} },
	insert: func(ctx context.Context, tx *sqlx.Tx, w regAllowance) (int64, error) {
		child, err := allowanceChild(ctx, tx, w.ChildCode)
		if err != nil {
			return 0, err
		}
		const q = `
INSERT INTO allowances (child_id, scheme, status, monthly_yuan, last_paid, next_payment)
VALUES ($1, $2, $3, $4, CAST(NULLIF($5, '') AS date), CAST(NULLIF($6, '') AS date)) RETURNING id`
		var id int64
		err = tx.GetContext(ctx, &id, q, child, w.Scheme, w.Status, w.MonthlyYuan, w.LastPaid, w.NextPayment)
		return id, regUniqueOr(err, "allowances_child_scheme_key", "the child's allowance under this scheme")
	},
	update: func(ctx context.Context, tx *sqlx.Tx, before, w regAllowance) error {
		child, err := allowanceChild(ctx, tx, w.ChildCode)
		if err != nil {
			return err
		}
		const q = `
UPDATE allowances SET child_id = $2, scheme = $3, status = $4, monthly_yuan = $5,
    last_paid = CAST(NULLIF($6, '') AS date), next_payment = CAST(NULLIF($7, '') AS date), updated_at = now()
WHERE id = $1`
		_, err = tx.ExecContext(ctx, q, before.ID, child, w.Scheme, w.Status, w.MonthlyYuan, w.LastPaid, w.NextPayment)
		return regUniqueOr(err, "allowances_child_scheme_key", "the child's allowance under this scheme")
	},
}

// ListAllowances returns a page of allowance records, active or not, whose
// child's code or name contains q, by child code and scheme.
func (db *DB) ListAllowances(ctx context.Context, q string, limit, offset int) ([]registry.AllowanceRecord, int, error) {
	rows, total, err := allowanceKind.list(ctx, db, q, limit, offset)
	return convertRows(rows, regAllowance.record), total, err
}

// AllowanceByID returns an allowance record, active or not.
func (db *DB) AllowanceByID(ctx context.Context, id int64) (registry.AllowanceRecord, error) {
	r, err := allowanceKind.get(ctx, db, id)
	return r.record(), err
}

// CreateAllowance adds an active allowance record; a.ChildName, a.ID and
// a.Active are ignored.
func (db *DB) CreateAllowance(ctx context.Context, actor access.User, a registry.AllowanceRecord) (registry.AllowanceRecord, error) {
	r, err := allowanceKind.create(ctx, db, actor, newRegAllowance(a))
	return r.record(), err
}

// UpdateAllowance rewrites the allowance record with a.ID.
func (db *DB) UpdateAllowance(ctx context.Context, actor access.User, a registry.AllowanceRecord) (registry.AllowanceRecord, error) {
	r, err := allowanceKind.change(ctx, db, actor, a.ID, newRegAllowance(a))
	return r.record(), err
}

// SetAllowanceActive activates or deactivates an allowance record.
func (db *DB) SetAllowanceActive(ctx context.Context, actor access.User, id int64, active bool) (registry.AllowanceRecord, error) {
	r, err := allowanceKind.setActive(ctx, db, actor, id, active)
	return r.record(), err
}

// ImportAllowances upserts allowance records by child and scheme in one
// transaction (rolled back when dryRun).
func (db *DB) ImportAllowances(ctx context.Context, actor access.User, as []registry.AllowanceRecord, dryRun bool) (created, updated int, err error) {
	return allowanceKind.load(ctx, db, actor, convertRows(as, newRegAllowance), dryRun)
}

// Supervisors.

type regSupervisor struct {
	ID       int64  `db:"id" json:"id"`
	Phone    string `db:"phone" json:"phone"`
	Name     string `db:"name" json:"name"`
	Language string `db:"language" json:"language"`
	County   string `db:"county" json:"county"`
	Area     string `db:"area" json:"area"`
	Active   bool   `db:"active" json:"active"`
}

func (r regSupervisor) ident() int64                    { return r.ID }
func (r regSupervisor) objectID() string                { return r.Phone }
func (r regSupervisor) isActive() bool                  { return r.Active }
func (r regSupervisor) supervisor() registry.Supervisor { return registry.Supervisor(r) }
func (r regSupervisor) same(w regSupervisor) bool {
	w.ID, w.Active = r.ID, r.Active
	if w.Area == "" {
		w.Area = r.Area
	}
	return r == w
}
func newRegSupervisor(s registry.Supervisor) regSupervisor {
	return regSupervisor{Phone: clean(s.Phone), Name: clean(s.Name), Language: clean(s.Language), County: clean(s.County), Area: clean(s.Area)}
}

var supervisorKind = regKind[regSupervisor]{
	noun: "supervisor", table: "supervisors",
	cols:   `r.id, r.phone, r.name, r.language, r.county, ` + areaCodeCol + `, r.active`,
	from:   `supervisors r`,
	search: `r.name ILIKE $2 OR r.phone ILIKE $2`,
	order:  `r.name, r.id`,
	key:    `r.phone = $1`, keyCols: []string{"r.phone"},
	keyArgs: func(w regSupervisor) []any { return []any{w.Phone} },
	insert: func(ctx context.Context, tx *sqlx.Tx, w regSupervisor) (int64, error) {
		area, err := areaLink(ctx, tx, w.Area, "")
		if err != nil {
			return 0, err
		}
		const q = `INSERT INTO supervisors (phone, name, language, county, area_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`
		var id int64
		err = tx.GetContext(ctx, &id, q, w.Phone, w.Name, w.Language, w.County, area)
		return id, regUniqueOr(err, "supervisors_phone_key", "phone")
	},
	update: func(ctx context.Context, tx *sqlx.Tx, before, w regSupervisor) error {
		area, err := areaLink(ctx, tx, w.Area, "")
		if err != nil {
			return err
		}
		const q = `
UPDATE supervisors SET phone = $2, name = $3, language = $4, county = $5, area_id = COALESCE($6, area_id), updated_at = now()
WHERE id = $1`
		_, err = tx.ExecContext(ctx, q, before.ID, w.Phone, w.Name, w.Language, w.County, area)
		return regUniqueOr(err, "supervisors_phone_key", "phone")
	},
}

// ListSupervisors returns a page of supervisors, active or not, whose name
// or phone contains q, by name.
func (db *DB) ListSupervisors(ctx context.Context, q string, limit, offset int) ([]registry.Supervisor, int, error) {
	rows, total, err := supervisorKind.list(ctx, db, q, limit, offset)
	return convertRows(rows, regSupervisor.supervisor), total, err
}

// SupervisorByID returns a supervisor, active or not.
func (db *DB) SupervisorByID(ctx context.Context, id int64) (registry.Supervisor, error) {
	r, err := supervisorKind.get(ctx, db, id)
	return r.supervisor(), err
}

// CreateSupervisor adds an active supervisor.
func (db *DB) CreateSupervisor(ctx context.Context, actor access.User, s registry.Supervisor) (registry.Supervisor, error) {
	r, err := supervisorKind.create(ctx, db, actor, newRegSupervisor(s))
	return r.supervisor(), err
}

// UpdateSupervisor rewrites the supervisor with s.ID.
func (db *DB) UpdateSupervisor(ctx context.Context, actor access.User, s registry.Supervisor) (registry.Supervisor, error) {
	r, err := supervisorKind.change(ctx, db, actor, s.ID, newRegSupervisor(s))
	return r.supervisor(), err
}

// SetSupervisorActive activates or deactivates a supervisor; inactive
// supervisors get no alerts.
func (db *DB) SetSupervisorActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Supervisor, error) {
	r, err := supervisorKind.setActive(ctx, db, actor, id, active)
	return r.supervisor(), err
}

// ImportSupervisors upserts supervisors by phone in one transaction (rolled
// back when dryRun).
func (db *DB) ImportSupervisors(ctx context.Context, actor access.User, ss []registry.Supervisor, dryRun bool) (created, updated int, err error) {
	return supervisorKind.load(ctx, db, actor, convertRows(ss, newRegSupervisor), dryRun)
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
