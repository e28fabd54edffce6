package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/jmoiron/sqlx"
)

// Cases: a report that opens one (cases.Opens) does so in the transaction
// that saves it, once, since only the save that created the report gets
// here. The case starts at the lowest area of the child's chain (village,
// township, county ...) that has active supervisors, who are told by SMS;
// an escalation job is scheduled at the deadline. The job, if the case is
// still open, moves the case to the next area up that has supervisors,
// tells them, and schedules the next. Acknowledging (by SMS or in the
// console), referring or resolving cancels the pending job, and the job
// checks the case's state besides, so a job that lost the race does
// nothing.

// jobCaseEscalate is the escalation job's kind; its key is the case code
// and the number of escalations before it, so each step is its own job.
const jobCaseEscalate = "case.escalate"

func init() { registerJob(jobCaseEscalate, escalateCase) }

// Actions on a case in the console or the API.
const (
	CaseAcknowledge = "acknowledge"
	CaseRefer       = "refer"
	CaseResolve     = "resolve"
)

// SetCaseDeadlines sets how long each level has to acknowledge a case.
func (db *DB) SetCaseDeadlines(d cases.Deadlines) { db.caseDeadlines = d }

// escalation is an escalation job's payload: what the process that opened
// the case knew and the job's handler, which has no *DB, needs.
type escalation struct {
	Step     int    `json:"step"`
	Deadline int64  `json:"deadline_s"`
	Carrier  string `json:"carrier"`
	// Reminders counts the reminders sent at the top of the chain.
	Reminders int `json:"reminders,omitempty"`
}

// topReminders is how often the supervisors at the top of a case's chain
// are reminded, a deadline apart, of a case nobody has acknowledged:
// often enough that it is not forgotten, few enough that it is not
// ignored as noise. After them it stays overdue at the head of the
// console's list.
const topReminders = 3

func escalationKey(code string, step int) string { return code + ":" + strconv.Itoa(step) }

// topReminderKey keys the job of the nth reminder at the top of a case's
// chain; topReminderStep sets its SMS apart from the escalations'.
func topReminderKey(code string, n int) string { return code + ":top" + strconv.Itoa(n) }

const topReminderStep = 1000

// chainArea is one area of a case's chain, from the village (depth 0) up.
type chainArea struct {
	ID          int64  `db:"id"`
	Code        string `db:"code"`
	Name        string `db:"name"`
	Depth       int    `db:"depth"`
	Supervisors int    `db:"supervisors"`
}

// areaChain returns the chain of active areas from origin up, each with
// its number of active supervisors.
func areaChain(ctx context.Context, tx *sqlx.Tx, origin int64) ([]chainArea, error) {
	const q = `
WITH RECURSIVE chain AS (
    SELECT id, parent_id, 0 AS depth FROM areas WHERE id = $1
    UNION ALL
    SELECT a.id, a.parent_id, chain.depth + 1 FROM areas a JOIN chain ON a.id = chain.parent_id
)
SELECT a.id, a.code, a.name, chain.depth,
       (SELECT count(*) FROM supervisors s WHERE s.area_id = a.id AND s.active) AS supervisors
FROM chain JOIN areas a ON a.id = chain.id
WHERE a.active OR chain.depth = 0
ORDER BY chain.depth`
	var out []chainArea
	if err := tx.SelectContext(ctx, &out, q, origin); err != nil {
		return nil, fmt.Errorf("area chain: %w", err)
	}
	return out, nil
}

// nextAnswering is the first area of chain above depth (-1: from the
// start) with supervisors.
func nextAnswering(chain []chainArea, depth int) (chainArea, bool) {
	for _, a := range chain {
		if a.Depth > depth && a.Supervisors > 0 {
			return a, true
		}
	}
	return chainArea{}, false
}

// randomCaseCode draws six decimal digits from crypto/rand.
func randomCaseCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("random case code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

const caseCodeAttempts = 10

// openCaseTx opens the case of a report just saved under ref, tells its
// first supervisors and schedules its escalation. A child whose village
// is not known (no area on the child nor on its director) opens no case:
// its report is alerted to the county as before.
func (db *DB) openCaseTx(ctx context.Context, tx *sqlx.Tx, r menus.Report, ref string) (bool, error) {
	const qChild = `
SELECT c.id, COALESCE(c.area_id, d.area_id) AS area_id
FROM children c JOIN directors d ON d.id = c.director_id
WHERE c.code = $1`
	var child struct {
		ID   int64         `db:"id"`
		Area sql.NullInt64 `db:"area_id"`
	}
	if err := tx.GetContext(ctx, &child, qChild, clean(r.ChildCode)); err != nil {
		return false, fmt.Errorf("open case: child: %w", err)
	}
	if !child.Area.Valid {
		return false, nil
	}
	chain, err := areaChain(ctx, tx, child.Area.Int64)
	if err != nil {
		return false, fmt.Errorf("open case: %w", err)
	}
	first, notify := nextAnswering(chain, -1)
	if !notify {
		first = chain[0] // nobody to tell: the case waits in the console
	}
	opened := r.ReportedAt
	if opened.IsZero() {
		opened = time.Now()
	}
	category := clean(cases.Category(r))
	deadline := db.caseDeadlines.For(category)
	var id int64
	var code string
	for attempt := 1; ; attempt++ {
		if code, err = randomCaseCode(); err != nil {
			return false, err
		}
		const q = `
INSERT INTO cases (code, report_kind, report_ref, child_id, origin_area_id, area_id, category, opened_at, deadline_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING
RETURNING id`
		err = tx.GetContext(ctx, &id, q, code, string(r.Kind), ref, child.ID, child.Area.Int64, first.ID, category, opened, opened.Add(deadline))
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("open case: %w", err)
		}
		// The report has its case already, or the code was taken.
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM cases WHERE report_ref = $1`, ref); err != nil {
			return false, fmt.Errorf("open case: %w", err)
		}
		if n > 0 {
			return true, nil
		}
		if attempt == caseCodeAttempts {
			return false, errors.New("open case: no free case code")
		}
	}
	if err := caseEvent(ctx, tx, id, opened, cases.EventOpened, child.Area.Int64, nil, nil, "system", cases.ChannelSystem, ref); err != nil {
		return false, err
	}
	if !notify {
		return true, nil
	}
	esc := escalation{Step: 0, Deadline: int64(deadline / time.Second), Carrier: db.carrier()}
	if err := notifyArea(ctx, tx, id, code, category, first, 0, templates.CaseOpened, esc.Carrier, opened); err != nil {
		return false, err
	}
	if err := scheduleTx(ctx, tx, jobCaseEscalate, escalationKey(code, 0), opened.Add(deadline), esc); err != nil {
		return false, fmt.Errorf("open case: %w", err)
	}
	return true, nil
}

func (db *DB) carrier() string {
	if db.alertCarrier == "" {
		return "at"
	}
	return db.alertCarrier
}

// notifyArea queues the case's SMS to each active supervisor of area,
// keyed by case, step and phone so that it is queued once, and records
// that they were told.
func notifyArea(ctx context.Context, tx *sqlx.Tx, caseID int64, code, category string, area chainArea, step int, template, carrier string, now time.Time) error {
	var sups []alertTarget
	const q = `SELECT phone, language FROM supervisors WHERE area_id = $1 AND active ORDER BY phone`
	if err := tx.SelectContext(ctx, &sups, q, area.ID); err != nil {
		return fmt.Errorf("case supervisors: %w", err)
	}
	for _, s := range sups {
		lang := s.Language
		if lang != menus.LangEN {
			lang = menus.LangZH
		}
		text := templates.MustRender(template, lang, templates.P("case", code), templates.P("what", menus.AlertSubject(menus.Report{Kind: menus.ReportNeed, Category: category}, lang)))
		m := sms.Message{
			Direction: sms.Out, Kind: sms.KindAlert, Status: sms.Queued, Carrier: carrier,
			Phone: s.Phone, Body: text.Body, Template: text.Template, Lang: text.Lang, Params: text.Params,
			DedupeKey: "case:" + code + ":" + strconv.Itoa(step) + ":" + s.Phone,
		}
		p, err := messageParamsOf(m)
		if err != nil {
			return fmt.Errorf("case sms: %w", err)
		}
		p.carrierID = sql.NullString{}
		if _, _, err := insertOutbound(ctx, tx, p, sms.Queued); err != nil {
			return fmt.Errorf("case sms: %w", err)
		}
	}
	return caseEvent(ctx, tx, caseID, now, cases.EventNotified, area.ID, nil, nil, "system", cases.ChannelSystem,
		fmt.Sprintf("%d supervisors", len(sups)))
}

func caseEvent(ctx context.Context, tx *sqlx.Tx, caseID int64, at time.Time, kind string, area int64, userID, supervisorID *int64, actor, channel, note string) error {
	const q = `
INSERT INTO case_events (case_id, at, kind, area_id, user_id, supervisor_id, actor, channel, note)
VALUES ($1, $2, $3, NULLIF($4, 0), $5, $6, $7, $8, $9)`
	if _, err := tx.ExecContext(ctx, q, caseID, at, kind, area, userID, supervisorID, clean(actor), channel, clean(note)); err != nil {
		return fmt.Errorf("case event %s: %w", kind, err)
	}
	return nil
}

// caseState is a case as the writes need it, locked.
type caseState struct {
	ID          int64  `db:"id"`
	Code        string `db:"code"`
	Origin      int64  `db:"origin_area_id"`
	Area        int64  `db:"area_id"`
	Category    string `db:"category"`
	Status      string `db:"status"`
	Escalations int    `db:"escalations"`
}

func lockCase(ctx context.Context, tx *sqlx.Tx, code string) (caseState, error) {
	const q = `SELECT id, code, origin_area_id, area_id, category, status, escalations FROM cases WHERE code = $1 FOR UPDATE`
	var c caseState
	err := tx.GetContext(ctx, &c, q, code)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("case: %w", menus.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("case: %w", err)
	}
	return c, nil
}

// escalateCase is the escalation job: the case climbs to the next area up
// with supervisors, unless it was acted on or climbed already.
func escalateCase(ctx context.Context, tx *sqlx.Tx, j Job, now time.Time) error {
	var esc escalation
	if err := json.Unmarshal(j.Payload, &esc); err != nil {
		return fmt.Errorf("escalation payload: %w", err)
	}
	code, _, _ := strings.Cut(j.Key, ":")
	c, err := lockCase(ctx, tx, code)
	if errors.Is(err, menus.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Status != cases.Open || c.Escalations != esc.Step {
		return nil
	}
	chain, err := areaChain(ctx, tx, c.Origin)
	if err != nil {
		return err
	}
	depth := -1
	for _, a := range chain {
		if a.ID == c.Area {
			depth = a.Depth
		}
	}
	deadline := time.Duration(esc.Deadline) * time.Second
	if deadline <= 0 {
		deadline = cases.DefaultDeadline
	}
	next, ok := nextAnswering(chain, depth)
	if !ok {
		// The top of the chain: nobody above to tell. Its supervisors are
		// reminded a few times, a deadline apart; the case stays overdue
		// at the head of the console's list.
		if esc.Reminders >= topReminders {
			return nil
		}
		var top chainArea
		for _, a := range chain {
			if a.ID == c.Area {
				top = a
			}
		}
		esc.Reminders++
		if err := notifyArea(ctx, tx, c.ID, c.Code, c.Category, top, topReminderStep+esc.Reminders, templates.CaseUnanswered, esc.Carrier, now); err != nil {
			return err
		}
		return scheduleTx(ctx, tx, jobCaseEscalate, topReminderKey(c.Code, esc.Reminders), now.Add(deadline), esc)
	}
	const q = `UPDATE cases SET area_id = $2, escalations = escalations + 1, deadline_at = $3 WHERE id = $1`
	if _, err := tx.ExecContext(ctx, q, c.ID, next.ID, now.Add(deadline)); err != nil {
		return fmt.Errorf("escalate case: %w", err)
	}
	if err := caseEvent(ctx, tx, c.ID, now, cases.EventEscalated, next.ID, nil, nil, "system", cases.ChannelSystem, "not acknowledged in time"); err != nil {
		return err
	}
	step := esc.Step + 1
	if err := notifyArea(ctx, tx, c.ID, c.Code, c.Category, next, step, templates.CaseEscalated, esc.Carrier, now); err != nil {
		return err
	}
	esc.Step = step
	return scheduleTx(ctx, tx, jobCaseEscalate, escalationKey(c.Code, step), now.Add(deadline), esc)
}

// AcknowledgeCaseBySMS acknowledges the case with code for the supervisor
// with phone, at now. A phone that is no active supervisor's, a code no
// case has, and a case none of whose chain's areas the supervisor answers
// for are all refused alike, so the reply tells nothing of which it was.
func (db *DB) AcknowledgeCaseBySMS(ctx context.Context, phone, code string, now time.Time) (cases.Ack, error) {
	out := cases.Ack{Outcome: cases.AckRefused, Code: code}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var sup struct {
			ID       int64         `db:"id"`
			Name     string        `db:"name"`
			Language string        `db:"language"`
			Area     sql.NullInt64 `db:"area_id"`
		}
		err := tx.GetContext(ctx, &sup, `SELECT id, name, language, area_id FROM supervisors WHERE phone = $1 AND active`, phone)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("supervisor: %w", err)
		}
		out.Supervisor, out.Language = true, sup.Language
		if !sup.Area.Valid || !cases.IsCode(code) {
			return nil
		}
		c, err := lockCase(ctx, tx, code)
		if errors.Is(err, menus.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		chain, err := areaChain(ctx, tx, c.Origin)
		if err != nil {
			return err
		}
		onChain := false
		for _, a := range chain {
			onChain = onChain || a.ID == sup.Area.Int64
		}
		if !onChain {
			return nil
		}
		if c.Status != cases.Open {
			out.Outcome = cases.AckAlready
			return nil
		}
		out.Outcome = cases.AckDone
		return db.actTx(ctx, tx, c, CaseAcknowledge, now, sup.Name, nil, &sup.ID, cases.ChannelSMS, "", sup.Area.Int64)
	})
	if err != nil {
		return cases.Ack{}, fmt.Errorf("acknowledge case: %w", err)
	}
	return out, nil
}

// actTx moves a locked case to the action's state, records who and when,
// and cancels its pending escalation. The caller has checked the action
// is allowed from the case's state.
func (db *DB) actTx(ctx context.Context, tx *sqlx.Tx, c caseState, action string, now time.Time, actor string, userID, supervisorID *int64, channel, note string, area int64) error {
	var q, kind string
	switch action {
	case CaseAcknowledge:
		kind = cases.EventAcknowledged
		q = `UPDATE cases SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1`
	case CaseRefer:
		kind = cases.EventReferred
		q = `UPDATE cases SET status = 'referred', referred_at = $2, referred_by = $3,
    acknowledged_at = COALESCE(acknowledged_at, $2), acknowledged_by = COALESCE(acknowledged_by, $3) WHERE id = $1`
	case CaseResolve:
		kind = cases.EventResolved
		q = `UPDATE cases SET status = 'resolved', resolved_at = $2, resolved_by = $3,
    acknowledged_at = COALESCE(acknowledged_at, $2), acknowledged_by = COALESCE(acknowledged_by, $3) WHERE id = $1`
	default:
		return fmt.Errorf("case action %q: %w", action, menus.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, q, c.ID, now, clean(actor)); err != nil {
		return fmt.Errorf("case %s: %w", action, err)
	}
	if c.Status == cases.Open {
		if _, err := cancelJobTx(ctx, tx, jobCaseEscalate, escalationKey(c.Code, c.Escalations), now); err != nil {
			return err
		}
	}
	if area == 0 {
		area = c.Area
	}
	if err := caseEvent(ctx, tx, c.ID, now, kind, area, userID, supervisorID, actor, channel, note); err != nil {
		return err
	}
	return db.needFollowsCaseTx(ctx, tx, c.ID, c.Code, action, actor, userID, channel, now)
}

// caseActionFrom lists the states each action may be taken from.
var caseActionFrom = map[string][]string{
	CaseAcknowledge: {cases.Open},
	CaseRefer:       {cases.Open, cases.Acknowledged},
	CaseResolve:     {cases.Open, cases.Acknowledged, cases.Referred},
}

// ActOnCase acknowledges, refers or resolves a case for a console user, at
// now, with a note, audited in the same transaction. An unknown code or
// action is menus.ErrNotFound; an action its state does not allow (a
// resolved case referred) menus.ErrConflict.
func (db *DB) ActOnCase(ctx context.Context, actor access.User, code, action, note string, now time.Time) (cases.Case, error) {
	from, ok := caseActionFrom[action]
	if !ok {
		return cases.Case{}, fmt.Errorf("case action %q: %w", clean(action), menus.ErrNotFound)
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockCase(ctx, tx, code)
		if err != nil {
			return err
		}
		if actor.Scoped() {
			// A case outside the actor's area is, to them, no case at all.
			var in bool
			if err := tx.GetContext(ctx, &in, `SELECT barefoot_in_area($1, $2)`, c.Origin, actor.Area); err != nil {
				return fmt.Errorf("case: %w", err)
			}
			if !in {
				return fmt.Errorf("case: %w", menus.ErrNotFound)
			}
		}
		allowed := false
		for _, s := range from {
			allowed = allowed || s == c.Status
		}
		if !allowed {
			return fmt.Errorf("case is %s: %w", c.Status, menus.ErrConflict)
		}
		var uid *int64
		if actor.ID != 0 {
			uid = &actor.ID
		}
		if err := db.actTx(ctx, tx, c, action, now, actor.Username, uid, nil, cases.ChannelConsole, note, 0); err != nil {
			return err
		}
		type state struct {
			Status string `json:"status"`
			Note   string `json:"note,omitempty"`
		}
		return audit(ctx, tx, access.AuditEntry{
			Actor: actor, Action: "case." + action, ObjectType: "case", ObjectID: c.Code,
			Before: state{Status: c.Status}, After: state{Status: statusAfter(action), Note: clean(note)},
		})
	})
	if err != nil {
		return cases.Case{}, fmt.Errorf("%s case: %w", action, err)
	}
	return db.CaseByCode(ctx, code, now, actor.Area)
}

func statusAfter(action string) string {
	switch action {
	case CaseRefer:
		return cases.Referred
	case CaseResolve:
		return cases.Resolved
	}
	return cases.Acknowledged
}

// caseRow is a case as lists read it.
type caseRow struct {
	Code           string         `db:"code"`
	ReportKind     string         `db:"report_kind"`
	ReportRef      string         `db:"report_ref"`
	ChildCode      string         `db:"child_code"`
	Category       string         `db:"category"`
	Status         string         `db:"status"`
	OriginCode     string         `db:"origin_code"`
	OriginName     string         `db:"origin_name"`
	AreaCode       string         `db:"area_code"`
	AreaName       string         `db:"area_name"`
	Level          string         `db:"level"`
	OpenedAt       time.Time      `db:"opened_at"`
	Deadline       time.Time      `db:"deadline_at"`
	Escalations    int            `db:"escalations"`
	AcknowledgedAt sql.NullTime   `db:"acknowledged_at"`
	AcknowledgedBy sql.NullString `db:"acknowledged_by"`
	ReferredAt     sql.NullTime   `db:"referred_at"`
	ReferredBy     sql.NullString `db:"referred_by"`
	ResolvedAt     sql.NullTime   `db:"resolved_at"`
	ResolvedBy     sql.NullString `db:"resolved_by"`
}

func (r caseRow) toCase(now time.Time) cases.Case {
	return cases.Case{
		Code: r.Code, ReportKind: menus.ReportKind(r.ReportKind), ReportRef: r.ReportRef, ChildCode: r.ChildCode,
		Category: r.Category, Status: r.Status, OriginCode: r.OriginCode, OriginName: r.OriginName,
		AreaCode: r.AreaCode, AreaName: r.AreaName, Level: r.Level, OpenedAt: r.OpenedAt, Deadline: r.Deadline,
		Escalations: r.Escalations, AcknowledgedAt: r.AcknowledgedAt.Time, AcknowledgedBy: r.AcknowledgedBy.String,
		ReferredAt: r.ReferredAt.Time, ReferredBy: r.ReferredBy.String, ResolvedAt: r.ResolvedAt.Time, ResolvedBy: r.ResolvedBy.String,
		Overdue: r.Status == cases.Open && !now.Before(r.Deadline),
	}
}

const caseCols = `k.code, k.report_kind, k.report_ref, ch.code AS child_code, k.category, k.status,
       o.code AS origin_code, o.name AS origin_name, a.code AS area_code, a.name AS area_name, a.level,
       k.opened_at, k.deadline_at, k.escalations, k.acknowledged_at, k.acknowledged_by,
       k.referred_at, k.referred_by, k.resolved_at, k.resolved_by`

const caseFrom = `cases k JOIN children ch ON ch.id = k.child_id
JOIN areas o ON o.id = k.origin_area_id JOIN areas a ON a.id = k.area_id`

// ListCases returns a page of cases: open ones first by deadline (so the
// overdue lead), then the others, latest opened first; and how many match
// in all. now decides what is overdue.
func (db *DB) ListCases(ctx context.Context, q cases.Query, now time.Time) ([]cases.Case, int, error) {
	// The area filter takes every case whose village lies under the area,
	// found by walking down from it.
	const where = `
WHERE ($1 = '' OR k.status = $1)
  AND (NOT $3 OR (k.status = 'open' AND k.deadline_at <= $4))
  AND ($2 = '' OR k.origin_area_id IN (
      WITH RECURSIVE under AS (
          SELECT id FROM areas WHERE code = $2
          UNION ALL
          SELECT a.id FROM areas a JOIN under ON a.parent_id = under.id
      ) SELECT id FROM under))
  AND ($5::bigint = 0 OR barefoot_in_area(k.origin_area_id, $5))`
	args := []any{clean(q.Status), clean(q.Area), q.Overdue, now, q.Scope}
	var total int
	if err := db.db.GetContext(ctx, &total, `SELECT count(*) FROM `+caseFrom+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count cases: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	var rows []caseRow
	query := `SELECT ` + caseCols + ` FROM ` + caseFrom + where + `
ORDER BY k.status <> 'open', CASE WHEN k.status = 'open' THEN k.deadline_at END, k.opened_at DESC, k.id DESC
LIMIT $6 OFFSET $7`
	if err := db.db.SelectContext(ctx, &rows, query, append(args, limit, q.Offset)...); err != nil {
		return nil, 0, fmt.Errorf("list cases: %w", err)
	}
	out := make([]cases.Case, len(rows))
	for i, r := range rows {
		out[i] = r.toCase(now)
	}
	return out, total, nil
}

// CaseByCode returns a case with its history. An unknown code, or a case
// of a village outside the area scope (0: all), is menus.ErrNotFound.
func (db *DB) CaseByCode(ctx context.Context, code string, now time.Time, scope int64) (cases.Case, error) {
	var row caseRow
	err := db.db.GetContext(ctx, &row, `SELECT `+caseCols+` FROM `+caseFrom+`
WHERE k.code = $1 AND ($2::bigint = 0 OR barefoot_in_area(k.origin_area_id, $2))`, clean(code), scope)
	if errors.Is(err, sql.ErrNoRows) {
		return cases.Case{}, fmt.Errorf("case: %w", menus.ErrNotFound)
	}
	if err != nil {
		return cases.Case{}, fmt.Errorf("case: %w", err)
	}
	c := row.toCase(now)
	const q = `
SELECT e.at, e.kind, COALESCE(a.code, '') AS area_code, COALESCE(a.name, '') AS area_name, e.actor, e.channel, e.note
FROM case_events e JOIN cases k ON k.id = e.case_id LEFT JOIN areas a ON a.id = e.area_id
WHERE k.code = $1 ORDER BY e.at, e.id`
	var events []struct {
		At       time.Time `db:"at"`
		Kind     string    `db:"kind"`
		AreaCode string    `db:"area_code"`
		AreaName string    `db:"area_name"`
		Actor    string    `db:"actor"`
		Channel  string    `db:"channel"`
		Note     string    `db:"note"`
	}
	if err := db.db.SelectContext(ctx, &events, q, c.Code); err != nil {
		return cases.Case{}, fmt.Errorf("case events: %w", err)
	}
	for _, e := range events {
		c.Events = append(c.Events, cases.Event(e))
	}
	return c, nil
}

// SupervisorLanguage is the language of the active supervisor with phone,
// and false when the phone is no active supervisor's.
func (db *DB) SupervisorLanguage(ctx context.Context, phone string) (string, bool, error) {
	var lang string
	err := db.db.GetContext(ctx, &lang, `SELECT language FROM supervisors WHERE phone = $1 AND active`, clean(phone))
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("supervisor language: %w", err)
	}
	return lang, true, nil
}
