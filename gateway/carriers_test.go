package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus"
)

// The JSON carriers (Hubtel, the generic format) run through one harness:
// a table of callbacks, each sent twice as carriers retry, each reply read
// through the carrier's own reader, which also checks the reply's shape.

// jsonCarrier is what the harness needs to know about one adapter.
type jsonCarrier struct {
	name  string // the short name in session keys, "hubtel"
	route string
	// reply checks a 200 reply against its request and returns the screen
	// and whether the session ends.
	reply func(t *testing.T, req, resp []byte) (text string, end bool)
}

// carrierCase is one callback and what must come back.
type carrierCase struct {
	name        string
	body        string
	contentType string // application/json when empty, none when "-"
	status      int    // 200 when zero
	end         bool
	blank       bool     // the screen must be empty
	want        []string // substrings of the screen (of the body on refusals)
	notWant     []string // substrings the screen (or refusal) must not hold
}

// run sends every case twice and checks both answers; it returns the
// screens in order.
func (jc jsonCarrier) run(t *testing.T, g *gatewaytest.Gateway, cases []carrierCase) []string {
	t.Helper()
	screens := make([]string, len(cases))
	for i, tc := range cases {
		ct := tc.contentType
		switch ct {
		case "":
			ct = "application/json"
		case "-":
			ct = "" // no Content-Type header
		}
		want := tc.status
		if want == 0 {
			want = http.StatusOK
		}
		var first string
		for try := range 2 {
			status, respCT, resp := postBody(t, g, "/ussd/"+jc.route, ct, tc.body)
			if status != want {
				t.Fatalf("%s %s (try %d): status %d %q, want %d", jc.name, tc.name, try+1, status, resp, want)
			}
			got := string(resp)
			if status == http.StatusOK {
				if mt, _, _ := mime.ParseMediaType(respCT); mt != "application/json" {
					t.Fatalf("%s %s: reply content type %q", jc.name, tc.name, respCT)
				}
				var end bool
				got, end = jc.reply(t, []byte(tc.body), resp)
				if end != tc.end {
					t.Fatalf("%s %s: end = %v, want %v (screen %q)", jc.name, tc.name, end, tc.end, got)
				}
			}
			if tc.blank && got != "" {
				t.Fatalf("%s %s: screen %q, want it empty", jc.name, tc.name, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Fatalf("%s %s: answer %q, want it to contain %q", jc.name, tc.name, got, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Fatalf("%s %s: answer %q holds %q", jc.name, tc.name, got, w)
				}
			}
			if try == 0 {
				first = got
			} else if got != first {
				t.Fatalf("%s %s: repeat answered %q, first %q", jc.name, tc.name, got, first)
			}
		}
		screens[i] = first
	}
	return screens
}

// mustStoreNothing checks that no session and no report exist for a
// carrier's session id.
func (jc jsonCarrier) mustStoreNothing(t *testing.T, g *gatewaytest.Gateway, session string) {
	t.Helper()
	ctx := context.Background()
	if _, _, ok, err := g.Store.Load(ctx, menus.ChannelUSSD, jc.name+":"+session); ok || err != nil {
		t.Fatalf("%s session %q: stored (err %v)", jc.name, session, err)
	}
	for _, kind := range []menus.ReportKind{menus.ReportVisit, menus.ReportNeed} {
		n, err := g.DB.CountReports(ctx, kind, "ussd:"+jc.name+":"+session)
		if err != nil || n != 0 {
			t.Fatalf("%s session %q: %d %s reports (err %v)", jc.name, session, n, kind, err)
		}
	}
}

// mustOneReport checks that the walk's final screen names a report stored
// once for the session, and returns it for further checks.
func (jc jsonCarrier) mustOneReport(t *testing.T, g *gatewaytest.Gateway, session string, kind menus.ReportKind, screen string) menus.Report {
	t.Helper()
	ctx := context.Background()
	ref := refRE.FindString(screen)
	if ref == "" {
		t.Fatalf("no reference in %q", screen)
	}
	r, err := g.DB.ReportByRef(ctx, ref)
	if err != nil {
		t.Fatalf("report %s: %v", ref, err)
	}
	key := "ussd:" + jc.name + ":" + session
	if r.Kind != kind || r.SessionKey != key || r.Carrier != jc.name || r.Channel != menus.ChannelUSSD {
		t.Fatalf("report %s = %+v, want a %s for %s", ref, r.Report, kind, key)
	}
	if n, err := g.DB.CountReports(ctx, kind, key); n != 1 || err != nil {
		t.Fatalf("%d %s rows for %s (err %v), want 1", n, kind, key, err)
	}
	return r.Report
}

// carrierClient gives up well after the gateway's own hop budget, so a hung
// gateway fails the test instead of hanging it.
var carrierClient = &http.Client{Timeout: 10 * time.Second}

func postBody(t *testing.T, g *gatewaytest.Gateway, path, contentType, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := carrierClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// fixture returns a recorded payload from fixtures/carriers.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fixtures.Carriers(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recordedRefusal is a recorded payload as a case whose answer is the
// refusal recorded beside it (wiretest), which the gateway must give too.
func recordedRefusal(t *testing.T, name string) carrierCase {
	t.Helper()
	want := wiretest.Recorded(t, name)
	if want.Status == http.StatusOK {
		t.Fatalf("%s is recorded as accepted", name)
	}
	return carrierCase{name: name, body: fixture(t, name), status: want.Status, want: []string{want.Body}}
}

// fixtureWith returns a recorded payload with some fields replaced (a nil
// value removes the field), so walks keep the carrier's real shape.
func fixtureWith(t *testing.T, name string, set map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(fixture(t, name)), &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replyFields decodes a JSON reply and checks that its keys are exactly
// keys, spelt as given (encoding/json would match any case).
func replyFields(t *testing.T, b []byte, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("reply %q: %v", b, err)
	}
	if len(m) != len(keys) {
		t.Fatalf("reply %s: want exactly the keys %v", b, keys)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Fatalf("reply %s: no key %q", b, k)
		}
	}
	return m
}

// ---- Hubtel ----

var hubtelCarrier = jsonCarrier{
	name:  "hubtel",
	route: "hubtel",
	reply: func(t *testing.T, req, resp []byte) (string, bool) {
		t.Helper()
		var in struct {
			SessionID string `json:"SessionId"`
		}
		_ = json.Unmarshal(req, &in)
		m := replyFields(t, resp, "SessionId", "Type", "Message", "Label", "DataType", "FieldType")
		text, _ := m["Message"].(string)
		shape := [2]any{m["Type"], m["DataType"]}
		if m["SessionId"] != in.SessionID || m["Label"] != "Barefoot" || m["FieldType"] != "text" || m["Message"] == nil ||
			(shape != [2]any{"response", "input"} && shape != [2]any{"release", "display"}) {
			t.Fatalf("hubtel reply %s to session %q", resp, in.SessionID)
		}
		return text, m["Type"] == "release"
	},
}

// hubtelHop is a Hubtel callback shaped like the recorded response.
func hubtelHop(t *testing.T, session, phone, typ, message string, seq any) string {
	t.Helper()
	return fixtureWith(t, "hubtel/response.json", map[string]any{
		"SessionId": session, "Mobile": strings.TrimPrefix(phone, "+"), "Type": typ, "Message": message, "Sequence": seq,
	})
}

func TestHubtelWalks(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	type step struct {
		typ, message string
		end          bool
		want         []string
	}
	tests := []struct {
		name      string
		phone     string
		stringSeq bool // send Sequence as Hubtel's samples do, a string
		kind      menus.ReportKind
		steps     []step
		check     func(r menus.Report) bool
	}{
		{"visit in English", enDirector, false, menus.ReportVisit, []step{
			{"Initiation", "*384*2015#", false, []string{"1. Record a home visit", "2. Report a need"}},
			{"Response", "1", false, []string{"Enter the child ID"}},
			{"Response", "C0009", false, []string{"C0009", "Enter the child ID"}},
			{"Response", "C0001", false, []string{"How is 王小明?"}},
			{"Response", "1", false, []string{"王小明", "1. Confirm"}},
			{"Response", "1", true, []string{"Visit saved. Ref V"}},
		}, func(r menus.Report) bool {
			return r.ChildCode == "C0001" && r.Situation == "well" && r.Urgency == menus.UrgencyRoutine
		}},
		{"need in Chinese", zhDirector, true, menus.ReportNeed, []step{
			{"Initiation", "*384*2015#", false, []string{"1. 记录家访", "2. 上报需求"}},
			{"Response", "2", false, []string{"请输入儿童编号"}},
			{"Response", "C0003", false, []string{"陈晨", "2. 入学"}},
			{"Response", "2", false, []string{"1. 一般", "2. 紧急"}},
			{"Response", "1", false, []string{"陈晨", "入学", "一般", "1. 确认"}},
			{"Response", "1", true, []string{"需求已上报，编号N"}},
		}, func(r menus.Report) bool {
			return r.ChildCode == "C0003" && r.Category == "school" && r.Urgency == menus.UrgencyRoutine
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			session := fmt.Sprintf("9f1c0d7e2b3a4c5d8e6f7a8b9c0d1e%02d", i)
			var cases []carrierCase
			for n, s := range tt.steps {
				var seq any = n + 1
				if tt.stringSeq {
					seq = fmt.Sprint(n + 1)
				}
				cases = append(cases, carrierCase{
					name: fmt.Sprintf("%s %q seq %v", s.typ, s.message, seq),
					body: hubtelHop(t, session, tt.phone, s.typ, s.message, seq),
					end:  s.end, want: s.want,
				})
			}
			screens := hubtelCarrier.run(t, g, cases)
			if r := hubtelCarrier.mustOneReport(t, g, session, tt.kind, screens[len(screens)-1]); !tt.check(r) {
				t.Fatalf("stored %+v", r)
			}
		})
	}
}

// TestHubtelOutOfOrder: a hop older than the session's newest is answered
// with the newest screen and applies nothing, so the walk goes on from
// where it was.
func TestHubtelOutOfOrder(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	const s = "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"
	hubtelCarrier.run(t, g, []carrierCase{
		{name: "initiation", body: hubtelHop(t, s, enDirector, "Initiation", "*384*2015#", 1), want: []string{"Record a home visit"}},
		{name: "1 seq 2", body: hubtelHop(t, s, enDirector, "Response", "1", 2), want: []string{"Enter the child ID"}},
		{name: "C0001 seq 3", body: hubtelHop(t, s, enDirector, "Response", "C0001", 3), want: []string{"How is 王小明?"}},
		// Applied, "1" would choose "Well" and move to the confirm screen.
		{name: "stale 1 seq 2", body: hubtelHop(t, s, enDirector, "Response", "1", 2), want: []string{"How is 王小明?"}, notWant: []string{"Confirm"}},
		{name: "stale initiation", body: hubtelHop(t, s, enDirector, "Initiation", "*384*2015#", 1), want: []string{"How is 王小明?"}},
	})
	snap, _, ok, err := g.Store.Load(context.Background(), menus.ChannelUSSD, "hubtel:"+s)
	if err != nil || !ok || snap.Seq != 3 || snap.Path != "1*C0001" {
		t.Fatalf("session after stale hops: seq %d path %q (found %v, err %v)", snap.Seq, snap.Path, ok, err)
	}
	hubtelCarrier.run(t, g, []carrierCase{
		{name: "2 seq 4", body: hubtelHop(t, s, enDirector, "Response", "2", 4), want: []string{"Needs support", "1. Confirm"}},
	})
}

// TestHubtelShortcut: an Initiation whose dial string extends the service
// code walks its inputs in, however Hubtel spells the code. Each case has a
// gateway of its own, so that no case meets another's unfinished walk.
func TestHubtelShortcut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		service, dialled string
		want             string
		next             carrierCase // a Response seq 2 after it, when named
	}{
		{"384*2015", "*384*2015*1*C0001#", "How is 王小明?",
			// The shortcut's inputs are the session's path: the next input
			// goes on from there.
			carrierCase{name: "4", end: false, want: []string{"王小明", "Urgent concern", "1. Confirm"}}},
		{"*384*2015#", "*384*2015*1*C0001#", "How is 王小明?", carrierCase{}},
		{"*384*2015", "*384*2015*1*C0001#", "How is 王小明?", carrierCase{}},
		{"384*2015#", "*384*2015*1*C0001", "How is 王小明?", carrierCase{}},
		{" 384*2015 ", "*384*2015*2#", "Enter the child ID", carrierCase{name: "C0002", want: []string{"What does 刘佳 need?"}}},
		{"384*2015", "*384*2015#", "1. Record a home visit", carrierCase{name: "1", want: []string{"Enter the child ID"}}},
		// Not an extension of the code: the top menu, no inputs guessed.
		{"384*2015", "*384*20151#", "1. Record a home visit", carrierCase{}},
		{"384*2015", "*384*2016*1#", "1. Record a home visit", carrierCase{}},
		{"384*2015", "", "1. Record a home visit", carrierCase{}},
		{"999", "*999*1#", "not in use", carrierCase{}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("code %q dial %q", tt.service, tt.dialled), func(t *testing.T) {
			t.Parallel()
			g := gatewaytest.MustGateway(t, gatewaytest.Options{})
			s := fmt.Sprintf("shortcut%02d", i)
			cases := []carrierCase{{
				name: "initiation",
				body: fixtureWith(t, "hubtel/initiation.json", map[string]any{"SessionId": s, "ServiceCode": tt.service, "Message": tt.dialled}),
				end:  tt.want == "not in use",
				want: []string{tt.want},
			}}
			if next := tt.next; next.name != "" {
				next.body = hubtelHop(t, s, enDirector, "Response", next.name, 2)
				cases = append(cases, next)
			}
			hubtelCarrier.run(t, g, cases)
		})
	}
}

// TestHubtelReleaseMidWalk: after Hubtel says the session ended, later
// callbacks for it make no progress and store nothing.
func TestHubtelReleaseMidWalk(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	const s = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
	hubtelCarrier.run(t, g, []carrierCase{
		{name: "initiation", body: hubtelHop(t, s, enDirector, "Initiation", "*384*2015#", 1), want: []string{"Record a home visit"}},
		{name: "1", body: hubtelHop(t, s, enDirector, "Response", "1", 2), want: []string{"Enter the child ID"}},
		{name: "C0002", body: hubtelHop(t, s, enDirector, "Response", "C0002", 3), want: []string{"How is 刘佳?"}},
		// Another phone can neither continue nor end the session.
		{name: "release by another phone", body: hubtelHop(t, s, zhDirector, "Release", "", 4), end: true, blank: true},
		{name: "choice", body: hubtelHop(t, s, enDirector, "Response", "2", 4), want: []string{"Needs support", "1. Confirm"}},
		{name: "release", body: hubtelHop(t, s, enDirector, "Release", "", 5), end: true, blank: true},
		{name: "confirm after release", body: hubtelHop(t, s, enDirector, "Response", "1", 6), end: true, want: []string{"Session ended. Please dial again."}, notWant: []string{"saved"}},
		{name: "again after release", body: hubtelHop(t, s, enDirector, "Response", "1", 7), end: true, want: []string{"Session ended. Please dial again."}},
	})
	snap, _, ok, err := g.Store.Load(context.Background(), menus.ChannelUSSD, "hubtel:"+s)
	if err != nil || !ok || !snap.Ended {
		t.Fatalf("session after release: ended %v (found %v, err %v)", snap.Ended, ok, err)
	}
	if n, err := g.DB.CountReports(context.Background(), menus.ReportVisit, "ussd:hubtel:"+s); n != 0 || err != nil {
		t.Fatalf("%d visits saved after release (err %v)", n, err)
	}
}

// TestHubtelUnknownSession: only the latest input of a session Barefoot
// does not have cannot be answered; the caller is asked to dial again.
func TestHubtelUnknownSession(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	hubtelCarrier.run(t, g, []carrierCase{
		{name: "response", body: hubtelHop(t, "never-seen-1", enDirector, "Response", "1", 3), end: true,
			want: []string{menus.Message(menus.MsgSessionError, "")}},
		{name: "release", body: hubtelHop(t, "never-seen-2", enDirector, "Release", "", 3), end: true, blank: true},
		{name: "timeout", body: hubtelHop(t, "never-seen-3", enDirector, "timeout", "", 3), end: true, blank: true},
	})
	for _, s := range []string{"never-seen-1", "never-seen-2", "never-seen-3"} {
		hubtelCarrier.mustStoreNothing(t, g, s)
	}
}

// TestHubtelFixtures replays the recorded payloads as they are.
func TestHubtelFixtures(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	const plain, shortcut = "3c8f1e0b6a2d4c7e9f105b3a8d6e2c41", "8d2b7c4e1f0a4b9c8e7d6a5b4c3d2e1f"
	hubtelCarrier.run(t, g, []carrierCase{
		{name: "initiation.json", body: fixture(t, "hubtel/initiation.json"), want: []string{"1. Record a home visit"}},
		{name: "response.json", body: fixture(t, "hubtel/response.json"), want: []string{"Enter the child ID"}},
		{name: "release.json", body: fixture(t, "hubtel/release.json"), end: true, blank: true},
		{name: "initiation_shortcut.json", body: fixture(t, "hubtel/initiation_shortcut.json"), want: []string{"How is 王小明?"}},
		{name: "timeout.json", body: fixture(t, "hubtel/timeout.json"), end: true, blank: true},
	})
	for _, s := range []string{plain, shortcut} {
		if snap, _, ok, err := g.Store.Load(context.Background(), menus.ChannelUSSD, "hubtel:"+s); err != nil || !ok || !snap.Ended {
			t.Fatalf("session %s: ended %v (found %v, err %v)", s, snap.Ended, ok, err)
		}
	}
	// The recorded refusals, refused by the gateway as by the bare adapter.
	for file, session := range map[string]string{
		"sequence_x.json":      "f0e1d2c3b4a5968778695a4b3c2d1e0f",
		"missing_session.json": "",
		"invalid_type.json":    "a1b2c3d4e5f60718293a4b5c6d7e8f90",
	} {
		hubtelCarrier.run(t, g, []carrierCase{recordedRefusal(t, "hubtel/"+file)})
		hubtelCarrier.mustStoreNothing(t, g, session)
	}
	hubtelCarrier.run(t, g, []carrierCase{{
		name: "form content type", body: fixtureWith(t, "hubtel/initiation.json", map[string]any{"SessionId": "ct-form"}),
		contentType: "application/x-www-form-urlencoded", status: 415, want: []string{"application/json"},
	}})
	hubtelCarrier.mustStoreNothing(t, g, "ct-form")
}

// TestHubtelInput covers what Hubtel's JSON may hold beyond the recorded
// payloads: tolerated variations, and refusals that name the field
// without echoing the value.
func TestHubtelInput(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	const secret = "SECRETVALUE"
	initiation := func(session string, set map[string]any) string {
		set["SessionId"] = session
		return fixtureWith(t, "hubtel/initiation.json", set)
	}
	ok := initiation("ok-raw", map[string]any{})
	tests := []struct {
		name        string
		session     string
		body        string
		contentType string
		status      int
		want        string
	}{
		// Accepted.
		{"type in capitals", "in-caps", initiation("in-caps", map[string]any{"Type": "INITIATION"}), "", 200, "Record a home visit"},
		{"unknown fields", "in-extra", initiation("in-extra", map[string]any{"ExtraData": map[string]any{"a": []int{1}}, "NewField": 7}), "", 200, "Record a home visit"},
		{"no Platform, Operator or ClientState", "in-legacy", initiation("in-legacy", map[string]any{"Platform": nil, "Operator": nil, "ClientState": nil}), "", 200, "Record a home visit"},
		{"charset parameter", "ok-raw", ok, "application/json; charset=utf-8", 200, "Record a home visit"},
		// Refused.
		{"sequence 0", "bad-seq0", initiation("bad-seq0", map[string]any{"Sequence": 0}), "", 400, "Sequence: not a whole number from 1"},
		{"sequence -1", "bad-seqneg", initiation("bad-seqneg", map[string]any{"Sequence": "-1"}), "", 400, "Sequence: "},
		{"sequence 1.5", "bad-seqfrac", initiation("bad-seqfrac", map[string]any{"Sequence": 1.5}), "", 400, "Sequence: "},
		{"sequence bool", "bad-seqbool", initiation("bad-seqbool", map[string]any{"Sequence": true}), "", 400, "Sequence: "},
		{"sequence empty", "bad-seqempty", initiation("bad-seqempty", map[string]any{"Sequence": ""}), "", 400, "Sequence: "},
		{"sequence missing", "bad-seqnone", initiation("bad-seqnone", map[string]any{"Sequence": nil}), "", 400, "Sequence: required"},
		{"no Mobile", "bad-mobile", initiation("bad-mobile", map[string]any{"Mobile": nil}), "", 400, "Mobile: required"},
		{"no Type", "bad-type", initiation("bad-type", map[string]any{"Type": nil}), "", 400, "Type: required"},
		{"AddToCart", "bad-cart", initiation("bad-cart", map[string]any{"Type": "AddToCart"}), "", 400, "Type: "},
		{"SessionId too long", strings.Repeat("s", 129), initiation(strings.Repeat("s", 129), map[string]any{}), "", 400, "SessionId: longer than 128"},
		{"Message too long", "bad-msglen", initiation("bad-msglen", map[string]any{"Message": "*384*2015*" + strings.Repeat("1*", 510) + secret + "#"}), "", 400, "Message: longer than 1024"},
		{"Mobile too long", "bad-mobilelen", initiation("bad-mobilelen", map[string]any{"Mobile": "8613800138002" + strings.Repeat("0", 20)}), "", 400, "Mobile: longer than 32"},
		{"ServiceCode too long", "bad-codelen", initiation("bad-codelen", map[string]any{"ServiceCode": "384*" + strings.Repeat("1", 61)}), "", 400, "ServiceCode: longer than 64"},
		{"ClientState too long", "bad-state", initiation("bad-state", map[string]any{"ClientState": strings.Repeat("x", 101) + secret}), "", 400, "ClientState: longer than 100"},
		{"NUL in Message", "bad-nul", initiation("bad-nul", map[string]any{"Message": "*384*2015*1*" + secret + "\x00#"}), "", 400, "Message: contains a NUL byte"},
		{"NUL in SessionId", "bad-nul\x00", initiation("bad-nul\x00", map[string]any{}), "", 400, "SessionId: contains a NUL byte"},
		{"invalid UTF-8", "bad-utf8", strings.Replace(initiation("bad-utf8", map[string]any{"Message": "*384*2015*1*" + secret + "#"}), secret, secret+"\xff", 1), "", 400, "not valid UTF-8"},
		{"Message twice", "bad-dup", strings.Replace(initiation("bad-dup", map[string]any{}), `"Message"`, `"Message":"*384*2015*2#","message"`, 1), "", 400, "Message: sent more than once"},
		{"SessionId a number", "", `{"SessionId": 12345, "Mobile": "8613800138002", "Type": "Initiation", "Sequence": 1}`, "", 400, "SessionId: wrong JSON type"},
		{"trailing data", "bad-trail", initiation("bad-trail", map[string]any{}) + `{"Type":"Release"}`, "", 400, "trailing data"},
		{"array", "", `[` + ok + `]`, "", 400, "body: "},
		{"empty body", "", ``, "", 400, "body: "},
		{"truncated", "bad-trunc", strings.TrimSuffix(initiation("bad-trunc", map[string]any{}), "}"), "", 400, "body: "},
		{"bad phone", "bad-phone", initiation("bad-phone", map[string]any{"Mobile": "12345"}), "", 400, "phone: "},
		{"text/plain", "bad-ct", initiation("bad-ct", map[string]any{}), "text/plain", 415, "application/json"},
		{"no content type", "bad-noct", initiation("bad-noct", map[string]any{}), "-", 415, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := carrierCase{name: tt.name, body: tt.body, contentType: tt.contentType, status: tt.status, want: []string{tt.want}}
			if tt.status != 200 {
				// Refusals never echo what was sent.
				c.notWant = []string{secret, "13800138002", tt.session}
				if tt.session == "" {
					c.notWant = c.notWant[:2]
				}
			}
			hubtelCarrier.run(t, g, []carrierCase{c})
			if tt.status != 200 {
				hubtelCarrier.mustStoreNothing(t, g, tt.session)
			}
		})
	}
	t.Run("gzip", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, g.URL+"/ussd/hubtel", strings.NewReader(initiation("bad-gzip", map[string]any{})))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := carrierClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("gzip body: status %d, want 415", resp.StatusCode)
		}
		hubtelCarrier.mustStoreNothing(t, g, "bad-gzip")
	})
	t.Run("body over limit", func(t *testing.T) {
		body := initiation("bad-big", map[string]any{"ExtraData": strings.Repeat("x", 20<<10)})
		if status, _, _ := postBody(t, g, "/ussd/hubtel", "application/json", body); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", status)
		}
		hubtelCarrier.mustStoreNothing(t, g, "bad-big")
	})
}

// ---- Generic ----

var genericCarrier = jsonCarrier{
	name:  "generic",
	route: "generic",
	reply: func(t *testing.T, req, resp []byte) (string, bool) {
		t.Helper()
		var in struct {
			SessionID string `json:"session_id"`
		}
		_ = json.Unmarshal(req, &in)
		m := replyFields(t, resp, "session_id", "text", "end")
		text, okText := m["text"].(string)
		end, okEnd := m["end"].(bool)
		if m["session_id"] != in.SessionID || !okText || !okEnd {
			t.Fatalf("generic reply %s to session %q", resp, in.SessionID)
		}
		return text, end
	},
}

// genericHop builds a request: cumulative when seq is 0, incremental
// otherwise.
func genericHop(t *testing.T, session, phone, event, inputs string, seq int) string {
	t.Helper()
	m := map[string]any{"session_id": session, "phone": phone, "service_code": "*384*2015#", "event": event}
	if seq == 0 {
		m["text"] = inputs
	} else {
		m["input"], m["seq"] = inputs, seq
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGenericWalks(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	type step struct {
		input string // the latest input
		end   bool
		want  []string
	}
	tests := []struct {
		name        string
		incremental bool
		phone       string
		kind        menus.ReportKind
		steps       []step
		check       func(r menus.Report) bool
	}{
		{"cumulative visit", false, enDirector, menus.ReportVisit, []step{
			{"", false, []string{"1. Record a home visit"}},
			{"1", false, []string{"Enter the child ID"}},
			{"C0004", false, []string{"How is 赵磊?"}},
			{"3", false, []string{"赵磊", "Some concern", "1. Confirm"}},
			{"1", true, []string{"Visit saved. Ref V"}},
		}, func(r menus.Report) bool { return r.ChildCode == "C0004" && r.Situation == "concern" }},
		{"incremental need", true, "8613800138001", menus.ReportNeed, []step{
			{"", false, []string{"2. 上报需求"}},
			{"2", false, []string{"请输入儿童编号"}},
			{"C0005", false, []string{"孙丽", "1. 出生或户口登记"}},
			{"1", false, []string{"1. 一般", "2. 紧急"}},
			{"2", false, []string{"孙丽", "紧急", "1. 确认"}},
			{"1", true, []string{"需求已上报，编号N"}},
		}, func(r menus.Report) bool {
			return r.ChildCode == "C0005" && r.Category == "registration" && r.Urgency == menus.UrgencyUrgent
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			session := fmt.Sprintf("gen-walk-%d", i)
			var cases []carrierCase
			var path []string
			for n, s := range tt.steps {
				event := "continue"
				if n == 0 {
					event = "begin"
				}
				body := genericHop(t, session, tt.phone, event, s.input, n+1)
				if !tt.incremental {
					if n > 0 {
						path = append(path, s.input)
					}
					body = genericHop(t, session, tt.phone, event, strings.Join(path, "*"), 0)
				}
				cases = append(cases, carrierCase{name: fmt.Sprintf("hop %d %q", n+1, s.input), body: body, end: s.end, want: s.want})
			}
			screens := genericCarrier.run(t, g, cases)
			if r := genericCarrier.mustOneReport(t, g, session, tt.kind, screens[len(screens)-1]); !tt.check(r) {
				t.Fatalf("stored %+v", r)
			}
		})
	}
}

// TestGenericEvents: begin, continue and end in both styles, from the
// recorded payloads.
func TestGenericEvents(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	genericCarrier.run(t, g, []carrierCase{
		{name: "begin_cumulative.json", body: fixture(t, "generic/begin_cumulative.json"), want: []string{"1. Record a home visit"}},
		{name: "continue_cumulative.json", body: fixture(t, "generic/continue_cumulative.json"), want: []string{"How is 王小明?"}},
		{name: "end_cumulative.json", body: fixture(t, "generic/end_cumulative.json"), end: true, blank: true},
		{name: "cumulative after end", body: genericHop(t, "gen-7f3a9c21", enDirector, "continue", "1*C0001*1", 0), end: true, notWant: []string{"Confirm"}},
		{name: "begin_incremental.json", body: fixture(t, "generic/begin_incremental.json"), want: []string{"2. 上报需求"}},
		{name: "continue_incremental.json", body: fixture(t, "generic/continue_incremental.json"), want: []string{"请输入儿童编号"}},
		{name: "stale seq", body: genericHop(t, "gen-51b0e6d4", "8613800138001", "continue", "1", 1), want: []string{"请输入儿童编号"}},
		{name: "end_incremental.json", body: fixture(t, "generic/end_incremental.json"), end: true, blank: true},
		{name: "incremental after end", body: genericHop(t, "gen-51b0e6d4", "8613800138001", "continue", "C0001", 4), end: true, notWant: []string{"王小明"}},
		{name: "begin_incremental_shortcut.json", body: fixture(t, "generic/begin_incremental_shortcut.json"), want: []string{"How is 王小明?"}},
		{name: "continue after shortcut", body: genericHop(t, "gen-0c9d8e7f", enDirector, "continue", "2", 2), want: []string{"Needs support", "1. Confirm"}},
		{name: "continue, session never seen", body: genericHop(t, "gen-unseen", enDirector, "continue", "1", 2), end: true, want: []string{"Please dial again."}},
	})
	genericCarrier.mustStoreNothing(t, g, "gen-unseen")
	for _, s := range []string{"gen-7f3a9c21", "gen-51b0e6d4"} {
		if snap, _, ok, err := g.Store.Load(context.Background(), menus.ChannelUSSD, "generic:"+s); err != nil || !ok || !snap.Ended {
			t.Fatalf("session %s: ended %v (found %v, err %v)", s, snap.Ended, ok, err)
		}
	}
}

func TestGenericBadInput(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	// The recorded refusals, refused by the gateway as by the bare adapter.
	for file, session := range map[string]string{
		"text_and_input.json": "gen-bad-both",
		"no_seq.json":         "gen-bad-noseq",
		"unknown_field.json":  "gen-bad-unknown",
		"case_variant.json":   "gen-bad-case",
		"duplicate_key.json":  "gen-bad-dup",
		"trailing_data.json":  "gen-bad-trailing",
		"invalid_utf8.json":   "gen-bad-utf8",
		"nul_byte.json":       "gen-bad-nul",
		"seq_string.json":     "gen-bad-seqstr",
		"bad_event.json":      "gen-bad-event",
	} {
		t.Run(file, func(t *testing.T) {
			c := recordedRefusal(t, "generic/"+file)
			c.notWant = []string{"13800138002"}
			genericCarrier.run(t, g, []carrierCase{c})
			genericCarrier.mustStoreNothing(t, g, session)
		})
	}
	synth := []struct {
		name, session, body, contentType string
		status                           int
		want                             string
	}{
		{"seq 0", "gen-s0", `{"session_id":"gen-s0","phone":"+8613800138002","service_code":"*384*2015#","event":"begin","input":"","seq":0}`, "", 400, "seq: not a whole number"},
		{"neither text nor input", "gen-none", `{"session_id":"gen-none","phone":"+8613800138002","service_code":"*384*2015#","event":"begin"}`, "", 400, "text: text or input required"},
		{"no service code", "gen-nocode", `{"session_id":"gen-nocode","phone":"+8613800138002","event":"begin","text":""}`, "", 400, "service_code: required"},
		{"phone too long", "gen-longphone", `{"session_id":"gen-longphone","phone":"+86138001380020000000000000000000","service_code":"*384*2015#","event":"begin","text":""}`, "", 400, "phone: longer than 32"},
		{"session_id too long", strings.Repeat("g", 129), genericHop(t, strings.Repeat("g", 129), enDirector, "begin", "", 0), "", 400, "session_id: longer than 128"},
		{"input too long", "gen-longin", genericHop(t, "gen-longin", enDirector, "begin", strings.Repeat("1*", 513), 1), "", 400, "input: longer than 1024"},
		{"service code too long", "gen-longcode", `{"session_id":"gen-longcode","phone":"+8613800138002","service_code":"*384*` + strings.Repeat("1", 60) + `#","event":"begin","text":""}`, "", 400, "service_code: longer than 64"},
		{"text too long", "gen-long", genericHop(t, "gen-long", enDirector, "begin", strings.Repeat("1*", 513), 0), "", 400, "text: longer than 1024"},
		{"not an object", "", `"begin"`, "", 400, "body: "},
		{"form content type", "gen-form", genericHop(t, "gen-form", enDirector, "begin", "", 0), "application/x-www-form-urlencoded", 415, "application/json"},
		{"text/plain", "gen-plain", genericHop(t, "gen-plain", enDirector, "begin", "", 0), "text/plain; charset=utf-8", 415, "application/json"},
		{"body over limit", "gen-big", genericHop(t, "gen-big", enDirector, "begin", strings.Repeat("1", 20<<10), 0), "", 413, ""},
	}
	for _, tt := range synth {
		t.Run(tt.name, func(t *testing.T) {
			genericCarrier.run(t, g, []carrierCase{{name: tt.name, body: tt.body, contentType: tt.contentType, status: tt.status, want: []string{tt.want}}})
			genericCarrier.mustStoreNothing(t, g, tt.session)
		})
	}
}
