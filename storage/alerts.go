package storage

import (
	"context"
	"fmt"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/jmoiron/sqlx"
)

// Alerts: a report of an urgent concern queues an SMS to each active
// supervisor of the child's county (by the county's name; supervisors of
// a township or village are told of the case instead, see cases.go) in the transaction that saves the
// report, keyed by reference and supervisor, so it is sent exactly once
// however often the report is retried, and never for a report that did not
// commit.

// SetAlertCarrier names the carrier alerts are sent through ("at",
// "twilio", "kannel").
func (db *DB) SetAlertCarrier(carrier string) { db.alertCarrier = carrier }

type alertTarget struct {
	Phone    string `db:"phone"`
	Language string `db:"language"`
}

// alertsTx queues the alerts of a newly saved urgent report.
func (db *DB) alertsTx(ctx context.Context, tx *sqlx.Tx, r menus.Report, ref string) error {
	const qDirector = `SELECT phone FROM directors WHERE id = $1`
	const qSupervisors = `
SELECT s.phone, s.language FROM supervisors s
JOIN children c ON c.county = s.county
WHERE c.code = $1 AND s.active
  -- Supervisors of a township or a village hear of their cases instead.
  AND NOT EXISTS (SELECT 1 FROM areas a WHERE a.id = s.area_id AND a.level IN ('township', 'village'))
ORDER BY s.phone`
	var director string
	if err := tx.GetContext(ctx, &director, qDirector, r.DirectorID); err != nil {
		return fmt.Errorf("alert: director: %w", err)
	}
	var targets []alertTarget
	if err := tx.SelectContext(ctx, &targets, qSupervisors, clean(r.ChildCode)); err != nil {
		return fmt.Errorf("alert: supervisors: %w", err)
	}
	carrier := db.alertCarrier
	if carrier == "" {
		carrier = "at"
	}
	for _, t := range targets {
		lang := t.Language
		if lang != menus.LangEN {
			lang = menus.LangZH
		}
		// The child's code, what it is about, the director's phone and the
		// reference: no child name, since an SMS can be read by whoever
		// holds the phone.
		text := templates.MustRender(templates.AlertUrgent, lang,
			templates.P("child", r.ChildCode), templates.P("what", menus.AlertSubject(r, lang)),
			templates.P("director", director), templates.P("ref", ref))
		m := sms.Message{
			Direction: sms.Out, Kind: sms.KindAlert, Status: sms.Queued, Carrier: carrier,
			Phone: t.Phone, Body: text.Body, Template: text.Template, Lang: text.Lang, Params: text.Params,
			DedupeKey: "alert:" + ref + ":" + t.Phone,
		}
		if _, _, err := db.enqueueTx(ctx, tx, m); err != nil {
			return fmt.Errorf("alert: %w", err)
		}
	}
	return nil
}
