package gateway_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/xuri/excelize/v2"
)

// 王芳 of 石门村, the demo's third director, responsible for C0009.
const shimenDirector = "+8613800138003"

// The free text a spreadsheet would run, in a stored report's answer.
const hyperlink = `=HYPERLINK("http://evil.example/x","click me")`

// reportsFixture is a seeded gateway with reports made through each
// channel and stored directly, and a token per role.
type reportsFixture struct {
	g                     *gatewaytest.Gateway
	viewer, editor, admin string
	// Visits and needs: through USSD and SMS today, and stored with fixed
	// times in the past.
	vUSSD, vSMS, vC9, vC888, vSep string
	nUSSD, nSMS, nC9, nC777       string
}

func mustReportsFixture(t *testing.T) reportsFixture {
	t.Helper()
	ctx := context.Background()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	f := reportsFixture{g: g,
		viewer: mustUser(t, g, "viewer1", access.RoleViewer),
		editor: mustUser(t, g, "editor1", access.RoleEditor),
		admin:  mustUser(t, g, "admin1", access.RoleAdmin),
	}
	// Today, through the channels.
	f.vUSSD = refRE.FindString(walk(t, g, "ATUid_rep_v", enDirector, []hop{
		{"", false, nil}, {"1", false, nil}, {"1*C0001", false, nil}, {"1*C0001*2", false, nil},
		{"1*C0001*2*1", true, []string{"Visit saved. Ref V"}},
	}))
	f.nUSSD = refRE.FindString(walk(t, g, "ATUid_rep_n", zhDirector, []hop{
		{"", false, nil}, {"2", false, nil}, {"2*C0003", false, nil}, {"2*C0003*1", false, nil}, {"2*C0003*1*2", false, nil},
		{"2*C0003*1*2*1", true, []string{"需求已上报，编号N"}},
	}))
	f.vSMS = refRE.FindString(kannelSMS(t, g, enDirector, "V C0002 3"))
	f.nSMS = refRE.FindString(kannelSMS(t, g, zhDirector, "N C0004 2 1"))

	// In the past, stored directly: 王芳's child C0009 in 石门村, a child
	// in another county, and a child whose name is a formula.
	if _, _, err := g.DB.ImportChildren(ctx, access.System, []registry.ChildRecord{
		{Child: registry.Child{Code: "C0888", Name: "何平", Village: "河口村", County: "花溪县", DirectorPhone: shimenDirector}},
		{Child: registry.Child{Code: "C0777", Name: "=1+2", Village: "青山村", County: "云岭县", DirectorPhone: zhDirector}},
	}, false); err != nil {
		t.Fatal(err)
	}
	directorID := func(p string) int64 {
		c, err := g.DB.CallerByPhone(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return c.DirectorID
	}
	store := func(r menus.Report) string {
		r.SessionKey = fmt.Sprintf("admintest:%s:%s:%d", r.Kind, r.ChildCode, r.ReportedAt.Unix())
		r.Carrier, r.Tree, r.Version = "at", "director", 1
		if r.Channel == "" {
			r.Channel = menus.ChannelUSSD
		}
		if r.Urgency == "" {
			r.Urgency = menus.UrgencyRoutine
		}
		ref, err := g.DB.SaveReport(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	shimen, qingshan := directorID(shimenDirector), directorID(zhDirector)
	f.vSep = store(menus.Report{Kind: menus.ReportVisit, DirectorID: shimen, ChildCode: "C0009", Situation: "well",
		ReportedAt: time.Date(2026, 9, 30, 23, 59, 59, 0, time.UTC), Answers: map[string]string{"child": "C0009", "situation": "well"}})
	f.vC9 = store(menus.Report{Kind: menus.ReportVisit, DirectorID: shimen, ChildCode: "C0009", Situation: "urgent", Urgency: menus.UrgencyUrgent,
		ReportedAt: time.Date(2026, 10, 15, 10, 0, 0, 0, time.UTC), Answers: map[string]string{"child": "C0009", "note": hyperlink}})
	f.vC888 = store(menus.Report{Kind: menus.ReportVisit, DirectorID: shimen, ChildCode: "C0888", Situation: "well",
		ReportedAt: time.Date(2026, 10, 20, 8, 0, 0, 0, time.UTC), Answers: map[string]string{"child": "C0888"}})
	f.nC777 = store(menus.Report{Kind: menus.ReportNeed, DirectorID: qingshan, ChildCode: "C0777", Category: "other",
		ReportedAt: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Answers: map[string]string{"child": "C0777", "note": "+SUM(A1:A9)"}})
	f.nC9 = store(menus.Report{Kind: menus.ReportNeed, DirectorID: shimen, ChildCode: "C0009", Category: "protection", Urgency: menus.UrgencyUrgent,
		Channel: menus.ChannelSMS, ReportedAt: time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC), Answers: map[string]string{"child": "C0009", "note": hyperlink}})

	for name, ref := range map[string]string{"vUSSD": f.vUSSD, "nUSSD": f.nUSSD, "vSMS": f.vSMS, "nSMS": f.nSMS} {
		if ref == "" {
			t.Fatalf("no reference for %s", name)
		}
	}
	return f
}

// apiGet fetches an API path with a token and returns the whole response.
func apiGet(t *testing.T, g *gatewaytest.Gateway, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.URL+"/api/v1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type reportJSON struct {
	Ref             string            `json:"ref"`
	Kind            string            `json:"kind"`
	ChildCode       string            `json:"child_code"`
	ChildName       string            `json:"child_name"`
	Village         string            `json:"village"`
	County          string            `json:"county"`
	DirectorPhone   string            `json:"director_phone"`
	DirectorName    string            `json:"director_name"`
	Situation       string            `json:"situation"`
	Category        string            `json:"category"`
	Urgency         string            `json:"urgency"`
	Status          string            `json:"status"`
	StatusChangedAt string            `json:"status_changed_at"`
	Channel         string            `json:"channel"`
	Carrier         string            `json:"carrier"`
	ReportedAt      string            `json:"reported_at"`
	Answers         map[string]string `json:"answers"`
	History         *[]struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Note  string `json:"note"`
		Actor string `json:"actor"`
		At    string `json:"at"`
	} `json:"history"`
}

type reportPage struct {
	Items   []reportJSON `json:"items"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	Total   int          `json:"total"`
}

func mustPage(t *testing.T, g *gatewaytest.Gateway, path, token string) reportPage {
	t.Helper()
	status, body := api(t, g, "GET", path, token, "", "")
	var p reportPage
	if status != http.StatusOK || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	return p
}

func pageRefs(p reportPage) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.Ref)
	}
	return out
}

type apiError struct {
	Error struct {
		Status   int    `json:"status"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		Problems []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"problems"`
	} `json:"error"`
}

func TestAdminReportsAuth(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	paths := []string{"/reports/visits", "/reports/needs", "/reports/visits.csv", "/reports/needs.csv", "/reports/visits.xlsx",
		"/reports/needs.xlsx", "/reports/dashboard?month=2026-10", "/reports/" + f.vUSSD, "/reports/" + f.nSMS}
	for _, p := range paths {
		for _, tt := range []struct {
			who, token string
			status     int
		}{{"nobody", "", 401}, {"a stranger", "bft_unknown", 401}, {"viewer", f.viewer, 200}, {"editor", f.editor, 200}, {"admin", f.admin, 200}} {
			if status, body := api(t, f.g, "GET", p, tt.token, "", ""); status != tt.status {
				t.Errorf("%s GET %s: %d %.200s, want %d", tt.who, p, status, body, tt.status)
			}
		}
	}
	post := "/reports/needs/" + f.nSMS + "/status"
	for _, tt := range []struct {
		who, token string
		status     int
		code       string
	}{{"nobody", "", 401, "unauthorized"}, {"viewer", f.viewer, 403, "forbidden"}} {
		status, body := api(t, f.g, "POST", post, tt.token, "application/json", `{"status":"resolved"}`)
		var e apiError
		if status != tt.status || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tt.code {
			t.Errorf("%s POST status: %d %s", tt.who, status, body)
		}
	}
	if r, err := f.g.DB.ReportWithHistory(context.Background(), f.nSMS, 0); err != nil || r.Status != "open" || len(r.History) != 0 {
		t.Fatalf("a refused change changed the need: %+v, %v", r, err)
	}
	for _, tt := range []struct{ who, token string }{{"editor", f.editor}, {"admin", f.admin}} {
		status, body := api(t, f.g, "POST", post, tt.token, "application/json", `{"status":"referred"}`)
		if status != 200 && status != 409 {
			t.Errorf("%s POST status: %d %s", tt.who, status, body)
		}
	}
	if status, body := api(t, f.g, "GET", "/openapi.json", "", "", ""); status != 200 || !json.Valid([]byte(body)) ||
		!strings.Contains(body, `"/reports/needs/{ref}/status"`) || !strings.Contains(body, `"/reports/visits.xlsx"`) {
		t.Fatalf("openapi: %d", status)
	}
}

func TestAdminReportsList(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	everyVisit := []string{f.vSMS, f.vUSSD, f.vC888, f.vC9, f.vSep}
	everyNeed := []string{f.nSMS, f.nUSSD, f.nC9, f.nC777}
	tests := []struct {
		path string
		want []string // newest first
	}{
		{"/reports/visits", everyVisit},
		{"/reports/needs", everyNeed},
		{"/reports/visits?from=2026-10-16", []string{f.vSMS, f.vUSSD, f.vC888}},
		{"/reports/visits?to=2026-10-15", []string{f.vC9, f.vSep}},
		{"/reports/visits?from=2026-10-15&to=2026-10-15", []string{f.vC9}},
		{"/reports/visits?from=2026-10-01&to=2026-10-31", []string{f.vC888, f.vC9}},
		{"/reports/needs?to=2026-10-31", []string{f.nC9, f.nC777}},
		{"/reports/needs?from=2026-10-31&to=2026-10-31", []string{f.nC9}},
		{"/reports/needs?from=2026-10-01&to=2026-10-01", []string{f.nC777}},
		{"/reports/needs?to=2026-09-30", nil},
		{"/reports/visits?village=石门村", []string{f.vC9, f.vSep}},
		{"/reports/visits?county=花溪县", []string{f.vC888}},
		{"/reports/needs?county=云岭县&village=青山村", []string{f.nSMS, f.nUSSD, f.nC777}},
		{"/reports/visits?director=13800138003", []string{f.vC888, f.vC9, f.vSep}},
		{"/reports/visits?director=%2B86%20138%200013%208002", []string{f.vSMS, f.vUSSD}},
		{"/reports/visits?child=c2", []string{f.vSMS}},
		{"/reports/needs?child=C0777", []string{f.nC777}},
		{"/reports/visits?situation=needs_support", []string{f.vUSSD}},
		{"/reports/visits?situation=concern", []string{f.vSMS}},
		{"/reports/needs?category=school", []string{f.nSMS}},
		{"/reports/needs?category=registration", []string{f.nUSSD}},
		{"/reports/visits?urgency=urgent", []string{f.vC9}},
		{"/reports/needs?urgency=urgent", []string{f.nUSSD, f.nC9}},
		{"/reports/needs?status=open", everyNeed},
		{"/reports/needs?status=resolved", nil},
		{"/reports/visits?channel=sms", []string{f.vSMS}},
		{"/reports/needs?channel=sms&village=青山村", []string{f.nSMS}},
		{"/reports/needs?village=", everyNeed}, // an empty filter does not filter
	}
	for _, tt := range tests {
		p := mustPage(t, f.g, tt.path, f.editor)
		if got := pageRefs(p); !slices.Equal(got, tt.want) || p.Total != len(tt.want) {
			t.Errorf("%s: %v (total %d), want %v", tt.path, got, p.Total, tt.want)
		}
	}

	// Pages.
	var paged []string
	for page := 1; page <= 3; page++ {
		p := mustPage(t, f.g, fmt.Sprintf("/reports/visits?per_page=2&page=%d", page), f.viewer)
		if p.Total != 5 || p.Page != page || p.PerPage != 2 || len(p.Items) != min(2, 5-2*(page-1)) {
			t.Fatalf("page %d: %+v", page, p)
		}
		paged = append(paged, pageRefs(p)...)
	}
	if !slices.Equal(paged, everyVisit) {
		t.Fatalf("pages %v, want %v", paged, everyVisit)
	}
	if p := mustPage(t, f.g, "/reports/visits?per_page=2&page=9", f.viewer); len(p.Items) != 0 || p.Total != 5 {
		t.Fatalf("past the last page: %+v", p)
	}
	if p := mustPage(t, f.g, "/reports/needs", f.viewer); p.Page != 1 || p.PerPage != 50 {
		t.Fatalf("default paging: %d, %d", p.Page, p.PerPage)
	}

	// What an item says, and how much of the phone each role sees. The
	// note of this protection concern is for admins only (nobody holds
	// its case): the others see the need without it.
	for _, tt := range []struct {
		token, phone, note string
	}{{f.viewer, phone.Mask(shimenDirector), ""}, {f.editor, shimenDirector, ""}, {f.admin, shimenDirector, hyperlink}} {
		p := mustPage(t, f.g, "/reports/needs?child=C0009", tt.token)
		if len(p.Items) != 1 {
			t.Fatalf("need on C0009: %+v", p)
		}
		it := p.Items[0]
		if it.Ref != f.nC9 || it.Kind != "need" || it.ChildCode != "C0009" || it.ChildName != "周洋" || it.Village != "石门村" || it.County != "云岭县" ||
			it.DirectorPhone != tt.phone || it.DirectorName != "王芳" || it.Category != "protection" || it.Situation != "" ||
			it.Urgency != "urgent" || it.Status != "open" || it.StatusChangedAt != "" || it.Channel != "sms" || it.Carrier != "at" ||
			it.ReportedAt != "2026-10-31T23:59:59Z" || it.Answers["note"] != tt.note || it.History != nil {
			t.Errorf("need item %+v", it)
		}
	}
	if masked := phone.Mask(shimenDirector); masked == shimenDirector || !strings.Contains(masked, "*") {
		t.Fatalf("phone.Mask(%s) = %s hides nothing", shimenDirector, masked)
	}
	p := mustPage(t, f.g, "/reports/visits?child=C0001", f.viewer)
	if len(p.Items) != 1 || p.Items[0].Ref != f.vUSSD || p.Items[0].Situation != "needs_support" || p.Items[0].Status != "" ||
		p.Items[0].Channel != "ussd" || p.Items[0].DirectorPhone != phone.Mask(enDirector) || p.Items[0].ChildName != "王小明" {
		t.Fatalf("USSD visit %+v", p.Items)
	}
}

func TestAdminReportsBadFilters(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	tests := []struct {
		path   string
		fields []string // every problem's field, sorted
	}{
		{"/reports/visits?from=2026-13-01", []string{"from"}},
		{"/reports/visits?from=yesterday&to=2026-02-30", []string{"from", "to"}},
		{"/reports/needs?from=2026-11-02&to=2026-11-01", []string{"to"}},
		{"/reports/visits?director=not-a-phone", []string{"director"}},
		{"/reports/visits?child=XY12", []string{"child"}},
		{"/reports/visits?situation=Needs%20Support", []string{"situation"}},
		{"/reports/needs?category=school;drop", []string{"category"}},
		{"/reports/needs?urgency=high", []string{"urgency"}},
		{"/reports/needs?status=closed", []string{"status"}},
		{"/reports/visits?status=open", []string{"status"}},
		{"/reports/visits?category=school", []string{"category"}},
		{"/reports/needs?situation=well", []string{"situation"}},
		{"/reports/visits?channel=fax", []string{"channel"}},
		{"/reports/visits?page=0", []string{"page"}},
		{"/reports/visits?page=two", []string{"page"}},
		{"/reports/visits?per_page=201", []string{"per_page"}},
		{"/reports/visits?village=" + strings.Repeat("村", 101), []string{"village"}},
		{"/reports/visits?vilage=青山村", []string{"vilage"}},
		{"/reports/visits?village=a&village=b", []string{"village"}},
		{"/reports/visits?lang=en", []string{"lang"}},
		{"/reports/visits.csv?lang=fr", []string{"lang"}},
		{"/reports/needs.xlsx?urgency=soon&channel=pigeon", []string{"channel", "urgency"}},
		{"/reports/dashboard?month=2026-13", []string{"month"}},
		{"/reports/dashboard?month=november", []string{"month"}},
		{"/reports/dashboard?village=青山村", []string{"village"}},
	}
	for _, tt := range tests {
		status, body := api(t, f.g, "GET", tt.path, f.viewer, "", "")
		var e apiError
		if status != 422 || json.Unmarshal([]byte(body), &e) != nil || e.Error.Status != 422 || e.Error.Code != "invalid" {
			t.Errorf("%s: %d %s", tt.path, status, body)
			continue
		}
		var fields []string
		for _, p := range e.Error.Problems {
			if p.Message == "" {
				t.Errorf("%s: a problem without a message: %s", tt.path, body)
			}
			fields = append(fields, p.Field)
		}
		if !slices.Equal(fields, tt.fields) {
			t.Errorf("%s: problems on %v, want %v: %s", tt.path, fields, tt.fields, body)
		}
	}
	// A refused export leaves no audit entry: nothing was exported.
	status, body := api(t, f.g, "GET", "/audit", f.admin, "", "")
	if status != 200 || strings.Contains(body, "report.export") {
		t.Fatalf("audit after refused exports: %d %s", status, body)
	}
}

func TestAdminReportGet(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	for _, ref := range []string{"VZZZZZZ", "NZZZZZZ", "nonsense", "C0001"} {
		status, body := api(t, f.g, "GET", "/reports/"+ref, f.viewer, "", "")
		var e apiError
		if status != 404 || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "not_found" {
			t.Errorf("%s: %d %s", ref, status, body)
		}
	}
	// An urgent visit: a viewer reads that it exists, not what the
	// director wrote; an admin reads both.
	status, body := api(t, f.g, "GET", "/reports/"+strings.ToLower(f.vC9), f.viewer, "", "")
	var v reportJSON
	if status != 200 || json.Unmarshal([]byte(body), &v) != nil || v.Ref != f.vC9 || v.Kind != "visit" || v.Situation != "urgent" ||
		len(v.Answers) != 0 || strings.Contains(body, "HYPERLINK") || !strings.Contains(body, `"restricted":true`) ||
		v.DirectorPhone != phone.Mask(shimenDirector) || v.History != nil || strings.Contains(body, `"status"`) {
		t.Fatalf("visit: %d %s", status, body)
	}
	status, body = api(t, f.g, "GET", "/reports/"+f.vC9, f.admin, "", "")
	if v = (reportJSON{}); status != 200 || json.Unmarshal([]byte(body), &v) != nil || v.Answers["note"] != hyperlink || strings.Contains(body, "restricted") {
		t.Fatalf("visit, to an admin: %d %s", status, body)
	}
	status, body = api(t, f.g, "GET", "/reports/"+f.nUSSD, f.editor, "", "")
	var n reportJSON
	if status != 200 || json.Unmarshal([]byte(body), &n) != nil || n.Ref != f.nUSSD || n.Kind != "need" || n.Category != "registration" ||
		n.Urgency != "urgent" || n.Status != "open" || n.ChildCode != "C0003" || n.DirectorPhone != zhDirector || n.Channel != "ussd" ||
		n.History == nil || len(*n.History) != 0 {
		t.Fatalf("need: %d %s", status, body)
	}
}

// TestAdminNeedStatusWorkflow takes a need reported by SMS through
// referral, resolution and reopening, with the changes the workflow
// refuses in between, and finds who did what in its history and the audit
// log.
func TestAdminNeedStatusWorkflow(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	ref := refRE.FindString(kannelSMS(t, f.g, enDirector, "N C0005 6 2"))
	if ref == "" {
		t.Fatal("no need reported")
	}
	path := "/reports/needs/" + ref + "/status"
	set := func(token, body string) (int, reportJSON, apiError) {
		t.Helper()
		status, resp := api(t, f.g, "POST", path, token, "application/json", body)
		var r reportJSON
		var e apiError
		if status == 200 {
			if err := json.Unmarshal([]byte(resp), &r); err != nil {
				t.Fatalf("%s: %v: %s", body, err, resp)
			}
		} else if err := json.Unmarshal([]byte(resp), &e); err != nil || e.Error.Status != status {
			t.Fatalf("%s: %d %s", body, status, resp)
		}
		return status, r, e
	}

	// Bodies that are not a change.
	for _, tt := range []struct {
		body   string
		status int
		field  string
	}{
		{`not json`, 400, ""},
		{`{"status":"referred","by":"me"}`, 400, ""},
		{`{"status":"referred"} {"status":"open"}`, 400, ""},
		{`{}`, 422, "status"},
		{`{"note":"no status"}`, 422, "status"},
		{`{"status":"closed"}`, 422, "status"},
		{`{"status":"referred","note":"` + strings.Repeat("长", 1001) + `"}`, 422, "note"},
	} {
		status, _, e := set(f.editor, tt.body)
		if status != tt.status || e.Error.Code != "invalid" || (tt.field != "" && (len(e.Error.Problems) != 1 || e.Error.Problems[0].Field != tt.field)) {
			t.Errorf("%.40s: %d %+v", tt.body, status, e)
		}
	}
	for _, other := range []string{"NZZZZZZ", f.vUSSD} {
		if status, _ := api(t, f.g, "POST", "/reports/needs/"+other+"/status", f.editor, "application/json", `{"status":"resolved"}`); status != 404 {
			t.Errorf("%s: %d, want 404", other, status)
		}
	}

	type step struct {
		who, token, to, note string
		status               int
	}
	steps := []step{
		{"editor1", f.editor, "referred", "转介到乡卫生院", 200},
		{"editor1", f.editor, "referred", "", 409},
		{"admin1", f.admin, "resolved", "family visited by the township", 200},
		{"editor1", f.editor, "referred", "", 409},
		{"editor1", f.editor, "open", "help did not arrive", 200},
		{"editor1", f.editor, "open", "", 409},
	}
	var history int
	for i, st := range steps {
		body, _ := json.Marshal(map[string]string{"status": st.to, "note": st.note})
		status, r, e := set(st.token, string(body))
		if status != st.status {
			t.Fatalf("step %d (%s to %s): %d %+v", i, st.who, st.to, status, e)
		}
		if status == 409 {
			if e.Error.Code != "conflict" || !strings.Contains(e.Error.Message, ref) || !strings.Contains(e.Error.Message, "cannot become "+st.to) {
				t.Errorf("step %d: conflict %+v", i, e)
			}
			continue
		}
		history++
		if r.Ref != ref || r.Status != st.to || r.History == nil || len(*r.History) != history {
			t.Fatalf("step %d: %+v", i, r)
		}
		last := (*r.History)[history-1]
		at, err := time.Parse(time.RFC3339, last.At)
		if err != nil || last.To != st.to || last.Note != st.note || last.Actor != st.who || last.At != r.StatusChangedAt || time.Since(at) > time.Minute {
			t.Errorf("step %d: history %+v, status changed at %s", i, last, r.StatusChangedAt)
		}
	}

	// Read back by a viewer, and found by the status filter.
	status, body := api(t, f.g, "GET", "/reports/"+ref, f.viewer, "", "")
	var r reportJSON
	if status != 200 || json.Unmarshal([]byte(body), &r) != nil || r.Status != "open" || r.History == nil || len(*r.History) != 3 ||
		(*r.History)[0].From != "open" || (*r.History)[1].From != "referred" || (*r.History)[2].From != "resolved" {
		t.Fatalf("read back: %d %s", status, body)
	}
	if p := mustPage(t, f.g, "/reports/needs?status=open&child=C0005", f.viewer); !slices.Equal(pageRefs(p), []string{ref}) {
		t.Fatalf("open needs on C0005: %v", pageRefs(p))
	}
	if p := mustPage(t, f.g, "/reports/needs?status=resolved", f.viewer); len(p.Items) != 0 {
		t.Fatalf("resolved needs: %v", pageRefs(p))
	}

	// The audit log has each change, newest first, with before and after.
	status, body = api(t, f.g, "GET", "/audit", f.admin, "", "")
	var audit struct {
		Entries []struct {
			Actor    string          `json:"actor"`
			Action   string          `json:"action"`
			ObjectID string          `json:"object_id"`
			Before   json.RawMessage `json:"before"`
			After    json.RawMessage `json:"after"`
		} `json:"entries"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &audit) != nil {
		t.Fatalf("audit: %d %s", status, body)
	}
	var got []string
	for _, e := range audit.Entries {
		if e.Action != "need.status" {
			continue
		}
		var b, a struct{ Status, Note string }
		if e.ObjectID != ref || json.Unmarshal(e.Before, &b) != nil || json.Unmarshal(e.After, &a) != nil {
			t.Fatalf("audit entry %+v", e)
		}
		got = append(got, fmt.Sprintf("%s %s->%s %s", e.Actor, b.Status, a.Status, a.Note))
	}
	want := []string{"editor1 resolved->open help did not arrive", "admin1 referred->resolved family visited by the township", "editor1 open->referred 转介到乡卫生院"}
	if !slices.Equal(got, want) {
		t.Fatalf("audit of status changes:\n%q\nwant\n%q", got, want)
	}
}

// exportAudit is a report.export entry of the audit log.
type exportAudit struct {
	Actor    string `json:"actor"`
	Action   string `json:"action"`
	ObjectID string `json:"object_id"`
	After    struct {
		Format  string            `json:"format"`
		Filters map[string]string `json:"filters"`
		Rows    int               `json:"rows"`
	} `json:"after"`
}

// exportAudits returns the report.export entries of the audit log, newest
// first.
func exportAudits(t *testing.T, f reportsFixture) []exportAudit {
	t.Helper()
	status, body := api(t, f.g, "GET", "/audit", f.admin, "", "")
	var audit struct {
		Entries []exportAudit `json:"entries"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &audit) != nil {
		t.Fatalf("audit: %d %s", status, body)
	}
	var out []exportAudit
	for _, e := range audit.Entries {
		if e.Action == "report.export" {
			out = append(out, e)
		}
	}
	return out
}

func mustCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rest, ok := bytes.CutPrefix(body, []byte("\uFEFF"))
	if !ok {
		t.Fatalf("CSV without a byte order mark: %.40q", body)
	}
	records, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	return records
}

// column returns the index of header in a header row, failing the test if
// it is missing.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %q in %q", name, header)
	}
	return i
}

func TestAdminReportsExportCSV(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)

	// In English, by an admin: whole phones, every detail, formulas
	// neutralised. A phone starts with "+", which the export quotes like
	// any formula trigger.
	resp, body := apiGet(t, f.g, "/reports/needs.csv?lang=en&from=2026-10-01&to=2026-10-31", f.admin)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="barefoot-needs-2026-10-01_2026-10-31.csv"` ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("needs.csv: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	records := mustCSV(t, body)
	wantHeader := []string{"Reference", "Reported at", "Child ID", "Child name", "Village", "County", "Director", "Director phone",
		"Category", "Urgency", "Status", "Status changed at", "Details", "Channel", "Carrier", "Menu version", "Answer: child ID", "Answer: note"}
	if len(records) != 3 || !slices.Equal(records[0], wantHeader) {
		t.Fatalf("needs.csv: %q", records)
	}
	// Newest first: the need on C0009, then the one on C0777.
	c9, c777 := records[1], records[2]
	if want := []string{f.nC9, "2026-10-31T23:59:59Z", "C0009", "周洋", "石门村", "云岭县", "王芳", "'" + shimenDirector,
		"Protection concern", "Urgent", "Open", "", "", "SMS", "at", "1", "C0009", "'" + hyperlink}; !slices.Equal(c9, want) {
		t.Errorf("row of %s:\n%q\nwant\n%q", f.nC9, c9, want)
	}
	if c777[0] != f.nC777 || c777[1] != "2026-10-01T00:00:00Z" || c777[3] != "'=1+2" || c777[17] != "'+SUM(A1:A9)" {
		t.Errorf("row of %s: %q", f.nC777, c777)
	}
	for _, rec := range records {
		for _, cell := range rec {
			if strings.HasPrefix(cell, "=") || strings.HasPrefix(cell, "+") {
				t.Errorf("a cell a spreadsheet would run: %q", cell)
			}
		}
	}

	// By an editor: the protection concern's details are withheld and
	// the row says so; the routine need's are not.
	_, body = apiGet(t, f.g, "/reports/needs.csv?lang=en&from=2026-10-01&to=2026-10-31", f.editor)
	records = mustCSV(t, body)
	if c9 := records[1]; c9[12] != "restricted: supervisors and the case's holders only" || c9[16] != "" || c9[17] != "" || records[2][17] != "'+SUM(A1:A9)" {
		t.Errorf("the editor's export: %q", records)
	}

	// In Chinese by default, by a viewer: masked phones.
	resp, body = apiGet(t, f.g, "/reports/visits.csv?village=石门村", f.viewer)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="barefoot-visits-`) {
		t.Fatalf("visits.csv: %d %v", resp.StatusCode, resp.Header)
	}
	records = mustCSV(t, body)
	if len(records) != 3 || records[0][0] != "编号" || records[0][8] != "情况" || slices.Contains(records[0], "状态") {
		t.Fatalf("visits.csv header: %q", records)
	}
	// The urgent visit's note is withheld from a viewer, and said to be.
	phoneCol := column(t, records[0], "主任电话")
	detailsCol := column(t, records[0], "详情")
	if records[1][0] != f.vC9 || records[1][phoneCol] != "'"+phone.Mask(shimenDirector) || records[1][detailsCol] != "受限：仅主管和个案负责人可见" ||
		strings.Contains(string(body), "HYPERLINK") || records[2][0] != f.vSep || records[2][detailsCol] != "" {
		t.Fatalf("visits.csv rows: %q", records[1:])
	}

	// Both exports are in the audit log, newest first, with their filters.
	audits := exportAudits(t, f)
	if len(audits) != 3 {
		t.Fatalf("%d export audit entries, want 3: %+v", len(audits), audits)
	}
	v, n := audits[0], audits[1]
	if v.Actor != "viewer1" || v.ObjectID != "visit" || v.After.Format != "csv" || v.After.Rows != 2 || v.After.Filters["village"] != "石门村" {
		t.Errorf("visits export audit %+v", v)
	}
	if n.Actor != "editor1" || n.ObjectID != "need" || n.After.Rows != 2 || n.After.Filters["from"] != "2026-10-01" ||
		n.After.Filters["to"] != "2026-10-31" || n.After.Filters["lang"] != "en" {
		t.Errorf("needs export audit %+v", n)
	}
}

func TestAdminReportsExportXLSX(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	resp, body := apiGet(t, f.g, "/reports/needs.xlsx?lang=en&director=%2B8613800138001&per_page=1", f.admin)
	today := time.Now().UTC().Format(time.DateOnly)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		(resp.Header.Get("Content-Disposition") != `attachment; filename="barefoot-needs-`+today+`.xlsx"` &&
			resp.Header.Get("Content-Disposition") != `attachment; filename="barefoot-needs-`+time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)+`.xlsx"`) {
		t.Fatalf("needs.xlsx: %d %v %.200s", resp.StatusCode, resp.Header, body)
	}
	book, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	if sheets := book.GetSheetList(); !slices.Equal(sheets, []string{"Needs"}) {
		t.Fatalf("sheets %v", sheets)
	}
	rows, err := book.GetRows("Needs")
	if err != nil {
		t.Fatal(err)
	}
	// 李梅's three needs (per_page does not page an export), newest first.
	if len(rows) != 4 || rows[0][0] != "Reference" || rows[0][3] != "Child name" || rows[0][8] != "Category" {
		t.Fatalf("rows %q", rows)
	}
	if got := []string{rows[1][0], rows[2][0], rows[3][0]}; !slices.Equal(got, []string{f.nSMS, f.nUSSD, f.nC777}) {
		t.Fatalf("references %v, want %v", got, []string{f.nSMS, f.nUSSD, f.nC777})
	}
	c777 := rows[3]
	noteCol := column(t, rows[0], "Answer: note")
	if c777[3] != "'=1+2" || c777[noteCol] != "'+SUM(A1:A9)" || c777[7] != "'"+zhDirector || c777[10] != "Open" {
		t.Fatalf("row of %s: %q", f.nC777, c777)
	}
	// No cell is a formula; the reported time is a real date cell.
	for r := range rows {
		for c := range rows[r] {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if formula, err := book.GetCellFormula("Needs", cell); err != nil || formula != "" {
				t.Fatalf("%s: formula %q, %v", cell, formula, err)
			}
		}
	}
	if ty, err := book.GetCellType("Needs", "B4"); err != nil || (ty != excelize.CellTypeNumber && ty != excelize.CellTypeUnset) {
		t.Fatalf("B4 (reported at) has type %v, %v", ty, err)
	}
	if v, err := book.GetCellValue("Needs", "B4"); err != nil || v != "2026-10-01 00:00:00" {
		t.Fatalf("B4 (reported at) = %q, %v", v, err)
	}

	// Chinese by default, sheet named in Chinese.
	resp, body = apiGet(t, f.g, "/reports/visits.xlsx?county=花溪县", f.viewer)
	if resp.StatusCode != 200 {
		t.Fatalf("visits.xlsx: %d %s", resp.StatusCode, body)
	}
	book2, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer book2.Close()
	rows, err = book2.GetRows("家访")
	if err != nil || len(rows) != 2 || rows[0][0] != "编号" || rows[1][0] != f.vC888 || rows[1][3] != "何平" {
		t.Fatalf("visits.xlsx rows %q, %v", rows, err)
	}
	audits := exportAudits(t, f)
	if len(audits) != 2 || audits[0].After.Format != "xlsx" || audits[0].Actor != "viewer1" || audits[0].After.Rows != 1 ||
		audits[1].Actor != "admin1" || audits[1].After.Rows != 3 || audits[1].After.Filters["director"] != zhDirector {
		t.Fatalf("export audits %+v", audits)
	}
}

func TestAdminReportsDashboard(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	type dashboard struct {
		Month    string `json:"month"`
		From     string `json:"from"`
		To       string `json:"to"`
		Villages []struct {
			County  string `json:"county"`
			Village string `json:"village"`
			Visits  int    `json:"visits"`
			Needs   int    `json:"needs"`
		} `json:"villages"`
		Totals struct {
			Visits int `json:"visits"`
			Needs  int `json:"needs"`
		} `json:"totals"`
		OpenUrgentNeeds struct {
			Count int      `json:"count"`
			Refs  []string `json:"refs"`
		} `json:"open_urgent_needs"`
	}
	get := func(query string) (dashboard, map[string][2]int) {
		t.Helper()
		status, body := api(t, f.g, "GET", "/reports/dashboard"+query, f.viewer, "", "")
		var d dashboard
		if status != 200 || json.Unmarshal([]byte(body), &d) != nil {
			t.Fatalf("dashboard%s: %d %s", query, status, body)
		}
		counts := map[string][2]int{}
		for _, v := range d.Villages {
			counts[v.County+"/"+v.Village] = [2]int{v.Visits, v.Needs}
		}
		return d, counts
	}

	d, counts := get("?month=2026-10")
	want := map[string][2]int{"云岭县/青山村": {0, 1}, "云岭县/石门村": {1, 1}, "花溪县/河口村": {1, 0}}
	if d.Month != "2026-10" || d.From != "2026-10-01" || d.To != "2026-10-31" || fmt.Sprint(counts) != fmt.Sprint(want) ||
		d.Totals.Visits != 2 || d.Totals.Needs != 2 {
		t.Fatalf("October: %+v, want villages %v", d, want)
	}
	// Open urgent needs, whenever reported, the longest waiting first.
	if d.OpenUrgentNeeds.Count != 2 || !slices.Equal(d.OpenUrgentNeeds.Refs, []string{f.nC9, f.nUSSD}) {
		t.Fatalf("open urgent needs %+v, want [%s %s]", d.OpenUrgentNeeds, f.nC9, f.nUSSD)
	}

	// This month: the reports made through the channels today.
	d, counts = get("")
	want = map[string][2]int{"云岭县/青山村": {2, 2}, "云岭县/石门村": {0, 0}, "花溪县/河口村": {0, 0}}
	if d.Month != time.Now().UTC().Format("2006-01") || fmt.Sprint(counts) != fmt.Sprint(want) || d.Totals.Visits != 2 || d.Totals.Needs != 2 {
		t.Fatalf("this month: %+v, want villages %v", d, want)
	}

	// Resolving one takes it off the list.
	if status, body := api(t, f.g, "POST", "/reports/needs/"+f.nC9+"/status", f.editor, "application/json", `{"status":"resolved"}`); status != 200 {
		t.Fatalf("resolve: %d %s", status, body)
	}
	if d, _ = get("?month=2000-01"); d.OpenUrgentNeeds.Count != 1 || !slices.Equal(d.OpenUrgentNeeds.Refs, []string{f.nUSSD}) || d.Totals.Visits != 0 {
		t.Fatalf("after resolving %s: %+v", f.nC9, d)
	}
}

// TestReportDatesInDeploymentZone: a report made at 01:00 on 1 November in
// China (17:00 UTC on 31 October) belongs to 1 November there.
func TestReportDatesInDeploymentZone(t *testing.T) {
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
	ref, err := g.DB.SaveReport(ctx, menus.Report{Kind: menus.ReportVisit, SessionKey: "tz:1", Channel: menus.ChannelUSSD, Carrier: "at",
		DirectorID: c.DirectorID, ChildCode: "C0001", Situation: "well", Urgency: menus.UrgencyRoutine, Tree: "director", Version: 1,
		ReportedAt: time.Date(2026, 10, 31, 17, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	viewer := mustUser(t, g, "tzviewer", access.RoleViewer)
	for _, tt := range []struct {
		day  string
		want bool
	}{{"2026-11-01", true}, {"2026-10-31", false}} {
		status, body := api(t, g, "GET", "/reports/visits?from="+tt.day+"&to="+tt.day, viewer, "", "")
		if status != 200 || strings.Contains(body, ref) != tt.want {
			t.Errorf("visits on %s: %d, contains %s: %v, want %v", tt.day, status, ref, strings.Contains(body, ref), tt.want)
		}
	}
}

// TestAdminReportWords: a report reads in words, in both languages, in the
// labels of the tree that asked: its category, urgency, status, channel
// and each answer's name.
func TestAdminReportWords(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	resp, body := apiGet(t, f.g, "/reports/"+f.nC9, f.admin)
	var r struct {
		Words map[string]struct {
			Detail, Urgency, Status, Channel string
			Answers                          []struct{ Key, Name, Value, Word string }
		} `json:"words"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	zh, en := r.Words["zh"], r.Words["en"]
	if zh.Detail != "保护问题" || zh.Urgency != "紧急" || zh.Status != "待处理" || zh.Channel != "短信" {
		t.Errorf("zh words %+v", zh)
	}
	if en.Detail != "Protection concern" || en.Urgency != "Urgent" || en.Status != "Open" || en.Channel != "SMS" {
		t.Errorf("en words %+v", en)
	}
	if len(zh.Answers) == 0 || zh.Answers[0].Key != "child" || zh.Answers[0].Name != "儿童编号" || zh.Answers[0].Word != "C0009" {
		t.Errorf("zh answers %+v", zh.Answers)
	}
}
