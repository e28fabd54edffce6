package conversation_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/prometheus/client_golang/prometheus"
)

// counted reads a counter family as "label value/label value/..." (in
// the order of labels) -> count, leaving out the series at zero.
func counted(t *testing.T, reg *prometheus.Registry, family string, labels ...string) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetCounter().GetValue() == 0 {
				continue
			}
			by := map[string]string{}
			for _, l := range m.GetLabel() {
				by[l.GetName()] = l.GetValue()
			}
			key := make([]string, len(labels))
			for i, l := range labels {
				key[i] = by[l]
			}
			out[strings.Join(key, "/")] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestAbandonedWalks: a walk is counted abandoned, at the node the caller
// was at, where the gateway learns it was left: the carrier's release of
// an unfinished walk, a cancel or Home, an SMS conversation replaced or
// stopped, and an unfinished walk offered on the next dial (on each dial
// that offers it). A walk that reached its end, a retried release and a
// walk started again from the offer are not counted (again).
func TestAbandonedWalks(t *testing.T) {
	t.Parallel()
	// A step is one USSD hop (of session s, with the carrier's cumulative
	// path), a release of session s, or, with sms set, one SMS.
	type step struct {
		s, path string
		release bool
		sms     string
	}
	ussd := func(s string, paths ...string) []step {
		var out []step
		for _, p := range paths {
			out = append(out, step{s: s, path: p})
		}
		return out
	}
	release := func(s, path string) step { return step{s: s, path: path, release: true} }
	text := func(body string) step { return step{sms: body} }
	join := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	needDropped := ussd("a", "", "2", "2*C0001")
	cases := []struct {
		name  string
		steps []step
		// want is tree/node/reason -> count; sessions, channel/outcome.
		want, sessions map[string]float64
	}{
		{"cancelled at the confirm", ussd("a", "", "1", "1*C0001", "1*C0001*1", "1*C0001*1*2"),
			map[string]float64{"director/visit_confirm/cancelled": 1},
			map[string]float64{"ussd/started": 1, "ussd/abandoned": 1}},
		{"home mid-walk", ussd("a", "", "1", "1*C0001", "1*C0001*00"),
			map[string]float64{"director/visit_situation/cancelled": 1},
			map[string]float64{"ussd/started": 1, "ussd/abandoned": 1}},
		{"home before any answer", ussd("a", "", "1", "1*00"),
			map[string]float64{},
			map[string]float64{"ussd/started": 1}},
		{"released mid-walk", append(ussd("a", "", "1", "1*C0001"), release("a", "1*C0001")),
			map[string]float64{"director/visit_situation/released": 1},
			map[string]float64{"ussd/started": 1, "ussd/abandoned": 1}},
		{"released at the first screen", append(ussd("a", ""), release("a", "")),
			map[string]float64{"director/main/released": 1},
			map[string]float64{"ussd/started": 1, "ussd/abandoned": 1}},
		{"release retried", append(ussd("a", "", "1", "1*C0001"), release("a", "1*C0001"), release("a", "1*C0001")),
			map[string]float64{"director/visit_situation/released": 1},
			map[string]float64{"ussd/started": 1, "ussd/abandoned": 1}},
		{"released after its end", append(ussd("a", "", "1", "1*C0001", "1*C0001*1", "1*C0001*1*1"), release("a", "1*C0001*1*1")),
			map[string]float64{},
			map[string]float64{"ussd/started": 1, "ussd/completed": 1}},
		{"found on the next dial", join(needDropped, ussd("b", "")),
			map[string]float64{"director/need_category/timed_out": 1},
			map[string]float64{"ussd/started": 2, "ussd/abandoned": 1}},
		{"found, then resumed", join(needDropped, ussd("b", "", "1")),
			map[string]float64{"director/need_category/timed_out": 1},
			map[string]float64{"ussd/started": 2, "ussd/abandoned": 1, "ussd/resumed": 1}},
		{"found, then started again", join(needDropped, ussd("b", "", "2")),
			map[string]float64{"director/need_category/timed_out": 1},
			map[string]float64{"ussd/started": 2, "ussd/abandoned": 1}},
		{"found on each dial that offers it", join(needDropped, ussd("b", ""), ussd("c", "")),
			map[string]float64{"director/need_category/timed_out": 2},
			map[string]float64{"ussd/started": 3, "ussd/abandoned": 2}},
		{"an SMS conversation replaced, then stopped", []step{text("MENU"), text("1"), text("C0001"), text("MENU"), text("STOP")},
			map[string]float64{"director/visit_situation/cancelled": 1, "director/main/cancelled": 1},
			map[string]float64{"sms/started": 2, "sms/abandoned": 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := gatewaytest.MustGateway(t, gatewaytest.Options{})
			ctx := context.Background()
			for i, st := range c.steps {
				if st.sms != "" {
					in := sms.Message{Carrier: "kannel", CarrierID: fmt.Sprintf("m%d", i), Phone: benchDirector, To: "10690001", Body: st.sms}
					if _, err := g.Conversations.Receive(ctx, in, true); err != nil {
						t.Fatalf("sms %q: %v", st.sms, err)
					}
					continue
				}
				g.Conversations.Hop(ctx, conversation.Hop{Carrier: "at", Session: "abandon-" + st.s, Phone: benchDirector,
					Service: "*384*2015#", Path: st.path, Release: st.release, Budget: gateway.BudgetOf(africastalking.USSD{})})
			}
			if got := counted(t, g.Metrics, "barefoot_sessions_abandoned_total", "tree", "node", "reason"); !maps.Equal(got, c.want) {
				t.Errorf("abandoned %v, want %v", got, c.want)
			}
			if got := counted(t, g.Metrics, "barefoot_sessions_total", "channel", "outcome"); !maps.Equal(got, c.sessions) {
				t.Errorf("sessions %v, want %v", got, c.sessions)
			}
		})
	}
}
