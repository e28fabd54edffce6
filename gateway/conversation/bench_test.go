package conversation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
)

const benchDirector = "+8613800138002"

// BenchmarkHop is one USSD hop through the conversation layer, without
// HTTP, on sessions whose first hop went through this process (as with a
// carrier's sticky routing). A repeat (a carrier's retry) touches no store,
// so it is the fixed cost every hop pays: the cache, the routing, the
// logging and metrics; an advance adds the menu step and Redis's
// compare-and-set.
func BenchmarkHop(b *testing.B) {
	g := gatewaytest.MustGateway(b, gatewaytest.Options{})
	budget := gateway.BudgetOf(africastalking.USSD{})
	hop := func(session, path string) conversation.Reply {
		return g.Conversations.Hop(context.Background(), conversation.Hop{Carrier: "at", Session: session,
			Phone: benchDirector, Service: "*384*2015#", Path: path, Budget: budget})
	}
	run := 0
	start := func(b *testing.B, n int) string {
		run++
		p := fmt.Sprintf("bench%d_", run)
		for i := range n {
			if r := hop(fmt.Sprintf("%s%d", p, i), ""); r.End {
				b.Fatalf("first hop ended: %q", r.Text)
			}
		}
		return p
	}
	b.Run("repeat", func(b *testing.B) {
		p := start(b, 1)
		hop(p+"0", "1")
		b.ReportAllocs()
		for b.Loop() {
			hop(p+"0", "1")
		}
	})
	b.Run("advance", func(b *testing.B) {
		p := start(b, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			hop(fmt.Sprintf("%s%d", p, i), "1")
		}
	})
}
