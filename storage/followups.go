package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/reports"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/jmoiron/sqlx"
)

// Casework that closes the loop: a need's follow-up reminds its director
// when it falls due unless a report has answered it first (the need
// referred or resolved, the child visited), and once a month directors who
// have reported no visit are reminded to. Both are jobs; both are held in
// quiet hours, which alerts never are.

// Job kinds of this file.
const (
	kindFollowUp      = "follow_up"
	kindVisitReminder = "visit_reminder"
)

func init() {
	registerJob(kindFollowUp, runFollowUp)
	registerJob(kindVisitReminder, runVisitReminders)
}

// How a follow-up was cleared.
const (
	clearedByStatus = "status"
	clearedByVisit  = "visit"
)

// Casework is the deployment's settings for reminders.
type Casework struct {
	// Location is the deployment's time zone: follow-ups fall due, months
	// begin and quiet hours run in it. UTC when nil.
	Location *time.Location
	// Quiet holds reminders back; the zero value holds nothing.
	Quiet QuietHours
	// ReminderDay is the day of the month, 1 to 28, directors without a
	// visit that month are reminded (25 when zero).
	ReminderDay int
}

// DefaultReminderDay leaves a director most of a week to report.
const DefaultReminderDay = 25

// reminderHour is the hour of the reminder day the reminders go.
const reminderHour = 10

// SetCasework sets the zone, quiet hours and reminder day. Call it before
// the store is shared.
func (db *DB) SetCasework(c Casework) { db.casework = c }

func (db *DB) zone() *time.Location {
	if db.casework.Location == nil {
		return time.UTC
	}
	return db.casework.Location
}

func (db *DB) reminderDay() int {
	if d := db.casework.ReminderDay; d >= 1 && d <= 28 {
		return d
	}
	return DefaultReminderDay
}

// QuietHours are the hours of the night reminders wait out: From to To
// as times of day, To on the next day when it is earlier ("21:00-08:00").
type QuietHours struct {
	From, To time.Duration // since midnight
}

// ParseQuietHours reads "HH:MM-HH:MM"; "off" or "" is no quiet hours.
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "off" {
		return QuietHours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	f, err1 := timeOfDay(from)
	t, err2 := timeOfDay(to)
	if !ok || err1 != nil || err2 != nil || f == t {
		return QuietHours{}, fmt.Errorf("quiet hours: want HH:MM-HH:MM such as 21:00-08:00, or off; got %q", s)
	}
	return QuietHours{From: f, To: t}, nil
}

func timeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (q QuietHours) String() string {
	if q.From == q.To {
		return "off"
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(q.From) + "-" + f(q.To)
}

// End reports whether now, in loc, falls in the quiet hours, and if so
// when they end.
func (q QuietHours) End(now time.Time, loc *time.Location) (time.Time, bool) {
	if q.From == q.To {
		return time.Time{}, false
	}
	local := now.In(loc)
	y, m, d := local.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	tod := local.Sub(midnight)
	at := func(day int, off time.Duration) time.Time {
		return time.Date(y, m, d+day, int(off.Hours()), int(off.Minutes())%60, 0, 0, loc)
	}
	if q.From < q.To {
		if tod >= q.From && tod < q.To {
			return at(0, q.To), true
		}
		return time.Time{}, false
	}
	switch {
	case tod >= q.From:
		return at(1, q.To), true
	case tod < q.To:
		return at(0, q.To), true
	}
	return time.Time{}, false
}

// quiet puts a reminder off to the end of the quiet hours, if now is in them.
func (db *DB) quiet(now time.Time) error {
	if end, ok := db.casework.Quiet.End(now, db.zone()); ok {
		return &RetryAt{When: end, Reason: "quiet hours"}
	}
	return nil
}

// followUpTx records a newly saved need's follow-up and schedules its
// reminder, in the save's transaction: a retried report finds its need
// saved and schedules nothing again.
func (db *DB) followUpTx(ctx context.Context, tx *sqlx.Tx, ref string, rule menus.FollowUpRule, reported time.Time) error {
	due := rule.Due(reported, db.zone())
	if due.IsZero() {
		return nil
	}
	const q = `INSERT INTO follow_ups (need_id, rule, due_at) SELECT id, $2, $3 FROM needs WHERE ref = $1
ON CONFLICT (need_id) DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, ref, rule.String(), due); err != nil {
		return fmt.Errorf("follow-up of %s: %w", ref, err)
	}
	return scheduleTx(ctx, tx, kindFollowUp, ref, due, nil)
}

// refollowTx follows a reopened need up again: its follow-up, if it had
// one, falls due by the same rule from at, and its reminder is scheduled
// anew. A need that never had a follow-up gets none.
func (db *DB) refollowTx(ctx context.Context, tx *sqlx.Tx, needID int64, at time.Time) error {
	var f struct {
		Rule string `db:"rule"`
		Ref  string `db:"ref"`
	}
	err := tx.GetContext(ctx, &f, `SELECT f.rule, n.ref FROM follow_ups f JOIN needs n ON n.id = f.need_id WHERE f.need_id = $1`, needID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("follow up a reopened need: %w", err)
	}
	rule, ok := menus.ParseFollowUpRule(f.Rule)
	if !ok {
		return nil
	}
	due := rule.Due(at, db.zone())
	if due.IsZero() {
		return nil
	}
	const q = `UPDATE follow_ups SET due_at = $2, cleared_at = NULL, cleared_by = NULL, reminded_at = NULL WHERE need_id = $1`
	if _, err := tx.ExecContext(ctx, q, needID, due); err != nil {
		return fmt.Errorf("follow up a reopened need: %w", err)
	}
	return rescheduleTx(ctx, tx, kindFollowUp, f.Ref, due, nil)
}

// clearFollowUpTx clears a need's follow-up, if it has one still open, and
// cancels its reminder.
func clearFollowUpTx(ctx context.Context, tx *sqlx.Tx, needID int64, by string, at time.Time) error {
	const q = `UPDATE follow_ups SET cleared_at = $3, cleared_by = $2 WHERE need_id = $1 AND cleared_at IS NULL`
	if _, err := tx.ExecContext(ctx, q, needID, by, at); err != nil {
		return fmt.Errorf("clear follow-up: %w", err)
	}
	const cancel = `UPDATE jobs SET outcome = 'cancelled', ended_at = $2
WHERE kind = 'follow_up' AND outcome IS NULL AND key = (SELECT ref FROM needs WHERE id = $1)`
	if _, err := tx.ExecContext(ctx, cancel, needID, at); err != nil {
		return fmt.Errorf("clear follow-up: %w", err)
	}
	return nil
}

// clearByVisit clears the follow-ups of the needs of the visited child
// reported before the visit, and cancels their reminders, for a visit
// saved in a transaction (one that opens a case). A visit saved on the
// fast path does the same in its insert (reportTables).
func clearByVisit(ctx context.Context, q sqlx.ExecerContext, visitRef string, at time.Time) error {
	if _, err := q.ExecContext(ctx, clearByVisitSQL, visitRef, at); err != nil {
		return fmt.Errorf("clear follow-ups after visit %s: %w", visitRef, err)
	}
	return nil
}

const clearByVisitSQL = `
WITH v AS (SELECT child_id, reported_at FROM visits WHERE ref = $1),
f AS (
    UPDATE follow_ups f SET cleared_at = $2, cleared_by = 'visit'
    FROM needs n, v
    WHERE f.need_id = n.id AND n.child_id = v.child_id AND n.reported_at < v.reported_at AND f.cleared_at IS NULL
    RETURNING n.ref
)
UPDATE jobs SET outcome = 'cancelled', ended_at = $2
WHERE kind = 'follow_up' AND outcome IS NULL AND key IN (SELECT ref FROM f)`

type followUpRow struct {
	NeedID   int64  `db:"need_id"`
	ChildID  int64  `db:"child_id"`
	Ref      string `db:"ref"`
	Category string `db:"category"`
	Status   string `db:"status"`
	Code     string `db:"code"`
	Cleared  bool   `db:"cleared"`
	Visited  bool   `db:"visited"`
}

type recipient struct {
	ID       int64  `db:"id"`
	Phone    string `db:"phone"`
	Language string `db:"language"`
}

// runFollowUp reminds the child's directors of a need still open when its
// follow-up falls due. A need answered meanwhile by a path that could not
// clear it (a visit whose clearing failed) is cleared here instead.
func runFollowUp(ctx context.Context, tx *sqlx.Tx, j Job, now time.Time) error {
	const q = `
SELECT n.id AS need_id, n.child_id, n.ref, n.category, n.status, c.code, f.cleared_at IS NOT NULL AS cleared,
       EXISTS (SELECT 1 FROM visits v WHERE v.child_id = n.child_id AND v.reported_at > n.reported_at) AS visited
FROM follow_ups f
JOIN needs n ON n.id = f.need_id
JOIN children c ON c.id = n.child_id
WHERE n.ref = $1
FOR UPDATE OF f`
	var f followUpRow
	err := tx.GetContext(ctx, &f, q, j.Key)
	if errors.Is(err, sql.ErrNoRows) || err == nil && f.Cleared {
		return nil
	}
	if err != nil {
		return fmt.Errorf("follow-up %s: %w", j.Key, err)
	}
	switch {
	case f.Status != needOpen:
		return clearFollowUpTx(ctx, tx, f.NeedID, clearedByStatus, now)
	case f.Visited:
		return clearFollowUpTx(ctx, tx, f.NeedID, clearedByVisit, now)
	}
	if err := j.db.quiet(now); err != nil {
		return err
	}
	const qDirectors = `
SELECT d.id, d.phone, d.language FROM directors d
JOIN child_directors cd ON cd.director_id = d.id
JOIN children c ON c.id = cd.child_id AND c.active
WHERE cd.child_id = $1 AND d.active
ORDER BY d.id`
	var to []recipient
	if err := tx.SelectContext(ctx, &to, qDirectors, f.ChildID); err != nil {
		return fmt.Errorf("follow-up %s: directors: %w", j.Key, err)
	}
	for _, d := range to {
		lang := langOf(d.Language)
		// The child's code, not their name: the director knows whom it
		// means, and an SMS is read by whoever holds the phone.
		text := templates.MustRender(templates.FollowUp, lang,
			templates.P("child", f.Code), templates.P("what", menus.CategoryName(f.Category, lang)), templates.P("ref", f.Ref))
		if err := j.db.enqueueReminder(ctx, tx, d.Phone, text, "follow-up:"+f.Ref+":"+d.Phone); err != nil {
			return fmt.Errorf("follow-up %s: %w", j.Key, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE follow_ups SET reminded_at = $2 WHERE need_id = $1`, f.NeedID, now); err != nil {
		return fmt.Errorf("follow-up %s: %w", j.Key, err)
	}
	return nil
}

func langOf(l string) string {
	if l == menus.LangEN {
		return menus.LangEN
	}
	return menus.LangZH
}

// enqueueReminder queues a reminder through the alert carrier, once per
// dedupe key.
func (db *DB) enqueueReminder(ctx context.Context, tx *sqlx.Tx, phone string, text templates.Message, key string) error {
	carrier := db.alertCarrier
	if carrier == "" {
		carrier = "at"
	}
	m := sms.Message{
		Direction: sms.Out, Kind: sms.KindReminder, Status: sms.Queued, Carrier: carrier,
		Phone: phone, Body: text.Body, Template: text.Template, Lang: text.Lang, Params: text.Params,
		DedupeKey: key,
	}
	_, _, err := db.enqueueTx(ctx, tx, m)
	return err
}

// monthKey names a month's visit reminder job: "2026-12".
const monthKey = "2006-01"

// ScheduleVisitReminders schedules the next monthly visit reminder after
// now, if it is not scheduled already. Every gateway process calls it at
// start; the job then schedules the month after itself.
func (db *DB) ScheduleVisitReminders(ctx context.Context, now time.Time) error {
	local := now.In(db.zone())
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, db.zone())
	if due := db.reminderDue(month); !due.After(now) {
		month = month.AddDate(0, 1, 0)
	}
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		return scheduleTx(ctx, tx, kindVisitReminder, month.Format(monthKey), db.reminderDue(month), nil)
	})
}

// reminderDue is when the reminders of the month beginning at month go.
func (db *DB) reminderDue(month time.Time) time.Time {
	return time.Date(month.Year(), month.Month(), db.reminderDay(), reminderHour, 0, 0, 0, db.zone())
}

// runVisitReminders reminds every active director with an active child
// who has reported no visit in the job's month, and schedules next
// month's reminders.
func runVisitReminders(ctx context.Context, tx *sqlx.Tx, j Job, now time.Time) error {
	db := j.db
	month, err := time.ParseInLocation(monthKey, j.Key, db.zone())
	if err != nil {
		return fmt.Errorf("visit reminders: month %q: %w", j.Key, err)
	}
	if err := db.quiet(now); err != nil {
		return err
	}
	next := month.AddDate(0, 1, 0)
	const q = `
SELECT d.id, d.phone, d.language FROM directors d
WHERE d.active
  AND EXISTS (SELECT 1 FROM child_directors cd JOIN children c ON c.id = cd.child_id AND c.active WHERE cd.director_id = d.id)
  AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.director_id = d.id AND v.reported_at >= $1 AND v.reported_at < $2)
ORDER BY d.id`
	var to []recipient
	if err := tx.SelectContext(ctx, &to, q, month, next); err != nil {
		return fmt.Errorf("visit reminders %s: %w", j.Key, err)
	}
	for _, d := range to {
		text := templates.MustRender(templates.VisitReminder, langOf(d.Language), templates.P("month", j.Key))
		key := "visit-reminder:" + j.Key + ":" + strconv.FormatInt(d.ID, 10)
		if err := db.enqueueReminder(ctx, tx, d.Phone, text, key); err != nil {
			return fmt.Errorf("visit reminders %s: %w", j.Key, err)
		}
	}
	return scheduleTx(ctx, tx, kindVisitReminder, next.Format(monthKey), db.reminderDue(next), nil)
}

// fieldTransitions are the status changes a director may make from the
// field: refer or resolve an open need, resolve a referred one.
// Reopening is the county's, in the console.
var fieldTransitions = map[string][]string{
	needOpen:     {needReferred, needResolved},
	needReferred: {needResolved},
}

// SetNeedStatusFromField marks a need referred or resolved on behalf of
// the director of its child, from a channel (ussd or sms), at now; the
// history names the director and the channel, and the need's follow-up is
// cleared. A need that is not of a child assigned to the director, that
// does not exist, or that cannot move to status from where it is are one
// and the same error, wrapping menus.ErrNotFound: a director learns
// nothing of other directors' children by guessing references.
func (db *DB) SetNeedStatusFromField(ctx context.Context, directorID int64, ref, status, channel string, now time.Time) error {
	ref = strings.ToUpper(strings.TrimSpace(clean(ref)))
	notFound := fmt.Errorf("need %q status from the field: %w", ref, menus.ErrNotFound)
	if status != needReferred && status != needResolved {
		return fmt.Errorf("need %q status from the field: %q is not referred or resolved", ref, clean(status))
	}
	if channel != menus.ChannelUSSD && channel != menus.ChannelSMS {
		return fmt.Errorf("need %q status from the field: unknown channel %q", ref, clean(channel))
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		const lock = `
SELECT n.id, n.status, d.name FROM needs n
JOIN children c ON c.id = n.child_id AND c.active
JOIN child_directors cd ON cd.child_id = n.child_id AND cd.director_id = $2
JOIN directors d ON d.id = cd.director_id AND d.active
WHERE n.ref = $1
FOR UPDATE OF n`
		var cur struct {
			ID     int64  `db:"id"`
			Status string `db:"status"`
			Name   string `db:"name"`
		}
		err := tx.GetContext(ctx, &cur, lock, ref, directorID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return err
		}
		if !slices.Contains(fieldTransitions[cur.Status], status) {
			return notFound
		}
		_, err = db.moveNeedTx(ctx, tx, needMove{ID: cur.ID, Ref: ref, From: cur.Status, To: status,
			Director: &directorID, Actor: "director " + cur.Name, Channel: channel, At: now})
		return err
	})
	if errors.Is(err, menus.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("need %q status from the field: %w", ref, err)
	}
	return nil
}

type openNeedRow struct {
	Ref       string `db:"ref"`
	ChildCode string `db:"child_code"`
	Category  string `db:"category"`
	Status    string `db:"status"`
	Due       bool   `db:"due"`
}

// maxOpenNeeds bounds what a walk carries: a director with more open
// needs than this sees the soonest due.
const maxOpenNeeds = 100

// OpenNeeds returns the needs not yet resolved of the active children
// assigned to a director, those whose follow-up is due by now first.
func (db *DB) OpenNeeds(ctx context.Context, directorID int64, now time.Time) ([]menus.NeedBrief, error) {
	const q = `
SELECT n.ref, c.code AS child_code, n.category, n.status,
       COALESCE(f.cleared_at IS NULL AND f.due_at <= $2, false) AS due
FROM needs n
JOIN children c ON c.id = n.child_id AND c.active
JOIN child_directors cd ON cd.child_id = n.child_id AND cd.director_id = $1
LEFT JOIN follow_ups f ON f.need_id = n.id
WHERE n.status <> 'resolved'
ORDER BY due DESC, f.due_at NULLS LAST, n.reported_at, n.id
LIMIT $3`
	var rows []openNeedRow
	stmt, err := db.prepared(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("open needs of director %d: %w", directorID, err)
	}
	if err := stmt.SelectContext(ctx, &rows, directorID, now, maxOpenNeeds); err != nil {
		return nil, fmt.Errorf("open needs of director %d: %w", directorID, err)
	}
	out := make([]menus.NeedBrief, len(rows))
	for i, r := range rows {
		out[i] = menus.NeedBrief{Ref: r.Ref, ChildCode: r.ChildCode, Category: r.Category, Status: r.Status, Due: r.Due}
	}
	return out, nil
}

// OverdueAfter is how long after falling due an open follow-up counts as
// overdue: a week in which the director was reminded and nothing came.
const OverdueAfter = 7 * 24 * time.Hour

type followUpItemRow struct {
	Ref           string         `db:"ref"`
	ChildCode     string         `db:"child_code"`
	Category      string         `db:"category"`
	NeedStatus    string         `db:"need_status"`
	DirectorPhone sql.NullString `db:"director_phone"`
	Rule          string         `db:"rule"`
	DueAt         time.Time      `db:"due_at"`
	RemindedAt    sql.NullTime   `db:"reminded_at"`
	ClearedAt     sql.NullTime   `db:"cleared_at"`
	ClearedBy     sql.NullString `db:"cleared_by"`
}

// FollowUps lists follow-ups matching q at now, soonest due first.
func (db *DB) FollowUps(ctx context.Context, q reports.FollowUpQuery, now time.Time) ([]reports.FollowUp, error) {
	switch q.Due {
	case "", "due", "overdue":
	default:
		return nil, fmt.Errorf("follow-ups: due is due or overdue, not %q", clean(q.Due))
	}
	switch q.Status {
	case "", "open", "cleared":
	default:
		return nil, fmt.Errorf("follow-ups: status is open or cleared, not %q", clean(q.Status))
	}
	dueBy := time.Time{}
	switch q.Due {
	case "due":
		dueBy = now
	case "overdue":
		dueBy = now.Add(-OverdueAfter)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	const query = `
SELECT n.ref, c.code AS child_code, n.category, n.status AS need_status,
       (SELECT d.phone FROM child_directors cd JOIN directors d ON d.id = cd.director_id
        WHERE cd.child_id = n.child_id ORDER BY d.active DESC, d.id LIMIT 1) AS director_phone,
       f.rule, f.due_at, f.reminded_at, f.cleared_at, f.cleared_by
FROM follow_ups f
JOIN needs n ON n.id = f.need_id
JOIN children c ON c.id = n.child_id
WHERE ($1 = '' OR EXISTS (SELECT 1 FROM child_directors cd JOIN directors d ON d.id = cd.director_id
                          WHERE cd.child_id = n.child_id AND d.phone = $1))
  AND ($2::timestamptz IS NULL OR (f.due_at <= $2 AND f.cleared_at IS NULL))
  AND ($3 = '' OR ($3 = 'open') = (f.cleared_at IS NULL))
  AND ($6::bigint = 0 OR barefoot_in_area(c.area_id, $6))
ORDER BY f.due_at, n.id
LIMIT $4 OFFSET $5`
	var rows []followUpItemRow
	if err := db.db.SelectContext(ctx, &rows, query, clean(q.Director), timeOrNull(dueBy), q.Status, limit, max(q.Offset, 0), q.Scope); err != nil {
		return nil, fmt.Errorf("follow-ups: %w", err)
	}
	out := make([]reports.FollowUp, len(rows))
	for i, r := range rows {
		out[i] = reports.FollowUp{
			Ref: r.Ref, ChildCode: r.ChildCode, Category: r.Category, NeedStatus: r.NeedStatus,
			DirectorPhone: r.DirectorPhone.String, Rule: r.Rule, DueAt: r.DueAt.UTC(),
			ClearedBy: r.ClearedBy.String,
		}
		if r.RemindedAt.Valid {
			out[i].RemindedAt = r.RemindedAt.Time.UTC()
		}
		if r.ClearedAt.Valid {
			out[i].ClearedAt = r.ClearedAt.Time.UTC()
		}
	}
	return out, nil
}
