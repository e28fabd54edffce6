package storage_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/menus/reports"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// placesRegistry is a registry in two villages of one county and one of
// another, for the report filters:
//
//	Hua (+8613800000011) in Shuiping, Leishan: C0011, C0012
//	Jin (+8613800000012) in Dagu, Leishan:     C0013
//	Kai (+8613800000013) in Qiao, Taijiang:    C0014, and C0015 inactive
type placesRegistry struct {
	Hua, Jin, Kai int64
}

const (
	phoneHua = "+8613800000011"
	phoneJin = "+8613800000012"
	phoneKai = "+8613800000013"
)

func mustPlaces(tb testing.TB, db *storage.DB) placesRegistry {
	tb.Helper()
	ids := mustDirectors(tb, db,
		registry.Director{Phone: phoneHua, Name: "Hua", Language: menus.LangEN, Village: "Shuiping", County: "Leishan", Active: true},
		registry.Director{Phone: phoneJin, Name: "Jin", Language: menus.LangZH, Village: "Dagu", County: "Leishan", Active: true},
		registry.Director{Phone: phoneKai, Name: "Kai", Language: menus.LangZH, Village: "Qiao", County: "Taijiang", Active: true},
	)
	mustChildren(tb, db,
		registry.Child{Code: "C0011", Name: "Yi", Village: "Shuiping", County: "Leishan", DirectorPhone: phoneHua, Active: true},
		registry.Child{Code: "C0012", Name: "Er", Village: "Shuiping", County: "Leishan", DirectorPhone: phoneHua, Active: true},
		registry.Child{Code: "C0013", Name: "San", Village: "Dagu", County: "Leishan", DirectorPhone: phoneJin, Active: true},
		registry.Child{Code: "C0014", Name: "Si", Village: "Qiao", County: "Taijiang", DirectorPhone: phoneKai, Active: true},
		registry.Child{Code: "C0015", Name: "Wu", Village: "Gone", County: "Taijiang", DirectorPhone: phoneKai, Active: false},
	)
	return placesRegistry{Hua: ids[phoneHua], Jin: ids[phoneJin], Kai: ids[phoneKai]}
}

// mustReport saves a report and returns its reference.
func mustReport(tb testing.TB, db *storage.DB, r menus.Report) string {
	tb.Helper()
	if r.SessionKey == "" {
		r.SessionKey = fmt.Sprintf("test:%s:%s:%d", r.Kind, r.ChildCode, r.ReportedAt.UnixNano())
	}
	if r.Channel == "" {
		r.Channel = menus.ChannelUSSD
	}
	if r.Carrier == "" {
		r.Carrier = "africastalking"
	}
	if r.Tree == "" {
		r.Tree, r.Version = "director", 1
	}
	ref, err := db.SaveReport(tb.Context(), r)
	if err != nil {
		tb.Fatalf("save %s on %s: %v", r.Kind, r.ChildCode, err)
	}
	return ref
}

func day(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, time.UTC) }

func refsOf(items []reports.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Ref
	}
	return out
}

func TestReportsFilters(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := mustPlaces(t, db)
	visit := func(dir int64, child, situation, urgency, channel string, at time.Time) string {
		return mustReport(t, db, menus.Report{Kind: menus.ReportVisit, DirectorID: dir, ChildCode: child, Situation: situation,
			Urgency: urgency, Channel: channel, Answers: map[string]string{"child": child, "situation": situation}, ReportedAt: at})
	}
	need := func(dir int64, child, category, urgency string, at time.Time) string {
		return mustReport(t, db, menus.Report{Kind: menus.ReportNeed, DirectorID: dir, ChildCode: child, Category: category,
			Urgency: urgency, Answers: map[string]string{"child": child, "category": category}, ReportedAt: at})
	}
	v1 := visit(reg.Hua, "C0011", "well", menus.UrgencyRoutine, menus.ChannelUSSD, day(1, 9))
	v2 := visit(reg.Hua, "C0012", "concern", menus.UrgencyRoutine, menus.ChannelSMS, day(2, 9))
	v3 := visit(reg.Jin, "C0013", "urgent", menus.UrgencyUrgent, menus.ChannelUSSD, day(3, 23)) // the last hour of 3 October
	v4 := visit(reg.Kai, "C0014", "well", menus.UrgencyRoutine, menus.ChannelSMS, day(4, 0))    // the first hour of 4 October
	n1 := need(reg.Hua, "C0011", "school", menus.UrgencyRoutine, day(5, 9))
	n2 := need(reg.Jin, "C0013", "protection", menus.UrgencyUrgent, day(6, 9))
	n3 := need(reg.Kai, "C0014", "school", menus.UrgencyUrgent, day(7, 9))
	if _, err := db.SetNeedStatus(t.Context(), access.User{}, n3, "referred", ""); err != nil {
		t.Fatal(err)
	}

	visits := func(q reports.Query) reports.Query { q.Kind = menus.ReportVisit; return q }
	needs := func(q reports.Query) reports.Query { q.Kind = menus.ReportNeed; return q }
	tests := []struct {
		name string
		q    reports.Query
		want []string // newest first
	}{
		{"every visit", visits(reports.Query{}), []string{v4, v3, v2, v1}},
		{"every need", needs(reports.Query{}), []string{n3, n2, n1}},
		{"from is inclusive", visits(reports.Query{From: day(2, 9)}), []string{v4, v3, v2}},
		{"before is exclusive", visits(reports.Query{Before: day(4, 0)}), []string{v3, v2, v1}},
		{"one day", visits(reports.Query{From: day(3, 0), Before: day(4, 0)}), []string{v3}},
		{"village", visits(reports.Query{Village: "Shuiping"}), []string{v2, v1}},
		{"county", visits(reports.Query{County: "Leishan"}), []string{v3, v2, v1}},
		{"village of another county", visits(reports.Query{Village: "Qiao", County: "Leishan"}), nil},
		{"director", needs(reports.Query{Director: phoneJin}), []string{n2}},
		{"child", visits(reports.Query{Child: "C0012"}), []string{v2}},
		{"situation", visits(reports.Query{Detail: "well"}), []string{v4, v1}},
		{"category", needs(reports.Query{Detail: "school"}), []string{n3, n1}},
		{"urgency", needs(reports.Query{Urgency: menus.UrgencyUrgent}), []string{n3, n2}},
		{"status open", needs(reports.Query{Status: "open"}), []string{n2, n1}},
		{"status referred", needs(reports.Query{Status: "referred"}), []string{n3}},
		{"channel", visits(reports.Query{Channel: menus.ChannelSMS}), []string{v4, v2}},
		{"filters combine", needs(reports.Query{County: "Leishan", Urgency: menus.UrgencyUrgent, Status: "open"}), []string{n2}},
		{"nothing matches", visits(reports.Query{Child: "C0099"}), nil},
	}
	for _, tt := range tests {
		items, total, err := db.Reports(t.Context(), tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := refsOf(items); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
		if total != len(tt.want) {
			t.Errorf("%s: total %d, want %d", tt.name, total, len(tt.want))
		}
	}

	// Pages of two: no report twice or missed, and the total on every page.
	var paged []string
	for offset := 0; offset < 6; offset += 2 {
		items, total, err := db.Reports(t.Context(), reports.Query{Kind: menus.ReportVisit, Limit: 2, Offset: offset})
		if err != nil || total != 4 {
			t.Fatalf("page at %d: total %d, %v", offset, total, err)
		}
		paged = append(paged, refsOf(items)...)
	}
	if want := []string{v4, v3, v2, v1}; !slices.Equal(paged, want) {
		t.Fatalf("paged %v, want %v", paged, want)
	}

	// What an item carries.
	items, _, err := db.Reports(t.Context(), reports.Query{Kind: menus.ReportNeed, Child: "C0014"})
	if err != nil || len(items) != 1 {
		t.Fatalf("need on C0014: %v, %v", items, err)
	}
	it := items[0]
	if it.Ref != n3 || it.Kind != menus.ReportNeed || it.ChildCode != "C0014" || it.ChildName != "Si" || it.Village != "Qiao" || it.County != "Taijiang" ||
		it.DirectorPhone != phoneKai || it.DirectorName != "Kai" || it.Detail != "school" || it.Urgency != menus.UrgencyUrgent ||
		it.Status != "referred" || it.StatusChangedAt.IsZero() || it.Channel != menus.ChannelUSSD || it.Carrier != "africastalking" ||
		it.Tree != "director" || it.Version != 1 || !it.ReportedAt.Equal(day(7, 9)) || it.Answers["category"] != "school" {
		t.Fatalf("item %+v", it)
	}
	items, _, err = db.Reports(t.Context(), reports.Query{Kind: menus.ReportVisit, Child: "C0011"})
	if err != nil || len(items) != 1 || items[0].Status != "" || !items[0].StatusChangedAt.IsZero() || items[0].Detail != "well" {
		t.Fatalf("visit on C0011: %+v, %v", items, err)
	}

	if _, _, err := db.Reports(t.Context(), reports.Query{Kind: menus.ReportVisit, Status: "open"}); err == nil {
		t.Fatal("visits filtered by status")
	}
	if _, _, err := db.Reports(t.Context(), reports.Query{Kind: "audit"}); err == nil {
		t.Fatal("an unknown kind listed")
	}
}

func TestReportWithHistory(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := mustPlaces(t, db)
	v := mustReport(t, db, menus.Report{Kind: menus.ReportVisit, DirectorID: reg.Hua, ChildCode: "C0011", Situation: "well", ReportedAt: day(1, 9)})
	n := mustReport(t, db, menus.Report{Kind: menus.ReportNeed, DirectorID: reg.Hua, ChildCode: "C0012", Category: "health", ReportedAt: day(1, 10)})

	for _, ref := range []string{"VZZZZZZ", "NZZZZZZ", "X123", ""} {
		if _, err := db.ReportWithHistory(t.Context(), ref, 0); !errors.Is(err, menus.ErrNotFound) {
			t.Errorf("%q: %v, want not found", ref, err)
		}
	}
	got, err := db.ReportWithHistory(t.Context(), " "+strings.ToLower(v)+" ", 0)
	if err != nil || got.Ref != v || got.Kind != menus.ReportVisit || got.History != nil || got.ChildName != "Yi" {
		t.Fatalf("visit: %+v, %v", got, err)
	}
	got, err = db.ReportWithHistory(t.Context(), n, 0)
	if err != nil || got.Ref != n || got.Status != "open" || len(got.History) != 0 {
		t.Fatalf("new need: %+v, %v", got, err)
	}
	editor := mustUser(t, db, "editor1", access.RoleEditor)
	if _, err := db.SetNeedStatus(t.Context(), editor, n, "referred", "  to the township clinic "); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetNeedStatus(t.Context(), access.User{}, n, "resolved", ""); err != nil {
		t.Fatal(err)
	}
	got, err = db.ReportWithHistory(t.Context(), n, 0)
	if err != nil || len(got.History) != 2 {
		t.Fatalf("need: %+v, %v", got, err)
	}
	h := got.History
	if h[0].From != "open" || h[0].To != "referred" || h[0].Note != "to the township clinic" || h[0].Actor != "editor1" ||
		h[1].From != "referred" || h[1].To != "resolved" || h[1].Note != "" || h[1].Actor != "system" ||
		h[1].At.Before(h[0].At) || !h[1].At.Equal(got.StatusChangedAt) || got.Status != "resolved" {
		t.Fatalf("history %+v of %+v", h, got)
	}
}

func mustUser(tb testing.TB, db *storage.DB, name, role string) access.User {
	tb.Helper()
	u, err := db.CreateUser(tb.Context(), access.User{}, name, "correct horse battery", role)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// TestSetNeedStatus tries every change between the three statuses: the
// workflow's are made, recorded and audited; the others are conflicts
// that change nothing.
func TestSetNeedStatus(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := mustPlaces(t, db)
	editor := mustUser(t, db, "editor1", access.RoleEditor)
	// How to bring a new (open) need to each status.
	reach := map[string][]string{"open": nil, "referred": {"referred"}, "resolved": {"resolved"}}
	allowed := map[[2]string]bool{
		{"open", "referred"}: true, {"open", "resolved"}: true, {"referred", "resolved"}: true,
		{"referred", "open"}: true, {"resolved", "open"}: true,
	}
	i := 0
	for _, from := range []string{"open", "referred", "resolved"} {
		for _, to := range []string{"open", "referred", "resolved"} {
			i++
			ref := mustReport(t, db, menus.Report{Kind: menus.ReportNeed, DirectorID: reg.Hua, ChildCode: "C0011", Category: "school", ReportedAt: day(1, i)})
			for _, s := range reach[from] {
				if _, err := db.SetNeedStatus(t.Context(), editor, ref, s, "setup"); err != nil {
					t.Fatalf("%s: setup %s: %v", ref, s, err)
				}
			}
			before, err := db.ReportWithHistory(t.Context(), ref, 0)
			if err != nil {
				t.Fatal(err)
			}
			note := fmt.Sprintf("%s to %s", from, to)
			got, err := db.SetNeedStatus(t.Context(), editor, ref, to, note)
			after, rerr := db.ReportWithHistory(t.Context(), ref, 0)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if !allowed[[2]string{from, to}] {
				if !errors.Is(err, menus.ErrConflict) {
					t.Errorf("%s -> %s: %v, want a conflict", from, to, err)
				}
				if got.Status != from || got.Ref != ref {
					t.Errorf("%s -> %s: conflict returned %+v, want the need as it is", from, to, got)
				}
				if after.Status != from || len(after.History) != len(before.History) || !after.StatusChangedAt.Equal(before.StatusChangedAt) {
					t.Errorf("%s -> %s: refused change changed the need: %+v", from, to, after)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s -> %s: %v", from, to, err)
				continue
			}
			last := after.History[len(after.History)-1]
			if got.Status != to || after.Status != to || len(after.History) != len(before.History)+1 ||
				last.From != from || last.To != to || last.Note != note || last.Actor != "editor1" ||
				!last.At.Equal(after.StatusChangedAt) || time.Since(last.At) > time.Minute {
				t.Errorf("%s -> %s: %+v", from, to, after)
			}
			// The audit entry of this change: who, before and after.
			entries, err := db.AuditLog(t.Context(), 1)
			if err != nil || len(entries) != 1 {
				t.Fatal(entries, err)
			}
			e := entries[0]
			var b, a struct {
				Status string `json:"status"`
				Note   string `json:"note"`
			}
			if e.Action != "need.status" || e.ObjectType != "need" || e.ObjectID != ref || e.Actor != "editor1" ||
				json.Unmarshal(e.Before, &b) != nil || json.Unmarshal(e.After, &a) != nil || b.Status != from || a.Status != to || a.Note != note {
				t.Errorf("%s -> %s: audit %+v %s %s", from, to, e, e.Before, e.After)
			}
		}
	}
	// The history row names the user by id as well as by name.
	if n := MustCount(t, db, `SELECT count(*) FROM need_status_history WHERE user_id = $1 AND actor = 'editor1'`, editor.ID); n == 0 {
		t.Fatal("no history row carries the user's id")
	}

	v := mustReport(t, db, menus.Report{Kind: menus.ReportVisit, DirectorID: reg.Hua, ChildCode: "C0011", Situation: "well", ReportedAt: day(2, 1)})
	for _, ref := range []string{v, "NZZZZZZ"} {
		if _, err := db.SetNeedStatus(t.Context(), editor, ref, "resolved", ""); !errors.Is(err, menus.ErrNotFound) {
			t.Errorf("%s: %v, want not found", ref, err)
		}
	}
	n := mustReport(t, db, menus.Report{Kind: menus.ReportNeed, DirectorID: reg.Hua, ChildCode: "C0011", Category: "school", ReportedAt: day(2, 2)})
	if _, err := db.SetNeedStatus(t.Context(), editor, n, "closed", ""); err == nil || errors.Is(err, menus.ErrConflict) {
		t.Fatalf("unknown status: %v", err)
	}
	// A reference is matched as typed back: case and space do not matter.
	if got, err := db.SetNeedStatus(t.Context(), editor, " "+n+" ", "referred", ""); err != nil || got.Status != "referred" {
		t.Fatalf("spaced reference: %+v, %v", got, err)
	}
}

// TestSetNeedStatusConcurrently: two people refer one need at the same
// moment; one succeeds and the other is told it already was.
func TestSetNeedStatusConcurrently(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := mustPlaces(t, db)
	ref := mustReport(t, db, menus.Report{Kind: menus.ReportNeed, DirectorID: reg.Jin, ChildCode: "C0013", Category: "school", ReportedAt: day(1, 1)})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = db.SetNeedStatus(t.Context(), access.User{}, ref, "referred", fmt.Sprint(i))
		})
	}
	close(start)
	wg.Wait()
	var ok, conflicts int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, menus.ErrConflict):
			conflicts++
		default:
			t.Errorf("concurrent change: %v", err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Fatalf("%d changes and %d conflicts, want 1 and %d", ok, conflicts, n-1)
	}
	if got := MustCount(t, db, `SELECT count(*) FROM need_status_history`); got != 1 {
		t.Fatalf("%d history rows, want 1", got)
	}
	if got := MustCount(t, db, `SELECT count(*) FROM audit_log WHERE action = 'need.status'`); got != 1 {
		t.Fatalf("%d audit rows, want 1", got)
	}
}

func TestRecordExport(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	viewer := mustUser(t, db, "viewer1", access.RoleViewer)
	if err := db.RecordExport(t.Context(), viewer, menus.ReportNeed, "xlsx", map[string]string{"village": "Dagu", "lang": "en"}, 12); err != nil {
		t.Fatal(err)
	}
	entries, err := db.AuditLog(t.Context(), 1)
	if err != nil || len(entries) != 1 {
		t.Fatal(entries, err)
	}
	e := entries[0]
	var after struct {
		Format  string            `json:"format"`
		Filters map[string]string `json:"filters"`
		Rows    int               `json:"rows"`
	}
	if e.Action != "report.export" || e.ObjectType != "report" || e.ObjectID != "need" || e.Actor != "viewer1" ||
		json.Unmarshal(e.After, &after) != nil || after.Format != "xlsx" || after.Rows != 12 || after.Filters["village"] != "Dagu" || after.Filters["lang"] != "en" {
		t.Fatalf("audit %+v %s", e, e.After)
	}
	if err := db.RecordExport(t.Context(), viewer, "audit", "csv", nil, 0); err == nil {
		t.Fatal("an export of an unknown kind recorded")
	}
}

func TestReportDashboard(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := mustPlaces(t, db)
	oct, nov := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	report := func(kind menus.ReportKind, dir int64, child, urgency string, at time.Time) string {
		r := menus.Report{Kind: kind, DirectorID: dir, ChildCode: child, Urgency: urgency, ReportedAt: at, Situation: "well", Category: "school"}
		return mustReport(t, db, r)
	}
	report(menus.ReportVisit, reg.Hua, "C0011", "", oct)                   // first instant of October
	report(menus.ReportVisit, reg.Hua, "C0012", "", nov.Add(-time.Second)) // last second of October
	report(menus.ReportVisit, reg.Hua, "C0012", "", nov)                   // November: not counted
	report(menus.ReportVisit, reg.Hua, "C0011", "", oct.Add(-time.Second)) // September: not counted
	report(menus.ReportNeed, reg.Hua, "C0011", "", oct.AddDate(0, 0, 3))
	oldest := report(menus.ReportNeed, reg.Jin, "C0013", menus.UrgencyUrgent, oct.AddDate(0, -2, 0)) // urgent, long ago
	middle := report(menus.ReportNeed, reg.Jin, "C0013", menus.UrgencyUrgent, oct.AddDate(0, 0, 5))
	newest := report(menus.ReportNeed, reg.Kai, "C0014", menus.UrgencyUrgent, oct.AddDate(0, 0, 6))
	resolved := report(menus.ReportNeed, reg.Kai, "C0014", menus.UrgencyUrgent, oct.AddDate(0, 0, 7))
	referred := report(menus.ReportNeed, reg.Kai, "C0014", menus.UrgencyUrgent, oct.AddDate(0, 0, 8))
	if _, err := db.SetNeedStatus(t.Context(), access.User{}, resolved, "resolved", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetNeedStatus(t.Context(), access.User{}, referred, "referred", ""); err != nil {
		t.Fatal(err)
	}
	// A report on an inactive child keeps its village on the dashboard.
	mustChildren(t, db, registry.Child{Code: "C0015", Name: "Wu", Village: "Gone", County: "Taijiang", DirectorPhone: phoneKai, Active: true})
	report(menus.ReportVisit, reg.Kai, "C0015", "", oct.AddDate(0, 0, 9))
	mustChildren(t, db, registry.Child{Code: "C0015", Name: "Wu", Village: "Gone", County: "Taijiang", DirectorPhone: phoneKai, Active: false})

	d, err := db.ReportDashboard(t.Context(), oct, nov, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.VillageCount{
		{County: "Leishan", Village: "Dagu", Visits: 0, Needs: 1},
		{County: "Leishan", Village: "Shuiping", Visits: 2, Needs: 1},
		{County: "Taijiang", Village: "Gone", Visits: 1, Needs: 0},
		{County: "Taijiang", Village: "Qiao", Visits: 0, Needs: 3},
	}
	if !slices.Equal(d.Villages, want) {
		t.Fatalf("villages %+v, want %+v", d.Villages, want)
	}
	if d.OpenUrgent != 3 || !slices.Equal(d.OpenUrgentRefs, []string{oldest, middle}) {
		t.Fatalf("open urgent %d %v, want 3 [%s %s] (then %s)", d.OpenUrgent, d.OpenUrgentRefs, oldest, middle, newest)
	}

	// A month without reports lists the villages of active children only,
	// with zeros; the open urgent needs are the same whatever the month.
	d, err = db.ReportDashboard(t.Context(), oct.AddDate(-1, 0, 0), oct.AddDate(-1, 1, 0), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	want = []reports.VillageCount{
		{County: "Leishan", Village: "Dagu"}, {County: "Leishan", Village: "Shuiping"}, {County: "Taijiang", Village: "Qiao"},
	}
	if !slices.Equal(d.Villages, want) || d.OpenUrgent != 3 || !slices.Equal(d.OpenUrgentRefs, []string{oldest, middle, newest}) {
		t.Fatalf("empty month: %+v", d)
	}

	empty := storagetest.MustDB(t)
	d, err = empty.ReportDashboard(t.Context(), oct, nov, 10, 0)
	if err != nil || len(d.Villages) != 0 || d.OpenUrgent != 0 || d.OpenUrgentRefs == nil {
		t.Fatalf("empty database: %+v, %v", d, err)
	}
}

// TestChildrenNotVisitedAndTrend: inactive children (C0015) are nobody's
// to visit; a visit just before the cut-off does not count, one at it does;
// months are the caller's.
func TestChildrenNotVisitedAndTrend(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	reg := mustPlaces(t, db)
	since := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	visit := func(dir int64, child string, at time.Time) {
		mustReport(t, db, menus.Report{Kind: menus.ReportVisit, DirectorID: dir, ChildCode: child, Situation: "well", Urgency: menus.UrgencyRoutine, ReportedAt: at})
	}
	visit(reg.Hua, "C0011", since)                   // at the cut-off: visited
	visit(reg.Hua, "C0012", since.Add(-time.Second)) // just before it
	visit(reg.Jin, "C0013", since.AddDate(0, -2, 0)) // long before
	mustReport(t, db, menus.Report{Kind: menus.ReportNeed, DirectorID: reg.Kai, ChildCode: "C0014", Category: "school", Urgency: menus.UrgencyRoutine, ReportedAt: since})

	tests := []struct {
		limit int
		codes []string
	}{
		{10, []string{"C0014", "C0013", "C0012"}}, // never visited (a need is no visit), then the longest ago
		{1, []string{"C0014"}},
		{0, nil},
	}
	for _, tt := range tests {
		count, children, err := db.ChildrenNotVisited(t.Context(), since, tt.limit, 0)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, c := range children {
			codes = append(codes, c.Code)
		}
		if count != 3 || !slices.Equal(codes, tt.codes) {
			t.Errorf("limit %d: %d %v, want 3 %v", tt.limit, count, codes, tt.codes)
		}
		if len(children) > 1 && (!children[0].LastVisit.IsZero() || !children[1].LastVisit.Equal(since.AddDate(0, -2, 0))) {
			t.Errorf("last visits %+v", children)
		}
	}

	starts := []time.Time{since.AddDate(0, -3, 0), since.AddDate(0, -2, 0), since.AddDate(0, -1, 0), since, since.AddDate(0, 1, 0)}
	trend, err := db.ReportTrend(t.Context(), starts, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []reports.MonthCount{
		{Month: starts[0]}, {Month: starts[1], Visits: 1}, {Month: starts[2], Visits: 1}, {Month: starts[3], Visits: 1, Needs: 1},
	}
	if len(trend) != len(want) {
		t.Fatalf("trend %+v", trend)
	}
	for i := range want {
		if !trend[i].Month.Equal(want[i].Month) || trend[i].Visits != want[i].Visits || trend[i].Needs != want[i].Needs {
			t.Errorf("month %d: %+v, want %+v", i, trend[i], want[i])
		}
	}
}
