package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/jmoiron/sqlx"
)

// TemplateApprovals returns every recorded verdict, by template, language
// and carrier.
func (db *DB) TemplateApprovals(ctx context.Context) ([]templates.Approval, error) {
	const q = `SELECT template, lang, carrier, status, provider_id, note FROM template_approvals ORDER BY template, lang, carrier`
	out := []templates.Approval{}
	if err := db.db.SelectContext(ctx, &out, q); err != nil {
		return nil, fmt.Errorf("template approvals: %w", err)
	}
	return out, nil
}

// ApprovedTemplate returns the provider's id of a template in a language,
// if the carrier approved it.
func (db *DB) ApprovedTemplate(ctx context.Context, carrier, template, lang string) (string, bool, error) {
	const q = `SELECT provider_id FROM template_approvals WHERE carrier = $1 AND template = $2 AND lang = $3 AND status = 'approved'`
	var id string
	err := db.db.GetContext(ctx, &id, q, carrier, template, lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("approved template: %w", err)
	}
	return id, true, nil
}

// SetTemplateApproval records a provider's verdict, audited. The template
// and language must be the gateway's; an approval needs the provider's id.
// Messages held for the template are looked at again at once.
func (db *DB) SetTemplateApproval(ctx context.Context, actor access.User, a templates.Approval) (templates.Approval, error) {
	a = templates.Approval{Template: clean(a.Template), Lang: clean(a.Lang), Carrier: clean(a.Carrier),
		Status: clean(a.Status), ProviderID: clean(a.ProviderID), Note: clean(a.Note)}
	var problems []menus.Problem
	t, ok := templates.Get(a.Template)
	switch {
	case !ok:
		problems = append(problems, menus.Problem{Field: "template", Message: "no such template"})
	case t.Text[a.Lang] == "":
		problems = append(problems, menus.Problem{Field: "lang", Message: "the template has no text in this language"})
	}
	if a.Carrier == "" {
		problems = append(problems, menus.Problem{Field: "carrier", Message: "required"})
	}
	switch a.Status {
	case templates.Approved:
		if a.ProviderID == "" {
			problems = append(problems, menus.Problem{Field: "provider_id", Message: "an approved template needs the provider's template id"})
		}
	case templates.Pending, templates.Rejected:
	default:
		problems = append(problems, menus.Problem{Field: "status", Message: "pending, approved or rejected"})
	}
	if problems != nil {
		return templates.Approval{}, &menus.ValidationError{Problems: problems}
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var before *templates.Approval
		var prev templates.Approval
		err := tx.GetContext(ctx, &prev, `SELECT template, lang, carrier, status, provider_id, note FROM template_approvals
WHERE template = $1 AND lang = $2 AND carrier = $3 FOR UPDATE`, a.Template, a.Lang, a.Carrier)
		switch {
		case err == nil:
			before = &prev
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		const upsert = `
INSERT INTO template_approvals (template, lang, carrier, status, provider_id, note)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (template, lang, carrier) DO UPDATE
SET status = EXCLUDED.status, provider_id = EXCLUDED.provider_id, note = EXCLUDED.note, updated_at = now()`
		if _, err := tx.ExecContext(ctx, upsert, a.Template, a.Lang, a.Carrier, a.Status, a.ProviderID, a.Note); err != nil {
			return err
		}
		if a.Status == templates.Approved {
			// Held messages of this template go out on the sender's next
			// round rather than at their next look.
			const wake = `
UPDATE messages SET next_attempt_at = now(), last_error = NULL, updated_at = now()
WHERE direction = 'out' AND status = 'queued' AND carrier = $1 AND template = $2 AND template_lang = $3
  AND last_error LIKE 'template % is not approved at %'`
			if _, err := tx.ExecContext(ctx, wake, a.Carrier, a.Template, a.Lang); err != nil {
				return err
			}
		}
		e := access.AuditEntry{Actor: actor, Action: "template.approval", ObjectType: "template",
			ObjectID: a.Template + "/" + a.Lang + "/" + a.Carrier, After: a}
		if before != nil {
			e.Before = *before
		}
		return audit(ctx, tx, e)
	})
	if err != nil {
		return templates.Approval{}, fmt.Errorf("set template approval: %w", err)
	}
	return a, nil
}

// HeldByTemplate counts the outbound messages waiting, queued, whose last
// look found their template unapproved, by template key.
func (db *DB) HeldByTemplate(ctx context.Context) (map[string]int, error) {
	const q = `
SELECT template, count(*) AS n FROM messages
WHERE direction = 'out' AND status = 'queued' AND template <> '' AND last_error LIKE 'template % is not approved at %'
GROUP BY template`
	var rows []struct {
		Template string `db:"template"`
		N        int    `db:"n"`
	}
	if err := db.db.SelectContext(ctx, &rows, q); err != nil {
		return nil, fmt.Errorf("held messages by template: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Template] = r.N
	}
	return out, nil
}
