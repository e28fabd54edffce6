package storage_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// Phones of the casework registry: test numbers, not people.
const (
	caseDirector   = "+8613800138101"
	supTownship    = "+8613700137101"
	supCounty      = "+8613700137102"
	supPrefecture  = "+8613700137103"
	supOtherTown   = "+8613700137104"
	caseChildName  = "王小明"
	caseChildCode  = "C1001"
	caseVillage    = "V-QS"
	caseOtherTown  = "T-SM"
	caseCounty     = "C-YL"
	casePrefecture = "P-QN"
)

// mustCasework stores a prefecture > county > township > village chain,
// a second township beside the first, a supervisor at each of the four
// and a director and child in the village.
func mustCasework(t *testing.T, db *storage.DB) {
	t.Helper()
	ctx := t.Context()
	areas := []registry.Area{
		// Out of order on purpose: the import writes parents first.
		{Code: caseVillage, Name: "青山村", Level: registry.LevelVillage, Parent: "T-QS"},
		{Code: "T-QS", Name: "青山镇", Level: registry.LevelTownship, Parent: caseCounty},
		{Code: caseOtherTown, Name: "石门乡", Level: registry.LevelTownship, Parent: caseCounty},
		{Code: caseCounty, Name: "云岭县", Level: registry.LevelCounty, Parent: casePrefecture},
		{Code: casePrefecture, Name: "黔南州", Level: registry.LevelPrefecture},
	}
	if _, _, err := db.ImportAreas(ctx, access.System, areas, false); err != nil {
		t.Fatalf("import areas: %v", err)
	}
	sups := []registry.Supervisor{
		{Phone: supTownship, Name: "钱站长", Language: menus.LangZH, County: "云岭县", Area: "T-QS"},
		{Phone: supCounty, Name: "赵主任", Language: menus.LangZH, County: "云岭县", Area: caseCounty},
		{Phone: supPrefecture, Name: "Director Wu", Language: menus.LangEN, County: "云岭县", Area: casePrefecture},
		{Phone: supOtherTown, Name: "孙站长", Language: menus.LangZH, County: "云岭县", Area: caseOtherTown},
	}
	if _, _, err := db.ImportSupervisors(ctx, access.System, sups, false); err != nil {
		t.Fatalf("import supervisors: %v", err)
	}
	mustDirectors(t, db, registry.Director{Phone: caseDirector, Name: "李梅", Language: menus.LangZH, Village: "青山村", County: "云岭县", Area: caseVillage, Active: true})
	recs := []registry.ChildRecord{{Child: registry.Child{Code: caseChildCode, Name: caseChildName, Village: "青山村", County: "云岭县", Area: caseVillage, DirectorPhone: caseDirector}}}
	if _, _, err := db.ImportChildren(ctx, access.System, recs, false); err != nil {
		t.Fatalf("import children: %v", err)
	}
}

func urgentNeed(t *testing.T, db *storage.DB, key string, at time.Time) menus.Report {
	t.Helper()
	var dir int64
	if err := storage.SQL(db).Get(&dir, `SELECT id FROM directors WHERE phone = $1`, caseDirector); err != nil {
		t.Fatal(err)
	}
	return menus.Report{
		Kind: menus.ReportNeed, SessionKey: key, Channel: menus.ChannelSMS, Carrier: "at", DirectorID: dir,
		ChildCode: caseChildCode, Category: "protection", Urgency: menus.UrgencyUrgent, Alert: true,
		Answers: map[string]string{"category": "protection"}, Tree: "director", Version: 1, ReportedAt: at,
	}
}

type sentSMS struct {
	Phone    string `db:"phone"`
	Body     string `db:"body"`
	Template string `db:"template"`
}

// caseSMS returns the case messages queued, by phone.
func caseSMS(t *testing.T, db *storage.DB) map[string][]sentSMS {
	t.Helper()
	var rows []sentSMS
	if err := storage.SQL(db).Select(&rows, `SELECT phone, body, template FROM messages WHERE direction = 'out' AND template LIKE 'case_%' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	out := map[string][]sentSMS{}
	for _, r := range rows {
		out[r.Phone] = append(out[r.Phone], r)
	}
	return out
}

func onlyCase(t *testing.T, db *storage.DB, now time.Time) cases.Case {
	t.Helper()
	list, total, err := db.ListCases(t.Context(), cases.Query{Limit: 10}, now)
	if err != nil || total != 1 || len(list) != 1 {
		t.Fatalf("cases: %d of %d, %v", len(list), total, err)
	}
	c, err := db.CaseByCode(t.Context(), list[0].Code, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func eventKinds(c cases.Case) string {
	var ks []string
	for _, e := range c.Events {
		ks = append(ks, e.Kind+"@"+e.AreaCode)
	}
	return strings.Join(ks, " ")
}

// TestCaseEscalatesUpTheChain: an urgent need opens a case at its
// village's township; unacknowledged past the deadline it climbs to the
// county, then the prefecture, each level told by SMS without the
// child's name; an acknowledgement (by SMS at the county in one run, in
// the console at the prefecture in the other) stops the climb.
func TestCaseEscalatesUpTheChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		ackAfter   int // escalations before the acknowledgement
		ack        func(t *testing.T, db *storage.DB, code string, at time.Time)
		wantEvents string
		ackBy      string
	}{
		{
			name: "by SMS at the county", ackAfter: 1,
			ack: func(t *testing.T, db *storage.DB, code string, at time.Time) {
				got, err := db.AcknowledgeCaseBySMS(t.Context(), supCounty, code, at)
				if err != nil || got.Outcome != cases.AckDone || got.Language != menus.LangZH {
					t.Fatalf("ack by SMS = %+v, %v", got, err)
				}
			},
			wantEvents: "opened@V-QS notified@T-QS escalated@C-YL notified@C-YL acknowledged@C-YL",
			ackBy:      "赵主任",
		},
		{
			name: "in the console at the prefecture", ackAfter: 2,
			ack: func(t *testing.T, db *storage.DB, code string, at time.Time) {
				officer := access.User{ID: 0, Username: "officer", Role: access.RoleEditor, Active: true}
				if _, err := db.ActOnCase(t.Context(), officer, code, storage.CaseAcknowledge, "called the township", at); err != nil {
					t.Fatalf("ack in the console: %v", err)
				}
			},
			wantEvents: "opened@V-QS notified@T-QS escalated@C-YL notified@C-YL escalated@P-QN notified@P-QN acknowledged@P-QN",
			ackBy:      "officer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := storagetest.MustDB(t)
			mustCasework(t, db)
			ctx := t.Context()
			t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			if _, _, err := db.FileReport(ctx, urgentNeed(t, db, "sms:case-1", t0)); err != nil {
				t.Fatal(err)
			}
			c := onlyCase(t, db, t0)
			if c.Status != cases.Open || c.AreaCode != "T-QS" || !c.Deadline.Equal(t0.Add(4*time.Hour)) || !cases.IsCode(c.Code) {
				t.Fatalf("opened case: %+v", c)
			}
			sms := caseSMS(t, db)
			if len(sms[supTownship]) != 1 || len(sms) != 1 || !strings.Contains(sms[supTownship][0].Body, c.Code) ||
				!strings.Contains(sms[supTownship][0].Body, "保护问题") {
				t.Fatalf("at opening, case SMS %+v", sms)
			}
			steps := []struct {
				at    time.Time
				phone string // told at this step
			}{{t0.Add(4 * time.Hour), supCounty}, {t0.Add(8 * time.Hour), supPrefecture}}
			for i, st := range steps[:tt.ackAfter] {
				if n, err := db.RunDueJobs(ctx, st.at.Add(-time.Second), 10); err != nil || n != 0 {
					t.Fatalf("step %d: a second early, ran %d, %v", i, n, err)
				}
				if n, err := db.RunDueJobs(ctx, st.at, 10); err != nil || n != 1 {
					t.Fatalf("step %d: ran %d, %v", i, n, err)
				}
				if got := caseSMS(t, db)[st.phone]; len(got) != 1 || got[0].Template != "case_escalated" || !strings.Contains(got[0].Body, c.Code) {
					t.Fatalf("step %d: %s was told %+v", i, st.phone, got)
				}
			}
			ackAt := steps[tt.ackAfter-1].at.Add(time.Hour)
			tt.ack(t, db, c.Code, ackAt)
			// Days later, nothing more happens.
			for _, at := range []time.Time{t0.Add(12 * time.Hour), t0.Add(72 * time.Hour)} {
				if _, err := db.RunDueJobs(ctx, at, 10); err != nil {
					t.Fatal(err)
				}
			}
			c = onlyCase(t, db, t0.Add(72*time.Hour))
			if c.Status != cases.Acknowledged || c.AcknowledgedBy != tt.ackBy || !c.AcknowledgedAt.Equal(ackAt) || c.Overdue {
				t.Fatalf("acknowledged case: %+v", c)
			}
			if got := eventKinds(c); got != tt.wantEvents {
				t.Fatalf("events\n got %s\nwant %s", got, tt.wantEvents)
			}
			total := 0
			for phone, msgs := range caseSMS(t, db) {
				total += len(msgs)
				for _, m := range msgs {
					if strings.Contains(m.Body, caseChildName) || strings.Contains(m.Body, caseChildCode) {
						t.Errorf("SMS to %s names the child: %q", phone, m.Body)
					}
				}
			}
			if total != 1+tt.ackAfter {
				t.Fatalf("%d case SMS, want %d", total, 1+tt.ackAfter)
			}
			if tt.ackBy == "officer" {
				if n := MustCount(t, db, `SELECT count(*) FROM audit_log WHERE action = 'case.acknowledge' AND object_id = $1`, c.Code); n != 1 {
					t.Fatalf("%d audit entries for the acknowledgement", n)
				}
			}
		})
	}
}

// TestCaseAckRefusedAlike: an acknowledgement by a supervisor of an area
// off the case's chain, by a number that is no supervisor's, or of a code
// no case has, is refused in the same way, and changes nothing.
func TestCaseAckRefusedAlike(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	mustCasework(t, db)
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if _, _, err := db.FileReport(ctx, urgentNeed(t, db, "sms:case-2", t0)); err != nil {
		t.Fatal(err)
	}
	code := onlyCase(t, db, t0).Code
	unknown := "000000"
	if unknown == code {
		unknown = "000001"
	}
	tests := []struct {
		name, phone, code string
		want              cases.AckOutcome
	}{
		{"another township's supervisor", supOtherTown, code, cases.AckRefused},
		{"a number that is no supervisor's", caseDirector, code, cases.AckRefused},
		{"a code no case has", supTownship, unknown, cases.AckRefused},
		{"the township's supervisor", supTownship, code, cases.AckDone},
		{"the county's, after", supCounty, code, cases.AckAlready},
	}
	for _, tt := range tests {
		got, err := db.AcknowledgeCaseBySMS(ctx, tt.phone, tt.code, t0.Add(time.Hour))
		if err != nil || got.Outcome != tt.want {
			t.Errorf("%s: %+v, %v; want outcome %d", tt.name, got, err, tt.want)
		}
		if tt.want == cases.AckRefused && got.Code != tt.code {
			t.Errorf("%s: refusal names %q", tt.name, got.Code)
		}
	}
	if c := onlyCase(t, db, t0.Add(time.Hour)); c.AcknowledgedBy != "钱站长" {
		t.Fatalf("acknowledged by %q", c.AcknowledgedBy)
	}
}

// TestCaseOpensOnceForARetriedReport: the same report saved again, or
// saved by two requests at once, opens one case and tells its
// supervisors once.
func TestCaseOpensOnceForARetriedReport(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	mustCasework(t, db)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r := urgentNeed(t, db, "sms:case-3", t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := db.FileReport(t.Context(), r); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, _, err := db.FileReport(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM cases`); n != 1 {
		t.Fatalf("%d cases", n)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM messages WHERE template = 'case_opened'`); n != 1 {
		t.Fatalf("%d case SMS", n)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM jobs WHERE kind = 'case.escalate'`); n != 1 {
		t.Fatalf("%d escalation jobs", n)
	}
}

// TestCaseEscalationsTwoProcesses: two gateway processes (two pools on one
// database) running due jobs at once escalate each case once and send each
// escalation SMS once.
func TestCaseEscalationsTwoProcesses(t *testing.T) {
	t.Parallel()
	a := storagetest.MustDB(t)
	mustCasework(t, a)
	b, err := storage.Open(t.Context(), a.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	const reports = 30
	for i := range reports {
		if _, _, err := a.FileReport(t.Context(), urgentNeed(t, a, fmt.Sprint("sms:case-many-", i), t0)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, db := range []*storage.DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.RunDueJobs(t.Context(), t0.Add(4*time.Hour), reports); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := MustCount(t, a, `SELECT count(*) FROM messages WHERE template = 'case_escalated' AND phone = $1`, supCounty); n != reports {
		t.Fatalf("%d escalation SMS to the county, want %d", n, reports)
	}
	if n := MustCount(t, a, `SELECT count(*) FROM case_events WHERE kind = 'escalated'`); n != reports {
		t.Fatalf("%d escalations recorded, want %d", n, reports)
	}
	if n := MustCount(t, a, `SELECT count(*) FROM cases WHERE escalations = 1`); n != reports {
		t.Fatalf("%d cases escalated once, want %d", n, reports)
	}
}

// TestCaseActions: refer and resolve keep their own who and when; acting
// on a resolved case is a conflict; an unknown code is not found.
func TestCaseActions(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	mustCasework(t, db)
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if _, _, err := db.FileReport(ctx, urgentNeed(t, db, "sms:case-4", t0)); err != nil {
		t.Fatal(err)
	}
	code := onlyCase(t, db, t0).Code
	officer := access.User{Username: "officer", Role: access.RoleEditor, Active: true}
	steps := []struct {
		action  string
		at      time.Time
		wantErr error
	}{
		{storage.CaseRefer, t0.Add(time.Hour), nil},
		{storage.CaseAcknowledge, t0.Add(2 * time.Hour), menus.ErrConflict},
		{storage.CaseResolve, t0.Add(3 * time.Hour), nil},
		{storage.CaseRefer, t0.Add(4 * time.Hour), menus.ErrConflict},
	}
	for _, st := range steps {
		if _, err := db.ActOnCase(ctx, officer, code, st.action, "note", st.at); !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: %v, want %v", st.action, err, st.wantErr)
		}
	}
	c := onlyCase(t, db, t0.Add(5*time.Hour))
	if c.Status != cases.Resolved || !c.ReferredAt.Equal(t0.Add(time.Hour)) || !c.ResolvedAt.Equal(t0.Add(3*time.Hour)) ||
		!c.AcknowledgedAt.Equal(t0.Add(time.Hour)) || c.ResolvedBy != "officer" {
		t.Fatalf("case %+v", c)
	}
	if _, err := db.ActOnCase(ctx, officer, "999999", storage.CaseResolve, "", t0); !errors.Is(err, menus.ErrNotFound) && code != "999999" {
		t.Fatalf("unknown code: %v", err)
	}
	if n, _ := db.RunDueJobs(ctx, t0.Add(48*time.Hour), 10); n != 0 {
		t.Fatalf("a referred case escalated: %d jobs ran", n)
	}
}

// TestCaseRemindedAtTheTop: a case nobody acknowledges climbs to the
// prefecture, whose supervisors are then reminded three times, a deadline
// apart, and no more; it stays overdue. An acknowledgement stops the
// reminders.
func TestCaseRemindedAtTheTop(t *testing.T) {
	t.Parallel()
	for _, ackAfter := range []int{0, 2} { // reminders before an acknowledgement; 0: never acknowledged
		t.Run(fmt.Sprint("acknowledged after ", ackAfter), func(t *testing.T) {
			t.Parallel()
			db := storagetest.MustDB(t)
			mustCasework(t, db)
			ctx := t.Context()
			t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			if _, _, err := db.FileReport(ctx, urgentNeed(t, db, "sms:top", t0)); err != nil {
				t.Fatal(err)
			}
			code := onlyCase(t, db, t0).Code
			// Escalations at +4 h (county) and +8 h (prefecture), then
			// every four hours for a day.
			for h := 4; h <= 32; h += 4 {
				at := t0.Add(time.Duration(h) * time.Hour)
				if _, err := db.RunDueJobs(ctx, at, 10); err != nil {
					t.Fatal(err)
				}
				if ackAfter > 0 && len(caseSMS(t, db)[supPrefecture]) == 1+ackAfter {
					if _, err := db.AcknowledgeCaseBySMS(ctx, supPrefecture, code, at.Add(time.Minute)); err != nil {
						t.Fatal(err)
					}
				}
			}
			top := caseSMS(t, db)[supPrefecture]
			want := 1 + topRemindersWanted(ackAfter)
			if len(top) != want || top[0].Template != "case_escalated" {
				t.Fatalf("the prefecture was told %d times, want %d: %+v", len(top), want, top)
			}
			for _, m := range top[1:] {
				if m.Template != "case_unanswered" || !strings.Contains(m.Body, code) || strings.Contains(m.Body, caseChildName) {
					t.Errorf("reminder %+v", m)
				}
			}
			c := onlyCase(t, db, t0.Add(32*time.Hour))
			if ackAfter == 0 && (c.Status != cases.Open || !c.Overdue || c.AreaCode != casePrefecture) {
				t.Errorf("unanswered case: %+v", c)
			}
			if ackAfter > 0 && c.Status != cases.Acknowledged {
				t.Errorf("acknowledged case: %+v", c)
			}
		})
	}
}

// topRemindersWanted is how many reminders the prefecture gets when it
// acknowledges after ackAfter of them (0: never).
func topRemindersWanted(ackAfter int) int {
	if ackAfter == 0 {
		return 3
	}
	return ackAfter
}
