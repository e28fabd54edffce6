package gateway_test

import (
	"bufio"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
)

// series is one sample of /metrics.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape fetches /metrics as Prometheus does and parses its samples.
func scrape(t *testing.T, g *gatewaytest.Gateway) []series {
	t.Helper()
	status, body := g.Get(t, "/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	var out []series
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("/metrics: unparsed line %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", line, err)
		}
		s := series{name: m[1], labels: map[string]string{}, value: v}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			s.labels[l[1]] = l[2]
		}
		out = append(out, s)
	}
	return out
}

// sum adds up the samples named name whose labels include want (pairs of
// name and value), and says how many there were.
func sum(ss []series, name string, want ...string) (float64, int) {
	var total float64
	var n int
next:
	for _, s := range ss {
		if s.name != name {
			continue
		}
		for i := 0; i+1 < len(want); i += 2 {
			if s.labels[want[i]] != want[i+1] {
				continue next
			}
		}
		total += s.value
		n++
	}
	return total, n
}

// hubtelAs sends one Hubtel callback from phone.
func hubtelAs(t *testing.T, g *gatewaytest.Gateway, phone, session, typ, message string, seq int) {
	t.Helper()
	body := fmt.Sprintf(`{"Mobile":%q,"SessionId":%q,"ServiceCode":"384*2015","Type":%q,"Message":%q,"Operator":"mtn","Sequence":%d,"ClientState":"","Platform":"USSD"}`,
		strings.TrimPrefix(phone, "+"), session, typ, message, seq)
	if status, resp := g.PostRaw(t, "/ussd/hubtel", "application/json", body); status != 200 {
		t.Fatalf("hubtel %s %q: %d %s", typ, message, status, resp)
	}
}

// TestMetrics walks a visit to its save, a walk dropped and resumed on the
// next dial, one the carrier releases and one the caller cancels, dials a
// code no tree answers, queues an SMS reply, then scrapes /metrics: every family an operator reads to
// see where the gateway hurts is there, with the labels and the counts
// those walks make.
func TestMetrics(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	atHops := 0
	at := func(session, phone string, texts ...string) string {
		t.Helper()
		var last string
		for _, text := range texts {
			status, body := g.Post(t, "/ussd/africastalking", gatewaytest.ATForm(session, phone, "*384*2015#", text))
			if status != 200 {
				t.Fatalf("AT %s %q: %d %s", session, text, status, body)
			}
			atHops++
			last = body
		}
		return last
	}
	// A visit saved.
	if end := at("ATUid_m_saved", enDirector, "", "1", "1*C0001", "1*C0001*1", "1*C0001*1*1"); !strings.HasPrefix(end, "END Visit saved") {
		t.Fatalf("visit: %q", end)
	}
	// A need dropped at its category, found on the next dial and resumed.
	at("ATUid_m_dropped", shimenDirector, "", "2", "2*C0009")
	if got := at("ATUid_m_redial", shimenDirector, "", "1"); !strings.Contains(got, "需要什么") {
		t.Fatalf("resumed walk: %q", got)
	}
	// A visit the carrier releases at its second question.
	hubtelAs(t, g, zhDirector, "m-released", "Initiation", "*384*2015#", 1)
	hubtelAs(t, g, zhDirector, "m-released", "Response", "1", 2)
	hubtelAs(t, g, zhDirector, "m-released", "Response", "C0001", 3)
	hubtelAs(t, g, zhDirector, "m-released", "Release", "", 4)
	const hubtelHops = 4
	// A dial of a code no tree answers: refused before any tree.
	if status, body := g.Post(t, "/ussd/africastalking", gatewaytest.ATForm("ATUid_m_unknown", enDirector, "*999#", "")); status != 200 || !strings.HasPrefix(body, "END") {
		t.Fatalf("unknown code: %d %q", status, body)
	}
	atHops++
	// A visit cancelled at its confirm.
	at("ATUid_m_cancelled", enDirector, "", "1", "1*C0002", "1*C0002*1", "1*C0002*1*2")
	// A reply queued for the sender (none runs here).
	form := url.Values{"from": {zhGuardian}, "to": {"20880"}, "text": {"状态"}, "id": {"ATXid_metrics_1"}, "date": {"2026-11-28 10:00:00"}}
	if status, body := g.Post(t, "/sms/africastalking", form); status != 200 {
		t.Fatalf("AT sms: %d %s", status, body)
	}

	ss := scrape(t, g)
	// The outbox is read at most once a second; one scrape may predate
	// the reply.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if n, _ := sum(ss, "barefoot_outbox_messages", "carrier", "at", "state", "due"); n >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
		ss = scrape(t, g)
	}

	type want struct {
		name   string
		labels []string
		op     string // "=", ">=" or "series" (how many samples, at least)
		value  float64
	}
	checks := []want{
		// Hop latency: one observation per hop, per carrier and per node.
		{"barefoot_hop_seconds_count", []string{"channel", "ussd", "carrier", "at"}, "=", float64(atHops)},
		{"barefoot_hop_seconds_count", []string{"channel", "ussd", "carrier", "hubtel"}, "=", hubtelHops},
		{"barefoot_hop_seconds_bucket", []string{"carrier", "at", "le", "5"}, "=", float64(atHops)},
		{"barefoot_hop_seconds_bucket", []string{"carrier", "at", "le", "0.0005"}, "series", 1},
		{"barefoot_hop_seconds_sum", []string{"carrier", "at"}, ">=", 1e-6},
		{"barefoot_node_hop_seconds_count", nil, "=", float64(atHops + hubtelHops)},
		{"barefoot_node_hop_seconds_count", []string{"tree", "director", "node", "visit_saved"}, "=", 1},
		{"barefoot_node_hop_seconds_count", []string{"tree", "director", "node", "_resume"}, "=", 1},
		{"barefoot_node_hop_seconds_count", []string{"tree", "director", "node", "need_category"}, "=", 2},
		{"barefoot_node_hop_seconds_count", []string{"tree", "none", "node", "none"}, "=", 1},
		// Walks: started, completed, abandoned and where, resumed.
		{"barefoot_sessions_total", []string{"channel", "ussd", "outcome", "started"}, "=", 5},
		{"barefoot_sessions_total", []string{"channel", "ussd", "outcome", "completed"}, "=", 1},
		{"barefoot_sessions_total", []string{"channel", "ussd", "outcome", "abandoned"}, "=", 3},
		{"barefoot_sessions_total", []string{"channel", "ussd", "outcome", "resumed"}, "=", 1},
		{"barefoot_sessions_total", []string{"channel", "sms"}, "series", 4},
		{"barefoot_sessions_abandoned_total", nil, "=", 3},
		{"barefoot_sessions_abandoned_total", []string{"tree", "director", "node", "need_category", "reason", "timed_out"}, "=", 1},
		{"barefoot_sessions_abandoned_total", []string{"tree", "director", "node", "visit_situation", "reason", "released"}, "=", 1},
		{"barefoot_sessions_abandoned_total", []string{"tree", "director", "node", "visit_confirm", "reason", "cancelled"}, "=", 1},
		// Reports saved, per channel.
		{"barefoot_reports_total", []string{"kind", "visit", "channel", "ussd", "outcome", "saved"}, "=", 1},
		// The outbox.
		{"barefoot_outbox_messages", []string{"carrier", "at", "state", "due"}, ">=", 1},
		{"barefoot_outbox_messages", []string{"carrier", "at", "state", "deferred"}, "=", 0},
		{"barefoot_outbox_oldest_seconds", []string{"carrier", "at", "state", "due"}, ">=", 0},
		{"barefoot_outbox_oldest_seconds", []string{"carrier", "at", "state", "sending"}, "=", 0},
		{"barefoot_outbox_scrape_errors_total", nil, "=", 0},
		// Store failures: none here, each series there from the start.
		{"barefoot_store_errors_total", nil, "=", 0},
		{"barefoot_store_errors_total", []string{"store", "redis", "op", "load"}, "series", 1},
		{"barefoot_store_errors_total", []string{"store", "redis", "op", "save"}, "series", 1},
		{"barefoot_store_errors_total", []string{"store", "postgres", "op", "registry"}, "series", 1},
		{"barefoot_store_errors_total", []string{"store", "postgres", "op", "report"}, "series", 1},
		// The pools.
		{"go_sql_max_open_connections", []string{"db_name", "barefoot"}, "=", 20},
		{"go_sql_open_connections", []string{"db_name", "barefoot"}, ">=", 1},
		{"go_sql_wait_count_total", []string{"db_name", "barefoot"}, ">=", 0},
		{"go_sql_wait_duration_seconds_total", []string{"db_name", "barefoot"}, ">=", 0},
		{"barefoot_redis_pool_connections", nil, ">=", 1},
		{"barefoot_redis_pool_connections", []string{"state", "idle"}, "series", 1},
		{"barefoot_redis_pool_connections", []string{"state", "in_use"}, "series", 1},
		{"barefoot_redis_pool_hits_total", nil, ">=", 1},
		{"barefoot_redis_pool_waits_total", nil, ">=", 0},
		{"barefoot_redis_pool_wait_seconds_total", nil, ">=", 0},
		{"barefoot_redis_pool_timeouts_total", nil, ">=", 0},
	}
	for _, c := range checks {
		got, n := sum(ss, c.name, c.labels...)
		what := fmt.Sprintf("%s%v", c.name, c.labels)
		switch {
		case n == 0 && c.op != "series":
			t.Errorf("%s: no such series", what)
		case c.op == "=" && got != c.value:
			t.Errorf("%s = %v, want %v", what, got, c.value)
		case c.op == ">=" && got < c.value:
			t.Errorf("%s = %v, want at least %v", what, got, c.value)
		case c.op == "series" && float64(n) < c.value:
			t.Errorf("%s: %d series, want at least %v", what, n, c.value)
		}
	}
	// Every hop counted is timed, carrier by carrier.
	for _, carrier := range []string{"at", "hubtel"} {
		hops, _ := sum(ss, "barefoot_hops_total", "carrier", carrier)
		timed, _ := sum(ss, "barefoot_hop_seconds_count", "carrier", carrier)
		if hops != timed {
			t.Errorf("%s: %v hops counted, %v timed", carrier, hops, timed)
		}
	}
}
