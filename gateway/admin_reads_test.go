package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// TestReadsAreLogged: every read of a child's record, a guardian, a report,
// a report list or an export is in the read log with who, when, what and
// from where; reads of no child data (directors) and failed reads are
// not; the log is for admins, exportable as CSV; and when the log cannot
// be written, the child's data is not served.
func TestReadsAreLogged(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	viewer := mustUser(t, g, "viewer1", access.RoleViewer)
	admin := mustUser(t, g, "admin1", access.RoleAdmin)
	ref := refRE.FindString(kannelSMS(t, g, enDirector, "V C0002 3"))
	if ref == "" {
		t.Fatal("no visit reference")
	}
	var children struct {
		Items []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"items"`
	}
	code, body := api(t, g, "GET", "/registry/children?q=C0001", admin, "", "")
	if code != http.StatusOK || json.Unmarshal([]byte(body), &children) != nil || len(children.Items) != 1 {
		t.Fatalf("children: %d %s", code, body)
	}
	child := children.Items[0]
	reads := []struct {
		path, token string
		want        int
	}{
		{"/registry/children/" + itoa(child.ID), admin, http.StatusOK},
		{"/registry/children/999999", admin, http.StatusNotFound}, // not a read of anyone: not logged
		{"/registry/directors", admin, http.StatusOK},             // not child data: not logged
		{"/reports/" + ref, viewer, http.StatusOK},
		{"/reports/needs.csv?urgency=urgent", viewer, http.StatusOK},
	}
	for _, r := range reads {
		if code, body := api(t, g, "GET", r.path, r.token, "", ""); code != r.want {
			t.Fatalf("GET %s: %d %s", r.path, code, body)
		}
	}
	today := time.Now().UTC().Format(time.DateOnly) // the test gateway counts days in UTC
	if code, _ := api(t, g, "GET", "/audit/reads?from="+today+"&to="+today, viewer, "", ""); code != http.StatusForbidden {
		t.Fatalf("a viewer read the read log: %d", code)
	}
	code, body = api(t, g, "GET", "/audit/reads?from="+today+"&to="+today, admin, "", "")
	var log struct {
		Entries []access.ReadRecord `json:"entries"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &log) != nil {
		t.Fatalf("read log: %d %s", code, body)
	}
	var got []string
	for _, e := range log.Entries {
		if e.Remote == "" || e.At[:10] != today {
			t.Errorf("entry %+v", e)
		}
		got = append(got, e.Actor+" "+e.ObjectType+" "+e.ObjectID+" "+e.Query)
	}
	want := []string{"admin1 child  q=C0001", "admin1 child " + itoa(child.ID) + " ", "viewer1 report " + ref + " ", "viewer1 need  urgency=urgent"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("read log:\n got %q\nwant %q", got, want)
	}
	code, body = api(t, g, "GET", "/audit/reads.csv?from="+today+"&to="+today+"&object_type=child&lang=en", admin, "", "")
	if code != http.StatusOK || !strings.HasPrefix(strings.TrimPrefix(body, "\ufeff"), "Time,User,Object,Id,Query,From") || strings.Count(body, "admin1") != 2 {
		t.Fatalf("read log CSV: %d %q", code, body)
	}
	if code, body := api(t, g, "GET", "/audit/reads?from="+today+"&to=2020-01-01", admin, "", ""); code != http.StatusUnprocessableEntity || !strings.Contains(body, "before from") {
		t.Fatalf("reversed range: %d %s", code, body)
	}

	// A log that cannot be written: the child is not served.
	if _, err := g.SQL(t).Exec(`ALTER TABLE read_log ADD CONSTRAINT read_log_broken CHECK (false) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	code, body = api(t, g, "GET", "/registry/children/"+itoa(child.ID), admin, "", "")
	if code != http.StatusServiceUnavailable || strings.Contains(body, child.Name) || strings.Contains(body, child.Code) {
		t.Fatalf("unlogged read served: %d %s", code, body)
	}
}
