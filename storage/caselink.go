package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
)

// A case opened by a need and the need itself are one concern, followed up
// by supervisors in the case and by the director and the office on the
// need. Referring or resolving either moves the other, in the same
// transaction, so that a supervisor who resolves the case does not leave
// the director reminded of an open need, and a director who marks the need
// resolved does not leave the case climbing the areas.

// needStatusOfAction is the need status a case action carries over.
var needStatusOfAction = map[string]string{CaseRefer: needReferred, CaseResolve: needResolved}

// caseActionOfNeed is the case action a need status carries over.
var caseActionOfNeed = map[string]string{needReferred: CaseRefer, needResolved: CaseResolve}

// needFollowsCaseTx moves the need a case was opened by to the status the
// case's action means, when the need may move there; a visit's case, or a
// need already there, is left alone.
func (db *DB) needFollowsCaseTx(ctx context.Context, tx *sqlx.Tx, caseID int64, code, action, actor string, userID *int64, channel string, now time.Time) error {
	to, ok := needStatusOfAction[action]
	if !ok {
		return nil
	}
	var n struct {
		ID     int64  `db:"id"`
		Ref    string `db:"ref"`
		Status string `db:"status"`
	}
	err := tx.GetContext(ctx, &n, `SELECT n.id, n.ref, n.status FROM needs n JOIN cases k ON k.report_ref = n.ref WHERE k.id = $1 FOR UPDATE OF n`, caseID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the need of case %s: %w", code, err)
	}
	if !slices.Contains(needTransitions[n.Status], to) {
		return nil
	}
	if channel != "sms" && channel != "ussd" {
		channel = "console"
	}
	_, err = db.moveNeedTx(ctx, tx, needMove{ID: n.ID, Ref: n.Ref, From: n.Status, To: to, Note: "case " + code,
		UserID: userID, Actor: actor, Channel: channel, At: now, FromCase: true})
	return err
}

// caseFollowsNeedTx refers or resolves the case a need opened, when it
// may be (a resolved case is not referred), for a need that became
// status; a need without a case is left alone.
func (db *DB) caseFollowsNeedTx(ctx context.Context, tx *sqlx.Tx, needRef, status, actor string, userID *int64, channel string, now time.Time) error {
	action, ok := caseActionOfNeed[status]
	if !ok {
		return nil
	}
	var code string
	err := tx.GetContext(ctx, &code, `SELECT code FROM cases WHERE report_ref = $1`, needRef)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the case of need %s: %w", needRef, err)
	}
	c, err := lockCase(ctx, tx, code)
	if err != nil {
		return err
	}
	if !slices.Contains(caseActionFrom[action], c.Status) {
		return nil
	}
	return db.actTx(ctx, tx, c, action, now, actor, userID, nil, channel, "need "+needRef, 0)
}
