package storage_test

import (
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// TestCaseAndNeedMoveTogether: a case opened by a need and the need are
// one concern. Resolving the case resolves the need (its history says
// which case); a director referring the need from the field refers its
// case, and the office resolving the need resolves it; acknowledging a
// case leaves the need open; a resolved case is not moved back by a need
// reopened in the console.
func TestCaseAndNeedMoveTogether(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	mustCasework(t, db)
	ctx := t.Context()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	officer, err := db.CreateUser(ctx, access.System, "officer", "a long enough password", access.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	state := func(ref string) (need, kase string) {
		t.Helper()
		if err := storage.SQL(db).QueryRow(`SELECT n.status, k.status FROM needs n JOIN cases k ON k.report_ref = n.ref WHERE n.ref = $1`, ref).Scan(&need, &kase); err != nil {
			t.Fatal(err)
		}
		return need, kase
	}
	code := func(ref string) string {
		t.Helper()
		var c string
		if err := storage.SQL(db).Get(&c, `SELECT code FROM cases WHERE report_ref = $1`, ref); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// Through the case.
	one, err := db.SaveReport(ctx, urgentNeed(t, db, "sms:link:1", now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ActOnCase(ctx, officer, code(one), storage.CaseAcknowledge, "", now); err != nil {
		t.Fatal(err)
	}
	if n, k := state(one); n != "open" || k != "acknowledged" {
		t.Fatalf("acknowledged: need %s, case %s", n, k)
	}
	if _, err := db.ActOnCase(ctx, officer, code(one), storage.CaseResolve, "placed with her aunt", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, k := state(one); n != "resolved" || k != "resolved" {
		t.Fatalf("case resolved: need %s, case %s", n, k)
	}
	it, err := db.ReportWithHistory(ctx, one, 0)
	if err != nil || len(it.History) != 1 || it.History[0].Actor != "officer" || it.History[0].Note != "case "+code(one) || it.History[0].Channel != "console" {
		t.Fatalf("the need's history: %+v, %v", it.History, err)
	}

	// Through the need: the director refers it by SMS, the office
	// resolves it, then reopens it.
	two, err := db.SaveReport(ctx, urgentNeed(t, db, "sms:link:2", now))
	if err != nil {
		t.Fatal(err)
	}
	var dir int64
	if err := storage.SQL(db).Get(&dir, `SELECT id FROM directors WHERE phone = $1`, caseDirector); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNeedStatusFromField(ctx, dir, two, "referred", menus.ChannelSMS, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, k := state(two); n != "referred" || k != "referred" {
		t.Fatalf("need referred from the field: need %s, case %s", n, k)
	}
	var actor, channel string
	if err := storage.SQL(db).QueryRow(`SELECT e.actor, e.channel FROM case_events e JOIN cases k ON k.id = e.case_id
WHERE k.report_ref = $1 AND e.kind = 'referred'`, two).Scan(&actor, &channel); err != nil || actor != "director 李梅" || channel != "sms" {
		t.Fatalf("the case's referral: %q %q %v", actor, channel, err)
	}
	if _, err := db.SetNeedStatus(ctx, officer, two, "resolved", "school place found"); err != nil {
		t.Fatal(err)
	}
	if n, k := state(two); n != "resolved" || k != "resolved" {
		t.Fatalf("need resolved in the console: need %s, case %s", n, k)
	}
	if _, err := db.SetNeedStatus(ctx, officer, two, "open", "not settled after all"); err != nil {
		t.Fatal(err)
	}
	if n, k := state(two); n != "open" || k != "resolved" {
		t.Fatalf("need reopened: need %s, case %s", n, k)
	}
}
