package gateway_test

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
)

const offerEN = "CON You have an unfinished report.\n1. Continue\n2. Start again"

// TestResumeAfterDrop: a session that drops mid-report leaves its answers
// for the phone; the next dial offers them back, and the resumed report is
// saved once, with every answer, under the first session's key.
func TestResumeAfterDrop(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, text := range []string{"", "1", "1*C0004"} {
		g.AT(t, "ATUid_drop1", enDirector, text)
	}
	// The network drops the session; the director dials again.
	if body := g.AT(t, "ATUid_drop2", enDirector, ""); body != offerEN {
		t.Fatalf("second dial = %q, want the resume offer", body)
	}
	if body := g.AT(t, "ATUid_drop2", enDirector, "1"); !strings.Contains(body, "How is 赵磊?") {
		t.Fatalf("continue = %q", body)
	}
	g.AT(t, "ATUid_drop2", enDirector, "1*3")
	end := g.AT(t, "ATUid_drop2", enDirector, "1*3*1")
	if !strings.HasPrefix(end, "END Visit saved. Ref V") {
		t.Fatalf("resumed confirm = %q", end)
	}
	r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(end))
	if err != nil || r.ChildCode != "C0004" || r.Situation != "concern" || r.SessionKey != "ussd:at:ATUid_drop1" {
		t.Fatalf("resumed report = %+v, %v", r, err)
	}
	// Done: the next dial starts afresh.
	if body := g.AT(t, "ATUid_drop3", enDirector, ""); !strings.Contains(body, "1. Record a home visit") {
		t.Fatalf("dial after the resumed report = %q", body)
	}
}

func TestResumeStartAgain(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, text := range []string{"", "2", "2*C0001"} {
		g.AT(t, "ATUid_again1", zhDirector, text)
	}
	if body := g.AT(t, "ATUid_again2", zhDirector, ""); body != "CON 您有未完成的报告。\n1. 继续填写\n2. 重新开始" {
		t.Fatalf("offer in Chinese = %q", body)
	}
	if body := g.AT(t, "ATUid_again2", zhDirector, "9"); !strings.HasPrefix(body, "CON 选项无效。\n您有未完成的报告。") {
		t.Fatalf("invalid answer to the offer = %q", body)
	}
	if body := g.AT(t, "ATUid_again2", zhDirector, "9*2"); !strings.Contains(body, "1. 记录家访") {
		t.Fatalf("start again = %q", body)
	}
	if body := g.AT(t, "ATUid_again3", zhDirector, ""); !strings.Contains(body, "1. 记录家访") {
		t.Fatalf("the abandoned report was offered again: %q", body)
	}
}

// TestShortcutSkipsResumeOffer: a dial that carries its inputs says what
// the caller wants; the unfinished walk stays for a later plain dial.
func TestShortcutSkipsResumeOffer(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, text := range []string{"", "1", "1*C0005"} {
		g.AT(t, "ATUid_sc1", enDirector, text)
	}
	if body := g.AT(t, "ATUid_sc2", enDirector, "2"); !strings.Contains(body, "Enter the child ID") {
		t.Fatalf("shortcut dial = %q", body)
	}
	if body := g.AT(t, "ATUid_sc3", enDirector, ""); body != offerEN {
		t.Fatalf("plain dial after the shortcut = %q, want the offer", body)
	}
}

// TestResumePinsVersion: publishing a new tree version while a walk is
// unfinished does not break it; the walk resumes on its own version and
// the report records it.
func TestResumePinsVersion(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, text := range []string{"", "1", "1*C0003"} {
		g.AT(t, "ATUid_pin1", enDirector, text)
	}
	v2 := publishRenamedTree(t, g)
	if body := g.AT(t, "ATUid_pin_new", zhDirector, ""); !strings.Contains(body, "儿童福利主任（新版）") {
		t.Fatalf("a new session does not get version %d: %q", v2, body)
	}
	g.AT(t, "ATUid_pin2", enDirector, "")
	g.AT(t, "ATUid_pin2", enDirector, "1")
	g.AT(t, "ATUid_pin2", enDirector, "1*1")
	end := g.AT(t, "ATUid_pin2", enDirector, "1*1*1")
	r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(end))
	if err != nil || r.Version != 1 || r.ChildCode != "C0003" {
		t.Fatalf("resumed report = %+v, %v (screen %q)", r, err, end)
	}
	if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, "ussd:at:ATUid_pin1"); n != 1 {
		t.Fatalf("%d rows", n)
	}
}

// publishRenamedTree publishes a second version of the director tree whose
// Chinese title differs, and loads it into the running gateway as the
// periodic refresh would.
func publishRenamedTree(t *testing.T, g *gatewaytest.Gateway) int {
	t.Helper()
	ctx := context.Background()
	src, err := fs.ReadFile(fixtures.Menus(), "director.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = []byte(strings.Replace(string(src), "zh: 儿童福利主任", "zh: 儿童福利主任（新版）", 1))
	st, err := g.DB.SaveTreeVersion(ctx, "director", menus.FormatYAML, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.DB.PublishTree(ctx, st.Name, st.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := g.DB.RefreshCatalog(ctx, g.Catalog, g.MenuOptions); err != nil {
		t.Fatal(err)
	}
	return st.Version
}

// TestLanguageRemembered: a director switches to Chinese from the main
// menu; the next dial, in a new session, is in Chinese too.
func TestLanguageRemembered(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	g.AT(t, "ATUid_lang1", enDirector, "")
	if body := g.AT(t, "ATUid_lang1", enDirector, "3"); !strings.Contains(body, "1. 中文\n2. English") {
		t.Fatalf("language screen = %q", body)
	}
	if body := g.AT(t, "ATUid_lang1", enDirector, "3*1"); !strings.Contains(body, "1. 记录家访") {
		t.Fatalf("after choosing Chinese = %q", body)
	}
	if body := g.AT(t, "ATUid_lang2", enDirector, ""); !strings.Contains(body, "1. 记录家访") {
		t.Fatalf("next dial = %q, want Chinese", body)
	}
	c, err := g.DB.CallerByPhone(context.Background(), enDirector)
	if err != nil || c.Language != menus.LangZH {
		t.Fatalf("registry language = %q, %v", c.Language, err)
	}
}

// TestVersionPinnedAcrossPublish: a session that started on version 1 of a
// tree finishes on it after version 2 is published; a new session gets 2.
func TestVersionPinnedAcrossPublish(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, text := range []string{"", "2", "2*C0001"} {
		g.AT(t, "ATUid_v1", zhDirector, text)
	}
	publishRenamedTree(t, g)
	if body := g.AT(t, "ATUid_v2", "+8613800138003", ""); !strings.Contains(body, "儿童福利主任（新版）") {
		t.Fatalf("new session = %q, want version 2", body)
	}
	for _, text := range []string{"2*C0001*4", "2*C0001*4*1"} {
		g.AT(t, "ATUid_v1", zhDirector, text)
	}
	// 00 goes home: on the session's own version, whose title is the old one.
	if body := g.AT(t, "ATUid_v1", zhDirector, "2*C0001*4*1*00"); !strings.HasPrefix(body, "CON 儿童福利主任\n") {
		t.Fatalf("home on the pinned version = %q", body)
	}
	end := g.AT(t, "ATUid_v1", zhDirector, "2*C0001*4*1*00*2*C0001*4*1*1")
	r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(end))
	if err != nil || r.Version != 1 || r.Category != "medical" {
		t.Fatalf("report = %+v, %v (screen %q)", r, err, end)
	}
}

// TestResumeNeedAcrossCarriers: a need report dropped by one carrier's
// network (Hubtel releases the session) is resumed on the next dial, even
// through another carrier, and saved once.
func TestResumeNeedAcrossCarriers(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	hubtel := func(typ, msg string, seq int) {
		t.Helper()
		body := fmt.Sprintf(`{"SessionId":"need-drop","Mobile":"8613800138001","ServiceCode":"*384*2015#","Type":%q,"Message":%q,"Sequence":%d}`, typ, msg, seq)
		if status, resp := g.PostRaw(t, "/ussd/hubtel", "application/json", body); status != 200 {
			t.Fatalf("hubtel: %d %s", status, resp)
		}
	}
	hubtel("Initiation", "*384*2015#", 1)
	hubtel("Response", "2", 2)
	hubtel("Response", "C0005", 3)
	hubtel("Response", "3", 4)
	hubtel("Release", "", 5)
	if body := g.AT(t, "ATUid_need_resume", zhDirector, ""); !strings.Contains(body, "您有未完成的报告") {
		t.Fatalf("offer = %q", body)
	}
	if body := g.AT(t, "ATUid_need_resume", zhDirector, "1"); !strings.Contains(body, "紧急程度") {
		t.Fatalf("resumed at = %q, want the urgency question", body)
	}
	g.AT(t, "ATUid_need_resume", zhDirector, "1*2")
	end := g.AT(t, "ATUid_need_resume", zhDirector, "1*2*1")
	r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(end))
	if err != nil || r.Category != "health" || r.Urgency != menus.UrgencyUrgent || r.ChildCode != "C0005" || r.SessionKey != "ussd:hubtel:need-drop" {
		t.Fatalf("resumed need = %+v, %v (screen %q)", r, err, end)
	}
}

// TestFixtureTreesFitEveryCarrier compiles every fixture tree against the
// screen budget of each carrier the gateway serves USSD for: a tree that
// fits the strictest fits them all, and this says so carrier by carrier.
func TestFixtureTreesFitEveryCarrier(t *testing.T) {
	files, _ := fs.Glob(fixtures.Menus(), "*.yaml")
	carriers, err := assemble.BuildCarriers(gateway.CarrierEnv{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range carriers {
		a := c.USSD
		if a == nil {
			continue
		}
		for _, f := range files {
			src, _ := fs.ReadFile(fixtures.Menus(), f)
			tree, err := menus.Parse(src, menus.FormatYAML)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := menus.Compile(tree, 1, menus.Options{Region: "CN", Budget: gateway.BudgetOf(a)}); err != nil {
				t.Errorf("%s on %s: %v", f, a.Route(), err)
			}
		}
	}
}

// TestProcessesShareSessions: two gateway processes, each remembering the
// sessions it wrote, take turns answering one session, as a carrier
// without sticky routing would make them. Each sees the other's writes
// through the compare-and-set, never a stale screen, and the report is
// saved once.
func TestProcessesShareSessions(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	other := *g.Conversations
	other.Cache = &conversation.Cache{}
	procs := []*conversation.Service{g.Conversations, &other}
	hop := func(i int, path string) conversation.Reply {
		return procs[i%2].Hop(context.Background(), conversation.Hop{
			Carrier: "at", Session: "ATUid_shared", Phone: enDirector,
			Service: "*384*2015#", Path: path, Budget: gateway.BudgetOf(africastalking.USSD{}),
		})
	}
	steps := []struct{ path, want string }{
		{"", "1. Record a home visit"},
		{"1", "Enter the child ID"},
		{"1*C0002", "How is 刘佳?"},
		{"1*C0002*3", "Some concern"},
		{"1*C0002*3*2", "1. Record a home visit"}, // cancel: back to the main menu
		{"1*C0002*3*2*1", "Enter the child ID"},
		{"1*C0002*3*2*1*C0001", "How is 王小明?"},
		{"1*C0002*3*2*1*C0001*1", "1. Confirm"},
		{"1*C0002*3*2*1*C0001*1*1", "Visit saved. Ref V"},
	}
	for i, st := range steps {
		// Process i%2 answers hop i; every hop is then repeated by the
		// other process, whose memory of the session is a hop behind.
		for _, p := range []int{i, i + 1} {
			if r := hop(p, st.path); !strings.Contains(r.Text, st.want) {
				t.Fatalf("hop %d (%q) on process %d: %q, want %q", i, st.path, p%2, r.Text, st.want)
			}
		}
	}
	if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, "ussd:at:ATUid_shared"); n != 1 {
		t.Fatalf("%d reports, want 1", n)
	}
}
