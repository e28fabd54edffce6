package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// seedSessions stores n sessions at the director menu's first screen, as the
// first hop would leave them, so the benchmark measures mid-session hops.
func seedSessions(b *testing.B, g *gatewaytest.Gateway, prefix string, n int) {
	b.Helper()
	ctx := context.Background()
	m, ok := g.Catalog.ForService("*384*2015#")
	if !ok {
		b.Fatal("no director tree")
	}
	caller, err := g.DB.CallerByPhone(ctx, enDirector)
	if err != nil {
		b.Fatal(err)
	}
	snap := m.Start(caller, time.Now(), gateway.BudgetOf(africastalking.USSD{}))
	for i := range n {
		if _, err := g.Store.Save(ctx, menus.ChannelUSSD, fmt.Sprintf("at:%s%d", prefix, i), enDirector, 0, snap, 10*time.Minute, menus.ResumeKeep); err != nil {
			b.Fatal(err)
		}
	}
}

func hopBody(session, text string) string {
	return url.Values{
		"sessionId": {session}, "serviceCode": {"*384*2015#"}, "phoneNumber": {enDirector},
		"networkCode": {"46000"}, "text": {text},
	}.Encode()
}

func post(b *testing.B, c *http.Client, u, body string) {
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkUSSDHop is one full mid-session hop over HTTP on loopback: the
// Africa's Talking form is parsed, the phone normalised, the session loaded
// from Redis, the menu stepped and the session written back with the
// compare-and-set script.
func BenchmarkUSSDHop(b *testing.B) {
	g := gatewaytest.MustGateway(b, gatewaytest.Options{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	u := g.URL + "/ussd/africastalking"

	// The testing package runs each sub-benchmark several times with a
	// growing b.N; every run gets sessions of its own.
	var runs atomic.Int64
	fresh := func(kind string) string { return fmt.Sprintf("%s%d_", kind, runs.Add(1)) }

	b.Run("advance", func(b *testing.B) {
		p := fresh("adv")
		seedSessions(b, g, p, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			post(b, client, u, hopBody(fmt.Sprintf("%s%d", p, i), "1"))
		}
	})
	// advance-warm: the sessions' first hops went through this process,
	// as they do with a carrier's sticky routing, so a hop is one Redis
	// round trip (the compare-and-set); advance above is the cold case,
	// a load and the compare-and-set.
	b.Run("advance-warm", func(b *testing.B) {
		p := fresh("warm")
		for i := range b.N {
			g.Conversations.Hop(context.Background(), conversation.Hop{Carrier: "at", Session: fmt.Sprintf("%s%d", p, i),
				Phone: enDirector, Service: "*384*2015#", Budget: gateway.BudgetOf(africastalking.USSD{})})
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			post(b, client, u, hopBody(fmt.Sprintf("%s%d", p, i), "1"))
		}
	})
	b.Run("advance-parallel", func(b *testing.B) {
		p := fresh("par")
		seedSessions(b, g, p, b.N)
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				post(b, client, u, hopBody(fmt.Sprintf("%s%d", p, next.Add(1)-1), "1"))
			}
		})
	})
	b.Run("retry", func(b *testing.B) {
		p := fresh("dup")
		seedSessions(b, g, p, 1)
		post(b, client, u, hopBody(p+"0", "1"))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			post(b, client, u, hopBody(p+"0", "1"))
		}
	})
	b.Run("first-hop", func(b *testing.B) {
		p := fresh("new")
		b.ReportAllocs()
		for i := range b.N {
			post(b, client, u, hopBody(fmt.Sprintf("%s%d", p, i), ""))
		}
	})
}

// BenchmarkSMSInbound is one inbound SMS over HTTP on loopback, answered
// inline (the Kannel endpoint): recorded in Postgres, rate-limited in
// Redis, the guardian and allowances looked up, the reply recorded.
func BenchmarkSMSInbound(b *testing.B) {
	g := gatewaytest.MustGateway(b, gatewaytest.Options{ReplyLimit: 1 << 30})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q := url.Values{"from": {zhGuardian}, "to": {"10690001"}, "text": {"状态"}, "id": {fmt.Sprintf("bench-%d", n.Add(1))}}
			resp, err := client.Get(g.URL + "/sms/kannel?" + q.Encode())
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkSignInFlood checks thirty wrong passwords at once, as a flood
// of sign-ins that beat the per-address throttle (many addresses) would,
// while a director's USSD hops go on; it reports the process's peak
// resident memory and the slowest hop during the flood. Password hashing
// holds two slots, so memory stays bounded and hops are not starved.
func BenchmarkSignInFlood(b *testing.B) {
	g := gatewaytest.MustGateway(b, gatewaytest.Options{})
	mustUserTB(b, g, "county", "admin")
	client := &http.Client{}
	var slowest time.Duration
	for i := 0; b.Loop(); i++ {
		var wg sync.WaitGroup
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = g.DB.Authenticate(context.Background(), "county", "a wrong password")
			}()
		}
		for j := range 5 {
			start := time.Now()
			post(b, client, g.URL+"/ussd/africastalking", hopBody(fmt.Sprintf("ATUid_flood%d_%d", i, j), ""))
			slowest = max(slowest, time.Since(start))
		}
		wg.Wait()
	}
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-MB")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "slowest-hop-ms")
}

// peakRSS reads the process's peak resident set size (VmHWM).
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc here")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb << 10
		}
	}
	return 0
}

func mustUserTB(tb testing.TB, g *gatewaytest.Gateway, name, role string) {
	tb.Helper()
	if _, err := g.DB.CreateUser(context.Background(), access.User{}, name, "correct horse battery", role); err != nil {
		tb.Fatal(err)
	}
}
