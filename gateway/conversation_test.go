package gateway_test

// Regression tests of the conversation layer: every way a director's
// report was lost or refused, reproduced as a director would hit it.

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/prometheus/client_golang/prometheus"
)

// smsScript texts each message from one phone and checks each reply
// contains its want; it returns the replies.
func smsScript(t *testing.T, g *gatewaytest.Gateway, from string, steps [][2]string) []string {
	t.Helper()
	var replies []string
	for _, st := range steps {
		got := kannelSMS(t, g, from, st[0])
		if !strings.Contains(got, st[1]) {
			t.Fatalf("%q: reply %q, want it to contain %q", st[0], got, st[1])
		}
		replies = append(replies, got)
	}
	return replies
}

// countRows counts rows of a query's single count(*) result.
func countRows(t *testing.T, g *gatewaytest.Gateway, q string, args ...any) int {
	t.Helper()
	var n int
	if err := g.SQL(t).GetContext(context.Background(), &n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSMSMenuReportsEachSaved: a phone's second and third SMS menu
// conversations save reports of their own, on another child and on the
// same child, instead of failing or returning the first reference.
func TestSMSMenuReportsEachSaved(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	refs := map[string]bool{}
	for _, child := range []string{"C0001", "C0002", "C0001"} {
		r := smsScript(t, g, enDirector, [][2]string{
			{"MENU", "1. Record a home visit"},
			{"1", "Enter the child ID"},
			{child, "How is"},
			{"1", "1. Confirm"},
			{"1", "Visit saved. Ref V"},
		})
		refs[refRE.FindString(r[4])] = true
	}
	if len(refs) != 3 {
		t.Fatalf("three conversations gave references %v", refs)
	}
	if n := countRows(t, g, `SELECT count(*) FROM visits WHERE channel = 'sms'`); n != 3 {
		t.Fatalf("%d visit rows, want 3", n)
	}
}

// TestSMSMenuRestartForgetsTheWalk: MENU in the middle of a conversation
// starts afresh in this process as in Redis.
func TestSMSMenuRestartForgetsTheWalk(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	smsScript(t, g, enDirector, [][2]string{
		{"MENU", "1. Record a home visit"},
		{"1", "Enter the child ID"},
		{"C0001", "How is 王小明?"},
		{"MENU", "1. Record a home visit"},
		{"2", "Enter the child ID"},
		{"C0002", "What does 刘佳 need?"},
	})
}

// TestReportsNeverDroppedByTheReplyLimit: a director past the reply limit
// still has every report saved; only replies are held back, and the logs
// and metrics say so.
func TestReportsNeverDroppedByTheReplyLimit(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	g := gatewaytest.MustGateway(t, gatewaytest.Options{ReplyLimit: 2, Log: &logs})
	for i := range 4 {
		kannelSMS(t, g, enDirector, fmt.Sprintf("V C000%d 1", i+1))
	}
	kannelSMS(t, g, enDirector, "N C0001 6 2")
	if n := countRows(t, g, `SELECT count(*) FROM visits WHERE channel = 'sms'`); n != 4 {
		t.Fatalf("%d visits saved, want 4", n)
	}
	if n := countRows(t, g, `SELECT count(*) FROM needs WHERE channel = 'sms'`); n != 1 {
		t.Fatalf("%d needs saved, want 1", n)
	}
	if n := countRows(t, g, `SELECT count(*) FROM messages WHERE direction = 'in' AND status = 'received'`); n != 0 {
		t.Fatalf("%d inbound messages left unprocessed", n)
	}
	if !strings.Contains(logs.String(), "reply suppressed") {
		t.Fatalf("no log line says a reply was suppressed:\n%s", logs.String())
	}
	if got := counter(t, g.Metrics, "barefoot_sms_replies_suppressed_total", nil); got < 1 {
		t.Fatalf("suppressed replies counted %v", got)
	}
}

// TestStrangersAreLimitedStrictly: an unregistered number gets few
// replies, a registered guardian many.
func TestStrangersAreLimitedStrictly(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	answered := 0
	for range 10 {
		if kannelSMS(t, g, "+8613999999999", "HELP") != "" {
			answered++
		}
	}
	if answered == 0 || answered > 3 {
		t.Fatalf("a stranger got %d replies to 10 messages", answered)
	}
	for i := range 10 {
		if kannelSMS(t, g, zhGuardian, "状态") == "" {
			t.Fatalf("guardian's message %d not answered", i+1)
		}
	}
}

// TestFormsAndKeywordsDuringAConversation: a complete one-line form is a
// report whatever conversation is open, and the global keywords always
// work.
func TestFormsAndKeywordsDuringAConversation(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	smsScript(t, g, enDirector, [][2]string{
		{"MENU", "1. Record a home visit"},
		{"V C0001 1", "Visit saved. Ref V"},
		{"N C0001 6 2", "Need reported. Ref N"},
		{"00", "1. Record a home visit"},
		{"1", "Enter the child ID"},
		{"HELP", "MENU"},
		{"C0001", "How is 王小明?"},
		{"STOP", "ended"},
		{"1", "MENU"}, // no conversation: the help text
	})
	smsScript(t, g, zhDirector, [][2]string{
		{"菜单", "1. 记录家访"},
		{"1", "请输入儿童编号"},
		{"退出", "结束"},
		{"C0001", "菜单"},
	})
	if n := countRows(t, g, `SELECT count(*) FROM visits`) + countRows(t, g, `SELECT count(*) FROM needs`); n != 2 {
		t.Fatalf("%d reports, want 2", n)
	}
}

// TestCancelledWalkIsNotUnfinished: a walk cancelled at its confirm is
// not offered back on the next dial.
func TestCancelledWalkIsNotUnfinished(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	walk(t, g, "ATUid_cancel1", enDirector, []hop{
		{"", false, nil}, {"1", false, nil}, {"1*C0001", false, nil},
		{"1*C0001*1", false, []string{"1. Confirm"}},
		{"1*C0001*1*2", false, []string{"1. Record a home visit"}},
	})
	if body := g.AT(t, "ATUid_cancel2", enDirector, ""); !strings.Contains(body, "1. Record a home visit") {
		t.Fatalf("dial after a cancel = %q", body)
	}
	// By SMS too.
	smsScript(t, g, zhDirector, [][2]string{
		{"菜单", "1. 记录家访"}, {"1", "儿童编号"}, {"C0001", "情况"}, {"1", "1. 确认"}, {"2", "1. 记录家访"},
	})
	if body := g.AT(t, "ATUid_cancel3", zhDirector, ""); !strings.Contains(body, "1. 记录家访") {
		t.Fatalf("dial after an SMS cancel = %q", body)
	}
}

// TestSavedWalkIsNotOfferedBack: a report saved on a hop whose session
// write failed is not offered as unfinished on the next dial.
func TestSavedWalkIsNotOfferedBack(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	session := "ATUid_savedwrite"
	for _, text := range []string{"", "1", "1*C0003", "1*C0003*2"} {
		g.AT(t, session, enDirector, text)
	}
	// Break the session's key so that the confirming hop's write fails
	// after the report is saved.
	ctx := context.Background()
	keys, err := g.Redis.Keys(ctx, "*s:ussd:at:"+session).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("session keys %v, %v", keys, err)
	}
	g.Redis.Del(ctx, keys[0])
	g.Redis.Set(ctx, keys[0], "not a hash", 0)
	if end := g.AT(t, session, enDirector, "1*C0003*2*1"); !strings.HasPrefix(end, "END Visit saved. Ref V") {
		t.Fatalf("confirm = %q", end)
	}
	if body := g.AT(t, "ATUid_savedwrite2", enDirector, ""); !strings.Contains(body, "1. Record a home visit") {
		t.Fatalf("dial after a saved report = %q", body)
	}
}

// TestGluedKeywords: Chinese directors do not type a space between the
// keyword and the child code.
func TestGluedKeywords(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	tests := []struct{ from, text, want string }{
		{zhDirector, "走访C0001 1", "家访已保存，编号V"},
		{zhDirector, "需求C0005 3 1", "需求已上报，编号N"},
		{enDirector, "VC0001 1", "Visit saved. Ref V"},
		{enDirector, "visitc0002 2", "Visit saved. Ref V"},
		{enDirector, "NEEDC0003 1 1", "Need reported. Ref N"},
		{enDirector, "nc0004 2 2", "Need reported. Ref N"},
	}
	for _, tt := range tests {
		if got := kannelSMS(t, g, tt.from, tt.text); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.text, got, tt.want)
		}
	}
	if n := countRows(t, g, `SELECT count(*) FROM visits`) + countRows(t, g, `SELECT count(*) FROM needs`); n != len(tests) {
		t.Fatalf("%d reports saved, want %d", n, len(tests))
	}
}

// TestPermanentSaveFailuresSayWhy: a child taken away mid-walk, or a path
// that contradicts a report already saved, is told as it is; the caller is
// not asked to retry forever.
func TestPermanentSaveFailuresSayWhy(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Log: &logs})
	ctx := context.Background()
	sql := g.SQL(t)

	for _, text := range []string{"", "1", "1*C0004", "1*C0004*1"} {
		g.AT(t, "ATUid_gone", enDirector, text)
	}
	if _, err := sql.ExecContext(ctx, `UPDATE children SET active = false WHERE code = 'C0004'`); err != nil {
		t.Fatal(err)
	}
	body := g.AT(t, "ATUid_gone", enDirector, "1*C0004*1*1")
	if !strings.HasPrefix(body, "END ") || !strings.Contains(body, "no longer") || strings.Contains(body, "try again") {
		t.Fatalf("confirm on a deactivated child = %q", body)
	}

	for _, text := range []string{"", "2", "2*C0005", "2*C0005*1", "2*C0005*1*1"} {
		g.AT(t, "ATUid_moved", enDirector, text)
	}
	if _, err := sql.ExecContext(ctx, `DELETE FROM child_directors WHERE child_id = (SELECT id FROM children WHERE code = 'C0005') AND director_id = (SELECT id FROM directors WHERE phone = $1)`, enDirector); err != nil {
		t.Fatal(err)
	}
	body = g.AT(t, "ATUid_moved", enDirector, "2*C0005*1*1*1")
	if !strings.HasPrefix(body, "END ") || !strings.Contains(body, "no longer") {
		t.Fatalf("confirm on a reassigned child = %q", body)
	}
	if strings.Contains(logs.String(), "C0004") || strings.Contains(logs.String(), "C0005") {
		t.Fatalf("a child code reached the logs:\n%s", logs.String())
	}

	first := walk(t, g, "ATUid_twice", enDirector, []hop{
		{"", false, nil}, {"1", false, nil}, {"1*C0001", false, nil}, {"1*C0001*1", false, nil},
		{"1*C0001*1*1", true, []string{"Visit saved. Ref V"}},
	})
	ref := refRE.FindString(first)
	again := g.AT(t, "ATUid_twice", enDirector, "1*C0002*1*1")
	if !strings.HasPrefix(again, "END ") || !strings.Contains(again, ref) || strings.Contains(again, "try again") {
		t.Fatalf("a contradicting path = %q, want the saved reference %s", again, ref)
	}
	if n := countRows(t, g, `SELECT count(*) FROM visits WHERE session_key = 'ussd:at:ATUid_twice'`); n != 1 {
		t.Fatalf("%d rows for the session", n)
	}
}

// TestSMSMenuReportCarrier: a report filed through the SMS menu is stored
// with the carrier the messages came through.
func TestSMSMenuReportCarrier(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	r := smsScript(t, g, enDirector, [][2]string{
		{"MENU", "1."}, {"2", "child ID"}, {"C0002", "need"}, {"1", "urgent"}, {"1", "Confirm"}, {"1", "Need reported"},
	})
	got, err := g.DB.ReportByRef(context.Background(), refRE.FindString(r[5]))
	if err != nil || got.Carrier != "kannel" || got.Channel != menus.ChannelSMS {
		t.Fatalf("report %+v, %v", got, err)
	}
}

// TestLongChildNamesKeepEveryOption: a name as long as the registry
// allows is shortened on screen; every option stays visible.
func TestLongChildNamesKeepEveryOption(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, name := range []string{strings.Repeat("王", menus.MaxNameLength), strings.Repeat("Wang ", menus.MaxNameLength/5)} {
		g.ExecRegistry(t, `UPDATE children SET name = $1 WHERE code = 'C0001'`, name)
		session := fmt.Sprintf("ATUid_long%d", len(name))
		walk(t, g, session, enDirector, []hop{
			{"", false, nil}, {"1", false, nil},
			{"1*C0001", false, []string{"1. Well", "2. Needs support", "3. Some concern", "4. Urgent concern"}},
			{"1*C0001*4", false, []string{"1. Confirm", "2. Cancel", "Urgent concern"}},
			{"1*C0001*4*2", false, []string{"1. Record a home visit"}},
		})
		walk(t, g, session+"n", zhDirector, []hop{
			{"", false, nil}, {"2", false, nil},
			{"2*C0001", false, []string{"1. 出生或户口登记", "7. 其他"}},
			{"2*C0001*6", false, []string{"1. 一般", "2. 紧急"}},
			{"2*C0001*6*2", false, []string{"1. 确认", "2. 取消", "保护问题"}},
			{"2*C0001*6*2*2", false, []string{"1. 记录家访"}},
		})
	}
}

// TestLifecycleLogsAndReportMetrics: lifecycle log lines name their
// phases, and a report is counted saved once, whichever channel, however
// often its confirm is replayed.
func TestLifecycleLogsAndReportMetrics(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Log: &logs})
	session := "ATUid_metrics"
	walk(t, g, session, enDirector, []hop{
		{"", false, nil}, {"1", false, nil}, {"1*C0001", false, nil}, {"1*C0001*1", false, nil},
		{"1*C0001*1*1", true, []string{"Visit saved"}},
	})
	// The carrier repeats the confirm to another gateway process, one
	// whose Redis has lost the session: the replay answers with the same
	// reference and is not a new report.
	other := gatewaytest.MustGateway(t, gatewaytest.Options{DB: g.DB})
	if again := other.AT(t, session, enDirector, "1*C0001*1*1"); !strings.Contains(again, "Visit saved") {
		t.Fatalf("replayed confirm = %q", again)
	}
	if got := counter(t, other.Metrics, "barefoot_reports_total", map[string]string{"outcome": "replayed"}); got != 1 {
		t.Errorf("the replay counted %v times as replayed, want 1", got)
	}
	if got := counter(t, other.Metrics, "barefoot_reports_total", map[string]string{"outcome": "saved"}); got != 0 {
		t.Errorf("the replay counted %v times as saved, want 0", got)
	}
	kannelSMS(t, g, enDirector, "V C0002 1")

	if got := counter(t, g.Metrics, "barefoot_reports_total", map[string]string{"channel": "ussd", "outcome": "saved"}); got != 1 {
		t.Errorf("ussd reports counted saved %v times, want 1", got)
	}
	if got := counter(t, g.Metrics, "barefoot_reports_total", map[string]string{"channel": "sms", "outcome": "saved"}); got != 1 {
		t.Errorf("sms reports counted saved %v times, want 1", got)
	}
	out := logs.String()
	if strings.Contains(out, `"from":""`) || strings.Contains(out, `"to":""`) {
		t.Fatalf("blank lifecycle attributes in the logs:\n%s", out)
	}
	if !strings.Contains(out, `"saved"`) {
		t.Fatalf("no lifecycle line names the saved phase:\n%s", out)
	}
}

// counter sums a counter's series whose labels include want.
func counter(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestOnePhoneManyReports: three SMS-menu reports and two one-line forms
// from one phone in ten minutes, interleaved, are five rows with five
// references.
func TestOnePhoneManyReports(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	menuVisit := func(child string) [][2]string {
		return [][2]string{{"MENU", "1."}, {"1", "child ID"}, {child, "How is"}, {"2", "Confirm"}, {"1", "Visit saved"}}
	}
	var script [][2]string
	script = append(script, menuVisit("C0001")...)
	script = append(script, [2]string{"V C0001 3", "Visit saved"})
	script = append(script, menuVisit("C0001")[:3]...)
	script = append(script, [2]string{"N C0002 1 1", "Need reported"})
	script = append(script, [][2]string{{"2", "Confirm"}, {"1", "Visit saved"}}...)
	script = append(script, menuVisit("C0003")...)
	refs := map[string]bool{}
	for _, r := range smsScript(t, g, enDirector, script) {
		if ref := refRE.FindString(r); ref != "" {
			refs[ref] = true
		}
	}
	rows := countRows(t, g, `SELECT count(*) FROM visits`) + countRows(t, g, `SELECT count(*) FROM needs`)
	if len(refs) != 5 || rows != 5 {
		t.Fatalf("%d references %v and %d rows, want 5 and 5", len(refs), refs, rows)
	}
}

// TestReadmeDemo texts the README's SMS demo in order, as written, with
// the binary's default limits, then walks the menu by SMS as its
// interactive line invites: nothing is refused, held back or lost.
func TestReadmeDemo(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{ReplyLimit: assemble.DefaultReplyLimit})
	line := regexp.MustCompile(`(?m)^\./bin/barefoot simulate --sms --phone (\S+) +(\S[^#\n]*?)\s*#`)
	sent := 0
	for _, m := range line.FindAllStringSubmatch(string(readme), -1) {
		from, text := m[1], m[2]
		if got := kannelSMS(t, g, from, text); got == "" || strings.Contains(got, "Could not save") {
			t.Fatalf("README's %q from %s answered %q", text, from, got)
		}
		sent++
	}
	if sent < 3 {
		t.Fatalf("found %d SMS lines in the README", sent)
	}
	for range 3 {
		smsScript(t, g, enDirector, [][2]string{
			{"HELP", "MENU"}, {"MENU", "1."}, {"1", "child ID"}, {"C0001", "How is"}, {"1", "Confirm"}, {"1", "Visit saved"},
			{"V C0002 1", "Visit saved"}, {"N C0003 2 1", "Need reported"}, {"STATUS", ""},
		})
	}
	if got := counter(t, g.Metrics, "barefoot_sms_replies_suppressed_total", nil); got != 0 {
		t.Fatalf("%v replies held back during the demo", got)
	}
}

// TestCallerCacheFollowsTheRegistry: callers are looked up once and kept,
// yet a change to the registry is seen on the very next dial, whether made
// through this gateway's API or behind its back.
func TestCallerCacheFollowsTheRegistry(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	admin := mustUser(t, g, "registrar", access.RoleAdmin)
	if got := g.AT(t, "ATUid_cache1", enDirector, ""); !strings.Contains(got, "1. Record a home visit") {
		t.Fatalf("first dial = %q", got)
	}
	var id int64
	if err := g.SQL(t).Get(&id, `SELECT id FROM directors WHERE phone = $1`, enDirector); err != nil {
		t.Fatal(err)
	}
	if status, body := api(t, g, "POST", fmt.Sprintf("/registry/directors/%d/deactivate", id), admin, "", ""); status != 200 {
		t.Fatalf("deactivate: %d %s", status, body)
	}
	if got := g.AT(t, "ATUid_cache2", enDirector, ""); !strings.Contains(got, "not registered") {
		t.Fatalf("dial after deactivation = %q", got)
	}
	g.ExecRegistry(t, `UPDATE directors SET active = true WHERE phone = $1`, enDirector)
	if got := g.AT(t, "ATUid_cache3", enDirector, ""); !strings.Contains(got, "1. Record a home visit") {
		t.Fatalf("dial after reactivation behind the gateway's back = %q", got)
	}
}
