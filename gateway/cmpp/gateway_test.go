package cmpp_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/cmpp"
	"github.com/barefoot-ussd/barefoot/gateway/cmpp/cmpptest"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

const (
	spID   = "901234"
	secret = "S3cret!"
	// zhGuardian is a guardian of the demo registry whose child's
	// allowance is approved; approved is what STATUS answers her.
	zhGuardian = "13900139001"
	approved   = "王小明的生活补贴已批准，每月500元，下次发放2026-12-15。"
)

// env is the gateway's CMPP settings for srv, fast enough for tests.
func env(srv *cmpptest.Server, extra ...string) map[string]string {
	e := map[string]string{
		"BAREFOOT_CMPP_ADDR": srv.Addr, "BAREFOOT_CMPP_SP_ID": spID, "BAREFOOT_CMPP_SECRET": secret,
		"BAREFOOT_CMPP_SERVICE_ID": "BFT", "BAREFOOT_CMPP_SRC_ID": "1069000188",
		"BAREFOOT_CMPP_HEARTBEAT": "200ms", "BAREFOOT_CMPP_RECONNECT": "20ms",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		e[extra[i]] = extra[i+1]
	}
	return e
}

// logBuffer collects a gateway's logs, safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// eventually polls cond until it holds, failing the test after a deadline.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func connected(tb testing.TB, srv *cmpptest.Server, n int) {
	tb.Helper()
	eventually(tb, fmt.Sprintf("%d connection(s) logged in", n), func() bool { return srv.Connected() == n })
}

func push(tb testing.TB, srv *cmpptest.Server, ds ...cmpp.Deliver) []uint32 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := srv.Push(ctx, ds...)
	if err != nil {
		tb.Fatalf("push: %v", err)
	}
	return res
}

func count(tb testing.TB, g *gatewaytest.Gateway, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := g.SQL(tb).Get(&n, q, args...); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

func newSender(g *gatewaytest.Gateway) *sender.Sender {
	return &sender.Sender{DB: g.DB, Carriers: g.Senders, Backoff: func(int) time.Duration { return 0 }, Log: slog.New(slog.DiscardHandler), Workers: 8}
}

// TestGuardianStatus: a guardian's 状态 in UCS-2, delivered three times
// as an ISMG does when its DELIVER_RESPs go missing, is recorded once and
// answered once, and the reply goes back over CMPP to her number.
func TestGuardianStatus(t *testing.T) {
	t.Parallel()
	srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret})
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv)})
	connected(t, srv, 1)

	mo := cmpptest.MO(zhGuardian, "1069000188", "状态", cmpp.FmtUCS2, 1, 0, 7001)
	for i := range 3 {
		if res := push(t, srv, mo...); res[0] != 0 {
			t.Fatalf("delivery %d answered %d, want 0", i+1, res[0])
		}
	}
	if n := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'in' AND carrier = 'cmpp' AND carrier_id = '7001' AND phone = '+8613900139001'`); n != 1 {
		t.Fatalf("%d inbound rows, want 1", n)
	}
	if n := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'out' AND carrier = 'cmpp' AND status = 'queued' AND body = $1`, approved); n != 1 {
		t.Fatalf("%d replies queued, want 1", n)
	}
	if n, err := newSender(g).SendDue(t.Context()); n != 1 || err != nil {
		t.Fatalf("SendDue = %d, %v", n, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Dest != zhGuardian || msgs[0].Text != approved || !msgs[0].Acked {
		t.Fatalf("ISMG got %+v, want one reply to %s", msgs, zhGuardian)
	}
	sub := srv.Submits()[0]
	if sub.MsgFmt != cmpp.FmtUCS2 || sub.SrcID != "1069000188" || sub.ServiceID != "BFT" || sub.MsgSrc != spID || sub.RegisteredDelivery != 1 || sub.Version != cmpp.V30 {
		t.Errorf("SUBMIT %+v", sub.Submit)
	}
	if n := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'out' AND carrier = 'cmpp' AND status = 'sent' AND carrier_id = $1`, fmt.Sprint(sub.MsgID)); n != 1 {
		t.Errorf("the reply is not recorded sent with the ISMG's Msg_Id")
	}
}

// TestInbound: GBK, 16-bit references, long messages in parts, over both
// versions, each reaches the conversation layer as one message.
func TestInbound(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("状态", 50) // 100 characters: more than one SMS
	tests := []struct {
		name    string
		version string
		mo      []cmpp.Deliver
		body    string
		id      string
	}{
		{"GBK", "3.0", cmpptest.MO(zhGuardian, "1069000188", "帮助", cmpp.FmtGBK, 1, 0, 8001), "帮助", "8001"},
		{"ASCII over 2.0, number with 86", "2.0", cmpptest.MO("86"+zhGuardian, "1069000188", "HELP", cmpp.FmtASCII, 1, 0, 8101), "HELP", "8101"},
		{"three UCS-2 parts", "3.0", cmpptest.MO(zhGuardian, "1069000188", long, cmpp.FmtUCS2, 3, 0x42, 8201), long, "8201"},
		{"three parts, 16-bit reference, 2.0", "2.0", cmpptest.MO(zhGuardian, "1069000188", long, cmpp.FmtUCS2, 3, 0x1234, 8301), long, "8301"},
		{"two GBK parts", "3.0", cmpptest.MO(zhGuardian, "1069000188", "查询补贴状态", cmpp.FmtGBK, 2, 9, 8401), "查询补贴状态", "8401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret})
			g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv, "BAREFOOT_CMPP_VERSION", tt.version)})
			connected(t, srv, 1)
			mo := tt.mo
			if len(mo) > 1 {
				// Parts arrive out of order, one of them twice.
				mo = append([]cmpp.Deliver{mo[len(mo)-1]}, mo...)
			}
			for i, res := range push(t, srv, mo...) {
				if res != 0 {
					t.Errorf("DELIVER %d answered %d", i, res)
				}
			}
			var body string
			err := g.SQL(t).Get(&body, `SELECT body FROM messages WHERE direction = 'in' AND carrier = 'cmpp' AND carrier_id = $1 AND phone = '+8613900139001'`, tt.id)
			if err != nil {
				t.Fatalf("no inbound message %s: %v", tt.id, err)
			}
			if n := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != 1 {
				t.Errorf("%d inbound rows, want 1", n)
			}
			if n := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'out'`); n != 1 {
				t.Errorf("%d replies, want 1", n)
			}
			if body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
		})
	}
}

// TestInboundRecordedBody: the guardian's message of three parts is kept
// whole (a registered sender's text is kept).
func TestInboundRecordedBody(t *testing.T) {
	t.Parallel()
	srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret})
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv)})
	connected(t, srv, 1)
	text := "状态 " + strings.Repeat("请告诉我孩子的补贴情况", 12)
	push(t, srv, cmpptest.MO(zhGuardian, "1069000188", text, cmpp.FmtUCS2, 3, 7, 9001)...)
	var body string
	if err := g.SQL(t).Get(&body, `SELECT body FROM messages WHERE direction = 'in' AND carrier_id = '9001'`); err != nil || body != text {
		t.Fatalf("body %q, %v; want the three parts joined", body, err)
	}
}

// TestStatusReport: the report of a sent reply marks it delivered; one
// that says otherwise marks it failed.
func TestStatusReport(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		stat, want string
	}{{"DELIVRD", sms.Delivered}, {"UNDELIV", sms.Failed}, {"EXPIRED", sms.Failed}} {
		t.Run(tt.stat, func(t *testing.T) {
			t.Parallel()
			srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret, Reports: true, ReportStat: tt.stat})
			g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv)})
			connected(t, srv, 1)
			push(t, srv, cmpptest.MO(zhGuardian, "1069000188", "状态", cmpp.FmtUCS2, 1, 0, 7101)...)
			if n, err := newSender(g).SendDue(t.Context()); n != 1 || err != nil {
				t.Fatalf("SendDue = %d, %v", n, err)
			}
			// A report can outrun the submit's response under load: the
			// gateway then answers it "not yet" (9) and the ISMG sends it
			// again, so the test waits for the report that was taken (0).
			taken := func() bool {
				res := srv.ReportResults()
				return len(res) > 0 && res[len(res)-1] == 0
			}
			for deadline := time.Now().Add(15 * time.Second); !taken() || count(t, g, `SELECT count(*) FROM messages WHERE direction = 'out' AND status = $1`, tt.want) != 1; {
				if time.Now().After(deadline) {
					var status, lastErr string
					_ = g.SQL(t).QueryRow(`SELECT status, COALESCE(last_error, '') FROM messages WHERE direction = 'out'`).Scan(&status, &lastErr)
					t.Fatalf("the reply is %s (%s), not %s; reports answered %v", status, lastErr, tt.want, srv.ReportResults())
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestDroppedMidWindow: twelve messages go out eight at a time; the ISMG
// drops the connection mid-window, before or after answering the SUBMIT
// it is reading. After the reconnection every message reaches it, and
// none it acknowledged reaches it twice.
func TestDroppedMidWindow(t *testing.T) {
	t.Parallel()
	for _, before := range []bool{false, true} {
		t.Run(fmt.Sprintf("before response %v", before), func(t *testing.T) {
			t.Parallel()
			srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret, DropAt: 5, DropBeforeResponse: before, Delay: 20 * time.Millisecond})
			g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv)})
			connected(t, srv, 1)
			const n = 12
			for i := range n {
				if _, _, err := g.DB.Enqueue(t.Context(), sms.Message{Carrier: cmpp.CarrierName, Phone: "+86139001390" + fmt.Sprintf("%02d", i), Body: fmt.Sprintf("message %02d", i), Kind: sms.KindAlert}); err != nil {
					t.Fatal(err)
				}
			}
			s := newSender(g)
			s.Batch = n
			if _, err := s.SendDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			if sent := count(t, g, `SELECT count(*) FROM messages WHERE status = 'sent'`); sent == n || sent == 0 {
				t.Fatalf("%d of %d sent before the drop: the drop was not mid-window", sent, n)
			}
			client := g.Senders[cmpp.CarrierName].(*cmpp.Client)
			eventually(t, "reconnected", func() bool { return srv.Logins() == 2 && client.Connected() })
			for deadline := time.Now().Add(20 * time.Second); count(t, g, `SELECT count(*) FROM messages WHERE status = 'sent'`) < n; {
				if time.Now().After(deadline) {
					t.Fatal("not every message was sent after the reconnection")
				}
				if _, err := s.SendDue(t.Context()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			received, acked := map[string]int{}, map[string]bool{}
			for _, m := range srv.Messages() {
				if acked[m.Text] {
					t.Errorf("%q reached the ISMG again after it was acknowledged", m.Text)
				}
				received[m.Text]++
				acked[m.Text] = acked[m.Text] || m.Acked
			}
			again := 0
			for i := range n {
				text := fmt.Sprintf("message %02d", i)
				if !acked[text] {
					t.Errorf("%q never acknowledged by the ISMG (received %d times)", text, received[text])
				}
				again += received[text] - 1
			}
			// Only a SUBMIT the ISMG read but never answered is sent twice.
			if !before && again != 0 || before && again > 1 {
				t.Errorf("%d messages sent twice", again)
			}
		})
	}
}

// TestTwoProcesses: two gateways on one database and one ISMG; one holds
// the connection, the other waits, and takes over when the first stops.
func TestTwoProcesses(t *testing.T) {
	t.Parallel()
	srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret})
	a := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv)})
	b := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv), DB: a.DB})
	connected(t, srv, 1)
	time.Sleep(300 * time.Millisecond) // several lock attempts of the other
	if srv.Logins() != 1 || srv.Connected() != 1 {
		t.Fatalf("%d logins, %d connected; want one process holding the connection", srv.Logins(), srv.Connected())
	}
	holder, waiter := a, b
	if !a.Senders[cmpp.CarrierName].(*cmpp.Client).Connected() {
		holder, waiter = b, a
	}
	if waiter.Senders[cmpp.CarrierName].(*cmpp.Client).Connected() {
		t.Fatal("both processes think they hold the connection")
	}
	_, err := waiter.Senders[cmpp.CarrierName].Send(t.Context(), sms.Message{ID: 1, Phone: "+8613900139001", Body: "hi"})
	if !sender.Retryable(err) {
		t.Errorf("a send from the process without the connection: %v, want a retryable error", err)
	}
	holder.StopCarriers()
	eventually(t, "the other process takes over", func() bool { return srv.Logins() == 2 && srv.Connected() == 1 })
	if srv.Terminates() != 1 {
		t.Errorf("%d TERMINATEs from the stopped process, want 1", srv.Terminates())
	}
	eventually(t, "the waiter's sender connected", func() bool { return waiter.Senders[cmpp.CarrierName].(*cmpp.Client).Connected() })
}

// TestLogin: a refused login is a clear error in the log, never the
// secret, and the connection is tried again; the right secret logs in.
func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     []string
		refuse  uint32
		wantLog string
	}{
		{"wrong secret", []string{"BAREFOOT_CMPP_SECRET", "not-the-secret"}, 0, "status 3: authentication failed"},
		{"wrong SP id", []string{"BAREFOOT_CMPP_SP_ID", "999999"}, 0, "status 2: bad source address"},
		{"version refused", nil, 4, "status 4: version too high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret, RefuseLogin: tt.refuse})
			logs := &logBuffer{}
			gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv, tt.env...), Log: logs})
			eventually(t, "two refused logins", func() bool { return srv.Refused() >= 2 })
			if srv.Logins() != 0 {
				t.Errorf("%d logins", srv.Logins())
			}
			eventually(t, "the refusal logged", func() bool { return strings.Contains(logs.String(), tt.wantLog) })
			if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "not-the-secret") {
				t.Errorf("a secret was logged")
			}
			// Fixed at the ISMG: the next attempt logs in.
			srv.Set(func(o *cmpptest.Options) {
				o.RefuseLogin, o.SPID, o.Secret = 0, env(srv, tt.env...)["BAREFOOT_CMPP_SP_ID"], env(srv, tt.env...)["BAREFOOT_CMPP_SECRET"]
			})
			connected(t, srv, 1)
		})
	}
}

// TestHeartbeat: on a quiet connection the SP's ACTIVE_TESTs keep an ISMG
// that drops silent connections from dropping it, and it answers the
// ISMG's own; unanswered ones drop the connection, which is made again.
func TestHeartbeat(t *testing.T) {
	t.Parallel()
	t.Run("keeps an idle connection", func(t *testing.T) {
		t.Parallel()
		srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret, IdleTimeout: 600 * time.Millisecond})
		gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv)})
		connected(t, srv, 1)
		time.Sleep(1500 * time.Millisecond)
		if srv.Logins() != 1 || srv.IdleDrops() != 0 || srv.ActiveTests() < 3 {
			t.Errorf("%d logins, %d idle drops, %d ACTIVE_TESTs; want one login kept alive", srv.Logins(), srv.IdleDrops(), srv.ActiveTests())
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if err := srv.ActiveTest(ctx); err != nil {
			t.Errorf("the ISMG's ACTIVE_TEST: %v", err)
		}
	})
	t.Run("unanswered drops the connection", func(t *testing.T) {
		t.Parallel()
		srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret, IgnoreActiveTests: true})
		gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv, "BAREFOOT_CMPP_HEARTBEAT", "50ms")})
		connected(t, srv, 1)
		eventually(t, "a reconnection after unanswered ACTIVE_TESTs", func() bool { return srv.Logins() >= 2 })
		if srv.ActiveTests() < 3 {
			t.Errorf("%d ACTIVE_TESTs before dropping, want at least 3", srv.ActiveTests())
		}
	})
}

// TestShutdown: stopping sends TERMINATE and returns; sends then fail
// retryably.
func TestShutdown(t *testing.T) {
	t.Parallel()
	srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret})
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv)})
	connected(t, srv, 1)
	done := make(chan struct{})
	go func() { g.StopCarriers(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stopping took more than 5 s")
	}
	if srv.Terminates() != 1 {
		t.Errorf("%d TERMINATEs, want 1", srv.Terminates())
	}
	eventually(t, "the connection closed", func() bool { return srv.Connected() == 0 })
	if _, err := g.Senders[cmpp.CarrierName].Send(t.Context(), sms.Message{ID: 1, Phone: "+8613900139001", Body: "hi"}); !sender.Retryable(err) {
		t.Errorf("send after shutdown: %v, want retryable", err)
	}
}

// TestReportAndAlert: a director's urgent one-line report arrives over
// CMPP; the need is saved, the director's answer and the supervisors'
// alert go back over CMPP, the alert with the child's code and the
// reference and no child name.
func TestReportAndAlert(t *testing.T) {
	t.Parallel()
	srv := cmpptest.New(t, cmpptest.Options{SPID: spID, Secret: secret})
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: env(srv), AlertCarrier: cmpp.CarrierName})
	connected(t, srv, 1)
	const director = "+8613800138001"
	if res := push(t, srv, cmpptest.MO(director, "1069000188", "N C0001 6 2", cmpp.FmtASCII, 1, 0, 7301)...); res[0] != 0 {
		t.Fatalf("DELIVER answered %d", res[0])
	}
	var ref string
	if err := g.SQL(t).Get(&ref, `SELECT ref FROM needs WHERE channel = 'sms' AND carrier = 'cmpp'`); err != nil {
		t.Fatalf("the need was not saved: %v", err)
	}
	if _, err := newSender(g).SendDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	var answer, alerts int
	for _, m := range srv.Messages() {
		switch {
		case strings.HasSuffix(director, m.Dest) && strings.Contains(m.Text, ref):
			answer++
		case strings.Contains(m.Text, "C0001") && strings.Contains(m.Text, ref) && !strings.Contains(m.Text, "王小明"):
			alerts++
		}
	}
	if answer != 1 || alerts == 0 {
		t.Fatalf("the ISMG got %d answers to the director and %d alerts: %+v", answer, alerts, srv.Messages())
	}
}
