package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
)

type casePage struct {
	Items []struct {
		Code    string `json:"code"`
		Status  string `json:"status"`
		Child   string `json:"child"`
		Area    string `json:"area"`
		Overdue bool   `json:"overdue"`
	} `json:"items"`
	Total int `json:"total"`
}

// TestAdminCases: cases are listed and read with their timeline by any
// role; a viewer cannot act; an editor acknowledges, refers and resolves,
// each audited; acting out of order is a conflict; the case's child is
// named by code only.
func TestAdminCases(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	code := openDemoCase(t, g)
	viewer := mustUser(t, g, "casereader", "viewer")
	editor := mustUser(t, g, "caseworker", "editor")

	status, body := api(t, g, "GET", "/cases?status=open&area=YL", viewer, "", "")
	var page casePage
	if status != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil || page.Total != 1 || page.Items[0].Code != code ||
		page.Items[0].Child != "C0001" || page.Items[0].Area != "YL-QS" {
		t.Fatalf("list: %d %s", status, body)
	}
	if strings.Contains(body, "王小明") {
		t.Fatalf("the list names the child: %s", body)
	}
	for _, q := range []string{"area=YL-SM", "status=resolved", "overdue=true"} {
		if status, body := api(t, g, "GET", "/cases?"+q, viewer, "", ""); status != http.StatusOK || !strings.Contains(body, `"total":0`) {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}
	if status, _ := api(t, g, "GET", "/cases?status=closed", viewer, "", ""); status != http.StatusBadRequest {
		t.Errorf("a bad status filter: %d", status)
	}
	tests := []struct {
		name, token, action string
		want                int
	}{
		{"a viewer acknowledges", viewer, "acknowledge", http.StatusForbidden},
		{"an editor acknowledges", editor, "acknowledge", http.StatusOK},
		{"again", editor, "acknowledge", http.StatusConflict},
		{"an editor refers", editor, "refer", http.StatusOK},
		{"an editor resolves", editor, "resolve", http.StatusOK},
		{"no such act", editor, "close", http.StatusNotFound},
	}
	for _, tt := range tests {
		status, body := api(t, g, "POST", "/cases/"+code+"/"+tt.action, tt.token, "application/json", `{"note": "called the family"}`)
		if status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, status, body, tt.want)
		}
	}
	if status, _ := api(t, g, "POST", "/cases/000000x/acknowledge", editor, "application/json", `{}`); status != http.StatusNotFound {
		t.Errorf("a bad code: %d", status)
	}
	status, body = api(t, g, "GET", "/cases/"+code, viewer, "", "")
	var one struct {
		Status         string `json:"status"`
		AcknowledgedBy string `json:"acknowledged_by"`
		ResolvedBy     string `json:"resolved_by"`
		Events         []struct {
			Kind, Actor, Channel string
		} `json:"events"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &one) != nil || one.Status != "resolved" || one.AcknowledgedBy != "caseworker" || one.ResolvedBy != "caseworker" {
		t.Fatalf("get: %d %s", status, body)
	}
	var kinds []string
	for _, e := range one.Events {
		kinds = append(kinds, e.Kind+"/"+e.Channel)
	}
	if got := strings.Join(kinds, " "); got != "opened/system notified/system acknowledged/console referred/console resolved/console" {
		t.Fatalf("timeline: %s", got)
	}
	if n := countRows(t, g, `SELECT count(*) FROM audit_log WHERE object_type = 'case' AND object_id = $1 AND actor = 'caseworker'`, code); n != 3 {
		t.Fatalf("%d audit entries", n)
	}
}
