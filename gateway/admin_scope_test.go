package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// TestAreaScopedUsers: an officer who answers for one township (青山镇)
// reads that township's reports, dashboard, cases and follow-ups, and
// nothing of the other's (石门乡): lists leave them out, a report or case
// named directly is not found, and acting on it is refused as not found.
// The registry is the whole deployment's office's. An unscoped admin
// sees both townships.
func TestAreaScopedUsers(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	ctx := context.Background()
	admin := mustUser(t, g, "county1", access.RoleAdmin)
	officer := mustUser(t, g, "qingshan1", access.RoleEditor)
	if _, err := g.DB.SetUserArea(ctx, access.System, "qingshan1", "YL-QS"); err != nil {
		t.Fatal(err)
	}
	// Urgent protection concerns, one in each township: each opens a case.
	mine := refRE.FindString(kannelSMS(t, g, enDirector, "N C0001 6 2"))
	theirs := refRE.FindString(kannelSMS(t, g, shimenDirector, "N C0009 6 2"))
	if mine == "" || theirs == "" {
		t.Fatalf("needs %q %q", mine, theirs)
	}
	refs := func(token, path string) string {
		t.Helper()
		code, body := api(t, g, "GET", path, token, "", "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		return body
	}
	if body := refs(admin, "/reports/needs"); !strings.Contains(body, mine) || !strings.Contains(body, theirs) {
		t.Fatalf("the county office misses a need: %s", body)
	}
	body := refs(officer, "/reports/needs")
	if !strings.Contains(body, mine) || strings.Contains(body, theirs) || strings.Contains(body, "周洋") {
		t.Fatalf("the township officer's needs: %s", body)
	}
	var page struct{ Total int }
	if json.Unmarshal([]byte(body), &page); page.Total != 1 {
		t.Errorf("total %d, want 1", page.Total)
	}
	if csv := refs(officer, "/reports/needs.csv?lang=en"); strings.Contains(csv, theirs) || !strings.Contains(csv, mine) {
		t.Errorf("export: %s", csv)
	}
	if dash := refs(officer, "/reports/dashboard"); strings.Contains(dash, "石门村") || !strings.Contains(dash, "青山村") {
		t.Errorf("dashboard: %s", dash)
	}
	var cases struct {
		Items []struct {
			Code  string `json:"code"`
			Child string `json:"child"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(refs(admin, "/cases")), &cases); err != nil || len(cases.Items) != 2 {
		t.Fatalf("cases seen by the county office: %+v, %v", cases, err)
	}
	var theirCase, myCase string
	for _, c := range cases.Items {
		if c.Child == "C0009" {
			theirCase = c.Code
		} else {
			myCase = c.Code
		}
	}
	if body := refs(officer, "/cases"); strings.Contains(body, theirCase) || !strings.Contains(body, myCase) {
		t.Errorf("the township officer's cases: %s", body)
	}
	refused := []struct{ method, path, body string }{
		{"GET", "/reports/" + theirs, ""},
		{"POST", "/reports/needs/" + theirs + "/status", `{"status":"resolved","note":"x"}`},
		{"GET", "/cases/" + theirCase, ""},
		{"POST", "/cases/" + theirCase + "/acknowledge", `{"note":"x"}`},
	}
	for _, r := range refused {
		if code, body := api(t, g, r.method, r.path, officer, "application/json", r.body); code != http.StatusNotFound || strings.Contains(body, "周洋") {
			t.Errorf("%s %s: %d %s, want 404", r.method, r.path, code, body)
		}
	}
	// What the officer may do in the township, they do. The protection
	// concern's details are theirs to read once they hold its case.
	if code, body := api(t, g, "GET", "/reports/"+mine, officer, "", ""); code != http.StatusOK || !strings.Contains(body, `"restricted":true`) || !strings.Contains(body, `"answers":{}`) {
		t.Errorf("a need of the township, before its case is held: %d %s", code, body)
	}
	if code, body := api(t, g, "POST", "/cases/"+myCase+"/acknowledge", officer, "application/json", `{"note":"on my way"}`); code != http.StatusOK {
		t.Errorf("acknowledge a case of the township: %d %s", code, body)
	}
	if code, body := api(t, g, "GET", "/reports/"+mine, officer, "", ""); code != http.StatusOK || strings.Contains(body, "restricted") || !strings.Contains(body, `"child":"C0001"`) {
		t.Errorf("a need of the township, its case held: %d %s", code, body)
	}
	if code, body := api(t, g, "GET", "/registry/children", mustScopedAdmin(t, g), "", ""); code != http.StatusForbidden || !strings.Contains(body, "registry_scoped") {
		t.Errorf("a township admin reached the registry: %d %s", code, body)
	}
	if code, body := api(t, g, "GET", "/me", officer, "", ""); code != http.StatusOK || !strings.Contains(body, `"area":"青山镇"`) {
		t.Errorf("me: %d %s", code, body)
	}
}

func mustScopedAdmin(t *testing.T, g *gatewaytest.Gateway) string {
	t.Helper()
	token := mustUser(t, g, "qingshan-admin", access.RoleAdmin)
	if _, err := g.DB.SetUserArea(context.Background(), access.System, "qingshan-admin", "YL-QS"); err != nil {
		t.Fatal(err)
	}
	return token
}
