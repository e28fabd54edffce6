package gateway_test

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// schoolTree is the worked example of menus/FORMAT.md, as an officer
// would copy it.
func schoolTree(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../menus/FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- school-tree -->\n```yaml\n")
	src, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("FORMAT.md has no school tree")
	}
	return src
}

// publish saves and publishes a tree through the admin API and returns
// the publish's status and body.
func publish(t *testing.T, g *gatewaytest.Gateway, token, name, src string) (int, string) {
	t.Helper()
	status, body := api(t, g, "POST", "/menus/"+name+"/versions", token, "application/yaml", src)
	if status != 201 {
		t.Fatalf("save %s: %d %s", name, status, body)
	}
	version := strings.TrimSuffix(strings.SplitN(strings.SplitN(body, `"version":`, 2)[1], ",", 2)[0], "}")
	return api(t, g, "POST", "/menus/"+name+"/versions/"+version+"/publish", token, "", "")
}

// TestServiceCodesOwnedOnce: a tree cannot take a live tree's service
// code or SMS keyword; a code a tree gives up stops answering at once.
func TestServiceCodesOwnedOnce(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	editor := mustUser(t, g, "officer", access.RoleEditor)
	director, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")

	copyTree := strings.Replace(string(director), "name: director", "name: director-copy", 1)
	copyTree = strings.Replace(copyTree, "sms_keywords: [MENU, 菜单]", "sms_keywords: [MENU2]", 1)
	copyTree = strings.Replace(copyTree, "keywords: [V, VISIT, 走访]", "keywords: [V2]", 1)
	copyTree = strings.Replace(copyTree, "keywords: [N, NEED, 需求]", "keywords: [N2]", 1)
	status, body := publish(t, g, editor, "director-copy", copyTree)
	if status != 409 || !strings.Contains(body, `*384*2015#`) || !strings.Contains(body, `\"director\"`) {
		t.Fatalf("publishing a second claim on *384*2015#: %d %s", status, body)
	}
	if got := g.AT(t, "ATUid_owned", enDirector, ""); !strings.Contains(got, "Child welfare reports") {
		t.Fatalf("directors lost their menu: %q", got)
	}

	keyword := strings.Replace(copyTree, `service_codes: ["*384*2015#"]`, `service_codes: ["*384*2099#"]`, 1)
	keyword = strings.Replace(keyword, "keywords: [V2]", "keywords: [V]", 1)
	if status, body := publish(t, g, editor, "director-copy", keyword); status != 409 || !strings.Contains(body, "SMS keyword V") {
		t.Fatalf("publishing a second claim on the keyword V: %d %s", status, body)
	}

	school := schoolTree(t)
	if status, body := publish(t, g, editor, "school", school); status != 200 {
		t.Fatalf("publish school: %d %s", status, body)
	}
	status, body = g.Post(t, "/ussd/africastalking", gatewaytest.ATForm("ATUid_school1", enDirector, "*384*2017#", ""))
	if status != 200 || !strings.Contains(body, "Enter the child ID") {
		t.Fatalf("*384*2017# after publishing: %d %q", status, body)
	}
	noCode := strings.Replace(school, `service_codes: ["*384*2017#"]`, `service_codes: []`, 1)
	if status, body := publish(t, g, editor, "school", noCode); status != 200 {
		t.Fatalf("publish school without its code: %d %s", status, body)
	}
	status, body = g.Post(t, "/ussd/africastalking", gatewaytest.ATForm("ATUid_school2", enDirector, "*384*2017#", ""))
	if status != 200 || !strings.Contains(body, "not in use") {
		t.Fatalf("*384*2017# after the tree gave it up: %d %q", status, body)
	}
}

// TestSecondTreeByUSSDAndSMS walks FORMAT.md's school tree by USSD and by
// SMS: its forms save reports with their preset answers, its replies name
// fields in the director's words, and its format line shows branch fields.
func TestSecondTreeByUSSDAndSMS(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	editor := mustUser(t, g, "officer", access.RoleEditor)
	if status, body := publish(t, g, editor, "school", schoolTree(t)); status != 200 {
		t.Fatalf("publish school: %d %s", status, body)
	}
	dial := func(session, text string) string {
		t.Helper()
		_, body := g.Post(t, "/ussd/africastalking", gatewaytest.ATForm(session, enDirector, "*384*2017#", text))
		return body
	}
	steps := []struct{ text, want string }{
		{"", "Enter the child ID"},
		{"C0003", "Is 陈晨 in school?"},
		{"C0003*2", "Why not?"},
		{"C0003*2*1", "School need: 陈晨 (C0003), Cannot pay fees"},
		{"C0003*2*1*1", "Reason: Cannot pay fees."},
	}
	for _, st := range steps {
		if got := dial("ATUid_schoolwalk", st.text); !strings.Contains(got, st.want) {
			t.Fatalf("%q: %q, want %q", st.text, got, st.want)
		}
	}
	if got := dial("ATUid_schoolok", "C0004*1*1"); !strings.Contains(got, "Saved, ref V") || strings.Contains(got, "Reason") {
		t.Fatalf("in school: %q", got)
	}

	ctx := context.Background()
	tests := []struct{ from, text, want string }{
		{enDirector, "S C0001 2 1", "Saved, ref N"},
		{zhDirector, "入学C0002 1", "已保存，编号V"},
		{enDirector, "S C0001 2", "Field 3 (reason): missing\nFormat: S <child ID> <in school 1-2> [<reason 1-4>]"},
		{zhDirector, "入学 C0001 7", "第2项（是否在校）：选项无效。"},
	}
	for _, tt := range tests {
		got := kannelSMS(t, g, tt.from, tt.text)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.text, got, tt.want)
			continue
		}
		ref := refRE.FindString(got)
		if ref == "" {
			continue
		}
		r, err := g.DB.ReportByRef(ctx, ref)
		if err != nil || r.Tree != "school" {
			t.Fatalf("%q: report %+v, %v", tt.text, r, err)
		}
		if r.Kind == menus.ReportNeed && (r.Category != "school" || r.Urgency != menus.UrgencyRoutine || r.Answers["reason"] != "fees") {
			t.Errorf("need saved as %+v", r.Report)
		}
		if r.Kind == menus.ReportVisit && r.Situation != "well" {
			t.Errorf("visit saved as %+v", r.Report)
		}
	}
}

// TestSeedKeepsEditedTrees: a tree an officer edited and published is not
// replaced by the next `barefoot seed`.
func TestSeedKeepsEditedTrees(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	editor := mustUser(t, g, "officer", access.RoleEditor)
	director, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")
	edited := strings.Replace(string(director), "en: Record a home visit", "en: Log a home visit", 1)
	if status, body := publish(t, g, editor, "director", edited); status != 200 {
		t.Fatalf("publish: %d %s", status, body)
	}
	var out strings.Builder
	if err := demo.Seed(context.Background(), g.DB, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "menu tree director: live version 2 was saved by officer; left as it is") {
		t.Fatalf("seed said:\n%s", out.String())
	}
	live, err := g.DB.PublishedTrees(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range live {
		if tr.Name == "director" && (tr.Version != 2 || !strings.Contains(string(tr.Source), "Log a home visit")) {
			t.Fatalf("the seed replaced the edited tree: version %d", tr.Version)
		}
	}
}
