package storage_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/reports"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

var beijing = time.FixedZone("CST", 8*3600)

// bj is a time in Beijing.
func bj(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, beijing)
}

// casework is the deployment the tests run: Beijing time, quiet 21:00 to
// 08:00, visit reminders on the 25th.
func casework(t *testing.T, db *storage.DB) {
	t.Helper()
	q, err := storage.ParseQuietHours("21:00-08:00")
	if err != nil {
		t.Fatal(err)
	}
	db.SetCasework(storage.Casework{Location: beijing, Quiet: q, ReminderDay: 25})
}

var weekRule = &menus.FollowUpRule{AfterDays: 7}

// fileNeed files a routine need on child by director at, following it up
// a week later, and returns its reference.
func fileNeed(t *testing.T, db *storage.DB, key string, director int64, child, category string, at time.Time) string {
	t.Helper()
	ref, _, err := db.FileReport(t.Context(), menus.Report{
		Kind: menus.ReportNeed, SessionKey: key, Channel: menus.ChannelUSSD, Carrier: "at", DirectorID: director,
		ChildCode: child, Category: category, Urgency: menus.UrgencyRoutine, Answers: map[string]string{"child": child},
		Tree: "director", Version: 1, ReportedAt: at, FollowUp: weekRule,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func fileVisit(t *testing.T, db *storage.DB, key string, director int64, child string, at time.Time) {
	t.Helper()
	if _, _, err := db.FileReport(t.Context(), menus.Report{
		Kind: menus.ReportVisit, SessionKey: key, Channel: menus.ChannelUSSD, Carrier: "at", DirectorID: director,
		ChildCode: child, Situation: "well", Urgency: menus.UrgencyRoutine, Answers: map[string]string{"child": child},
		Tree: "director", Version: 1, ReportedAt: at,
	}); err != nil {
		t.Fatal(err)
	}
}

type outbound struct {
	Phone    string `db:"phone"`
	Kind     string `db:"kind"`
	Template string `db:"template"`
	Body     string `db:"body"`
}

// sent lists the outbound SMS queued, of kind or all when kind is "".
func sent(t *testing.T, db *storage.DB, kind string) []outbound {
	t.Helper()
	var out []outbound
	if err := storage.SQL(db).Select(&out, `SELECT phone, kind, COALESCE(template, '') AS template, body FROM messages
WHERE direction = 'out' AND ($1 = '' OR kind = $1) ORDER BY id`, kind); err != nil {
		t.Fatal(err)
	}
	return out
}

func run(t *testing.T, db *storage.DB, at time.Time) {
	t.Helper()
	if _, err := db.RunDueJobs(t.Context(), at, 100); err != nil {
		t.Fatal(err)
	}
}

// TestFollowUpSentWhenDue: a need schedules its follow-up once however
// often it is filed again; the reminder goes to its director when due and
// not before, once, naming the child by code; My follow-ups lists it
// from then on.
func TestFollowUpSentWhenDue(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	casework(t, db)
	ids := MustSeed(t, db)
	t0 := bj(2026, 11, 2, 15, 0)
	ref := fileNeed(t, db, "k1", ids.Amy, "C0001", "medical", t0)
	if again := fileNeed(t, db, "k1", ids.Amy, "C0001", "medical", t0); again != ref {
		t.Fatalf("retry got %s, want %s", again, ref)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM jobs WHERE kind = 'follow_up'`); n != 1 {
		t.Fatalf("%d follow-up jobs", n)
	}
	due := bj(2026, 11, 9, 9, 0)
	needs, err := db.OpenNeeds(t.Context(), ids.Amy, due.Add(-time.Minute))
	if err != nil || len(needs) != 1 || needs[0].Ref != ref || needs[0].Due {
		t.Fatalf("before due: %+v, %v", needs, err)
	}
	run(t, db, due.Add(-time.Second))
	if got := sent(t, db, "reminder"); len(got) != 0 {
		t.Fatalf("sent before due: %+v", got)
	}
	run(t, db, due)
	run(t, db, due.Add(time.Hour))
	got := sent(t, db, "reminder")
	if len(got) != 1 || got[0].Phone != phoneAmy || got[0].Template != "follow_up" {
		t.Fatalf("reminders %+v", got)
	}
	for _, want := range []string{"C0001", ref, "medical aid"} {
		if !strings.Contains(got[0].Body, want) {
			t.Errorf("reminder %q does not name %q", got[0].Body, want)
		}
	}
	if strings.Contains(got[0].Body, "Chen") {
		t.Errorf("reminder names the child: %q", got[0].Body)
	}
	needs, err = db.OpenNeeds(t.Context(), ids.Amy, due)
	if err != nil || len(needs) != 1 || !needs[0].Due || needs[0].ChildCode != "C0001" || needs[0].Category != "medical" {
		t.Fatalf("after due: %+v, %v", needs, err)
	}
	// Bo is not C0001's director: none of it is his.
	if needs, err := db.OpenNeeds(t.Context(), ids.Bo, due); err != nil || len(needs) != 0 {
		t.Fatalf("Bo's needs %+v, %v", needs, err)
	}
}

// TestFollowUpClears: each report that answers a follow-up clears it: no
// reminder goes, and it leaves My follow-ups.
func TestFollowUpClears(t *testing.T) {
	t.Parallel()
	t0 := bj(2026, 11, 2, 15, 0)
	due := bj(2026, 11, 9, 9, 0)
	tests := []struct {
		name    string
		clear   func(t *testing.T, db *storage.DB, ids seeded, ref string) error
		cleared bool
	}{
		{"resolved by USSD", func(t *testing.T, db *storage.DB, ids seeded, ref string) error {
			return db.SetNeedStatusFromField(t.Context(), ids.Amy, ref, menus.NeedResolved, menus.ChannelUSSD, t0.Add(time.Hour))
		}, true},
		{"referred by SMS", func(t *testing.T, db *storage.DB, ids seeded, ref string) error {
			return db.SetNeedStatusFromField(t.Context(), ids.Amy, ref, menus.NeedReferred, menus.ChannelSMS, t0.Add(time.Hour))
		}, true},
		{"resolved in the console", func(t *testing.T, db *storage.DB, ids seeded, ref string) error {
			_, err := db.SetNeedStatus(t.Context(), access.System, ref, "resolved", "school place found")
			return err
		}, true},
		{"visit to the child after the need", func(t *testing.T, db *storage.DB, ids seeded, ref string) error {
			fileVisit(t, db, "v1", ids.Amy, "C0001", t0.Add(24*time.Hour))
			return nil
		}, true},
		{"visit to another child", func(t *testing.T, db *storage.DB, ids seeded, ref string) error {
			fileVisit(t, db, "v1", ids.Amy, "C0002", t0.Add(24*time.Hour))
			return nil
		}, false},
		{"visit before the need", func(t *testing.T, db *storage.DB, ids seeded, ref string) error {
			fileVisit(t, db, "v1", ids.Amy, "C0001", t0.Add(-time.Hour))
			return nil
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := storagetest.MustDB(t)
			casework(t, db)
			ids := MustSeed(t, db)
			ref := fileNeed(t, db, "k1", ids.Amy, "C0001", "registration", t0)
			if err := tt.clear(t, db, ids, ref); err != nil {
				t.Fatal(err)
			}
			run(t, db, due)
			reminders := len(sent(t, db, "reminder"))
			needs, err := db.OpenNeeds(t.Context(), ids.Amy, due)
			if err != nil {
				t.Fatal(err)
			}
			listed := len(needs) == 1 && needs[0].Due
			items, err := db.FollowUps(t.Context(), reports.FollowUpQuery{Status: "cleared"}, due)
			if err != nil {
				t.Fatal(err)
			}
			if tt.cleared && (reminders != 0 || listed || len(items) != 1 || items[0].Ref != ref) {
				t.Fatalf("not cleared: %d reminders, needs %+v, cleared %+v", reminders, needs, items)
			}
			if !tt.cleared && (reminders != 1 || !listed || len(items) != 0) {
				t.Fatalf("cleared: %d reminders, needs %+v, cleared %+v", reminders, needs, items)
			}
		})
	}
}

// TestNeedStatusFromField: a director marks their own child's need, and
// the history says who and on which channel; another director's child's
// need is refused exactly as an unknown one.
func TestNeedStatusFromField(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	casework(t, db)
	ids := MustSeed(t, db)
	t0 := bj(2026, 11, 2, 15, 0)
	ref := fileNeed(t, db, "k1", ids.Amy, "C0001", "medical", t0)
	bos := fileNeed(t, db, "k2", ids.Bo, "C0005", "medical", t0)

	errOther := db.SetNeedStatusFromField(t.Context(), ids.Bo, ref, menus.NeedResolved, menus.ChannelSMS, t0)
	errUnknown := db.SetNeedStatusFromField(t.Context(), ids.Bo, "N2222222", menus.NeedResolved, menus.ChannelSMS, t0)
	if !errors.Is(errOther, menus.ErrNotFound) || !errors.Is(errUnknown, menus.ErrNotFound) {
		t.Fatalf("another's need: %v; unknown: %v", errOther, errUnknown)
	}
	if strings.Replace(errOther.Error(), ref, "X", 1) != strings.Replace(errUnknown.Error(), "N2222222", "X", 1) {
		t.Fatalf("the refusals tell the two apart: %q, %q", errOther, errUnknown)
	}
	if err := db.SetNeedStatusFromField(t.Context(), ids.Amy, ref, menus.NeedReferred, menus.ChannelUSSD, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetNeedStatusFromField(t.Context(), ids.Amy, ref, menus.NeedResolved, menus.ChannelSMS, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Resolved is final from the field: reopening is the county's.
	if err := db.SetNeedStatusFromField(t.Context(), ids.Amy, ref, menus.NeedResolved, menus.ChannelSMS, t0.Add(3*time.Hour)); !errors.Is(err, menus.ErrNotFound) {
		t.Fatalf("resolving a resolved need: %v", err)
	}
	it, err := db.ReportWithHistory(t.Context(), ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	if it.Status != "resolved" || len(it.History) != 2 {
		t.Fatalf("need %s with history %+v", it.Status, it.History)
	}
	h := it.History[1]
	if h.From != "referred" || h.To != "resolved" || h.Channel != menus.ChannelSMS || !strings.Contains(h.Actor, "Amy") {
		t.Fatalf("history %+v", h)
	}
	if other, _ := db.ReportWithHistory(t.Context(), bos, 0); other.Status != "open" {
		t.Fatalf("Bo's need became %s", other.Status)
	}
}

// TestVisitReminders: on the reminder day, directors who have not
// reported a visit that month are reminded, once; those who have are
// skipped; the next month's run is scheduled.
func TestVisitReminders(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	casework(t, db)
	ids := MustSeed(t, db)
	start := bj(2026, 12, 3, 12, 0)
	if err := db.ScheduleVisitReminders(t.Context(), start); err != nil {
		t.Fatal(err)
	}
	if err := db.ScheduleVisitReminders(t.Context(), start.Add(time.Hour)); err != nil { // a second process starting
		t.Fatal(err)
	}
	fileVisit(t, db, "v-amy", ids.Amy, "C0002", bj(2026, 12, 4, 10, 0))
	fileVisit(t, db, "v-bo-nov", ids.Bo, "C0005", bj(2026, 11, 30, 10, 0)) // last month's
	day := bj(2026, 12, 25, 10, 0)
	run(t, db, day.Add(-time.Minute))
	if got := sent(t, db, "reminder"); len(got) != 0 {
		t.Fatalf("reminded before the day: %+v", got)
	}
	run(t, db, day)
	run(t, db, day.Add(time.Hour))
	got := sent(t, db, "reminder")
	if len(got) != 1 || got[0].Phone != phoneBo || got[0].Template != "visit_reminder" {
		t.Fatalf("reminders %+v", got)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM jobs WHERE kind = 'visit_reminder' AND outcome IS NULL AND due_at = $1`, bj(2027, 1, 25, 10, 0)); n != 1 {
		t.Fatalf("%d January runs scheduled", n)
	}
}

// TestQuietHours: a reminder due in the night waits for 08:00; an urgent
// alert filed in the same night is queued at once.
func TestQuietHours(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	casework(t, db)
	ids := MustSeed(t, db)
	for _, q := range []string{
		`INSERT INTO supervisors (phone, name, county, language, active) VALUES ('+8613900000009', 'Sup', 'Leishan', 'zh', true)`,
		`UPDATE children SET county = 'Leishan' WHERE code = 'C0005'`,
	} {
		if _, err := storage.SQL(db).Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	fileNeed(t, db, "k1", ids.Amy, "C0001", "medical", bj(2026, 11, 2, 15, 0))
	night := bj(2026, 11, 9, 22, 30) // the gateway was down all day
	run(t, db, night)
	if _, _, err := db.FileReport(t.Context(), menus.Report{
		Kind: menus.ReportNeed, SessionKey: "urgent", Channel: menus.ChannelUSSD, Carrier: "at", DirectorID: ids.Bo,
		ChildCode: "C0005", Category: "protection", Urgency: menus.UrgencyUrgent, Answers: map[string]string{"child": "C0005"},
		Tree: "director", Version: 1, ReportedAt: night, Alert: true,
	}); err != nil {
		t.Fatal(err)
	}
	if got := sent(t, db, "alert"); len(got) != 1 {
		t.Fatalf("urgent alerts at night: %+v", got)
	}
	run(t, db, bj(2026, 11, 10, 7, 59))
	if got := sent(t, db, "reminder"); len(got) != 0 {
		t.Fatalf("reminded in quiet hours: %+v", got)
	}
	run(t, db, bj(2026, 11, 10, 8, 0))
	if got := sent(t, db, "reminder"); len(got) != 1 {
		t.Fatalf("not reminded at 08:00: %+v", got)
	}
}

// TestRemindersTwoProcesses: two gateway processes running the same due
// reminders at the same moment send each once.
func TestRemindersTwoProcesses(t *testing.T) {
	t.Parallel()
	a := storagetest.MustDB(t)
	casework(t, a)
	ids := MustSeed(t, a)
	b, err := storage.Open(t.Context(), a.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	casework(t, b)
	for i, child := range []string{"C0001", "C0002", "C0003"} {
		fileNeed(t, a, "k"+child, ids.Amy, child, []string{"medical", "health", "registration"}[i], bj(2026, 12, 2, 15, 0))
	}
	if err := a.ScheduleVisitReminders(t.Context(), bj(2026, 12, 1, 9, 0)); err != nil {
		t.Fatal(err)
	}
	if err := b.ScheduleVisitReminders(t.Context(), bj(2026, 12, 1, 9, 0)); err != nil {
		t.Fatal(err)
	}
	at := bj(2026, 12, 25, 12, 0)
	var wg sync.WaitGroup
	for _, db := range []*storage.DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.RunDueJobs(t.Context(), at, 100); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := sent(t, a, "reminder")
	perPhone := map[string]int{}
	for _, m := range got {
		perPhone[m.Phone+" "+m.Template]++
	}
	// Amy: three follow-ups, no visit reminder (none reported: she is
	// reminded too); Bo: a visit reminder.
	want := map[string]int{phoneAmy + " follow_up": 3, phoneAmy + " visit_reminder": 1, phoneBo + " visit_reminder": 1}
	if len(perPhone) != len(want) {
		t.Fatalf("reminders %v, want %v", perPhone, want)
	}
	for k, n := range want {
		if perPhone[k] != n {
			t.Fatalf("reminders %v, want %v", perPhone, want)
		}
	}
}

// TestReopenedNeedFollowedUpAgain: a need resolved in the console and then
// reopened is followed up again, by its rule, from the reopening: its
// follow-up is open and its reminder due a week on, and goes out then.
func TestReopenedNeedFollowedUpAgain(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	casework(t, db)
	ids := MustSeed(t, db)
	ref := fileNeed(t, db, "k1", ids.Amy, "C0001", "registration", bj(2026, 11, 2, 15, 0))
	if _, err := db.SetNeedStatus(t.Context(), access.System, ref, "resolved", "papers obtained"); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := db.SetNeedStatus(t.Context(), access.System, ref, "open", "the papers were refused"); err != nil {
		t.Fatal(err)
	}
	var due time.Time
	if err := storage.SQL(db).Get(&due, `SELECT f.due_at FROM follow_ups f JOIN needs n ON n.id = f.need_id WHERE n.ref = $1 AND f.cleared_at IS NULL`, ref); err != nil {
		t.Fatalf("no open follow-up after reopening: %v", err)
	}
	if want := weekRule.Due(before, beijing); !due.Equal(want) {
		t.Fatalf("due %s, want %s", due, want)
	}
	run(t, db, due.Add(-time.Minute))
	if n := len(sent(t, db, "reminder")); n != 0 {
		t.Fatalf("%d reminders before the follow-up is due", n)
	}
	run(t, db, due)
	if got := sent(t, db, "reminder"); len(got) != 1 || !strings.Contains(got[0].Body, ref) {
		t.Fatalf("reminders %q", got)
	}
}
