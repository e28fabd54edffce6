package storage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

var refPattern = map[menus.ReportKind]*regexp.Regexp{
	menus.ReportVisit: regexp.MustCompile(`^V[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$`),
	menus.ReportNeed:  regexp.MustCompile(`^N[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$`),
}

// visitBy returns a complete visit report by Amy on C0001.
func visitBy(reg seeded, sessionKey string) menus.Report {
	return menus.Report{
		Kind:       menus.ReportVisit,
		SessionKey: sessionKey,
		Channel:    menus.ChannelUSSD,
		Carrier:    "africastalking",
		DirectorID: reg.Amy,
		ChildCode:  "C0001",
		Situation:  "needs_support",
		Urgency:    menus.UrgencyUrgent,
		Answers:    map[string]string{"child": "C0001", "situation": "2", "note": "父亲外出打工"},
		Tree:       "visits",
		Version:    3,
		StartedAt:  time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC),
		ReportedAt: time.Date(2026, 4, 1, 9, 31, 15, 0, time.UTC),
	}
}

// reportColumns is a stored report as its table holds it.
type reportColumns struct {
	SessionKey string     `db:"session_key"`
	ChildCode  string     `db:"child_code"`
	DirectorID int64      `db:"director_id"`
	Detail     string     `db:"detail"`
	Urgency    string     `db:"urgency"`
	Channel    string     `db:"channel"`
	Carrier    string     `db:"carrier"`
	Tree       string     `db:"menu_tree"`
	Version    int        `db:"menu_version"`
	Answers    string     `db:"answers"`
	StartedAt  *time.Time `db:"started_at"`
	ReportedAt time.Time  `db:"reported_at"`
	Status     string     `db:"status"`
}

func readReport(tb testing.TB, db *storage.DB, kind menus.ReportKind, ref string) reportColumns {
	tb.Helper()
	q := `SELECT r.session_key, c.code AS child_code, r.director_id, r.situation AS detail, r.urgency, r.channel, r.carrier,
       r.menu_tree, r.menu_version, r.answers::text AS answers, r.started_at, r.reported_at, '' AS status
FROM visits r JOIN children c ON c.id = r.child_id WHERE r.ref = $1`
	if kind == menus.ReportNeed {
		q = `SELECT r.session_key, c.code AS child_code, r.director_id, r.category AS detail, r.urgency, r.channel, r.carrier,
       r.menu_tree, r.menu_version, r.answers::text AS answers, r.started_at, r.reported_at, r.status
FROM needs r JOIN children c ON c.id = r.child_id WHERE r.ref = $1`
	}
	var row reportColumns
	if err := storage.SQL(db).GetContext(tb.Context(), &row, q, ref); err != nil {
		tb.Fatalf("read %s %s: %v", kind, ref, err)
	}
	return row
}

func decodeAnswers(tb testing.TB, js string) map[string]string {
	tb.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		tb.Fatalf("answers %s: %v", js, err)
	}
	return m
}

func TestSaveReport(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	need := visitBy(reg, "need-1")
	need.Kind, need.Situation, need.Category = menus.ReportNeed, "", "school"
	need.Channel, need.Urgency, need.ChildCode = menus.ChannelSMS, menus.UrgencyRoutine, "C0002"

	tests := []struct {
		name   string
		report menus.Report
		want   storage.StoredReport
	}{
		{
			name:   "visit",
			report: visitBy(reg, "visit-1"),
			want:   storage.StoredReport{Report: visitBy(reg, "visit-1"), ChildName: "Chen Yi"},
		},
		{
			name:   "need",
			report: need,
			want:   storage.StoredReport{Report: need, ChildName: "Chen Er", Status: "open"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := db.SaveReport(t.Context(), tt.report)
			if err != nil {
				t.Fatalf("SaveReport: %v", err)
			}
			if !refPattern[tt.report.Kind].MatchString(ref) {
				t.Errorf("ref %q does not match %s", ref, refPattern[tt.report.Kind])
			}

			// The typed columns, straight from the table.
			r := tt.report
			wantDetail := r.Situation
			if r.Kind == menus.ReportNeed {
				wantDetail = r.Category
			}
			got := readReport(t, db, r.Kind, ref)
			want := reportColumns{
				SessionKey: r.SessionKey, ChildCode: r.ChildCode, DirectorID: r.DirectorID, Detail: wantDetail,
				Urgency: r.Urgency, Channel: r.Channel, Carrier: r.Carrier, Tree: r.Tree, Version: r.Version,
				Answers: got.Answers, StartedAt: got.StartedAt, ReportedAt: got.ReportedAt, Status: tt.want.Status,
			}
			if got != want {
				t.Errorf("columns = %+v\nwant %+v", got, want)
			}
			if a := decodeAnswers(t, got.Answers); !reflect.DeepEqual(a, r.Answers) {
				t.Errorf("answers = %v, want %v", a, r.Answers)
			}
			if got.StartedAt == nil || !got.StartedAt.Equal(r.StartedAt) {
				t.Errorf("started_at = %v, want %v", got.StartedAt, r.StartedAt)
			}
			if !got.ReportedAt.Equal(r.ReportedAt) {
				t.Errorf("reported_at = %v, want %v", got.ReportedAt, r.ReportedAt)
			}
			// jsonb is queryable by key, which is why answers are not text.
			if n := MustCount(t, db, fmt.Sprintf(`SELECT count(*) FROM %ss WHERE ref = $1 AND answers->>'child' = $2`, r.Kind), ref, r.Answers["child"]); n != 1 {
				t.Errorf("answers->>'child' did not find the report")
			}

			// And the same through ReportByRef.
			stored, err := db.ReportByRef(t.Context(), ref)
			if err != nil {
				t.Fatalf("ReportByRef: %v", err)
			}
			if !stored.ReportedAt.Equal(r.ReportedAt) || !stored.StartedAt.Equal(r.StartedAt) {
				t.Errorf("times = %v, %v; want %v, %v", stored.StartedAt, stored.ReportedAt, r.StartedAt, r.ReportedAt)
			}
			stored.StartedAt, stored.ReportedAt = r.StartedAt, r.ReportedAt // compared above
			wantStored := tt.want
			wantStored.Ref = ref
			if !reflect.DeepEqual(stored, wantStored) {
				t.Errorf("ReportByRef = %+v\nwant %+v", stored, wantStored)
			}
		})
	}
}

func TestSaveReportDefaults(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	r := visitBy(reg, "defaults")
	r.Urgency, r.StartedAt, r.ReportedAt, r.Answers = "", time.Time{}, time.Time{}, nil
	var before time.Time
	if err := storage.SQL(db).GetContext(t.Context(), &before, `SELECT clock_timestamp()`); err != nil {
		t.Fatal(err)
	}
	ref, err := db.SaveReport(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	got := readReport(t, db, menus.ReportVisit, ref)
	if got.Urgency != menus.UrgencyRoutine {
		t.Errorf("urgency = %q, want routine", got.Urgency)
	}
	if got.StartedAt != nil {
		t.Errorf("started_at = %v, want NULL", got.StartedAt)
	}
	if got.ReportedAt.Before(before) {
		t.Errorf("reported_at = %v, before the save began at %v", got.ReportedAt, before)
	}
	if got.Answers != "{}" {
		t.Errorf("answers = %s, want {}", got.Answers)
	}
}

func TestSaveReportIsIdempotent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	r := visitBy(reg, "twice")
	first, err := db.SaveReport(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	// A retry may carry a later time; it is still the same conversation.
	r.ReportedAt = r.ReportedAt.Add(time.Minute)
	second, err := db.SaveReport(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Errorf("second save gave %q, first %q", second, first)
	}
	if n, err := db.CountReports(t.Context(), menus.ReportVisit, r.SessionKey); err != nil || n != 1 {
		t.Errorf("CountReports = %d, %v; want 1", n, err)
	}
}

func TestSaveReportConcurrently(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	for _, kind := range []menus.ReportKind{menus.ReportVisit, menus.ReportNeed} {
		t.Run(string(kind), func(t *testing.T) {
			r := visitBy(reg, "race-"+string(kind))
			r.Kind, r.Category = kind, "health"

			const n = 20
			refs := make([]string, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					refs[i], errs[i] = db.SaveReport(t.Context(), r)
				})
			}
			close(start)
			wg.Wait()

			for i := range n {
				if errs[i] != nil {
					t.Fatalf("save %d: %v", i, errs[i])
				}
				if refs[i] != refs[0] {
					t.Errorf("save %d got ref %q, save 0 got %q", i, refs[i], refs[0])
				}
			}
			if !refPattern[kind].MatchString(refs[0]) {
				t.Errorf("ref %q does not match %s", refs[0], refPattern[kind])
			}
			if got, err := db.CountReports(t.Context(), kind, r.SessionKey); err != nil || got != 1 {
				t.Errorf("CountReports = %d, %v; want 1", got, err)
			}
		})
	}
}

func TestSaveReportOnlyOwnActiveChildren(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	tests := []struct {
		name       string
		directorID int64
		child      string
	}{
		{"another director's child", reg.Amy, "C0005"},
		{"inactive child", reg.Amy, "C0004"},
		{"unknown child", reg.Amy, "C9999"},
		{"unknown director", -1, "C0001"},
	}
	for _, tt := range tests {
		for _, kind := range []menus.ReportKind{menus.ReportVisit, menus.ReportNeed} {
			t.Run(tt.name+"/"+string(kind), func(t *testing.T) {
				r := visitBy(reg, "not-own-"+tt.name+string(kind))
				r.Kind, r.Category, r.DirectorID, r.ChildCode = kind, "health", tt.directorID, tt.child
				ref, err := db.SaveReport(t.Context(), r)
				if !errors.Is(err, menus.ErrNotFound) {
					t.Fatalf("SaveReport = %q, %v; want ErrNotFound", ref, err)
				}
				if ref != "" {
					t.Errorf("ref = %q, want none", ref)
				}
				if n, err := db.CountReports(t.Context(), kind, r.SessionKey); err != nil || n != 0 {
					t.Errorf("CountReports = %d, %v; want 0", n, err)
				}
			})
		}
	}
}

func TestSaveReportSessionKeyHeldByAnotherReport(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	r := visitBy(reg, "shared")
	if _, err := db.SaveReport(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	otherChild := r
	otherChild.ChildCode = "C0002"
	otherDirector := r
	otherDirector.DirectorID, otherDirector.ChildCode = reg.Bo, "C0005"
	for name, r := range map[string]menus.Report{"other child": otherChild, "other director": otherDirector} {
		t.Run(name, func(t *testing.T) {
			ref, err := db.SaveReport(t.Context(), r)
			if !errors.Is(err, menus.ErrConflict) {
				t.Fatalf("SaveReport = %q, %v; want ErrConflict", ref, err)
			}
		})
	}
	if n, err := db.CountReports(t.Context(), menus.ReportVisit, r.SessionKey); err != nil || n != 1 {
		t.Errorf("CountReports = %d, %v; want 1", n, err)
	}
}

func TestSaveReportRetryAfterChildMoved(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	r := visitBy(reg, "moved")
	first, err := db.SaveReport(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	mustChildren(t, db, registry.Child{Code: "C0001", Name: "Chen Yi", Village: "v", County: "c", DirectorPhone: phoneBo, Active: true})
	second, err := db.SaveReport(t.Context(), r)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if second != first {
		t.Errorf("retry gave %q, first save %q", second, first)
	}
	// A new conversation about the child is refused now.
	if _, err := db.SaveReport(t.Context(), visitBy(reg, "moved-2")); !errors.Is(err, menus.ErrNotFound) {
		t.Errorf("new report on a moved child: %v, want ErrNotFound", err)
	}
}

func TestSaveReportSanitisesText(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	r := visitBy(reg, "bad\x00key\xff")
	r.Carrier = "carrier\x00"
	r.Situation = "well\xc3"
	r.Answers = map[string]string{"note\x00": "a\x00b\xffc", "ok": "父亲"}
	ref, err := db.SaveReport(t.Context(), r)
	if err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	got := readReport(t, db, menus.ReportVisit, ref)
	if want := "badkey\uFFFD"; got.SessionKey != want {
		t.Errorf("session_key = %q, want %q", got.SessionKey, want)
	}
	if got.Carrier != "carrier" || got.Detail != "well\uFFFD" {
		t.Errorf("carrier, situation = %q, %q", got.Carrier, got.Detail)
	}
	if a, want := decodeAnswers(t, got.Answers), map[string]string{"note": "ab\uFFFDc", "ok": "父亲"}; !reflect.DeepEqual(a, want) {
		t.Errorf("answers = %q, want %q", a, want)
	}
	// The same broken conversation retried maps to the same row.
	again, err := db.SaveReport(t.Context(), r)
	if err != nil || again != ref {
		t.Errorf("retry = %q, %v; want %q", again, err, ref)
	}
	if n, err := db.CountReports(t.Context(), menus.ReportVisit, r.SessionKey); err != nil || n != 1 {
		t.Errorf("CountReports(raw key) = %d, %v; want 1", n, err)
	}
}

func TestSaveReportRefusesIncompleteReports(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	noKey := visitBy(reg, "")
	nulKey := visitBy(reg, "\x00")
	noKind := visitBy(reg, "no-kind")
	noKind.Kind = ""
	badKind := visitBy(reg, "bad-kind")
	badKind.Kind = "complaint"
	for name, r := range map[string]menus.Report{"empty session key": noKey, "NUL session key": nulKey, "no kind": noKind, "unknown kind": badKind} {
		t.Run(name, func(t *testing.T) {
			if ref, err := db.SaveReport(t.Context(), r); err == nil {
				t.Errorf("SaveReport = %q, want an error", ref)
			}
		})
	}
	if n := MustCount(t, db, `SELECT (SELECT count(*) FROM visits) + (SELECT count(*) FROM needs)`); n != 0 {
		t.Errorf("%d reports stored, want 0", n)
	}
}

func TestSaveReportRetriesOnRefCollision(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)

	// Every draw yields the next of these.
	var mu sync.Mutex
	var draws []string
	script := func(suffixes ...string) {
		mu.Lock()
		defer mu.Unlock()
		draws = suffixes
	}
	drawn := 0
	storage.SetRefSource(db, func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(draws) == 0 {
			return "", errors.New("script exhausted")
		}
		s := draws[0]
		draws = draws[1:]
		drawn++
		return s, nil
	})

	script("222222")
	if ref, err := db.SaveReport(t.Context(), visitBy(reg, "first")); err != nil || ref != "V222222" {
		t.Fatalf("first save = %q, %v; want V222222", ref, err)
	}

	script("222222", "333333")
	if ref, err := db.SaveReport(t.Context(), visitBy(reg, "second")); err != nil || ref != "V333333" {
		t.Fatalf("colliding save = %q, %v; want V333333 on the second draw", ref, err)
	}

	// A need may reuse the suffix: the kind letter keeps the refs apart.
	need := visitBy(reg, "need")
	need.Kind, need.Category = menus.ReportNeed, "school"
	script("222222")
	if ref, err := db.SaveReport(t.Context(), need); err != nil || ref != "N222222" {
		t.Fatalf("need = %q, %v; want N222222", ref, err)
	}

	// Collisions without end give up after a bounded number of draws.
	script("222222", "222222", "222222", "222222", "222222", "222222", "222222")
	drawn = 0
	if ref, err := db.SaveReport(t.Context(), visitBy(reg, "unlucky")); err == nil {
		t.Fatalf("save with only colliding refs = %q, want an error", ref)
	}
	if drawn != 5 {
		t.Errorf("drew %d refs before giving up, want 5", drawn)
	}
	if n, _ := db.CountReports(t.Context(), menus.ReportVisit, "unlucky"); n != 0 {
		t.Errorf("CountReports = %d, want 0", n)
	}
}

func TestRandomRef(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for range n {
		s, err := storage.RandomRef()
		if err != nil {
			t.Fatal(err)
		}
		if !refPattern[menus.ReportVisit].MatchString("V" + s) {
			t.Fatalf("random part %q outside the alphabet or not 6 long", s)
		}
		seen[s] = true
		for _, c := range s {
			counts[c]++
		}
	}
	if len(seen) < n-1 { // a single repeat in 2000 draws of 887M is already unlikely
		t.Errorf("only %d distinct refs in %d draws", len(seen), n)
	}
	if len(counts) != 31 {
		t.Errorf("%d distinct characters drawn, want all 31", len(counts))
	}
}

func TestReportByRef(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)
	ref, err := db.SaveReport(t.Context(), visitBy(reg, "lookup"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ref     string
		wantErr error
	}{
		{"exact", ref, nil},
		{"typed in lower case with spaces", " " + strings.ToLower(ref) + " ", nil},
		{"unknown visit", "V222222", menus.ErrNotFound},
		{"unknown need", "N222222", menus.ErrNotFound},
		{"unknown prefix", "X" + ref[1:], menus.ErrNotFound},
		{"empty", "", menus.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ReportByRef(t.Context(), tt.ref)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got.Ref != ref {
				t.Errorf("Ref = %q, want %q", got.Ref, ref)
			}
		})
	}
}

func TestCountReportsUnknownKind(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	if n, err := db.CountReports(t.Context(), "complaint", "k"); err == nil {
		t.Errorf("CountReports = %d, want an error", n)
	}
}
