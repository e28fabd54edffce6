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
	"github.com/barefoot-ussd/barefoot/menus/reports"
	"github.com/jmoiron/sqlx"
)

// Reports as county staff read them: lists with filters and paging, one
// report with its follow-up history, the status workflow of needs, the
// audit trail of exports and the console's dashboard.
//
// The types below are aliases of unnamed struct types, not named types, so
// that gateway/admin can declare the very same types without importing this
// package (adapters do not import each other, STYLE.md). They belong in
// package menus beside menus.Report; until they move there, a field changed
// here must be changed in gateway/admin/reports.go too, and the compiler
// says so where the two meet (admin.API{Reports: db}).

// Statuses of a need, as the needs table knows them.
const (
	needOpen     = "open"
	needReferred = "referred"
	needResolved = "resolved"
)

// needTransitions are the status changes staff may make: a need is referred
// or resolved, a referred need is resolved, and either may be reopened when
// the help did not arrive. A resolved need is not referred without being
// reopened first, so its history says why it came back.
var needTransitions = map[string][]string{
	needOpen:     {needReferred, needResolved},
	needReferred: {needResolved, needOpen},
	needResolved: {needOpen},
}

// adminReportSQL holds the report queries of one kind. The filters are one
// fixed WHERE clause in which an empty parameter matches everything, so
// each query stays a constant string however the filters combine.
type adminReportSQL struct {
	list, count, one string
}

const (
	visitColumns = `
SELECT r.id, r.ref, c.code AS child_code, c.name AS child_name, c.village, c.county,
       d.phone AS director_phone, d.name AS director_name, r.situation AS detail, r.urgency,
       '' AS status, NULL::timestamptz AS status_changed_at, r.channel, r.carrier,
       r.menu_tree, r.menu_version, r.answers, r.started_at, r.reported_at,
       '' AS last_from, '' AS last_to, '' AS last_note, '' AS last_actor, NULL::timestamptz AS last_at,
       array_to_string(ARRAY[k.acknowledged_by, k.referred_by, k.resolved_by], chr(31)) AS case_holders`
	visitFrom = `
FROM visits r
JOIN children c ON c.id = r.child_id
JOIN directors d ON d.id = r.director_id
LEFT JOIN cases k ON k.report_ref = r.ref`
	// $10 (status) is always empty for visits; the caller refuses it.
	visitWhere = `
WHERE ($1::timestamptz IS NULL OR r.reported_at >= $1)
  AND ($2::timestamptz IS NULL OR r.reported_at < $2)
  AND ($3 = '' OR c.village = $3)
  AND ($4 = '' OR c.county = $4)
  AND ($5 = '' OR d.phone = $5)
  AND ($6 = '' OR c.code = $6)
  AND ($7 = '' OR r.situation = $7)
  AND ($8 = '' OR r.urgency = $8)
  AND ($9 = '' OR r.channel = $9)
  AND $10 = ''
  AND ($11::bigint = 0 OR barefoot_in_area(c.area_id, $11))`

	needColumns = `
SELECT r.id, r.ref, c.code AS child_code, c.name AS child_name, c.village, c.county,
       d.phone AS director_phone, d.name AS director_name, r.category AS detail, r.urgency,
       r.status, r.status_changed_at, r.channel, r.carrier,
       r.menu_tree, r.menu_version, r.answers, r.started_at, r.reported_at,
       COALESCE(h.from_status, '') AS last_from, COALESCE(h.to_status, '') AS last_to,
       COALESCE(h.note, '') AS last_note, COALESCE(h.actor, '') AS last_actor, h.at AS last_at,
       array_to_string(ARRAY[k.acknowledged_by, k.referred_by, k.resolved_by], chr(31)) AS case_holders`
	needFrom = `
FROM needs r
JOIN children c ON c.id = r.child_id
JOIN directors d ON d.id = r.director_id
LEFT JOIN cases k ON k.report_ref = r.ref`
	// needLast is a need's latest follow-up step, for the list to say who
	// acted on it last without a query per need.
	needLast = `
LEFT JOIN LATERAL (
    SELECT from_status, to_status, note, actor, at FROM need_status_history
    WHERE need_id = r.id ORDER BY at DESC, id DESC LIMIT 1
) h ON true`
	needWhere = `
WHERE ($1::timestamptz IS NULL OR r.reported_at >= $1)
  AND ($2::timestamptz IS NULL OR r.reported_at < $2)
  AND ($3 = '' OR c.village = $3)
  AND ($4 = '' OR c.county = $4)
  AND ($5 = '' OR d.phone = $5)
  AND ($6 = '' OR c.code = $6)
  AND ($7 = '' OR r.category = $7)
  AND ($8 = '' OR r.urgency = $8)
  AND ($9 = '' OR r.channel = $9)
  AND ($10 = '' OR r.status = $10)
  AND ($11::bigint = 0 OR barefoot_in_area(c.area_id, $11))`

	// Newest first; the id breaks ties between reports of the same instant
	// so that pages neither repeat nor skip a report.
	reportOrder = `
ORDER BY r.reported_at DESC, r.id DESC
LIMIT $12 OFFSET $13`
)

// oneInArea keeps a report read alone to a user's area ($2, 0 for all).
const oneInArea = "\n  AND ($2::bigint = 0 OR barefoot_in_area(c.area_id, $2))"

var adminReportQueries = map[menus.ReportKind]adminReportSQL{
	menus.ReportVisit: {
		list:  visitColumns + visitFrom + visitWhere + reportOrder,
		count: `SELECT count(*)` + visitFrom + visitWhere,
		one:   visitColumns + visitFrom + "\nWHERE r.ref = $1" + oneInArea,
	},
	menus.ReportNeed: {
		list:  needColumns + needFrom + needLast + needWhere + reportOrder,
		count: `SELECT count(*)` + needFrom + needWhere,
		one:   needColumns + needFrom + needLast + "\nWHERE r.ref = $1" + oneInArea,
	},
}

// reportItemRow is one row of the report queries.
type reportItemRow struct {
	ID              int64        `db:"id"`
	Ref             string       `db:"ref"`
	ChildCode       string       `db:"child_code"`
	ChildName       string       `db:"child_name"`
	Village         string       `db:"village"`
	County          string       `db:"county"`
	DirectorPhone   string       `db:"director_phone"`
	DirectorName    string       `db:"director_name"`
	Detail          string       `db:"detail"`
	Urgency         string       `db:"urgency"`
	Status          string       `db:"status"`
	StatusChangedAt sql.NullTime `db:"status_changed_at"`
	Channel         string       `db:"channel"`
	Carrier         string       `db:"carrier"`
	Tree            string       `db:"menu_tree"`
	Version         int          `db:"menu_version"`
	Answers         []byte       `db:"answers"`
	StartedAt       sql.NullTime `db:"started_at"`
	ReportedAt      time.Time    `db:"reported_at"`
	LastFrom        string       `db:"last_from"`
	LastTo          string       `db:"last_to"`
	LastNote        string       `db:"last_note"`
	LastActor       string       `db:"last_actor"`
	LastAt          sql.NullTime `db:"last_at"`
	// CaseHolders are who acknowledged, referred and resolved the case the
	// report opened, joined by U+001F (array_to_string drops NULLs).
	CaseHolders string `db:"case_holders"`
}

func (db *DB) item(r reportItemRow, kind menus.ReportKind) (reports.Item, error) {
	answers, err := db.openAnswers(r.Answers, r.Ref)
	if err != nil {
		return reports.Item{}, fmt.Errorf("report %s: %w", r.Ref, err)
	}
	it := reports.Item{
		Ref: r.Ref, Kind: kind,
		ChildCode: r.ChildCode, ChildName: r.ChildName, Village: r.Village, County: r.County,
		DirectorPhone: r.DirectorPhone, DirectorName: r.DirectorName,
		Detail: r.Detail, Urgency: r.Urgency, Status: r.Status,
		Channel: r.Channel, Carrier: r.Carrier, Tree: r.Tree, Version: r.Version,
		Answers: answers, ReportedAt: r.ReportedAt.UTC(),
	}
	if r.CaseHolders != "" {
		it.CaseHolders = strings.Split(r.CaseHolders, "\x1f")
	}
	if r.StatusChangedAt.Valid {
		it.StatusChangedAt = r.StatusChangedAt.Time.UTC()
	}
	if r.StartedAt.Valid {
		it.StartedAt = r.StartedAt.Time.UTC()
	}
	if r.LastAt.Valid {
		it.LastChange = reports.StatusChange{From: r.LastFrom, To: r.LastTo, Note: r.LastNote, Actor: r.LastActor, At: r.LastAt.Time.UTC()}
	}
	return it, nil
}

// Reports returns one page of the reports q selects, newest first, and how
// many reports it selects in all. The page and the total are read from one
// snapshot, so they agree even while reports arrive.
func (db *DB) Reports(ctx context.Context, q reports.Query) ([]reports.Item, int, error) {
	queries, ok := adminReportQueries[q.Kind]
	if !ok {
		return nil, 0, fmt.Errorf("reports: unknown kind %q", clean(string(q.Kind)))
	}
	if q.Kind == menus.ReportVisit && q.Status != "" {
		return nil, 0, errors.New("reports: visits have no status to filter on")
	}
	if q.Limit < 0 || q.Offset < 0 {
		return nil, 0, errors.New("reports: negative limit or offset")
	}
	args := []any{
		timeOrNull(q.From), timeOrNull(q.Before),
		clean(q.Village), clean(q.County), clean(q.Director), clean(q.Child),
		clean(q.Detail), clean(q.Urgency), clean(q.Channel), clean(q.Status), q.Scope,
	}
	var limit *int // NULL: no limit
	if q.Limit > 0 {
		limit = &q.Limit
	}
	var (
		rows  []reportItemRow
		total int
	)
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &total, queries.count, args...); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, queries.list, append(args, limit, q.Offset)...)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list %ss: %w", q.Kind, err)
	}
	items := make([]reports.Item, len(rows))
	for i, r := range rows {
		if items[i], err = db.item(r, q.Kind); err != nil {
			return nil, 0, fmt.Errorf("list %ss: %w", q.Kind, err)
		}
	}
	return items, total, nil
}

// ReportWithHistory returns the visit or need with the given reference,
// matched as ReportByRef matches it, with a need's status history. An
// unknown reference, or one of a child outside the area scope (0: all), is
// an error wrapping menus.ErrNotFound.
func (db *DB) ReportWithHistory(ctx context.Context, ref string, scope int64) (reports.Item, error) {
	var it reports.Item
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		it, _, err = db.reportItem(ctx, tx, ref, scope)
		return err
	})
	if err != nil {
		return reports.Item{}, fmt.Errorf("report %q: %w", clean(ref), err)
	}
	return it, nil
}

// reportItem reads one report and, for a need, its history; it also
// returns the report's row id.
func (db *DB) reportItem(ctx context.Context, q sqlx.QueryerContext, ref string, scope int64) (reports.Item, int64, error) {
	ref = strings.ToUpper(strings.TrimSpace(clean(ref)))
	var kind menus.ReportKind
	switch {
	case strings.HasPrefix(ref, reportTables[menus.ReportVisit].prefix):
		kind = menus.ReportVisit
	case strings.HasPrefix(ref, reportTables[menus.ReportNeed].prefix):
		kind = menus.ReportNeed
	default:
		return reports.Item{}, 0, menus.ErrNotFound
	}
	var row reportItemRow
	err := sqlx.GetContext(ctx, q, &row, adminReportQueries[kind].one, ref, scope)
	if errors.Is(err, sql.ErrNoRows) {
		return reports.Item{}, 0, menus.ErrNotFound
	}
	if err != nil {
		return reports.Item{}, 0, err
	}
	it, err := db.item(row, kind)
	if err != nil {
		return reports.Item{}, 0, err
	}
	if kind == menus.ReportNeed {
		if it.History, err = needHistory(ctx, q, row.ID); err != nil {
			return reports.Item{}, 0, err
		}
	}
	return it, row.ID, nil
}

type statusChangeRow struct {
	From    string    `db:"from_status"`
	To      string    `db:"to_status"`
	Channel string    `db:"channel"`
	Note    string    `db:"note"`
	Actor   string    `db:"actor"`
	At      time.Time `db:"at"`
}

func needHistory(ctx context.Context, q sqlx.QueryerContext, needID int64) ([]reports.StatusChange, error) {
	const query = `
SELECT from_status, to_status, note, actor, channel, at FROM need_status_history
WHERE need_id = $1 ORDER BY at, id`
	var rows []statusChangeRow
	if err := sqlx.SelectContext(ctx, q, &rows, query, needID); err != nil {
		return nil, fmt.Errorf("status history: %w", err)
	}
	out := make([]reports.StatusChange, len(rows))
	for i, r := range rows {
		out[i] = reports.StatusChange{From: r.From, To: r.To, Note: r.Note, Actor: r.Actor, Channel: r.Channel, At: r.At.UTC()}
	}
	return out, nil
}

// SetNeedStatus moves the need with reference ref to status, recording who
// did it and the note they wrote in the need's history and the audit log,
// in one transaction, and returns the need as it now is.
//
// An unknown need is an error wrapping menus.ErrNotFound. A change that
// needTransitions does not allow, a change to the status the need already
// has among them, is an error wrapping menus.ErrConflict, returned with the
// need as it is so the caller can say why. The need's row is locked while it
// changes, so of two people acting on one need at once the second sees what
// the first did.
func (db *DB) SetNeedStatus(ctx context.Context, actor access.User, ref, status, note string) (reports.Item, error) {
	status, note = clean(status), strings.TrimSpace(clean(note))
	if _, ok := needTransitions[status]; !ok {
		return reports.Item{}, fmt.Errorf("need %q status: unknown status %q", clean(ref), status)
	}
	var (
		it       reports.Item
		conflict bool
	)
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// A need outside the actor's area is, to them, no need at all.
		const lock = `SELECT n.id, n.status, n.status_changed_at FROM needs n JOIN children c ON c.id = n.child_id
WHERE n.ref = $1 AND ($2::bigint = 0 OR barefoot_in_area(c.area_id, $2)) FOR UPDATE OF n`
		var cur struct {
			ID        int64        `db:"id"`
			Status    string       `db:"status"`
			ChangedAt sql.NullTime `db:"status_changed_at"`
		}
		err := tx.GetContext(ctx, &cur, lock, strings.ToUpper(strings.TrimSpace(clean(ref))), actor.Area)
		if errors.Is(err, sql.ErrNoRows) {
			return menus.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !slices.Contains(needTransitions[cur.Status], status) {
			conflict = true
			it, _, err = db.reportItem(ctx, tx, ref, actor.Area)
			if err != nil {
				return err
			}
			return fmt.Errorf("a %s need cannot become %s: %w", cur.Status, status, menus.ErrConflict)
		}
		var userID *int64
		name := actor.Username
		if actor.ID != 0 {
			userID = &actor.ID
		}
		if name == "" {
			name = "system" // as audit names it
		}
		at, err := db.moveNeedTx(ctx, tx, needMove{ID: cur.ID, Ref: strings.ToUpper(strings.TrimSpace(clean(ref))), From: cur.Status, To: status,
			Note: note, UserID: userID, Actor: name, Channel: "console"})
		if err != nil {
			return err
		}
		before := map[string]any{"status": cur.Status, "status_changed_at": nil}
		if cur.ChangedAt.Valid {
			before["status_changed_at"] = cur.ChangedAt.Time.UTC()
		}
		if it, _, err = db.reportItem(ctx, tx, ref, actor.Area); err != nil {
			return err
		}
		return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "need.status", ObjectType: "need", ObjectID: it.Ref,
			Before: before, After: map[string]any{"status": status, "status_changed_at": at.UTC(), "note": note}})
	})
	if err != nil {
		if conflict {
			return it, fmt.Errorf("need %s: %w", it.Ref, err)
		}
		return reports.Item{}, fmt.Errorf("need %q status: %w", clean(ref), err)
	}
	return it, nil
}

// needMove is one change of a need's status: where from and to, who made
// it (a user, a director, or a case's holder) and through what.
type needMove struct {
	ID               int64
	Ref              string
	From, To, Note   string
	UserID, Director *int64
	Actor, Channel   string
	// At is when; zero is the database's now.
	At time.Time
	// FromCase marks a change carried over from the need's case, which
	// is not moved back in turn.
	FromCase bool
}

// moveNeedTx makes a change of a need's status, the one way every path
// (the console, the director in the field, the need's case) makes it: the
// need's row, its history, and what follows. Referred or resolved, its
// follow-up is answered and its case moves with it; reopened, it is
// followed up again. The caller has checked the move is allowed, with the
// need's row locked. It returns when the change was made.
func (db *DB) moveNeedTx(ctx context.Context, tx *sqlx.Tx, m needMove) (time.Time, error) {
	at := timeOrNull(m.At)
	if err := tx.GetContext(ctx, &m.At, `UPDATE needs SET status = $2, status_changed_at = COALESCE($3, now()) WHERE id = $1 RETURNING status_changed_at`,
		m.ID, m.To, at); err != nil {
		return time.Time{}, fmt.Errorf("need %s status: %w", m.Ref, err)
	}
	const history = `
INSERT INTO need_status_history (need_id, from_status, to_status, note, user_id, director_id, actor, channel, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	if _, err := tx.ExecContext(ctx, history, m.ID, m.From, m.To, m.Note, m.UserID, m.Director, m.Actor, m.Channel, m.At); err != nil {
		return time.Time{}, fmt.Errorf("need %s history: %w", m.Ref, err)
	}
	if m.To == needOpen {
		return m.At, db.refollowTx(ctx, tx, m.ID, m.At)
	}
	if err := clearFollowUpTx(ctx, tx, m.ID, clearedByStatus, m.At); err != nil {
		return time.Time{}, err
	}
	if m.FromCase {
		return m.At, nil
	}
	return m.At, db.caseFollowsNeedTx(ctx, tx, m.Ref, m.To, m.Actor, m.UserID, m.Channel, m.At)
}

// RecordExport writes the audit entry of an export: who took which reports
// out of the system, selected how (params: the filters, the language), in
// what format and how many. Exports are reads, but reads of children's
// data in bulk, so they leave a trail; the caller records the export before
// it sends the file, so a file never leaves without its entry.
func (db *DB) RecordExport(ctx context.Context, actor access.User, kind menus.ReportKind, format string, params map[string]string, rows int) error {
	if _, ok := adminReportQueries[kind]; !ok {
		return fmt.Errorf("record export: unknown kind %q", clean(string(kind)))
	}
	cleaned := make(map[string]string, len(params))
	for k, v := range params {
		cleaned[clean(k)] = clean(v)
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, access.AuditEntry{Actor: actor, Action: "report.export", ObjectType: "report", ObjectID: string(kind),
			After: map[string]any{"format": clean(format), "filters": cleaned, "rows": rows}})
	})
	if err != nil {
		return fmt.Errorf("record export: %w", err)
	}
	return nil
}

// ReportDashboard counts the visits and needs reported in [from, before)
// per village of the child, listing every village that has an active child
// (with zeros) or a report in the period, ordered by county and village.
// It also counts every open urgent need, whenever reported, and lists the
// references of the refLimit that have waited longest.
func (db *DB) ReportDashboard(ctx context.Context, from, before time.Time, refLimit int, scope int64) (reports.Dashboard, error) {
	const qVillages = `
SELECT c.county, c.village,
       count(r.kind) FILTER (WHERE r.kind = 'visit') AS visits,
       count(r.kind) FILTER (WHERE r.kind = 'need') AS needs
FROM children c
LEFT JOIN (
    SELECT child_id, 'visit' AS kind FROM visits WHERE reported_at >= $1 AND reported_at < $2
    UNION ALL
    SELECT child_id, 'need' AS kind FROM needs WHERE reported_at >= $1 AND reported_at < $2
) r ON r.child_id = c.id
WHERE ($3::bigint = 0 OR barefoot_in_area(c.area_id, $3))
GROUP BY c.county, c.village
HAVING bool_or(c.active) OR count(r.kind) > 0
ORDER BY c.county, c.village`
	const qOpenCount = `SELECT count(*) FROM needs n JOIN children c ON c.id = n.child_id
WHERE n.status = 'open' AND n.urgency = 'urgent' AND ($1::bigint = 0 OR barefoot_in_area(c.area_id, $1))`
	const qOpenRefs = `
SELECT n.ref FROM needs n JOIN children c ON c.id = n.child_id
WHERE n.status = 'open' AND n.urgency = 'urgent' AND ($2::bigint = 0 OR barefoot_in_area(c.area_id, $2))
ORDER BY n.reported_at, n.id LIMIT $1`
	type villageRow struct {
		County  string `db:"county"`
		Village string `db:"village"`
		Visits  int    `db:"visits"`
		Needs   int    `db:"needs"`
	}
	var (
		rows []villageRow
		d    reports.Dashboard
	)
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.SelectContext(ctx, &rows, qVillages, from, before, scope); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &d.OpenUrgent, qOpenCount, scope); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &d.OpenUrgentRefs, qOpenRefs, max(refLimit, 0), scope)
	})
	if err != nil {
		return reports.Dashboard{}, fmt.Errorf("report dashboard: %w", err)
	}
	d.Villages = make([]reports.VillageCount, len(rows))
	for i, r := range rows {
		d.Villages[i] = reports.VillageCount(r)
	}
	if d.OpenUrgentRefs == nil {
		d.OpenUrgentRefs = []string{}
	}
	return d, nil
}

// ReportTrend counts the visits and needs reported in each month between
// consecutive starts: n+1 instants give n months, oldest first. The
// caller gives the starts so that months are those of its time zone.
func (db *DB) ReportTrend(ctx context.Context, starts []time.Time, scope int64) ([]reports.MonthCount, error) {
	const q = `
SELECT (SELECT count(*) FROM visits r JOIN children c ON c.id = r.child_id
        WHERE r.reported_at >= $1 AND r.reported_at < $2 AND ($3::bigint = 0 OR barefoot_in_area(c.area_id, $3))) AS visits,
       (SELECT count(*) FROM needs r JOIN children c ON c.id = r.child_id
        WHERE r.reported_at >= $1 AND r.reported_at < $2 AND ($3::bigint = 0 OR barefoot_in_area(c.area_id, $3))) AS needs`
	out := make([]reports.MonthCount, 0, max(len(starts)-1, 0))
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		for i := 0; i+1 < len(starts); i++ {
			var n struct {
				Visits int `db:"visits"`
				Needs  int `db:"needs"`
			}
			if err := tx.GetContext(ctx, &n, q, starts[i], starts[i+1], scope); err != nil {
				return err
			}
			out = append(out, reports.MonthCount{Month: starts[i], Visits: n.Visits, Needs: n.Needs})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report trend: %w", err)
	}
	return out, nil
}

// ChildrenNotVisited counts the active children nobody has visited since
// since and lists limit of them: those never visited first, then the
// longest ago, then by code.
func (db *DB) ChildrenNotVisited(ctx context.Context, since time.Time, limit int, scope int64) (int, []reports.Unvisited, error) {
	const qFrom = `
FROM children c
LEFT JOIN LATERAL (SELECT max(reported_at) AS at FROM visits v WHERE v.child_id = c.id) lv ON true
WHERE c.active AND (lv.at IS NULL OR lv.at < $1) AND ($2::bigint = 0 OR barefoot_in_area(c.area_id, $2))`
	const qCount = `SELECT count(*)` + qFrom
	const qList = `SELECT c.code, c.name, c.village, c.county, lv.at AS last_visit` + qFrom + `
ORDER BY lv.at NULLS FIRST, c.code
LIMIT $3`
	var (
		count int
		rows  []struct {
			Code      string       `db:"code"`
			Name      string       `db:"name"`
			Village   string       `db:"village"`
			County    string       `db:"county"`
			LastVisit sql.NullTime `db:"last_visit"`
		}
	)
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &count, qCount, since, scope); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, qList, since, scope, max(limit, 0))
	})
	if err != nil {
		return 0, nil, fmt.Errorf("children not visited: %w", err)
	}
	out := make([]reports.Unvisited, len(rows))
	for i, r := range rows {
		out[i] = reports.Unvisited{Code: r.Code, Name: r.Name, Village: r.Village, County: r.County}
		if r.LastVisit.Valid {
			out[i].LastVisit = r.LastVisit.Time.UTC()
		}
	}
	return count, out, nil
}

// readTx runs fn in a read-only transaction that sees one snapshot, for
// reads of several statements that must agree (a page and its total).
func (db *DB) readTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
