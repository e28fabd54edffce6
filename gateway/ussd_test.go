package gateway_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"
)

const (
	zhDirector = "+8613800138001"
	enDirector = "+8613800138002"
)

var refRE = regexp.MustCompile(`[VN][2-9A-HJ-NP-Z]{6}`)

// hop is one callback of a scripted walk and what its screen must show.
type hop struct {
	text string
	end  bool
	want []string // substrings of the screen
}

func walk(t *testing.T, g *gatewaytest.Gateway, session, phone string, hops []hop) string {
	t.Helper()
	var body string
	for _, h := range hops {
		body = g.AT(t, session, phone, h.text)
		prefix := "CON "
		if h.end {
			prefix = "END "
		}
		if !strings.HasPrefix(body, prefix) {
			t.Fatalf("text=%q: reply %q, want it to start %q", h.text, body, prefix)
		}
		for _, w := range h.want {
			if !strings.Contains(body, w) {
				t.Fatalf("text=%q: reply %q, want it to contain %q", h.text, body, w)
			}
		}
	}
	return body
}

// TestDemoScenario is the demo, step by step, in both languages.
func TestDemoScenario(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	scripts := map[string]struct {
		phone string
		hops  []hop
	}{
		"en": {enDirector, []hop{
			{"", false, []string{"1. Record a home visit", "2. Report a need"}},
			{"1", false, []string{"Enter the child ID"}},
			{"1*C0009", false, []string{"C0009 is not one of your children", "Enter the child ID"}},
			{"1*C0009*C0001", false, []string{"1. Well", "4. Urgent concern"}},
			{"1*C0009*C0001*1", false, []string{"王小明", "1. Confirm"}},
			{"1*C0009*C0001*1*1", true, []string{"Visit saved. Ref "}},
		}},
		"zh": {zhDirector, []hop{
			{"", false, []string{"1. 记录家访", "2. 上报需求"}},
			{"1", false, []string{"请输入儿童编号"}},
			{"1*C0009", false, []string{"C0009不是您负责的儿童", "请输入儿童编号"}},
			{"1*C0009*C0001", false, []string{"1. 良好", "4. 紧急情况"}},
			{"1*C0009*C0001*1", false, []string{"王小明", "1. 确认"}},
			{"1*C0009*C0001*1*1", true, []string{"家访已保存，编号"}},
		}},
	}
	for lang, sc := range scripts {
		t.Run(lang, func(t *testing.T) {
			session := "ATUid_demo_" + lang
			end := walk(t, g, session, sc.phone, sc.hops)
			ref := refRE.FindString(end)
			if ref == "" || ref[0] != 'V' {
				t.Fatalf("no visit ref in %q", end)
			}
			// The carrier retries the last callback: same answer, one row.
			if again := g.AT(t, session, sc.phone, sc.hops[len(sc.hops)-1].text); again != end {
				t.Fatalf("retried confirm = %q, want %q", again, end)
			}
			r, err := g.DB.ReportByRef(context.Background(), ref)
			if err != nil {
				t.Fatalf("report %s: %v", ref, err)
			}
			if r.Kind != menus.ReportVisit || r.ChildCode != "C0001" || r.Situation != "well" || r.Channel != menus.ChannelUSSD || r.Urgency != menus.UrgencyRoutine {
				t.Fatalf("stored report = %+v", r)
			}
			if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, r.SessionKey); n != 1 {
				t.Fatalf("%d visit rows for the session, want 1", n)
			}
		})
	}
}

func TestNeedReport(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	tests := []struct {
		phone string
		hops  []hop
	}{
		{enDirector, []hop{
			{"", false, nil},
			{"2", false, []string{"Enter the child ID"}},
			{"2*C0003", false, []string{"What does 陈晨 need?", "1. Birth/residence papers", "98. More"}},
			{"2*C0003*98", false, []string{"2. School enrolment", "3. Vaccination or health", "4. Medical aid", "5. Living allowance", "6. Protection concern", "7. Other", "0. Back"}},
			{"2*C0003*98*6", false, []string{"1. Routine", "2. Urgent"}},
			{"2*C0003*98*6*2", false, []string{"陈晨", "Protection concern", "Urgent"}},
			{"2*C0003*98*6*2*1", true, []string{"Need reported. Ref N"}},
		}},
		{zhDirector, []hop{
			{"", false, nil},
			{"2", false, []string{"请输入儿童编号"}},
			{"2*c3", false, []string{"1. 出生或户口登记", "6. 保护问题"}},
			{"2*c3*2", false, []string{"1. 一般", "2. 紧急"}},
			{"2*c3*2*1", false, []string{"陈晨", "入学", "一般"}},
			{"2*c3*2*1*1", true, []string{"需求已上报，编号N"}},
		}},
	}
	for i, tt := range tests {
		end := walk(t, g, fmt.Sprintf("ATUid_need_%d", i), tt.phone, tt.hops)
		r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(end))
		if err != nil {
			t.Fatal(err)
		}
		want := map[int][2]string{0: {"protection", menus.UrgencyUrgent}, 1: {"school", menus.UrgencyRoutine}}[i]
		if r.Kind != menus.ReportNeed || r.ChildCode != "C0003" || r.Category != want[0] || r.Urgency != want[1] {
			t.Fatalf("need %d stored as %+v, want %v", i, r, want)
		}
	}
}

// TestDuplicateCallbacks sends every hop twice, as carriers retry: each
// pair of answers is identical and the walk still saves once.
func TestDuplicateCallbacks(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	session := "ATUid_dup"
	var last string
	for _, text := range []string{"", "1", "1*C0002", "1*C0002*3", "1*C0002*3*1"} {
		first := g.AT(t, session, enDirector, text)
		if second := g.AT(t, session, enDirector, text); second != first {
			t.Fatalf("text=%q: retry answered %q, first %q", text, second, first)
		}
		last = first
	}
	if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, "ussd:at:"+session); n != 1 || !strings.HasPrefix(last, "END ") {
		t.Fatalf("rows = %d, last = %q", n, last)
	}
}

// TestConcurrentCallbacks fires the confirming callback 20 times at once:
// every caller gets the same screen and exactly one report is stored.
func TestConcurrentCallbacks(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	session := "ATUid_race"
	for _, text := range []string{"", "2", "2*C0004", "2*C0004*5", "2*C0004*5*1"} {
		g.AT(t, session, enDirector, text)
	}
	const n = 20
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			bodies[i] = g.AT(t, session, enDirector, "2*C0004*5*1*1")
		}()
	}
	close(start)
	wg.Wait()
	for i, b := range bodies {
		if b != bodies[0] || !strings.HasPrefix(b, "END ") {
			t.Fatalf("reply %d = %q, reply 0 = %q", i, b, bodies[0])
		}
	}
	if c, _ := g.DB.CountReports(context.Background(), menus.ReportNeed, "ussd:at:"+session); c != 1 {
		t.Fatalf("%d need rows, want 1", c)
	}
}

func TestUnknownCallerStoresNothing(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, text := range []string{"", "1*C0001*1*1"} {
		body := g.AT(t, "ATUid_stranger", "+8613999999999", text)
		if !strings.HasPrefix(body, "END ") || !strings.Contains(body, "contact the county office") || !strings.Contains(body, "联系县民政办公室") {
			t.Fatalf("unknown caller got %q", body)
		}
	}
	if _, _, ok, err := g.Store.Load(context.Background(), menus.ChannelUSSD, "at:ATUid_stranger"); ok || err != nil {
		t.Fatalf("a session was stored for an unknown caller (err %v)", err)
	}
	if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, "ussd:at:ATUid_stranger"); n != 0 {
		t.Fatalf("%d reports stored for an unknown caller", n)
	}
}

func TestUnknownServiceCode(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	status, body := g.Post(t, "/ussd/africastalking", gatewaytest.ATForm("ATUid_code", enDirector, "*999#", ""))
	if status != http.StatusOK || !strings.HasPrefix(body, "END ") || !strings.Contains(body, "not in use") {
		t.Fatalf("unknown code: %d %q", status, body)
	}
}

// TestPhoneFormats: however the carrier writes the number, it is the same
// director.
func TestPhoneFormats(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for i, p := range []string{"8613800138002", "13800138002", "008613800138002", "+86 138-0013-8002", " 8613800138002"} {
		body := g.AT(t, fmt.Sprintf("ATUid_fmt_%d", i), p, "")
		if !strings.Contains(body, "Record a home visit") {
			t.Fatalf("phone %q: %q", p, body)
		}
	}
}

func TestSessionBoundToPhone(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	g.AT(t, "ATUid_bound", enDirector, "")
	body := g.AT(t, "ATUid_bound", zhDirector, "1")
	if !strings.HasPrefix(body, "END ") {
		t.Fatalf("another phone continued the session: %q", body)
	}
	if body := g.AT(t, "ATUid_bound", enDirector, "1"); !strings.Contains(body, "Enter the child ID") {
		t.Fatalf("owner's session disturbed: %q", body)
	}
}

// TestFaultRedisKeyLostCumulative drops the session mid-walk, as a Redis restart
// would: the next hop is rebuilt from the carrier's cumulative text.
func TestFaultRedisKeyLostCumulative(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	session := "ATUid_lost"
	for _, text := range []string{"", "1", "1*C0009", "1*C0009*C0005"} {
		g.AT(t, session, enDirector, text)
	}
	if err := g.Store.Delete(context.Background(), menus.ChannelUSSD, "at:"+session); err != nil {
		t.Fatal(err)
	}
	if body := g.AT(t, session, enDirector, "1*C0009*C0005*2"); !strings.Contains(body, "孙丽") || !strings.Contains(body, "Needs support") {
		t.Fatalf("rebuilt confirm screen = %q", body)
	}
	end := g.AT(t, session, enDirector, "1*C0009*C0005*2*1")
	r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(end))
	if err != nil || r.ChildCode != "C0005" || r.Situation != "needs_support" {
		t.Fatalf("report after rebuild: %+v, %v (screen %q)", r, err, end)
	}
}

// TestFaultRedisDownCumulative: with no Redis at all, every hop is rebuilt from the
// carrier's cumulative text and the report is still saved exactly once.
func TestFaultRedisDownCumulative(t *testing.T) {
	t.Parallel()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Redis: down})
	hops := []hop{
		{"", false, []string{"Record a home visit"}},
		{"1", false, []string{"Enter the child ID"}},
		{"1*C0009", false, []string{"C0009 is not one of your children"}},
		{"1*C0009*C0001", false, []string{"How is 王小明?"}},
		{"1*C0009*C0001*4", false, []string{"Urgent concern", "1. Confirm"}},
		{"1*C0009*C0001*4*1", true, []string{"Visit saved. Ref V"}},
	}
	end := walk(t, g, "ATUid_noredis", enDirector, hops)
	if again := g.AT(t, "ATUid_noredis", enDirector, hops[len(hops)-1].text); again != end {
		t.Fatalf("retry without Redis = %q, want %q", again, end)
	}
	r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(end))
	if err != nil || r.Situation != "urgent" || r.Urgency != menus.UrgencyUrgent {
		t.Fatalf("report = %+v, %v", r, err)
	}
	if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, r.SessionKey); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
	if status, body := g.Get(t, "/readyz"); status != http.StatusServiceUnavailable || body != "redis: unreachable" {
		t.Fatalf("readyz with Redis down: %d %q", status, body)
	}
	// Every hop's load failed and was counted; no save was tried.
	ss := scrape(t, g)
	if loads, _ := sum(ss, "barefoot_store_errors_total", "store", "redis", "op", "load"); loads != float64(len(hops)+1) {
		t.Errorf("%v failed Redis loads counted, want %d", loads, len(hops)+1)
	}
	if saves, _ := sum(ss, "barefoot_store_errors_total", "store", "redis", "op", "save"); saves != 0 {
		t.Errorf("%v failed Redis saves counted, want none tried", saves)
	}
}

// lockVisits holds the visits table locked, as a long-running migration
// or a stuck transaction would, until the returned func is called.
func lockVisits(t *testing.T, g *gatewaytest.Gateway) func() {
	t.Helper()
	conn, err := sql.Open("postgres", storagetest.DSNFor(g.DB.Name()))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("LOCK TABLE visits IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			if err := tx.Rollback(); err != nil {
				t.Error(err)
			}
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestFaultPostgresLockedAtConfirm: when Postgres cannot take the report
// within its share of the hop (here the visits table is locked), the
// report goes to the spool on disk and the caller gets its reference; it
// reaches Postgres once, under that reference, when the table is free.
func TestFaultPostgresLockedAtConfirm(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{HopBudget: 700 * time.Millisecond})
	session := "ATUid_pgspool"
	for _, text := range []string{"", "1", "1*C0002", "1*C0002*4"} {
		g.AT(t, session, enDirector, text)
	}
	release := lockVisits(t, g)
	body := g.AT(t, session, enDirector, "1*C0002*4*1")
	ref := refRE.FindString(body)
	if !strings.HasPrefix(body, "END Visit saved. Ref V") || ref == "" {
		t.Fatalf("confirm under a lock = %q", body)
	}
	if n, _, err := g.Spool.Depth(); err != nil || n != 1 {
		t.Fatalf("spool depth %d, %v; want 1", n, err)
	}
	release()
	deadline := time.Now().Add(10 * time.Second)
	for countRows(t, g, `SELECT count(*) FROM visits WHERE ref = $1`, ref) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("spooled report %s never reached Postgres", ref)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n, _, _ := g.Spool.Depth(); n != 0 {
		t.Fatalf("spool depth %d after draining", n)
	}
	// Urgent: its alert was queued as it drained, once.
	if n := countRows(t, g, `SELECT count(*) FROM messages WHERE kind = 'alert' AND dedupe_key LIKE $1`, "alert:"+ref+":%"); n != 1 {
		t.Fatalf("%d alerts for the spooled urgent report, want 1", n)
	}
	// The carrier repeats the confirm to a process that lost the session:
	// the same reference, no second row.
	other := gatewaytest.MustGateway(t, gatewaytest.Options{DB: g.DB})
	if again := other.AT(t, session, enDirector, "1*C0002*4*1"); refRE.FindString(again) != ref {
		t.Fatalf("repeated confirm = %q, want ref %s", again, ref)
	}
	if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, "ussd:at:"+session); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// TestFaultPostgresLockedAndSpoolGone: when neither Postgres nor the spool can take
// the report, the caller is not told it was saved; pressing 1 again, once
// Postgres is back, saves it once.
func TestFaultPostgresLockedAndSpoolGone(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{HopBudget: 700 * time.Millisecond})
	session := "ATUid_pgslow"
	for _, text := range []string{"", "1", "1*C0002"} {
		g.AT(t, session, enDirector, text)
	}
	// The spool's disk is gone: its directory is now a file.
	dir := g.Spool.Dir()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	release := lockVisits(t, g)
	body := g.AT(t, session, enDirector, "1*C0002*2*1")
	if !strings.HasPrefix(body, "CON Could not save just now. Press 1 to try again.") || !strings.Contains(body, "1. Confirm") {
		t.Fatalf("save under a lock with no spool answered %q", body)
	}
	release()
	end := g.AT(t, session, enDirector, "1*C0002*2*1*1")
	if !strings.HasPrefix(end, "END Visit saved. Ref V") {
		t.Fatalf("retry after the lock = %q", end)
	}
	if n, _ := g.DB.CountReports(context.Background(), menus.ReportVisit, "ussd:at:"+session); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// TestLateOlderHop: an old callback arriving after newer ones gets the
// answer it had, and the session does not go back.
func TestLateOlderHop(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	session := "ATUid_late"
	g.AT(t, session, enDirector, "")
	first := g.AT(t, session, enDirector, "1")
	g.AT(t, session, enDirector, "1*C0001")
	if late := g.AT(t, session, enDirector, "1"); late != first {
		t.Fatalf("late hop = %q, want %q", late, first)
	}
	if body := g.AT(t, session, enDirector, "1*C0001*3"); !strings.Contains(body, "Some concern") {
		t.Fatalf("session rewound: %q", body)
	}
	// The very first callback, late: the main menu again, nothing rewound.
	if late := g.AT(t, session, enDirector, ""); !strings.Contains(late, "1. Record a home visit") {
		t.Fatalf("late first hop = %q", late)
	}
	// Two hops in one callback (the carrier skipped one): both applied.
	if body := g.AT(t, session, enDirector, "1*C0001*3*2*1"); !strings.Contains(body, "Enter the child ID") {
		t.Fatalf("skipped-ahead callback = %q", body)
	}
}

// TestDivergedPathIsReplayed: a path that is neither the stored one, an
// extension of it, nor an earlier hop of it is the carrier's word on what
// was typed, and is replayed from the start.
func TestDivergedPathIsReplayed(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	session := "ATUid_diverged"
	g.AT(t, session, enDirector, "")
	g.AT(t, session, enDirector, "12") // an invalid option: "12" is stored as the path
	if body := g.AT(t, session, enDirector, "1"); !strings.Contains(body, "Enter the child ID") {
		t.Fatalf("path 1 after 12 = %q, want the child prompt", body)
	}
	if body := g.AT(t, session, enDirector, "1*C0002"); !strings.Contains(body, "How is 刘佳?") {
		t.Fatalf("session did not continue from the replayed path: %q", body)
	}
}

// TestShortcutDial: inputs on the first callback walk straight in.
func TestShortcutDial(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	if body := g.AT(t, "ATUid_short", enDirector, "1*C0001"); !strings.Contains(body, "How is 王小明?") {
		t.Fatalf("shortcut = %q", body)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	ok := gatewaytest.ATForm("ATUid_bad", enDirector, "*384*2015#", "").Encode()
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		want        string
	}{
		{"no session id", "application/x-www-form-urlencoded", "phoneNumber=%2B8613800138002&serviceCode=*384*2015%23&text=", 400, "sessionId: required"},
		{"no phone", "application/x-www-form-urlencoded", "sessionId=a&serviceCode=*384*2015%23&text=", 400, "phoneNumber: required"},
		{"bad phone", "application/x-www-form-urlencoded", "sessionId=a&phoneNumber=12345&serviceCode=*384*2015%23&text=", 400, "phone: not a valid phone number"},
		{"json body", "application/json", `{"sessionId":"a"}`, 415, "x-www-form-urlencoded"},
		{"text twice", "application/x-www-form-urlencoded", ok + "&text=1", 400, "text: sent more than once"},
		{"nul in text", "application/x-www-form-urlencoded", ok + "X&text=1%00", 400, ""},
		{"invalid utf-8", "application/x-www-form-urlencoded", strings.Replace(ok, "text=", "text=%FF", 1), 400, "text: not valid UTF-8"},
		{"path bomb", "application/x-www-form-urlencoded", strings.Replace(ok, "text=", "text="+strings.Repeat("*", 2000), 1), 400, "text: longer than"},
		{"session id too long", "application/x-www-form-urlencoded", strings.Replace(ok, "sessionId=ATUid_bad", "sessionId="+strings.Repeat("a", 200), 1), 400, "sessionId: longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := g.PostRaw(t, "/ussd/africastalking", tt.contentType, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d body %q, want %d containing %q", status, body, tt.status, tt.want)
			}
		})
	}
	t.Run("body over limit", func(t *testing.T) {
		status, _ := g.PostRaw(t, "/ussd/africastalking", "application/x-www-form-urlencoded", ok+"&pad="+strings.Repeat("x", 20<<10))
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", status)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		status, _ := g.Get(t, "/ussd/africastalking")
		if status != http.StatusMethodNotAllowed && status != http.StatusNotFound {
			t.Fatalf("GET status %d", status)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	if status, body := g.Get(t, "/healthz"); status != 200 || body != "ok" {
		t.Fatalf("healthz: %d %q", status, body)
	}
	if status, body := g.Get(t, "/readyz"); status != 200 || body != "ready" {
		t.Fatalf("readyz: %d %q", status, body)
	}
}

// TestLogsHoldNoPersonalData walks the demo with logs captured and checks
// that no phone number, child name or typed answer reaches them.
func TestLogsHoldNoPersonalData(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Log: &logs})
	walk(t, g, "ATUid_logs", enDirector, []hop{{"", false, nil}, {"1", false, nil}, {"1*C0009", false, nil}, {"1*C0009*C0001", false, nil}, {"1*C0009*C0001*1", false, nil}, {"1*C0009*C0001*1*1", true, nil}})
	g.AT(t, "ATUid_logs2", "+8613999999999", "")
	out := logs.String()
	if !strings.Contains(out, "report saved") || !strings.Contains(out, "unregistered caller") {
		t.Fatalf("expected log lines missing:\n%s", out)
	}
	for _, secret := range []string{"13800138002", "13999999999", "王小明", "Zhang Wei"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log holds %q:\n%s", secret, out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
