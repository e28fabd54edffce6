package gateway_test

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/tencent"
	"github.com/barefoot-ussd/barefoot/gateway/tencent/tencenttest"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
)

// Tencent Cloud SMS through the whole gateway: reply callbacks under the
// webhook secret, recorded once and answered through the outbox; sends to
// the fake API, signed; status callbacks settling them.

const (
	tencentSecret    = "tencent-webhook-secret"
	tencentAck       = `{"result":0,"errmsg":"OK"}`
	tencentSecretID  = "AKIDgateway000000000000000000000001"
	tencentSecretKey = "gateway-secret-key-0123456789abcdef"
)

// tencentReply is a reply callback from a mainland number ("+86...").
func tencentReply(phone, text string, at int64) string {
	return `{"extend":"","mobile":"` + strings.TrimPrefix(phone, "+86") + `","nationcode":"86","sign":"赤脚儿童","text":"` + text + `","time":` + strconv.FormatInt(at, 10) + `}`
}

func TestTencentReply(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{WebhookSecret: tencentSecret})
	push := tencentReply(zhGuardian, "状态", 1764316800)
	withHeader := func(body string) *http.Request {
		r := wiretest.Request(http.MethodPost, "/sms/tencent", "application/json", body)
		r.Header.Set(gateway.SecretHeader, tencentSecret)
		return r
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
		body string
	}{
		{"no secret", wiretest.Request(http.MethodPost, "/sms/tencent", "application/json", push), http.StatusForbidden, "forbidden"},
		{"wrong secret", wiretest.Request(http.MethodPost, "/sms/tencent/not-it", "application/json", push), http.StatusForbidden, "forbidden"},
		{"secret in the path", wiretest.Request(http.MethodPost, "/sms/tencent/"+tencentSecret, "application/json", push), http.StatusOK, tencentAck},
		{"retried push", wiretest.Request(http.MethodPost, "/sms/tencent/"+tencentSecret, "application/json", push), http.StatusOK, tencentAck},
		{"retried, secret in a header", withHeader(push), http.StatusOK, tencentAck},
		{"malformed", withHeader(`{"mobile":"13900139001","nationcode":"86","text":"状态"}`), http.StatusBadRequest, "time: required"},
		{"not json", withHeader(`mobile=13900139001`), http.StatusBadRequest, "body: "},
		{"not a mainland number", withHeader(`{"mobile":"1","nationcode":"86","text":"状态","time":1764316800}`), http.StatusBadRequest, "not a valid phone number"},
	} {
		if code, body := g.Do(t, tc.req); code != tc.want || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, body, tc.want, tc.body)
		}
	}
	msgs, err := g.DB.Messages(t.Context(), zhGuardian)
	if err != nil {
		t.Fatal(err)
	}
	var in, out []sms.Message
	for _, m := range msgs {
		if m.Direction == sms.In {
			in = append(in, m)
		} else {
			out = append(out, m)
		}
	}
	if len(in) != 1 || in[0].Carrier != tencent.CarrierName || in[0].Body != "状态" || !strings.HasPrefix(in[0].CarrierID, "mo-") {
		t.Fatalf("inbound rows %+v, want the one message", in)
	}
	// The reply waits in the outbox for Tencent's send API.
	if len(out) != 1 || out[0].Status != sms.Queued || out[0].Carrier != tencent.CarrierName || out[0].Kind != sms.KindReply ||
		out[0].ReplyTo != in[0].ID || !strings.Contains(out[0].Body, "王小明") {
		t.Fatalf("outbox rows %+v, want one queued reply", out)
	}
}

// TestTencentReplyStoreDown: a message the gateway cannot record is not
// acknowledged, so Tencent pushes it again.
func TestTencentReplyStoreDown(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	_ = g.DB.Close()
	code, body := g.PostRaw(t, "/sms/tencent", "application/json", tencentReply(zhGuardian, "状态", 1764316801))
	if code/100 != 5 || strings.Contains(body, `"result":0`) {
		t.Fatalf("store down: %d %q, want a 5xx that is not result 0", code, body)
	}
}

// tencentSender is the gateway's sender with the approvals an
// administrator recorded: the alert template and the STATUS reply
// template, in Chinese, approved at Tencent.
func tencentSender(t *testing.T, g *gatewaytest.Gateway) *sender.Sender {
	t.Helper()
	for key, id := range map[string]string{templates.AlertUrgent: "2300001", templates.AllowanceKey(menus.AllowanceApproved, true): "2300002"} {
		if _, err := g.DB.SetTemplateApproval(t.Context(), access.System, templates.Approval{
			Template: key, Lang: "zh", Carrier: tencent.CarrierName, Status: templates.Approved, ProviderID: id}); err != nil {
			t.Fatal(err)
		}
	}
	return &sender.Sender{DB: g.DB, Carriers: g.Senders, TemplatesOnly: g.TemplatesOnly, Approvals: g.DB, Log: slog.New(slog.DiscardHandler)}
}

// tencentAlert is an urgent-need alert rendered as the gateway renders it.
func tencentAlert(key string) sms.Message {
	m := templates.MustRender(templates.AlertUrgent, "zh", templates.P("child", "C0001"), templates.P("what", "保护问题"),
		templates.P("director", "+8613800138001"), templates.P("ref", "N23456"))
	return sms.Message{Carrier: tencent.CarrierName, Phone: zhGuardian, Kind: sms.KindAlert, DedupeKey: key,
		Body: m.Body, Template: m.Template, Lang: m.Lang, Params: m.Params}
}

func tencentEnv(endpoint, key string) map[string]string {
	return map[string]string{
		"BAREFOOT_TENCENT_SECRET_ID": tencentSecretID, "BAREFOOT_TENCENT_SECRET_KEY": key, "BAREFOOT_TENCENT_SDK_APP_ID": "1400000002",
		"BAREFOOT_TENCENT_SIGN_NAME": "赤脚儿童", "BAREFOOT_TENCENT_ENDPOINT": endpoint,
	}
}

// TestTencentOutbound: an alert goes to the fake API signed, as the
// template and its parameters in order; the SerialNo is stored as the
// carrier id, and status pushes settle it.
func TestTencentOutbound(t *testing.T) {
	t.Parallel()
	api := tencenttest.New(t, tencentSecretID, tencentSecretKey)
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: tencentEnv(api.URL, tencentSecretKey)})
	ctx := t.Context()
	id, _, err := g.DB.Enqueue(ctx, tencentAlert("need:N23456:tc"))
	if err != nil {
		t.Fatal(err)
	}
	s := tencentSender(t, g)
	if n, err := s.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("SendDue = %d, %v", n, err)
	}
	sends := api.Sends()
	if len(sends) != 1 || sends[0].TemplateID != "2300001" || !slices.Equal(sends[0].TemplateParamSet, []string{"C0001", "保护问题", "+8613800138001", "N23456"}) ||
		!slices.Equal(sends[0].PhoneNumberSet, []string{zhGuardian}) || sends[0].SmsSdkAppID != "1400000002" || sends[0].Region != tencent.DefaultRegion {
		t.Fatalf("the API received %+v", sends)
	}
	m := outboundMessage(t, g.DB, id)
	if m.Status != sms.Sent || !strings.HasPrefix(m.CarrierID, "2433:") {
		t.Fatalf("after sending: %+v", m)
	}
	report := func(status string) string {
		return `{"user_receive_time":"2026-11-28 10:00:05","nationcode":"86","mobile":"13900139001","report_status":"` + status + `","errmsg":"DELIVRD","description":"","sid":"` + m.CarrierID + `"}`
	}
	for _, push := range []string{"[" + report("SUCCESS") + "," + report("SUCCESS") + "]", "[" + report("FAIL") + "]"} {
		if code, body := g.PostRaw(t, "/sms/tencent/status", "application/json", push); code != http.StatusOK || body != tencentAck {
			t.Fatalf("status push: %d %q", code, body)
		}
	}
	if got := outboundMessage(t, g.DB, id).Status; got != sms.Delivered {
		t.Errorf("after the status pushes: %s, want delivered", got)
	}
}

// TestTencentWrongKey: signed with the wrong secret key, a send is refused
// by the API as Tencent refuses it, and the message fails for good, its
// reason naming Tencent's code and never the key.
func TestTencentWrongKey(t *testing.T) {
	t.Parallel()
	api := tencenttest.New(t, tencentSecretID, tencentSecretKey)
	const wrong = "not-the-key-0123456789abcdef"
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: tencentEnv(api.URL, wrong)})
	ctx := t.Context()
	id, _, err := g.DB.Enqueue(ctx, tencentAlert("need:wrongkey"))
	if err != nil {
		t.Fatal(err)
	}
	s := tencentSender(t, g)
	if _, err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	m := outboundMessage(t, g.DB, id)
	if m.Status != sms.Failed || !strings.Contains(m.LastError, tencenttest.SignatureFailure) || strings.Contains(m.LastError, wrong) {
		t.Fatalf("message %s, reason %q", m.Status, m.LastError)
	}
	if refused := api.Refusals(); !slices.Equal(refused, []string{tencenttest.SignatureFailure}) || len(api.Sends()) != 0 {
		t.Fatalf("the API refused %v and accepted %d", refused, len(api.Sends()))
	}
}

// TestTencentStatusRoundTrip: a guardian texts 状态 through Tencent's reply
// callback; the reply is rendered from the STATUS template and, once the
// template is approved, reaches Tencent's API as that template's id and
// parameters. Until then it waits in the outbox, saying why.
func TestTencentStatusRoundTrip(t *testing.T) {
	t.Parallel()
	api := tencenttest.New(t, tencentSecretID, tencentSecretKey)
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: tencentEnv(api.URL, tencentSecretKey)})
	ctx := t.Context()
	if code, body := g.PostRaw(t, "/sms/tencent", "application/json", tencentReply(zhGuardian, "状态", 1764316800)); code != http.StatusOK || body != tencentAck {
		t.Fatalf("uplink: %d %q", code, body)
	}
	unapproved := &sender.Sender{DB: g.DB, Carriers: g.Senders, TemplatesOnly: g.TemplatesOnly, Approvals: g.DB, Log: slog.New(slog.DiscardHandler)}
	if _, err := unapproved.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if len(api.Sends()) != 0 {
		t.Fatal("an unapproved template reached Tencent")
	}
	var waiting string
	if err := g.SQL(t).Get(&waiting, `SELECT last_error FROM messages WHERE direction = 'out' AND carrier = 'tencent' AND status = 'queued'`); err != nil ||
		waiting != "template allowance_approved_next (zh) is not approved at tencent" {
		t.Fatalf("the waiting reply says %q (%v)", waiting, err)
	}
	s := tencentSender(t, g) // approves the templates: the reply wakes
	if n, err := s.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("SendDue = %d, %v", n, err)
	}
	sends := api.Sends()
	want := []string{"王小明", "生活补贴", "500", "2026-12-15"} // typed, never free text
	if len(sends) != 1 || sends[0].TemplateID != "2300002" || !slices.Equal(sends[0].TemplateParamSet, want) || !slices.Equal(sends[0].PhoneNumberSet, []string{zhGuardian}) {
		t.Fatalf("Tencent received %+v", sends)
	}
}

// TestTencentReportAndAlert: a director's one-line urgent report arrives
// through Tencent; the supervisors' alert is rendered from the alert
// template and goes out through Tencent as its approved id, with the
// child's code, the subject, the director's phone and the reference.
func TestTencentReportAndAlert(t *testing.T) {
	t.Parallel()
	api := tencenttest.New(t, tencentSecretID, tencentSecretKey)
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: tencentEnv(api.URL, tencentSecretKey), AlertCarrier: tencent.CarrierName})
	if code, body := g.PostRaw(t, "/sms/tencent", "application/json", tencentReply(enDirector, "N C0001 6 2", 1764316801)); code != http.StatusOK || body != tencentAck {
		t.Fatalf("uplink: %d %q", code, body)
	}
	var ref string
	if err := g.SQL(t).Get(&ref, `SELECT ref FROM needs WHERE channel = 'sms' AND carrier = 'tencent'`); err != nil {
		t.Fatalf("the need was not saved: %v", err)
	}
	s := tencentSender(t, g)
	if _, err := s.SendDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	var alerts []tencenttest.Send
	for _, send := range api.Sends() {
		if send.TemplateID == "2300001" {
			alerts = append(alerts, send)
		}
	}
	if len(alerts) == 0 {
		t.Fatalf("no alert reached Tencent: %+v", api.Sends())
	}
	for _, a := range alerts {
		if p := a.TemplateParamSet; len(p) != 4 || p[0] != "C0001" || p[3] != ref {
			t.Fatalf("alert parameters %v, want C0001 … %s", p, ref)
		}
	}
}
