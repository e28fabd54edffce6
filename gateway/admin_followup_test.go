package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// The fields the console reads beside those of reportJSON: times in the
// deployment's zone and a need's last follow-up step.
type localReport struct {
	Ref                  string `json:"ref"`
	ReportedAt           string `json:"reported_at"`
	ReportedAtLocal      string `json:"reported_at_local"`
	StatusChangedAtLocal string `json:"status_changed_at_local"`
	LastChange           *struct {
		From    string `json:"from"`
		To      string `json:"to"`
		Note    string `json:"note"`
		Actor   string `json:"actor"`
		At      string `json:"at"`
		AtLocal string `json:"at_local"`
	} `json:"last_change"`
	History []struct {
		At      string `json:"at"`
		AtLocal string `json:"at_local"`
	} `json:"history"`
}

type localPage struct {
	Items    []localReport `json:"items"`
	Total    int           `json:"total"`
	TimeZone string        `json:"time_zone"`
}

func mustLocalPage(t *testing.T, g *gatewaytest.Gateway, path, token string) localPage {
	t.Helper()
	status, body := api(t, g, "GET", path, token, "", "")
	var p localPage
	if status != http.StatusOK || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return p
}

// TestAdminReportsLocalTimes: a report made at 01:00 on 1 November in
// China is shown at that time, as the exports show it, not as 17:00 on
// 31 October; so are the times of its follow-up.
func TestAdminReportsLocalTimes(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Location: shanghai})
	ctx := context.Background()
	c, err := g.DB.CallerByPhone(ctx, enDirector)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := g.DB.SaveReport(ctx, menus.Report{Kind: menus.ReportNeed, SessionKey: "tz:need", Channel: menus.ChannelUSSD, Carrier: "at",
		DirectorID: c.DirectorID, ChildCode: "C0001", Category: "school", Urgency: menus.UrgencyRoutine, Tree: "director", Version: 1,
		ReportedAt: time.Date(2026, 10, 31, 17, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	editor := mustUser(t, g, "tzeditor", access.RoleEditor)
	if status, body := api(t, g, "POST", "/reports/needs/"+ref+"/status", editor, "application/json", `{"status":"referred"}`); status != 200 {
		t.Fatalf("refer: %d %s", status, body)
	}
	p := mustLocalPage(t, g, "/reports/needs", editor)
	if len(p.Items) != 1 || p.TimeZone != "Asia/Shanghai" {
		t.Fatalf("page %+v", p)
	}
	it := p.Items[0]
	if it.ReportedAt != "2026-10-31T17:00:00Z" || it.ReportedAtLocal != "2026-11-01 01:00" {
		t.Errorf("reported at %q, locally %q, want 2026-11-01 01:00", it.ReportedAt, it.ReportedAtLocal)
	}
	if it.LastChange == nil {
		t.Fatalf("no last change on a referred need")
	}
	at, err := time.Parse(time.RFC3339, it.LastChange.At)
	if err != nil || it.LastChange.AtLocal != at.In(shanghai).Format("2006-01-02 15:04") || it.StatusChangedAtLocal != it.LastChange.AtLocal {
		t.Errorf("last change at %q, locally %q; status changed locally %q", it.LastChange.At, it.LastChange.AtLocal, it.StatusChangedAtLocal)
	}
	status, body := api(t, g, "GET", "/reports/"+ref, editor, "", "")
	var one localReport
	if status != 200 || json.Unmarshal([]byte(body), &one) != nil || len(one.History) != 1 || one.History[0].AtLocal != it.LastChange.AtLocal ||
		one.ReportedAtLocal != "2026-11-01 01:00" {
		t.Fatalf("one need: %d %s", status, body)
	}
}

// TestAdminNeedsLastChange: the list of needs says, for each, the last
// step of its follow-up (who, when, to what, with which note), so that an
// office sees who took up an urgent need without opening each.
func TestAdminNeedsLastChange(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	for _, st := range []struct{ token, to, note string }{
		{f.editor, "referred", "转介到乡派出所"},
		{f.admin, "resolved", "家长已联系"},
	} {
		body, _ := json.Marshal(map[string]string{"status": st.to, "note": st.note})
		if status, resp := api(t, f.g, "POST", "/reports/needs/"+f.nC9+"/status", st.token, "application/json", string(body)); status != 200 {
			t.Fatalf("%s: %d %s", st.to, status, resp)
		}
	}
	tests := []struct {
		who, token string
	}{{"viewer", f.viewer}, {"editor", f.editor}}
	for _, tt := range tests {
		p := mustLocalPage(t, f.g, "/reports/needs", tt.token)
		byRef := map[string]localReport{}
		for _, it := range p.Items {
			byRef[it.Ref] = it
		}
		last := byRef[f.nC9].LastChange
		if last == nil || last.From != "referred" || last.To != "resolved" || last.Actor != "admin1" || last.Note != "家长已联系" || last.At == "" {
			t.Errorf("%s: last change of %s: %+v", tt.who, f.nC9, last)
		}
		if byRef[f.nC777].LastChange != nil {
			t.Errorf("%s: a need nobody acted on has a last change: %+v", tt.who, byRef[f.nC777].LastChange)
		}
	}
	status, body := api(t, f.g, "GET", "/reports/visits", f.viewer, "", "")
	if status != 200 || strings.Contains(body, "last_change") {
		t.Fatalf("visits: %d %.300s", status, body)
	}
}

// TestAdminReportsErrorNamesParameter: one bad parameter is named in the
// error's message, not only in its problems.
func TestAdminReportsErrorNamesParameter(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	viewer := mustUser(t, g, "viewer1", access.RoleViewer)
	tests := []struct {
		path, want string
	}{
		{"/reports/needs?from=2026-11-02&to=2026-11-01", "to: is before from"},
		{"/reports/needs?urgency=紧急", "urgency: must be one of routine, urgent"},
	}
	for _, tt := range tests {
		status, body := api(t, g, "GET", tt.path, viewer, "", "")
		var e apiError
		if status != 422 || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error.Message, tt.want) {
			t.Errorf("%s: %d %s, want a message with %q", tt.path, status, body, tt.want)
		}
	}
}

// TestAdminDashboardFollowUp: the dashboard answers which children nobody
// has visited for 30 days, how the last six months went, and which month
// it is where the programme works.
func TestAdminDashboardFollowUp(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	type dashboard struct {
		Month        string `json:"month"`
		CurrentMonth string `json:"current_month"`
		Trend        []struct {
			Month  string `json:"month"`
			Visits int    `json:"visits"`
			Needs  int    `json:"needs"`
		} `json:"trend"`
		NotVisited struct {
			Days     int    `json:"days"`
			Since    string `json:"since"`
			Count    int    `json:"count"`
			Children []struct {
				Code      string `json:"code"`
				Name      string `json:"name"`
				Village   string `json:"village"`
				County    string `json:"county"`
				LastVisit string `json:"last_visit"`
			} `json:"children"`
		} `json:"not_visited"`
	}
	status, body := api(t, f.g, "GET", "/reports/dashboard?month=2026-10", f.viewer, "", "")
	var d dashboard
	if status != 200 || json.Unmarshal([]byte(body), &d) != nil {
		t.Fatalf("dashboard: %d %s", status, body)
	}
	if d.CurrentMonth != time.Now().UTC().Format("2006-01") || d.Month != "2026-10" {
		t.Errorf("month %q, current month %q", d.Month, d.CurrentMonth)
	}
	var months []string
	for _, m := range d.Trend {
		months = append(months, m.Month)
	}
	if want := []string{"2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"}; !slices.Equal(months, want) {
		t.Fatalf("trend months %v, want %v", months, want)
	}
	if sep, oct := d.Trend[4], d.Trend[5]; sep.Visits != 1 || sep.Needs != 0 || oct.Visits != 2 || oct.Needs != 2 {
		t.Errorf("trend September %+v, October %+v", sep, oct)
	}

	// Visited today: C0001 (USSD) and C0002 (SMS). Every other active
	// child is listed, never-visited ones first, then the longest ago.
	nv := d.NotVisited
	var codes []string
	last := map[string]string{}
	for _, c := range nv.Children {
		codes = append(codes, c.Code)
		last[c.Code] = c.LastVisit
	}
	slices.Sort(codes)
	if want := []string{"C0003", "C0004", "C0005", "C0009", "C0777", "C0888"}; nv.Days != 30 || nv.Count != len(want) || !slices.Equal(codes, want) {
		t.Fatalf("not visited: %+v, want %v", nv, want)
	}
	if last["C0009"] != "2026-10-15T10:00:00Z" || last["C0003"] != "" || last["C0888"] != "2026-10-20T08:00:00Z" {
		t.Errorf("last visits %v", last)
	}
	if first := nv.Children[0]; first.LastVisit != "" || nv.Children[len(nv.Children)-1].Code != "C0888" {
		t.Errorf("order: %+v", nv.Children)
	}
	if nv.Since != time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly) {
		t.Errorf("since %q", nv.Since)
	}
}
