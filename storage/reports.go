package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/jmoiron/sqlx"
)

// StoredReport is a report as stored: the report itself, the reference it was
// given, the child's name for display, and for needs the follow-up status
// (empty for visits).
type StoredReport struct {
	Ref string
	menus.Report
	ChildName string
	Status    string
}

// References are read out on a phone screen and typed back on keypads, so they
// are short and avoid characters that look alike (0/O, 1/I/L). Six of 31
// characters give about 887 million references per kind; a collision is rare
// and handled by drawing again.
const (
	refAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	refLen      = 6
	refAttempts = 5
)

// randomRef draws refLen characters of refAlphabet from crypto/rand. Bytes
// at or above the largest multiple of the alphabet size are rejected so that
// every character is equally likely.
func randomRef() (string, error) {
	const limit = 256 - 256%len(refAlphabet)
	out := make([]byte, 0, refLen)
	buf := make([]byte, 2*refLen)
	for len(out) < refLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random reference: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < refLen {
				out = append(out, refAlphabet[int(b)%len(refAlphabet)])
			}
		}
	}
	return string(out), nil
}

// reportTable holds what differs between the visits and needs tables. The
// queries are fixed strings per table rather than a table name formatted
// into one query.
type reportTable struct {
	prefix        string
	refConstraint string
	insert        string
	// insertChecked is insert with the child check folded in: one
	// statement, no transaction, for a report that queues no alerts. It
	// inserts nothing when the child is not the director's or the session
	// key is taken, and the transaction then says which.
	insertChecked string
	bySessionKey  string
	byRef         string
	count         string
}

var reportTables = map[menus.ReportKind]reportTable{
	menus.ReportVisit: {
		prefix:        "V",
		refConstraint: "visits_ref_key",
		insert: `
INSERT INTO visits (ref, session_key, child_id, director_id, situation, urgency, channel, carrier,
                    menu_tree, menu_version, answers, started_at, reported_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, COALESCE($13, now()))
ON CONFLICT (session_key) DO NOTHING
RETURNING ref`,
		// A visit also clears the follow-ups of the child's earlier needs
		// and cancels their reminders, in the same statement: a second
		// statement after every visit cost the walk a quarter of its
		// hops a second.
		insertChecked: `
WITH ins AS (
    INSERT INTO visits (ref, session_key, child_id, director_id, situation, urgency, channel, carrier,
                        menu_tree, menu_version, answers, started_at, reported_at)
    SELECT $1::text, $2::text, c.id, $4::bigint, $5::text, $6::text, $7::text, $8::text,
           $9::text, $10::integer, $11::jsonb, $12::timestamptz, COALESCE($13::timestamptz, now())
    FROM children c
    JOIN child_directors cd ON cd.child_id = c.id AND cd.director_id = $4::bigint
    WHERE c.code = $3::text AND c.active
    ON CONFLICT (session_key) DO NOTHING
    RETURNING ref, child_id, reported_at
), cleared AS (
    UPDATE follow_ups f SET cleared_at = ins.reported_at, cleared_by = 'visit'
    FROM needs n, ins
    WHERE f.need_id = n.id AND n.child_id = ins.child_id AND n.reported_at < ins.reported_at AND f.cleared_at IS NULL
    RETURNING n.ref
), cancelled AS (
    UPDATE jobs SET outcome = 'cancelled', ended_at = (SELECT reported_at FROM ins)
    WHERE kind = 'follow_up' AND outcome IS NULL AND key IN (SELECT ref FROM cleared)
)
SELECT ref FROM ins`,
		bySessionKey: `
SELECT r.ref, r.director_id, c.code AS child_code
FROM visits r JOIN children c ON c.id = r.child_id
WHERE r.session_key = $1`,
		byRef: `
SELECT r.ref, r.session_key, r.channel, r.carrier, r.director_id, c.code AS child_code, c.name AS child_name,
       r.situation AS detail, r.urgency, r.answers, r.menu_tree, r.menu_version, r.started_at, r.reported_at,
       '' AS status
FROM visits r JOIN children c ON c.id = r.child_id
WHERE r.ref = $1`,
		count: `SELECT count(*) FROM visits WHERE session_key = $1`,
	},
	menus.ReportNeed: {
		prefix:        "N",
		refConstraint: "needs_ref_key",
		insert: `
INSERT INTO needs (ref, session_key, child_id, director_id, category, urgency, channel, carrier,
                   menu_tree, menu_version, answers, started_at, reported_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, COALESCE($13, now()))
ON CONFLICT (session_key) DO NOTHING
RETURNING ref`,
		insertChecked: `
INSERT INTO needs (ref, session_key, child_id, director_id, category, urgency, channel, carrier,
                   menu_tree, menu_version, answers, started_at, reported_at)
SELECT $1::text, $2::text, c.id, $4::bigint, $5::text, $6::text, $7::text, $8::text,
       $9::text, $10::integer, $11::jsonb, $12::timestamptz, COALESCE($13::timestamptz, now())
FROM children c
JOIN child_directors cd ON cd.child_id = c.id AND cd.director_id = $4::bigint
WHERE c.code = $3::text AND c.active
ON CONFLICT (session_key) DO NOTHING
RETURNING ref`,
		bySessionKey: `
SELECT r.ref, r.director_id, c.code AS child_code
FROM needs r JOIN children c ON c.id = r.child_id
WHERE r.session_key = $1`,
		byRef: `
SELECT r.ref, r.session_key, r.channel, r.carrier, r.director_id, c.code AS child_code, c.name AS child_name,
       r.category AS detail, r.urgency, r.answers, r.menu_tree, r.menu_version, r.started_at, r.reported_at,
       r.status
FROM needs r JOIN children c ON c.id = r.child_id
WHERE r.ref = $1`,
		count: `SELECT count(*) FROM needs WHERE session_key = $1`,
	},
}

// reportParams is a report cleaned and encoded for the insert.
type reportParams struct {
	sessionKey string
	directorID int64
	childCode  string
	detail     string // situation or category
	urgency    string
	channel    string
	carrier    string
	tree       string
	version    int
	answers    string // JSON; lib/pq would send []byte as bytea, which jsonb rejects
	startedAt  *time.Time
	reportedAt *time.Time
}

// SaveReport stores a visit or a need and returns its reference; it is
// FileReport without saying whether this call created the report.
func (db *DB) SaveReport(ctx context.Context, r menus.Report) (string, error) {
	ref, _, err := db.FileReport(ctx, r)
	return ref, err
}

// FileReport stores a visit or a need, returns its reference and reports
// whether this call created it.
//
// The child must be active and assigned to r.DirectorID: a director reports
// only on their own children. Otherwise the error wraps menus.ErrNotFound and
// nothing is stored.
//
// Saving is idempotent per r.SessionKey: a retried or concurrent save of the
// same conversation stores one row and returns its reference to every caller,
// with created false for all but the first. A different director or child
// under a session key already used is a *menus.SavedError naming the stored
// reference, not a silent success, because it means two reports share one
// key and one of them would be lost.
//
// With r.Alert, the supervisors of the child's county are alerted in the
// same transaction, once: alerts exist exactly when their report does. A
// report that opens a case (cases.Opens) opens it in that transaction too,
// once, and tells the case's first supervisors (see cases.go).
//
// Strings are stored with invalid UTF-8 replaced by U+FFFD and NUL bytes
// removed. An empty Urgency is stored as routine, a zero ReportedAt as the
// time of saving and a zero StartedAt as unknown. Errors name no child.
func (db *DB) FileReport(ctx context.Context, r menus.Report) (ref string, created bool, err error) {
	return db.fileReport(ctx, r, "")
}

// FileReportAs is FileReport under a reference drawn beforehand with
// NewRef, for a report the caller was given a reference for before it
// reached the database (the spool's). Should that reference have been
// taken by another report since, a fresh one is drawn and returned, and
// the caller must be told.
func (db *DB) FileReportAs(ctx context.Context, r menus.Report, ref string) (string, bool, error) {
	t, ok := reportTables[r.Kind]
	if !ok || !strings.HasPrefix(ref, t.prefix) || len(ref) != len(t.prefix)+refLen {
		return "", false, fmt.Errorf("save report: %q is not a %s reference", clean(ref), r.Kind)
	}
	return db.fileReport(ctx, r, ref)
}

// NewRef draws a reference for a report of kind, as FileReport does.
func NewRef(kind menus.ReportKind) (string, error) {
	t, ok := reportTables[kind]
	if !ok {
		return "", fmt.Errorf("new reference: unknown kind %q", clean(string(kind)))
	}
	suffix, err := randomRef()
	if err != nil {
		return "", err
	}
	return t.prefix + suffix, nil
}

func (db *DB) fileReport(ctx context.Context, r menus.Report, want string) (ref string, created bool, err error) {
	t, ok := reportTables[r.Kind]
	if !ok {
		return "", false, fmt.Errorf("save report: unknown kind %q", clean(string(r.Kind)))
	}
	p, err := reportParamsOf(r)
	if err != nil {
		return "", false, fmt.Errorf("save %s: %w", r.Kind, err)
	}
	for attempt := 1; ; attempt++ {
		fresh := want
		if fresh == "" || attempt > 1 {
			suffix, err := db.newRef()
			if err != nil {
				return "", false, fmt.Errorf("save %s: %w", r.Kind, err)
			}
			fresh = t.prefix + suffix
		}
		pp := p
		if pp.answers, err = db.sealAnswers(p.answers, fresh); err != nil {
			return "", false, fmt.Errorf("save %s: %w", r.Kind, err)
		}
		if !r.Alert && !cases.Opens(r) && r.FollowUp == nil {
			// Most reports: one statement, one round trip.
			ref, err = db.insertChecked(ctx, t, fresh, pp)
			if err == nil {
				return ref, true, nil
			}
			if isUnique(err, t.refConstraint) && attempt < refAttempts {
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return "", false, fmt.Errorf("save %s: %w", r.Kind, err)
			}
			// Nothing inserted: the transaction below finds out why.
		}
		err = db.inTx(ctx, func(tx *sqlx.Tx) error {
			var err error
			ref, err = saveReport(ctx, tx, t, fresh, pp)
			if err != nil || ref != fresh {
				return err
			}
			// A new report: its case, alerts and follow-up commit with it,
			// or not at all, and a retry (ref != fresh) does none of them.
			if cases.Opens(r) {
				if _, err := db.openCaseTx(ctx, tx, r, ref); err != nil {
					return err
				}
			}
			if r.Alert {
				if err := db.alertsTx(ctx, tx, r, ref); err != nil {
					return err
				}
			}
			if r.Kind == menus.ReportNeed && r.FollowUp != nil {
				if err := db.followUpTx(ctx, tx, ref, *r.FollowUp, reportTime(r)); err != nil {
					return err
				}
			}
			if r.Kind == menus.ReportVisit {
				return clearByVisit(ctx, tx, ref, reportTime(r))
			}
			return nil
		})
		if err == nil {
			return ref, ref == fresh, nil
		}
		// The insert failed on the reference alone, so another draw will do.
		if isUnique(err, t.refConstraint) && attempt < refAttempts {
			continue
		}
		return "", false, fmt.Errorf("save %s: %w", r.Kind, err)
	}
}

// reportTime is when a report counts as made: its ReportedAt, or now when
// it has none (it is then stored as the time of saving).
func reportTime(r menus.Report) time.Time {
	if r.ReportedAt.IsZero() {
		return time.Now()
	}
	return r.ReportedAt
}

// insertChecked runs t.insertChecked: the new report's reference, or
// sql.ErrNoRows when nothing was inserted.
func (db *DB) insertChecked(ctx context.Context, t reportTable, ref string, p reportParams) (string, error) {
	stmt, err := db.prepared(ctx, t.insertChecked)
	if err != nil {
		return "", err
	}
	var stored string
	err = stmt.GetContext(ctx, &stored,
		ref, p.sessionKey, p.childCode, p.directorID, p.detail, p.urgency, p.channel, p.carrier,
		p.tree, p.version, p.answers, p.startedAt, p.reportedAt)
	return stored, err
}

// RefByKey returns the reference of the visit or need saved under a
// report key, if any.
func (db *DB) RefByKey(ctx context.Context, key string) (string, bool, error) {
	const q = `
SELECT ref FROM visits WHERE session_key = $1
UNION ALL
SELECT ref FROM needs WHERE session_key = $1
LIMIT 1`
	var ref string
	err := db.db.GetContext(ctx, &ref, q, clean(key))
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("report by key: %w", err)
	}
	return ref, true, nil
}

func reportParamsOf(r menus.Report) (reportParams, error) {
	p := reportParams{
		sessionKey: clean(r.SessionKey),
		directorID: r.DirectorID,
		childCode:  clean(r.ChildCode),
		urgency:    clean(r.Urgency),
		channel:    clean(r.Channel),
		carrier:    clean(r.Carrier),
		tree:       clean(r.Tree),
		version:    r.Version,
	}
	if p.sessionKey == "" {
		return reportParams{}, errors.New("empty session key")
	}
	switch r.Kind {
	case menus.ReportVisit:
		p.detail = clean(r.Situation)
	case menus.ReportNeed:
		p.detail = clean(r.Category)
	}
	if p.urgency == "" {
		p.urgency = menus.UrgencyRoutine
	}
	// Cleaning may merge two keys (say "a\x00" and "a"); the later one in map
	// order wins, which is acceptable for input that was broken anyway.
	answers := make(map[string]string, len(r.Answers))
	for k, v := range r.Answers {
		answers[clean(k)] = clean(v)
	}
	js, err := json.Marshal(answers)
	if err != nil {
		return reportParams{}, fmt.Errorf("encode answers: %w", err)
	}
	p.answers = string(js)
	if !r.StartedAt.IsZero() {
		p.startedAt = &r.StartedAt
	}
	if !r.ReportedAt.IsZero() {
		p.reportedAt = &r.ReportedAt
	}
	return p, nil
}

// saveReport inserts the report under ref unless its session key is taken,
// and returns the reference stored for the session key.
func saveReport(ctx context.Context, tx *sqlx.Tx, t reportTable, ref string, p reportParams) (string, error) {
	childID, err := childOfDirector(ctx, tx, p.childCode, p.directorID)
	if errors.Is(err, menus.ErrNotFound) {
		// A retry of a conversation that was saved before the child was
		// reassigned or deactivated still gets its reference back.
		if prev, ok, lerr := reportBySessionKey(ctx, tx, t, p.sessionKey); lerr == nil && ok && prev.matches(p) {
			return prev.Ref, nil
		}
		return "", err
	}
	if err != nil {
		return "", err
	}

	var stored string
	err = tx.GetContext(ctx, &stored, t.insert,
		ref, p.sessionKey, childID, p.directorID, p.detail, p.urgency, p.channel, p.carrier,
		p.tree, p.version, p.answers, p.startedAt, p.reportedAt)
	if err == nil {
		return stored, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}

	// The session key was taken: ON CONFLICT waited for the transaction that
	// took it to commit, and this new statement sees that row.
	prev, ok, err := reportBySessionKey(ctx, tx, t, p.sessionKey)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errors.New("report for session key vanished after a conflict")
	}
	if !prev.matches(p) {
		return "", &menus.SavedError{Ref: prev.Ref}
	}
	return prev.Ref, nil
}

// childOfDirector returns the id of the active child with code assigned to
// the director: the check that a director reports only on their children.
func childOfDirector(ctx context.Context, tx *sqlx.Tx, code string, directorID int64) (int64, error) {
	const q = `
SELECT c.id FROM children c
JOIN child_directors cd ON cd.child_id = c.id AND cd.director_id = $2
WHERE c.code = $1 AND c.active`
	var id int64
	err := tx.GetContext(ctx, &id, q, code, directorID)
	if errors.Is(err, sql.ErrNoRows) {
		// No code in the error: errors reach logs, child codes must not.
		return 0, fmt.Errorf("child of director %d: %w", directorID, menus.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("child: %w", err)
	}
	return id, nil
}

// sessionReportRow is what identifies the report already stored for a
// session key.
type sessionReportRow struct {
	Ref        string `db:"ref"`
	DirectorID int64  `db:"director_id"`
	ChildCode  string `db:"child_code"`
}

// matches reports whether the stored report is by the same director on the
// same child as p, that is, whether p is a retry of it.
func (r sessionReportRow) matches(p reportParams) bool {
	return r.DirectorID == p.directorID && r.ChildCode == p.childCode
}

func reportBySessionKey(ctx context.Context, tx *sqlx.Tx, t reportTable, key string) (sessionReportRow, bool, error) {
	var row sessionReportRow
	err := tx.GetContext(ctx, &row, t.bySessionKey, key)
	if errors.Is(err, sql.ErrNoRows) {
		return sessionReportRow{}, false, nil
	}
	if err != nil {
		return sessionReportRow{}, false, fmt.Errorf("report by session key: %w", err)
	}
	return row, true, nil
}

// reportRow is a stored visit or need with its child. Detail is the
// situation of a visit or the category of a need.
type reportRow struct {
	Ref        string       `db:"ref"`
	SessionKey string       `db:"session_key"`
	Channel    string       `db:"channel"`
	Carrier    string       `db:"carrier"`
	DirectorID int64        `db:"director_id"`
	ChildCode  string       `db:"child_code"`
	ChildName  string       `db:"child_name"`
	Detail     string       `db:"detail"`
	Urgency    string       `db:"urgency"`
	Answers    []byte       `db:"answers"`
	Tree       string       `db:"menu_tree"`
	Version    int          `db:"menu_version"`
	StartedAt  sql.NullTime `db:"started_at"`
	ReportedAt time.Time    `db:"reported_at"`
	Status     string       `db:"status"`
}

func (row reportRow) toStored(kind menus.ReportKind, answers map[string]string) (StoredReport, error) {
	s := StoredReport{
		Ref: row.Ref,
		Report: menus.Report{
			Kind:       kind,
			SessionKey: row.SessionKey,
			Channel:    row.Channel,
			Carrier:    row.Carrier,
			DirectorID: row.DirectorID,
			ChildCode:  row.ChildCode,
			Urgency:    row.Urgency,
			Answers:    answers,
			Tree:       row.Tree,
			Version:    row.Version,
			ReportedAt: row.ReportedAt,
		},
		ChildName: row.ChildName,
		Status:    row.Status,
	}
	if row.StartedAt.Valid {
		s.StartedAt = row.StartedAt.Time
	}
	switch kind {
	case menus.ReportVisit:
		s.Situation = row.Detail
	case menus.ReportNeed:
		s.Category = row.Detail
	}
	return s, nil
}

// ReportByRef returns the visit or need with the given reference. References
// are matched without regard to case or surrounding space, as people type
// them back. An unknown reference is an error wrapping menus.ErrNotFound.
func (db *DB) ReportByRef(ctx context.Context, ref string) (StoredReport, error) {
	ref = strings.ToUpper(strings.TrimSpace(clean(ref)))
	var kind menus.ReportKind
	switch {
	case strings.HasPrefix(ref, reportTables[menus.ReportVisit].prefix):
		kind = menus.ReportVisit
	case strings.HasPrefix(ref, reportTables[menus.ReportNeed].prefix):
		kind = menus.ReportNeed
	default:
		return StoredReport{}, fmt.Errorf("report %q: %w", ref, menus.ErrNotFound)
	}
	var row reportRow
	err := db.db.GetContext(ctx, &row, reportTables[kind].byRef, ref)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredReport{}, fmt.Errorf("report %q: %w", ref, menus.ErrNotFound)
	}
	if err != nil {
		return StoredReport{}, fmt.Errorf("report %q: %w", ref, err)
	}
	answers, err := db.openAnswers(row.Answers, row.Ref)
	if err != nil {
		return StoredReport{}, fmt.Errorf("report %q: %w", ref, err)
	}
	s, err := row.toStored(kind, answers)
	if err != nil {
		return StoredReport{}, fmt.Errorf("report %q: %w", ref, err)
	}
	return s, nil
}

// CountReports returns how many reports of kind are stored under sessionKey:
// 0 or 1, which is what tests of idempotency assert.
func (db *DB) CountReports(ctx context.Context, kind menus.ReportKind, sessionKey string) (int, error) {
	t, ok := reportTables[kind]
	if !ok {
		return 0, fmt.Errorf("count reports: unknown kind %q", clean(string(kind)))
	}
	var n int
	if err := db.db.GetContext(ctx, &n, t.count, clean(sessionKey)); err != nil {
		return 0, fmt.Errorf("count %s reports: %w", kind, err)
	}
	return n, nil
}
