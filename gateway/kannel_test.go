package gateway_test

// The gateway behind a real Kannel 1.4.5 (bearerbox, smsbox and the
// fakesmsc test SMSC, run by kanneltest on spare ports), with the
// recommended kannel.conf: what phones send arrives whole, and what the
// gateway answers reaches the phones intact, Chinese included, with
// Kannel's recoding on and off.

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/kannel/kanneltest"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// getURL is the recommended sms-service get-url (gateway/kannel/kannel.conf)
// pointed at addr.
func getURL(addr string) string {
	return "http://" + addr + "/sms/kannel?from=%p&to=%P&text=%b&id=%I&coding=%c&charset=%C"
}

// kannelPair runs Kannel and a gateway behind it, the gateway sending
// through Kannel's sendsms and asking for its delivery reports.
func kannelPair(t *testing.T, recode bool, cfg kanneltest.Config) (*gatewaytest.Gateway, *kanneltest.Kannel) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.GetURL = getURL(ln.Addr().String())
	cfg.MORecode = &recode
	k := kanneltest.Start(t, cfg)
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Listener: ln, AlertCarrier: "kannel", Env: map[string]string{
		"BAREFOOT_KANNEL_URL": k.BaseURL(), "BAREFOOT_KANNEL_USERNAME": k.Username(),
		"BAREFOOT_KANNEL_PASSWORD": k.Password(), "BAREFOOT_KANNEL_FROM": "10690001",
	}})
	return g, k
}

func eachRecoding(t *testing.T, f func(t *testing.T, recode bool)) {
	for _, recode := range []bool{true, false} {
		t.Run(fmt.Sprintf("mo-recode=%v", recode), func(t *testing.T) {
			t.Parallel()
			f(t, recode)
		})
	}
}

// TestKannelChineseIntact: a family's 状态 and STATUS, a director's
// Chinese one-line need and a long Chinese message go through Kannel and
// come back to the phones as written; the need's supervisor alert goes out
// through sendsms, arrives intact, and its delivery report marks it
// delivered.
func TestKannelChineseIntact(t *testing.T) {
	t.Parallel()
	eachRecoding(t, func(t *testing.T, recode bool) {
		g, k := kannelPair(t, recode, kanneltest.Config{})
		const approved = "王小明的生活补贴已批准，每月500元，下次发放2026-12-15。"
		for _, text := range []string{"状态", "STATUS"} {
			k.MO(t, zhGuardian, "10690001", text)
			mt := k.MT(t, 20*time.Second)
			if mt.To != zhGuardian || mt.Text != approved || mt.Coding != kanneltest.CodingUCS2 {
				t.Fatalf("%s: the phone got %+v", text, mt)
			}
		}

		k.MO(t, zhDirector, "10690001", "需求 C0001 6 2")
		reply := k.MT(t, 20*time.Second)
		ref := refRE.FindString(reply.Text)
		if reply.To != zhDirector || !strings.HasPrefix(reply.Text, "需求已上报，编号N") || ref == "" {
			t.Fatalf("need: the phone got %+v", reply)
		}
		s := &sender.Sender{DB: g.DB, Carriers: g.Senders, Log: slog.New(slog.DiscardHandler)}
		// The county's alert, and the case SMS to the township of the
		// child's village.
		if n, err := s.SendDue(context.Background()); err != nil || n != 2 {
			t.Fatalf("SendDue = %d, %v; want the alert and the case", n, err)
		}
		got := map[string]string{}
		for range 2 {
			mt := k.MT(t, 20*time.Second)
			got[mt.To] = mt.Text
		}
		if alert := got["+8613700137001"]; !strings.HasPrefix(alert, "紧急：儿童C0001，保护问题。") || !strings.Contains(alert, ref) {
			t.Fatalf("alert: the supervisor got %q", alert)
		}
		if c := got["+8613700137002"]; !strings.HasPrefix(c, "新个案") || !strings.Contains(c, "保护问题") || strings.Contains(c, "王小明") {
			t.Fatalf("case: the township's supervisor got %q", c)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			msgs, err := g.DB.Messages(context.Background(), "+8613700137001")
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) == 1 && msgs[0].Status == sms.Delivered {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the alert's delivery report never arrived: %+v", msgs)
			}
			time.Sleep(50 * time.Millisecond)
		}

		long := "状态 " + strings.Repeat("请问我孩子的补贴什么时候发放？", 15) // 230 characters: four UCS-2 parts
		k.MO(t, zhGuardian, "10690001", long)
		if mt := k.MT(t, 20*time.Second); mt.Text != approved {
			t.Fatalf("long message: the phone got %+v", mt)
		}
		if n := countRows(t, g, `SELECT count(*) FROM messages WHERE direction = 'in' AND body = $1`, long); n != 1 {
			t.Fatalf("the long message was stored %d times whole, want 1", n)
		}
	})
}

// TestFaultKannelRetriesThroughAnOutage: the gateway is down when a director's
// form arrives; Kannel retries, as the recommended configuration tells it
// to, and the report is saved once when the gateway is back.
func TestFaultKannelRetriesThroughAnOutage(t *testing.T) {
	t.Parallel()
	// The port is chosen now and nothing listens on it yet.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	recode := true
	k := kanneltest.Start(t, kanneltest.Config{GetURL: getURL(addr), MORecode: &recode, HTTPQueueDelay: time.Second})
	k.MO(t, enDirector, "10690001", "V C0003 2")
	time.Sleep(2500 * time.Millisecond) // Kannel's first calls fail: the gateway is down
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Listener: ln})
	mt := k.MT(t, 20*time.Second)
	if mt.To != enDirector || !strings.HasPrefix(mt.Text, "Visit saved. Ref V") {
		t.Fatalf("after the outage the phone got %+v", mt)
	}
	if n := countRows(t, g, `SELECT count(*) FROM visits WHERE channel = 'sms' AND carrier = 'kannel'`); n != 1 {
		t.Fatalf("%d visits saved, want 1", n)
	}
	k.NoMT(t, 2*time.Second) // and nothing answered twice
}

// TestKannelRefusalsAreAnswered: a message the gateway cannot use gets the
// keywords with a 200, not a 4xx Kannel would retry and turn into "Could
// not fetch content, sorry."; only a message too long for any carrier is
// refused, 413.
func TestKannelRefusalsAreAnswered(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	for _, q := range []string{
		"from=12345&to=10690001&text=hi&id=k1",                               // not a phone number
		"to=10690001&text=hi&id=k2",                                          // no sender
		"from=%2B8613900139001&text=%01%02&coding=1&charset=binary&id=k3",    // binary data
		"from=%2B8613900139001&text=r%B6%60&coding=2&charset=UTF-16BE&id=k4", // broken UTF-16
	} {
		status, body := g.Get(t, "/sms/kannel?"+q)
		if status != 200 || !strings.Contains(body, "STATUS") {
			t.Errorf("%s: %d %q, want 200 with the keywords", q, status, body)
		}
	}
	status, _ := g.Get(t, "/sms/kannel?from=%2B8613900139001&id=k5&text="+strings.Repeat("a", 5000))
	if status != 413 {
		t.Errorf("a 5000-byte text: %d, want 413", status)
	}
}
