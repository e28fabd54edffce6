package gateway_test

// Faults of Redis and of publishing during a walk: what every caller sees
// and what Postgres holds afterwards.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/sessions/sessionstest"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// hubtelCall sends one Hubtel callback and returns the screen and whether the
// session ends.
func hubtelCall(t *testing.T, g *gatewaytest.Gateway, session, typ, message string, seq int) (string, bool) {
	t.Helper()
	body := fmt.Sprintf(`{"Mobile":%q,"SessionId":%q,"ServiceCode":"384*2015","Type":%q,"Message":%q,"Operator":"mtn","Sequence":%d,"ClientState":"","Platform":"USSD"}`,
		strings.TrimPrefix(enDirector, "+"), session, typ, message, seq)
	status, resp := g.PostRaw(t, "/ussd/hubtel", "application/json", body)
	if status != 200 {
		t.Fatalf("hubtel %s %q: %d %s", typ, message, status, resp)
	}
	var r struct{ Type, Message string }
	if err := json.Unmarshal([]byte(resp), &r); err != nil {
		t.Fatal(err)
	}
	return r.Message, r.Type == "release"
}

// TestFaultRedisKilledIncremental: Hubtel sends only the latest input,
// so a session cannot be rebuilt from the callback; one gateway process
// keeps serving it from what it holds through a Redis outage, and goes on
// when Redis is back, empty.
func TestFaultRedisKilledIncremental(t *testing.T) {
	t.Parallel()
	srv := sessionstest.MustServer(t)
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Redis: srv.Client()})
	const session = "hubtel-outage-1"
	steps := []struct {
		typ, msg string
		want     string
		fault    func()
	}{
		{"Initiation", "*384*2015#", "1. Record a home visit", nil},
		{"Response", "1", "Enter the child ID", srv.Stop},
		{"Response", "C0002", "How is 刘佳?", nil},
		{"Response", "2", "1. Confirm", srv.Start},
		{"Response", "1", "Visit saved. Ref V", nil},
	}
	for i, st := range steps {
		if st.fault != nil {
			st.fault()
		}
		got, _ := hubtelCall(t, g, session, st.typ, st.msg, i+1)
		if !strings.Contains(got, st.want) {
			t.Fatalf("hop %d %q: %q, want %q", i+1, st.msg, got, st.want)
		}
	}
	if n := countRows(t, g, `SELECT count(*) FROM visits WHERE session_key = 'ussd:hubtel:`+session+`'`); n != 1 {
		t.Fatalf("%d visits saved, want 1", n)
	}
}

// TestFaultPublishWhileSessionLost: a session started on one version, whose
// snapshot Redis lost after a new version was published, is not read
// against the new version: the caller is asked to dial again, and nothing
// is saved under the version they did not see.
func TestFaultPublishWhileSessionLost(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	walk(t, g, "ATUid_versions", enDirector, []hop{{"", false, nil}, {"1", false, []string{"Enter the child ID"}}})

	editor := mustUser(t, g, "officer", access.RoleEditor)
	director, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")
	// Version 2 swaps the main menu's first two options.
	v2 := strings.Replace(string(director), "      - label: {zh: 记录家访, en: Record a home visit}\n        next: visit_child\n      - label: {zh: 上报需求, en: Report a need}\n        next: need_child\n",
		"      - label: {zh: 上报需求, en: Report a need}\n        next: need_child\n      - label: {zh: 记录家访, en: Record a home visit}\n        next: visit_child\n", 1)
	if v2 == string(director) {
		t.Fatal("edit did not apply")
	}
	if status, body := publish(t, g, editor, "director", v2); status != 200 {
		t.Fatalf("publish: %d %s", status, body)
	}
	// Another process, whose Redis has lost the session, takes the next
	// callback.
	other := gatewaytest.MustGateway(t, gatewaytest.Options{DB: g.DB})
	got := other.AT(t, "ATUid_versions", enDirector, "1*C0001")
	if !strings.HasPrefix(got, "END ") || !strings.Contains(got, "updated") {
		t.Fatalf("rebuilt across a publish: %q", got)
	}
	other.AT(t, "ATUid_versions", enDirector, "1*C0001*1*1")
	if n := countRows(t, g, `SELECT count(*) FROM needs`) + countRows(t, g, `SELECT count(*) FROM visits`); n != 0 {
		t.Fatalf("%d reports saved against a tree the caller did not see", n)
	}
	// Which version a lost session began on cannot be known for a while
	// after a publish (the session TTL), so the rule holds for sessions
	// begun after it too; a new dial is on the new version.
	if got := other.AT(t, "ATUid_versions2", enDirector, ""); !strings.HasPrefix(got, "CON ") || !strings.Contains(got, "1. Report a need") {
		t.Fatalf("a new dial after the publish: %q", got)
	}
	if got := other.AT(t, "ATUid_versions2", enDirector, "1"); !strings.Contains(got, "Enter the child ID") {
		t.Fatalf("a session begun on the new version: %q", got)
	}
}

// TestBigRegistriesSmallSessions: a director with ten thousand children
// walks as any other, and the stored session holds who the caller is, not
// their children.
func TestBigRegistriesSmallSessions(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	g.ExecRegistry(t, `
WITH d AS (SELECT id FROM directors WHERE phone = $1),
     c AS (INSERT INTO children (code, name, village, county, director_id)
           SELECT 'C' || lpad(n::text, 5, '0'), '孩子' || n, '青山村', '云岭县', d.id FROM generate_series(10001, 20000) n, d
           RETURNING id)
INSERT INTO child_directors (child_id, director_id) SELECT c.id, d.id FROM c, d`, enDirector)
	walk(t, g, "ATUid_big", enDirector, []hop{
		{"", false, []string{"1. Record a home visit"}},
		{"1", false, []string{"Enter the child ID"}},
		{"1*C15000", false, []string{"How is 孩子15000?"}},
	})
	ctx := context.Background()
	keys, err := g.Redis.Keys(ctx, "*s:ussd:at:ATUid_big").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("session keys %v, %v", keys, err)
	}
	if n, err := g.Redis.HStrLen(ctx, keys[0], "snap").Result(); err != nil || n > 2048 {
		t.Fatalf("stored session is %d bytes (%v), want under 2 KB", n, err)
	}
	// A process that never saw the session finds the children again.
	other := gatewaytest.MustGateway(t, gatewaytest.Options{DB: g.DB, Redis: g.Redis, RedisPrefix: g.RedisPrefix})
	if got := other.AT(t, "ATUid_big", enDirector, "1*C15000*1"); !strings.Contains(got, "Visit to 孩子15000 (C15000): Well") {
		t.Fatalf("next hop on another process = %q", got)
	}
}

// TestFaultPostgresKilledAtConfirm: Postgres crashes while a director is
// at the confirm of an urgent visit. The confirm is answered with a
// reference (the report is in the spool); any registered director can
// still start a walk, seen by this process or not, since it read the
// whole registry when it started, and a stranger is told they are not
// registered; when Postgres is back the spool drains, the visit is stored
// once, under the reference the director was given, and its alert is
// queued once.
func TestFaultPostgresKilledAtConfirm(t *testing.T) {
	t.Parallel()
	pg := storagetest.MustServer(t)
	ctx := context.Background()
	db, err := storage.Open(ctx, pg.MustDatabase("faults"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.Seed(ctx, db, io.Discard); err != nil {
		t.Fatal(err)
	}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{DB: db, HopBudget: 2 * time.Second})
	walk(t, g, "ATUid_pgkill", enDirector, []hop{
		{"", false, nil}, {"1", false, nil}, {"1*C0001", false, nil}, {"1*C0001*4", false, []string{"1. Confirm"}},
	})

	pg.Kill()
	end := g.AT(t, "ATUid_pgkill", enDirector, "1*C0001*4*1")
	ref := refRE.FindString(end)
	if !strings.HasPrefix(end, "END Visit saved. Ref V") || ref == "" {
		t.Fatalf("confirm with Postgres down = %q", end)
	}
	if got := g.AT(t, "ATUid_pgkill2", enDirector, ""); !strings.Contains(got, "1. Record a home visit") {
		t.Fatalf("a known director dialling with Postgres down = %q", got)
	}
	if got := g.AT(t, "ATUid_pgkill3", zhDirector, ""); !strings.Contains(got, "1. 记录家访") {
		t.Fatalf("an unseen director dialling with Postgres down = %q", got)
	}
	if got := g.AT(t, "ATUid_pgkill4", "+8613999999999", ""); !strings.Contains(got, "not registered") {
		t.Fatalf("a stranger dialling with Postgres down = %q", got)
	}
	if n, _, _ := g.Spool.Depth(); n != 1 {
		t.Fatalf("spool depth %d, want 1", n)
	}
	// The report Postgres did not take is counted; the callers were all
	// answered from the warmed registry, so no lookup failed; the outbox,
	// unread, keeps its last figures.
	ss := scrape(t, g)
	if n, _ := sum(ss, "barefoot_store_errors_total", "store", "postgres", "op", "report"); n != 1 {
		t.Errorf("%v failed report saves counted, want 1", n)
	}
	if n, _ := sum(ss, "barefoot_store_errors_total", "store", "postgres", "op", "registry"); n != 0 {
		t.Errorf("%v failed registry lookups counted, want none: the registry is warm", n)
	}
	if n, _ := sum(ss, "barefoot_reports_total", "channel", "ussd", "outcome", "spooled"); n != 1 {
		t.Errorf("%v reports spooled, want 1", n)
	}
	if n, _ := sum(ss, "barefoot_outbox_scrape_errors_total"); n < 1 {
		t.Errorf("%v failed outbox reads counted, want at least 1", n)
	}

	pg.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r, err := db.ReportByRef(ctx, ref); err == nil {
			if r.ChildCode != "C0001" || r.Situation != "urgent" {
				t.Fatalf("drained report %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spooled visit %s never reached Postgres", ref)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n, _, _ := g.Spool.Depth(); n != 0 {
		t.Fatalf("spool depth %d after draining", n)
	}
	if n := countRows(t, g, `SELECT count(*) FROM visits`); n != 1 {
		t.Fatalf("%d visits, want 1", n)
	}
	if n := countRows(t, g, `SELECT count(*) FROM messages WHERE kind = 'alert' AND dedupe_key LIKE $1`, "alert:"+ref+":%"); n != 1 {
		t.Fatalf("%d alerts for the spooled urgent visit, want 1", n)
	}
}

// TestFaultRedisPaused: Redis stops answering (but keeps its connections)
// mid-walk, for a cumulative carrier and an incremental one; every hop is
// answered with the right screen, each store call giving up after its
// short budget, and the walks go on when Redis answers again.
func TestFaultRedisPaused(t *testing.T) {
	t.Parallel()
	srv := sessionstest.MustServer(t)
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Redis: srv.Client()})
	g.AT(t, "ATUid_paused", enDirector, "")
	hubtelCall(t, g, "hubtel-paused", "Initiation", "*384*2015#", 1)
	srv.Pause()
	start := time.Now()
	if got := g.AT(t, "ATUid_paused", enDirector, "1"); !strings.Contains(got, "Enter the child ID") {
		t.Fatalf("AT with Redis paused: %q", got)
	}
	if got, _ := hubtelCall(t, g, "hubtel-paused", "Response", "2", 2); !strings.Contains(got, "Enter the child ID") {
		t.Fatalf("Hubtel with Redis paused: %q", got)
	}
	t.Logf("two hops with Redis paused took %v", time.Since(start).Round(time.Millisecond))
	srv.Resume()
	if got := g.AT(t, "ATUid_paused", enDirector, "1*C0001"); !strings.Contains(got, "How is 王小明?") {
		t.Fatalf("AT after Redis came back: %q", got)
	}
	if got, _ := hubtelCall(t, g, "hubtel-paused", "Response", "C0002", 3); !strings.Contains(got, "What does 刘佳 need?") {
		t.Fatalf("Hubtel after Redis came back: %q", got)
	}
}

// TestFaultRedisLostMidSession: Redis loses every session between two hops
// of a walk, by a flush or by a restart without persistence that no call
// happened to see. A cumulative carrier's walk is rebuilt from its path; an
// incremental carrier's, which cannot be, goes on from the copy this
// process wrote. Each walk saves its visit once.
func TestFaultRedisLostMidSession(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name string
		do   func(*sessionstest.Server)
	}{
		{"flushed", func(s *sessionstest.Server) {
			if err := s.Client().FlushAll(context.Background()).Err(); err != nil {
				t.Error(err)
			}
		}},
		{"restarted", func(s *sessionstest.Server) { s.Stop(); s.Start() }},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			srv := sessionstest.MustServer(t)
			g := gatewaytest.MustGateway(t, gatewaytest.Options{Redis: srv.Client()})
			at, hub := "ATUid_lost_"+f.name, "hubtel-lost-"+f.name
			g.AT(t, at, enDirector, "")
			g.AT(t, at, enDirector, "1")
			hubtelCall(t, g, hub, "Initiation", "*384*2015#", 1)
			hubtelCall(t, g, hub, "Response", "1", 2)

			f.do(srv)

			if got := g.AT(t, at, enDirector, "1*C0001"); !strings.Contains(got, "How is 王小明?") {
				t.Fatalf("AT after Redis lost the session: %q", got)
			}
			if got, _ := hubtelCall(t, g, hub, "Response", "C0002", 3); !strings.Contains(got, "How is 刘佳?") {
				t.Fatalf("Hubtel after Redis lost the session: %q", got)
			}
			g.AT(t, at, enDirector, "1*C0001*1")
			hubtelCall(t, g, hub, "Response", "1", 4)
			if got := g.AT(t, at, enDirector, "1*C0001*1*1"); !strings.HasPrefix(got, "END Visit saved. Ref V") {
				t.Fatalf("AT confirm: %q", got)
			}
			if got, _ := hubtelCall(t, g, hub, "Response", "1", 5); !strings.Contains(got, "Visit saved. Ref V") {
				t.Fatalf("Hubtel confirm: %q", got)
			}
			for _, key := range []string{"ussd:at:" + at, "ussd:hubtel:" + hub} {
				if n := countRows(t, g, `SELECT count(*) FROM visits WHERE session_key = $1`, key); n != 1 {
					t.Fatalf("%s: %d visits, want 1", key, n)
				}
			}
		})
	}
}
