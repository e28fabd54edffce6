package storage_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

func codes(c menus.Caller) []string {
	var out []string
	for _, ch := range c.Children {
		out = append(out, ch.Code)
	}
	return out
}

// TestSharedChildren: the demo's two directors of one village are both
// assigned C0001-C0005; reassigning narrows who may report.
func TestSharedChildren(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustDB(t)
	if err := demo.Seed(ctx, db, io.Discard); err != nil {
		t.Fatal(err)
	}
	// Seeding twice changes nothing.
	if err := demo.Seed(ctx, db, io.Discard); err != nil {
		t.Fatal(err)
	}
	shared := []string{"C0001", "C0002", "C0003", "C0004", "C0005"}
	for _, p := range []string{"+8613800138001", "+8613800138002"} {
		c, err := db.CallerByPhone(ctx, p)
		if err != nil || !reflect.DeepEqual(codes(c), shared) {
			t.Fatalf("%s children = %v, %v; want %v", p, codes(c), err, shared)
		}
	}
	if c, _ := db.CallerByPhone(ctx, "+8613800138003"); !reflect.DeepEqual(codes(c), []string{"C0009"}) {
		t.Fatalf("third director children = %v", codes(c))
	}

	assign := func(code string, phones ...string) error {
		_, _, err := db.ImportChildren(ctx, access.System, []registry.ChildRecord{{
			Child: registry.Child{Code: code, Name: "王小明", BirthDate: time.Date(2015, 3, 12, 0, 0, 0, 0, time.UTC), Village: "青山村", County: "云岭县"}, Directors: phones,
		}}, false)
		return err
	}
	if err := assign("C0001", "+8613800138001"); err != nil {
		t.Fatal(err)
	}
	c, _ := db.CallerByPhone(ctx, "+8613800138002")
	if !reflect.DeepEqual(codes(c), shared[1:]) {
		t.Fatalf("after unassigning C0001: %v", codes(c))
	}
	_, err := db.SaveReport(ctx, menus.Report{Kind: menus.ReportVisit, SessionKey: "k1", Channel: menus.ChannelUSSD, Carrier: "at",
		DirectorID: c.DirectorID, ChildCode: "C0001", Situation: "well", Tree: "director", Version: 1})
	if !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("report on an unassigned child: %v, want ErrNotFound", err)
	}
	if err := assign("C0001", "+8613999999999"); err == nil {
		t.Fatal("a child was assigned to an unknown director")
	}
}

// TestGuardianByPhone: the demo guardians, their children and allowances;
// a language choice is remembered on the guardian too.
func TestGuardianByPhone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustDB(t)
	if err := demo.Seed(ctx, db, io.Discard); err != nil {
		t.Fatal(err)
	}
	g, err := db.GuardianByPhone(ctx, "+8613900139001")
	if err != nil {
		t.Fatal(err)
	}
	if g.Language != "zh" || len(g.Children) != 1 || g.Children[0].Code != "C0001" || len(g.Allowances) != 1 {
		t.Fatalf("guardian = %+v", g)
	}
	a := g.Allowances[0]
	if a.Scheme != "living" || a.Status != menus.AllowanceApproved || a.MonthlyYuan != 500 || a.NextPayment.Format("2006-01-02") != "2026-12-15" || a.ChildName != "王小明" {
		t.Fatalf("allowance = %+v", a)
	}
	if _, err := db.GuardianByPhone(ctx, "+8613800138002"); !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("a director as guardian: %v", err)
	}
	if _, _, err := db.ImportAllowances(ctx, access.System, []registry.AllowanceRecord{{Allowance: menus.Allowance{ChildCode: "C7777", Scheme: "living", Status: "applied"}}}, false); err == nil {
		t.Fatal("an allowance of an unknown child was stored")
	}
	if err := db.SetLanguage(ctx, "+8613900139001", "en"); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.GuardianByPhone(ctx, "+8613900139001"); g.Language != "en" {
		t.Fatalf("language not remembered: %q", g.Language)
	}
	if err := db.SetLanguage(ctx, "+8613999999999", "en"); !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("language of an unknown phone: %v", err)
	}
}

// TestUrgentReportQueuesAlertsOnce: an urgent report queues one SMS per
// supervisor of the child's county, in the report's transaction; a retried
// save queues nothing more, and a routine report queues nothing.
func TestUrgentReportQueuesAlertsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustDB(t)
	if err := demo.Seed(ctx, db, io.Discard); err != nil {
		t.Fatal(err)
	}
	c, err := db.CallerByPhone(ctx, "+8613800138002")
	if err != nil {
		t.Fatal(err)
	}
	urgent := menus.Report{Kind: menus.ReportNeed, SessionKey: "ussd:at:alert1", Channel: menus.ChannelUSSD, Carrier: "at",
		DirectorID: c.DirectorID, ChildCode: "C0001", Category: "protection", Urgency: menus.UrgencyUrgent, Alert: true, Tree: "director", Version: 1}
	ref, err := db.SaveReport(ctx, urgent)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := db.SaveReport(ctx, urgent); err != nil || again != ref {
		t.Fatalf("retried save = %q, %v", again, err)
	}
	routine := urgent
	routine.SessionKey, routine.Urgency, routine.Alert = "ussd:at:alert2", menus.UrgencyRoutine, false
	if _, err := db.SaveReport(ctx, routine); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Phone string `db:"phone"`
		Body  string `db:"body"`
		Key   string `db:"dedupe_key"`
	}
	var rows []row
	if err := storage.SQL(db).SelectContext(ctx, &rows, `SELECT phone, body, dedupe_key FROM messages WHERE kind = 'alert'`); err != nil {
		t.Fatal(err)
	}
	// One alert to the county's supervisor, and the case it opened told
	// once to the township's (TestCase* test cases themselves).
	want := "紧急：儿童C0001，保护问题。报告人+8613800138002，编号" + ref + "。"
	var alerts, cases []row
	for _, r := range rows {
		if strings.HasPrefix(r.Key, "case:") {
			cases = append(cases, r)
		} else {
			alerts = append(alerts, r)
		}
	}
	if len(alerts) != 1 || alerts[0].Phone != "+8613700137001" || alerts[0].Body != want || alerts[0].Key != "alert:"+ref+":+8613700137001" {
		t.Fatalf("alerts = %+v, want one to the supervisor: %q", alerts, want)
	}
	if len(cases) != 1 || strings.Contains(cases[0].Body, "C0001") {
		t.Fatalf("case messages = %+v, want one, without the child", cases)
	}
}

// TestTokens: a token finds its user until it expires; its hash, not the
// token, is stored.
func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustDB(t)
	u, err := db.CreateUser(ctx, access.User{}, "tok", "a long enough password", access.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	forever, err := db.CreateToken(ctx, u, u.ID, "script")
	if err != nil {
		t.Fatal(err)
	}
	brief, err := db.CreateSessionToken(ctx, u, u.ID, "console", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.UserByToken(ctx, forever); err != nil || got.Username != "tok" {
		t.Fatalf("token: %+v, %v", got, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := db.UserByToken(ctx, brief)
		if errors.Is(err, menus.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an expired token still works: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var stored int
	if err := storage.SQL(db).GetContext(ctx, &stored, `SELECT count(*) FROM api_tokens WHERE token_hash = $1 OR token_hash = $2`, forever, brief); err != nil || stored != 0 {
		t.Fatalf("a token is stored in clear (%d rows, %v)", stored, err)
	}
}
