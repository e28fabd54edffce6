package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// api calls the admin API with a token (none when empty).
func api(t *testing.T, g *gatewaytest.Gateway, method, path, token, contentType, body string) (int, string) {
	t.Helper()
	return apiIn(t, g, "", method, path, token, contentType, body)
}

// mustUser creates a user of role and returns a token for it.
func mustUser(t *testing.T, g *gatewaytest.Gateway, name, role string) string {
	t.Helper()
	ctx := context.Background()
	u, err := g.DB.CreateUser(ctx, access.User{}, name, "correct horse battery", role)
	if err != nil {
		t.Fatal(err)
	}
	token, err := g.DB.CreateToken(ctx, u, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestAdminAuth(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	viewer := mustUser(t, g, "viewer1", access.RoleViewer)
	tests := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"no token", "GET", "/menus", "", "", 401, "unauthorized"},
		{"unknown token", "GET", "/menus", "bft_nope", "", 401, "unauthorized"},
		{"viewer on menus", "GET", "/menus", viewer, "", 403, "forbidden"},
		{"viewer on audit", "GET", "/audit", viewer, "", 403, "forbidden"},
		{"login without password", "POST", "/login", "", `{"username":"viewer1"}`, 400, "invalid"},
		{"wrong password", "POST", "/login", "", `{"username":"viewer1","password":"wrong password!"}`, 401, "unauthorized"},
		{"unknown user", "POST", "/login", "", `{"username":"nobody","password":"wrong password!"}`, 401, "unauthorized"},
	}
	for _, tt := range tests {
		status, body := api(t, g, tt.method, tt.path, tt.token, "application/json", tt.body)
		var e struct {
			Error struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
			} `json:"error"`
		}
		if status != tt.status || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tt.code || e.Error.Status != tt.status {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
	}
	status, body := api(t, g, "POST", "/login", "", "application/json", `{"username":"viewer1","password":"correct horse battery"}`)
	var login struct {
		Token string `json:"token"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &login) != nil || login.Token == "" {
		t.Fatalf("login: %d %s", status, body)
	}
	if status, body := api(t, g, "GET", "/me", login.Token, "", ""); status != 200 || !strings.Contains(body, `"role":"viewer"`) {
		t.Fatalf("me: %d %s", status, body)
	}
	if status, body := api(t, g, "GET", "/openapi.json", "", "", ""); status != 200 || !json.Valid([]byte(body)) || !strings.Contains(body, "/menus/{name}/versions/{version}/publish") {
		t.Fatalf("openapi: %d", status)
	}
}

// TestAdminMenuLifecycle edits a label, sees validation errors, saves a
// draft, publishes it (new sessions see it at once), diffs and rolls back,
// and finds every change in the audit log with its author.
func TestAdminMenuLifecycle(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	editor := mustUser(t, g, "editor1", access.RoleEditor)
	adminToken := mustUser(t, g, "admin1", access.RoleAdmin)
	src, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")
	edited := strings.Replace(string(src), "en: Record a home visit", "en: Log a home visit", 1)

	if status, body := api(t, g, "GET", "/menus", editor, "", ""); status != 200 || !strings.Contains(body, `"name":"director"`) || !strings.Contains(body, `"name":"guardian"`) {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, body := api(t, g, "GET", "/menus/director/versions/1?download=1", editor, "", ""); status != 200 || body != string(src) {
		t.Fatalf("export: %d", status)
	}
	broken := strings.Replace(edited, "next: visit_situation", "next: nowhere", 1)
	status, body := api(t, g, "POST", "/menus/director/validate", editor, "application/yaml", broken)
	if status != 422 || !strings.Contains(body, `"node":"visit_child"`) || !strings.Contains(body, `unknown target node \"nowhere\"`) {
		t.Fatalf("broken tree: %d %s", status, body)
	}
	tooLong := strings.Replace(edited, "en: How urgent?", "en: "+strings.Repeat("How urgent is it, really? ", 8), 1)
	if status, body := api(t, g, "POST", "/menus/director/validate", editor, "application/yaml", tooLong); status != 422 || !strings.Contains(body, "over the screen budget") {
		t.Fatalf("too long: %d %s", status, body)
	}
	if status, body := api(t, g, "POST", "/menus/guardian/versions", editor, "application/yaml", edited); status != 422 || !strings.Contains(body, `the path names \"guardian\"`) {
		t.Fatalf("wrong name: %d %s", status, body)
	}
	status, body = api(t, g, "POST", "/menus/director/versions", editor, "application/yaml", edited)
	if status != 201 || !strings.Contains(body, `"version":2`) || strings.Contains(body, "published_at") {
		t.Fatalf("draft: %d %s", status, body)
	}
	// A draft is not live.
	if body := g.AT(t, "ATUid_adm1", enDirector, ""); !strings.Contains(body, "1. Record a home visit") {
		t.Fatalf("draft went live: %q", body)
	}
	if status, body := api(t, g, "POST", "/menus/director/versions/2/publish", editor, "", ""); status != 200 {
		t.Fatalf("publish: %d %s", status, body)
	}
	if body := g.AT(t, "ATUid_adm2", zhDirector, ""); strings.Contains(body, "您有未完成") {
		t.Fatalf("unexpected offer: %q", body)
	}
	if body := g.AT(t, "ATUid_adm3", "+8613800138003", ""); !strings.Contains(body, "1. 记录家访") {
		t.Fatalf("zh after publish: %q", body)
	}
	g.AT(t, "ATUid_adm4", enDirector, "")
	if body := g.AT(t, "ATUid_adm5", "+8613800138002", ""); !strings.Contains(body, "1. Log a home visit") {
		t.Fatalf("published label not live: %q", body)
	}
	if status, body := api(t, g, "GET", "/menus/director/diff?from=1&to=2", editor, "", ""); status != 200 || !strings.Contains(body, "-      - label: {zh: 记录家访, en: Record a home visit}") || !strings.Contains(body, "+      - label: {zh: 记录家访, en: Log a home visit}") {
		t.Fatalf("diff: %d\n%s", status, body)
	}
	if status, _ := api(t, g, "POST", "/menus/director/versions/1/publish", editor, "", ""); status != 200 {
		t.Fatalf("rollback: %d", status)
	}
	if body := g.AT(t, "ATUid_adm6", enDirector, ""); !strings.Contains(body, "1. Record a home visit") {
		t.Fatalf("rollback not live: %q", body)
	}
	// The list says which version callers get.
	if status, body := api(t, g, "GET", "/menus", editor, "", ""); status != 200 ||
		!strings.Contains(body, `{"name":"director","version":1,`) || strings.Count(body, `"live":true`) != 2 ||
		!regexp.MustCompile(`"name":"director","version":1,[^}]*"live":true`).MatchString(body) {
		t.Fatalf("list after the rollback: %d %s", status, body)
	}
	if status, _ := api(t, g, "POST", "/menus/director/versions/9/publish", editor, "", ""); status != 404 {
		t.Fatalf("unknown version: %d", status)
	}
	status, body = api(t, g, "GET", "/audit", adminToken, "", "")
	var audit struct {
		Entries []struct {
			Actor    string          `json:"actor"`
			Action   string          `json:"action"`
			ObjectID string          `json:"object_id"`
			After    json.RawMessage `json:"after"`
		} `json:"entries"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &audit) != nil {
		t.Fatalf("audit: %d %s", status, body)
	}
	var saves, publishes int
	for _, e := range audit.Entries {
		if e.Actor == "editor1" && e.ObjectID == "director" {
			switch e.Action {
			case "menu.save":
				saves++
			case "menu.publish":
				publishes++
			}
		}
	}
	if saves != 1 || publishes != 2 {
		t.Fatalf("audit has %d saves and %d publishes by editor1, want 1 and 2:\n%s", saves, publishes, body)
	}
}

// TestPublishReachesEveryGateway: two gateway processes share one
// database; a publish through one's API is live on the other's USSD at
// once, by notification (the periodic refresh is not running here).
func TestPublishReachesEveryGateway(t *testing.T) {
	t.Parallel()
	g1 := gatewaytest.MustGateway(t, gatewaytest.Options{})
	g2 := gatewaytest.MustGateway(t, gatewaytest.Options{DB: g1.DB})
	editor := mustUser(t, g1, "editor2", access.RoleEditor)
	src, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")
	edited := strings.Replace(string(src), "en: Record a home visit", "en: Visit a child", 1)
	if status, body := api(t, g1, "POST", "/menus/director/versions", editor, "application/yaml", edited); status != 201 {
		t.Fatalf("draft: %d %s", status, body)
	}
	if status, body := api(t, g1, "POST", "/menus/director/versions/2/publish", editor, "", ""); status != 200 {
		t.Fatalf("publish: %d %s", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		body := g2.AT(t, fmt.Sprintf("ATUid_second_%d", i), enDirector, "")
		if strings.Contains(body, "1. Visit a child") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second gateway still shows %q", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAdminTemplates: an administrator records a provider's verdicts on a
// template; editors read them, and may not record them; a bad verdict is
// refused by field, and each recorded one is audited.
func TestAdminTemplates(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	admin, editor := mustUser(t, g, "county-admin", access.RoleAdmin), mustUser(t, g, "county-editor", access.RoleEditor)
	put := func(token, key, body string) (int, string) {
		return api(t, g, "PUT", "/templates/"+key+"/approvals", token, "application/json", body)
	}
	tests := []struct {
		name, token, key, body string
		status                 int
		want                   string
	}{
		{"approved", admin, "alert_urgent", `{"lang":"zh","carrier":"tencent","status":"approved","provider_id":"1234567"}`, 200, `"provider_id":"1234567"`},
		{"pending", admin, "allowance_status", `{"lang":"zh","carrier":"aliyun","status":"pending","note":"submitted 11-30"}`, 200, `"status":"pending"`},
		{"an editor", editor, "alert_urgent", `{"lang":"zh","carrier":"tencent","status":"rejected"}`, 403, "forbidden"},
		{"approved without an id", admin, "alert_urgent", `{"lang":"en","carrier":"tencent","status":"approved"}`, 422, "provider_id"},
		{"a language the template lacks", admin, "alert_urgent", `{"lang":"zh+en","carrier":"tencent","status":"pending"}`, 422, `"field":"lang"`},
		{"no such status", admin, "alert_urgent", `{"lang":"zh","carrier":"tencent","status":"maybe"}`, 422, `"field":"status"`},
		{"no such template", admin, "nope", `{"lang":"zh","carrier":"tencent","status":"pending"}`, 404, "no template"},
		{"not JSON", admin, "alert_urgent", `lang=zh`, 400, "invalid"},
	}
	for _, tt := range tests {
		if status, body := put(tt.token, tt.key, tt.body); status != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %s; want %d with %q", tt.name, status, body, tt.status, tt.want)
		}
	}
	status, body := api(t, g, "GET", "/templates", editor, "", "")
	var list struct {
		Templates []struct {
			Key       string `json:"key"`
			Vars      []struct{ Name, Kind string }
			Approvals []struct {
				Lang, Carrier, Status string
				ProviderID            string `json:"provider_id"`
			}
		}
	}
	if status != 200 || json.Unmarshal([]byte(body), &list) != nil {
		t.Fatalf("GET /templates: %d %s", status, body)
	}
	found := false
	for _, tm := range list.Templates {
		if tm.Key == "alert_urgent" {
			found = len(tm.Vars) == 4 && len(tm.Approvals) == 1 && tm.Approvals[0].ProviderID == "1234567" && tm.Approvals[0].Status == "approved"
		}
	}
	if !found {
		t.Fatalf("alert_urgent in the list: %s", body)
	}
	if n := countRows(t, g, `SELECT count(*) FROM audit_log WHERE action = 'template.approval'`); n != 2 {
		t.Fatalf("%d approvals audited, want 2", n)
	}
}
