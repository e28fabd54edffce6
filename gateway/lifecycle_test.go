package gateway_test

import (
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/prometheus/client_golang/prometheus"
)

// transitions reads the lifecycle counter as "from>to" -> count.
func transitions(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "barefoot_session_transitions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var from, to string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "from":
					from = l.GetValue()
				case "to":
					to = l.GetValue()
				}
			}
			out[from+">"+to] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestLifecycle walks sessions through every lifecycle phase and checks
// each transition was counted (and so logged) exactly as often as made.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	// A whole visit: started, active, confirming, saved, ended.
	for _, text := range []string{"", "1", "1*C0001", "1*C0001*1", "1*C0001*1*1"} {
		g.AT(t, "ATUid_life1", enDirector, text)
	}
	// Retries change nothing.
	g.AT(t, "ATUid_life1", enDirector, "1*C0001*1*1")
	g.AT(t, "ATUid_life1", enDirector, "1")
	// A drop mid-report, then a dial that resumes it: timed out, resumed.
	for _, text := range []string{"", "2", "2*C0002"} {
		g.AT(t, "ATUid_life2", enDirector, text)
	}
	g.AT(t, "ATUid_life3", enDirector, "")
	g.AT(t, "ATUid_life3", enDirector, "1")
	// A carrier release mid-report: released.
	hubtel := func(typ, seq, msg string) {
		body := `{"SessionId":"life4","Mobile":"8613800138001","ServiceCode":"*384*2015#","Type":"` + typ + `","Message":"` + msg + `","Sequence":` + seq + `}`
		if status, resp := g.PostRaw(t, "/ussd/hubtel", "application/json", body); status != 200 {
			t.Fatalf("hubtel %s: %d %s", typ, status, resp)
		}
	}
	hubtel("Initiation", "1", "*384*2015#")
	hubtel("Response", "2", "1")
	hubtel("Release", "3", "")

	got := transitions(t, g.Metrics)
	want := map[string]float64{
		"none>started":      4, // life1, life2, life3, life4
		"started>active":    3, // life1, life2, life4 (life3 went to the offer)
		"active>confirming": 1,
		"confirming>saved":  1,
		"saved>ended":       1,
		"active>timed_out":  1, // life2, found by life3's dial
		"timed_out>resumed": 1,
		"active>released":   1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("transition %s counted %v times, want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected transition %s (%v)", k, v)
		}
	}
	status, body := g.Get(t, "/metrics")
	if status != 200 || !strings.Contains(body, `barefoot_hops_total{carrier="at",channel="ussd",kind="repeat"} 1`) {
		t.Fatalf("/metrics: %d\n%s", status, body)
	}
}
