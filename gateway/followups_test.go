package gateway_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/phone"
)

var needRefRE = regexp.MustCompile(`N[2-9A-HJKMNP-Z]{6}`)

// clock is a simulated clock for the conversations and the jobs.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// reminders lists the reminders queued, as phone and body.
func reminders(t *testing.T, g *gatewaytest.Gateway) []string {
	t.Helper()
	var out []string
	if err := g.SQL(t).Select(&out, `SELECT phone || ' ' || body FROM messages WHERE kind = 'reminder' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFollowUpByUSSD: a need filed by USSD is followed up a week later
// (medical aid, in the demo tree): not before, then by SMS to the child's
// directors, and under My follow-ups, from where the director resolves it;
// it is then gone from the list and its history says so.
func TestFollowUpByUSSD(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	clk := &clock{t: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	g.Conversations.Now = clk.Now
	screen := walk(t, g, "ATUid_fu_need", enDirector, []hop{
		{text: ""},
		{text: "2*C0001*4*1"},
		{text: "2*C0001*4*1*1", end: true, want: []string{"Need reported. Ref N"}},
	})
	ref := needRefRE.FindString(screen)
	due := time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{due.Add(-time.Second), due} {
		if _, err := g.DB.RunDueJobs(t.Context(), at, 100); err != nil {
			t.Fatal(err)
		}
		if got := reminders(t, g); at.Before(due) && len(got) != 0 {
			t.Fatalf("reminded before due: %q", got)
		}
	}
	got := reminders(t, g)
	if len(got) != 2 || !strings.Contains(strings.Join(got, "\n"), enDirector+" Follow-up: child C0001, medical aid, ref "+ref) {
		t.Fatalf("reminders %q", got)
	}

	clk.Set(due.Add(time.Hour))
	walk(t, g, "ATUid_fu_list", enDirector, []hop{
		{text: ""},
		{text: "4", want: []string{"My follow-ups", "1. C0001 medical aid " + ref}},
		{text: "4*1", want: []string{"Need " + ref + " is now:", "2. Resolved"}},
		{text: "4*1*2", want: []string{"Mark need " + ref + ": Resolved"}},
		{text: "4*1*2*1", end: true, want: []string{"Need " + ref + ": Resolved. Thank you."}},
	})
	walk(t, g, "ATUid_fu_after", enDirector, []hop{
		{text: ""},
		{text: "4", end: true, want: []string{"No follow-ups are due."}},
	})
	var status, channel, actor string
	if err := g.SQL(t).QueryRow(`SELECT n.status, h.channel, h.actor FROM needs n JOIN need_status_history h ON h.need_id = n.id WHERE n.ref = $1`, ref).Scan(&status, &channel, &actor); err != nil {
		t.Fatal(err)
	}
	if status != "resolved" || channel != "ussd" || actor != "director Zhang Wei" {
		t.Fatalf("need %s, changed on %s by %s", status, channel, actor)
	}
}

// TestNeedStatusBySMS: DONE and REFER (办结, 转介) from the child's
// director, however typed; the same words from a director of other
// children get the answer an unknown reference gets, and change nothing.
func TestNeedStatusBySMS(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	one := needRefRE.FindString(kannelSMS(t, g, zhDirector, "N C0001 4 1"))
	two := needRefRE.FindString(kannelSMS(t, g, zhDirector, "N C0002 1 1"))
	if one == "" || two == "" {
		t.Fatal("needs not filed")
	}
	refusedOther := kannelSMS(t, g, shimenDirector, "办结 "+one)
	refusedUnknown := kannelSMS(t, g, shimenDirector, "办结 N2222222")
	if !strings.Contains(refusedOther, one+"不是您负责儿童的未办结需求") ||
		strings.Replace(refusedOther, one, "X", 1) != strings.Replace(refusedUnknown, "N2222222", "X", 1) {
		t.Fatalf("another director's child: %q; unknown: %q", refusedOther, refusedUnknown)
	}
	tests := []struct {
		from, text, ref, want, status string
	}{
		{zhDirector, "转介" + strings.ToLower(one), one, "需求" + one + "：已转介", "referred"},
		{enDirector, "done " + wide(one), one, "Need " + one + ": Resolved", "resolved"},
		{zhDirector, "ＲＥＦＥＲ  " + two, two, "需求" + two + "：已转介", "referred"},
	}
	for _, tt := range tests {
		if got := kannelSMS(t, g, tt.from, tt.text); !strings.Contains(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.text, got, tt.want)
		}
		var status string
		if err := g.SQL(t).Get(&status, `SELECT status FROM needs WHERE ref = $1`, tt.ref); err != nil || status != tt.status {
			t.Errorf("%q: need %s, want %s (%v)", tt.text, status, tt.status, err)
		}
	}
	var n int
	if err := g.SQL(t).Get(&n, `SELECT count(*) FROM need_status_history WHERE channel = 'sms' AND director_id IS NOT NULL`); err != nil || n != 3 {
		t.Fatalf("%d changes from the field in the history, want 3 (%v)", n, err)
	}
}

// wide writes ASCII letters and digits full-width, as Chinese input
// methods send them.
func wide(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f {
			r += 0xFEE0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestFollowUpsAPI: viewers read follow-ups with the director's phone
// masked, filtered by director, due and status; a need resolved in the
// console clears its follow-up, audited as any status change.
func TestFollowUpsAPI(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	viewer, editor := mustUser(t, g, "fu_viewer", access.RoleViewer), mustUser(t, g, "fu_editor", access.RoleEditor)
	clk := &clock{t: time.Now().Add(-10 * 24 * time.Hour)}
	g.Conversations.Now = clk.Now
	medical := needRefRE.FindString(walk(t, g, "ATUid_fu_api1", zhDirector, []hop{{text: ""}, {text: "2*C0001*4*1*1", end: true}}))
	papers := needRefRE.FindString(walk(t, g, "ATUid_fu_api2", zhDirector, []hop{{text: ""}, {text: "2*C0002*1*1*1", end: true}}))
	otherChild := needRefRE.FindString(walk(t, g, "ATUid_fu_api3", shimenDirector, []hop{{text: ""}, {text: "2*C0009*4*1*1", end: true}}))

	type page struct {
		Items []struct {
			Ref, DirectorPhone, ClearedBy string
		}
	}
	list := func(query, token string, want int) page {
		t.Helper()
		status, body := api(t, g, "GET", "/follow-ups"+query, token, "", "")
		if status != want {
			t.Fatalf("GET /follow-ups%s: %d %s", query, status, body)
		}
		var p page
		if want == 200 {
			var wire struct {
				Items []struct {
					Ref           string `json:"ref"`
					DirectorPhone string `json:"director_phone"`
					ClearedBy     string `json:"cleared_by"`
				} `json:"items"`
			}
			if err := json.Unmarshal([]byte(body), &wire); err != nil {
				t.Fatal(err)
			}
			for _, it := range wire.Items {
				p.Items = append(p.Items, struct{ Ref, DirectorPhone, ClearedBy string }{it.Ref, it.DirectorPhone, it.ClearedBy})
			}
		}
		return p
	}
	refs := func(p page) string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.Ref)
		}
		return strings.Join(out, " ")
	}
	if got := refs(list("", viewer, 200)); got != medical+" "+otherChild+" "+papers {
		t.Fatalf("all follow-ups: %s, want %s %s %s", got, medical, otherChild, papers)
	}
	due := list("?due=due&director="+strings.TrimPrefix(zhDirector, "+86"), viewer, 200)
	if refs(due) != medical || due.Items[0].DirectorPhone != phone.Mask(zhDirector) {
		t.Fatalf("due for %s: %+v", zhDirector, due)
	}
	if got := refs(list("?due=overdue", viewer, 200)); got != "" {
		t.Fatalf("overdue after three days: %s", got)
	}
	list("?due=soon", viewer, 422)
	list("?colour=red", viewer, 422)
	list("", "", 401)

	if status, body := api(t, g, "POST", "/reports/needs/"+medical+"/status", editor, "application/json", `{"status": "referred", "note": "county hospital"}`); status != 200 {
		t.Fatalf("refer: %d %s", status, body)
	}
	cleared := list("?status=cleared", editor, 200)
	if refs(cleared) != medical || cleared.Items[0].ClearedBy != "status" || cleared.Items[0].DirectorPhone != zhDirector {
		t.Fatalf("cleared: %+v", cleared)
	}
	if got := refs(list("?status=open&due=due", viewer, 200)); got != otherChild {
		t.Fatalf("due and open: %s, want only %s", got, otherChild)
	}
}
