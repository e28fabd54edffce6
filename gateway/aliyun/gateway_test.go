package aliyun_test

// Alibaba Cloud through a whole gateway (gatewaytest: real Postgres and
// Redis, the carriers assembled as the binary does), its send API played
// by aliyuntest.

import (
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/aliyun"
	"github.com/barefoot-ussd/barefoot/gateway/aliyun/aliyuntest"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
)

// hookSecret is the webhook secret the registered push URLs end with.
const hookSecret = "hook-secret-0123"

// Demo registry numbers: two guardians, and a number nobody registered.
const (
	guardianZh = "+8613900139001"
	guardianEn = "+8613900139002"
	stranger   = "+8613999999999"
)

const ackBody = `{"code":0,"msg":"接收成功"}`

// aliyunGateway is a gateway that sends through the fake with secret as
// its AccessKey secret.
func aliyunGateway(t *testing.T, api *aliyuntest.Server, secret string) *gatewaytest.Gateway {
	t.Helper()
	return gatewaytest.MustGateway(t, gatewaytest.Options{WebhookSecret: hookSecret, AlertCarrier: aliyun.CarrierName, Env: map[string]string{
		"BAREFOOT_ALIYUN_ACCESS_KEY_ID": keyID, "BAREFOOT_ALIYUN_ACCESS_KEY_SECRET": secret,
		"BAREFOOT_ALIYUN_SIGN_NAME": signName, "BAREFOOT_ALIYUN_ENDPOINT": api.URL,
	}})
}

// up is one SmsUp message; seq is a number or a string, as pushed.
type up struct {
	Phone    string `json:"phone_number"`
	Content  string `json:"content"`
	SendTime string `json:"send_time"`
	DestCode string `json:"dest_code"`
	Seq      any    `json:"sequence_id"`
}

func push(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func post(t *testing.T, g *gatewaytest.Gateway, path, body string) (int, string) {
	t.Helper()
	return g.PostRaw(t, path+"/"+hookSecret, "application/json", body)
}

// count runs a count query on the gateway's database.
func count(t *testing.T, g *gatewaytest.Gateway, q string, args ...any) int {
	t.Helper()
	var n int
	if err := g.SQL(t).Get(&n, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestUpPush: a push of several messages records each once, through the
// conversation layer, and queues the replies for the send client; the
// same push again, with a sequence_id spelt as a string or a number,
// records nothing twice; malformed pushes are refused with a 4xx and
// record nothing; a number that is no phone's is refused by name while the
// rest of its push is recorded.
func TestUpPush(t *testing.T) {
	t.Parallel()
	g := aliyunGateway(t, aliyuntest.New(t, keyID, keySecret), keySecret)
	batch := []up{
		{Phone: "13900139001", Content: "状态", SendTime: "2024-03-01 08:15:30", DestCode: "1234", Seq: 1001},
		{Phone: "13999999999", Content: "帮助", SendTime: "2024-03-01 08:15:31", DestCode: "1234", Seq: "s-1002"},
		{Phone: "+8613900139002", Content: "STATUS", SendTime: "2024-03-01 08:15:32", DestCode: "1234", Seq: json.Number("1003")},
	}
	asStrings := []up{batch[0], batch[1], batch[2]}
	asStrings[0].Seq, asStrings[2].Seq = "1001", "1003"

	inbound := func() int {
		return count(t, g, `SELECT count(*) FROM messages WHERE direction = 'in' AND carrier = 'aliyun'`)
	}
	replies := func(phone string) []sms.Message {
		t.Helper()
		var out []sms.Message
		msgs, err := g.DB.Messages(t.Context(), phone)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Direction == sms.Out {
				out = append(out, m)
			}
		}
		return out
	}

	// Without the webhook secret: refused before it is read.
	if code, _ := g.PostRaw(t, "/sms/aliyun", "application/json", push(t, batch)); code != http.StatusForbidden {
		t.Fatalf("push without the secret: %d, want 403", code)
	}
	if n := inbound(); n != 0 {
		t.Fatalf("%d messages recorded from a refused push", n)
	}

	for i, body := range []string{push(t, batch), push(t, batch), push(t, asStrings)} {
		code, resp := post(t, g, "/sms/aliyun", body)
		if code != http.StatusOK || resp != ackBody {
			t.Fatalf("push %d: %d %s", i, code, resp)
		}
		if n := inbound(); n != 3 {
			t.Fatalf("after push %d: %d inbound messages, want 3", i, n)
		}
		ids := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'in' AND carrier = 'aliyun' AND carrier_id IN ('1001', 's-1002', '1003')`)
		if ids != 3 {
			t.Fatalf("after push %d: %d messages under the pushed sequence_ids, want 3", i, ids)
		}
		// A guardian's 状态 is answered with the child's status, queued for
		// Alibaba Cloud's send API (the push takes no reply), once.
		zh := replies(guardianZh)
		if len(zh) != 1 || zh[0].Status != sms.Queued || zh[0].Kind != sms.KindReply || zh[0].Carrier != aliyun.CarrierName || !strings.Contains(zh[0].Body, "王小明") {
			t.Fatalf("after push %d: replies to the guardian %+v", i, zh)
		}
		if en := replies(guardianEn); len(en) != 1 || en[0].Status != sms.Queued || !strings.Contains(en[0].Body, "刘佳") {
			t.Fatalf("after push %d: replies to the second guardian %+v", i, en)
		}
		// The stranger is told how to register and the message forgotten.
		if n := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'out' AND carrier = 'aliyun' AND phone = $1`, stranger); n != 1 {
			t.Fatalf("after push %d: %d replies to the stranger, want 1", i, n)
		}
	}
	var replyTo int64
	if err := g.SQL(t).Get(&replyTo, `SELECT reply_to FROM messages WHERE direction = 'out' AND phone = $1`, guardianZh); err != nil ||
		count(t, g, `SELECT count(*) FROM messages WHERE id = $1 AND carrier_id = '1001' AND body = '状态'`, replyTo) != 1 {
		t.Fatalf("the reply answers message %d (%v), not the pushed 1001", replyTo, err)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"not an array", `{"phone_number":"13900139001","content":"状态","sequence_id":2001}`, 400, "body: not a JSON array"},
		{"second message without a number", push(t, []up{{Phone: "13900139001", Content: "状态", Seq: 2001}, {Content: "状态", Seq: 2002}}), 400, "[1].phone_number: required"},
		{"sequence_id neither number nor string", `[{"phone_number":"13900139001","content":"状态","sequence_id":{"id":1}}]`, 400, "[0].sequence_id"},
		{"not JSON", `[{"phone_number":`, 400, "not a JSON array"},
	} {
		code, resp := post(t, g, "/sms/aliyun", tc.body)
		if code != tc.status || !strings.Contains(resp, tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, resp, tc.status, tc.want)
		}
	}
	if n := inbound(); n != 3 {
		t.Fatalf("malformed pushes recorded %d messages", n-3)
	}

	// One number no phone has: refused by its place; the other recorded.
	mixed := push(t, []up{{Phone: "12345", Content: "状态", Seq: 3001}, {Phone: "13900139001", Content: "帮助", Seq: 3002}})
	if code, resp := post(t, g, "/sms/aliyun", mixed); code != http.StatusBadRequest || resp != "[0].phone_number: not a valid phone number" {
		t.Errorf("a push with a bad number: %d %q", code, resp)
	}
	if n := count(t, g, `SELECT count(*) FROM messages WHERE direction = 'in' AND carrier_id = '3002'`); n != 1 {
		t.Errorf("the good message of a push with a bad number: %d rows, want 1", n)
	}
}

// TestUpPushStoreDown: a push that cannot be recorded is answered 5xx, so
// that Alibaba Cloud pushes it again, and never acknowledged.
func TestUpPushStoreDown(t *testing.T) {
	t.Parallel()
	g := aliyunGateway(t, aliyuntest.New(t, keyID, keySecret), keySecret)
	_ = g.DB.Close()
	code, resp := post(t, g, "/sms/aliyun", push(t, []up{{Phone: "13900139001", Content: "状态", Seq: 4001}}))
	if code/100 != 5 || strings.Contains(resp, "接收成功") {
		t.Errorf("push with the store down: %d %q, want a 5xx", code, resp)
	}
	code, resp = post(t, g, "/sms/aliyun/report", `[{"biz_id":"1^0","success":true,"err_code":"DELIVERED"}]`)
	if code/100 != 5 || strings.Contains(resp, "接收成功") {
		t.Errorf("receipts with the store down: %d %q, want a 5xx", code, resp)
	}
}

type receiptJSON struct {
	Phone      string `json:"phone_number"`
	SendTime   string `json:"send_time"`
	ReportTime string `json:"report_time"`
	Success    bool   `json:"success"`
	ErrCode    string `json:"err_code"`
	ErrMsg     string `json:"err_msg"`
	SMSSize    string `json:"sms_size"`
	BizID      string `json:"biz_id"`
	OutID      string `json:"out_id"`
}

func delivered(bizID string) receiptJSON {
	return receiptJSON{Phone: "13900139001", SendTime: "2024-03-01 08:15:30", ReportTime: "2024-03-01 08:15:35", Success: true, ErrCode: "DELIVERED", ErrMsg: "用户接收成功", SMSSize: "1", BizID: bizID}
}

func failed(bizID string) receiptJSON {
	return receiptJSON{Phone: "13900139002", SendTime: "2024-03-01 08:15:30", ReportTime: "2024-03-01 08:15:35", ErrCode: "MK:0001", ErrMsg: "空号", SMSSize: "1", BizID: bizID}
}

// TestReportPush: receipts settle messages by BizId, delivered or failed;
// a push of receipts again, or a later contrary receipt, changes nothing
// (not even the delivery time); receipts for messages unknown here are
// acknowledged.
func TestReportPush(t *testing.T) {
	t.Parallel()
	g := aliyunGateway(t, aliyuntest.New(t, keyID, keySecret), keySecret)
	alert := func(phone string) sms.Message {
		return sms.Message{Carrier: aliyun.CarrierName, Phone: phone, Body: "紧急：需要家访", Kind: sms.KindAlert, DedupeKey: "t:" + phone}
	}
	okID := sendertest.MustSent(t, g.DB, alert(guardianZh), "900001^0")
	badID := sendertest.MustSent(t, g.DB, alert(guardianEn), "900002^0")
	deliveredAt := func() time.Time {
		t.Helper()
		var at time.Time
		if err := g.SQL(t).Get(&at, `SELECT delivered_at FROM messages WHERE id = $1`, okID); err != nil {
			t.Fatal(err)
		}
		return at
	}

	var first time.Time
	for i, tc := range []struct {
		name     string
		receipts []receiptJSON
	}{
		{"a delivery and a failure", []receiptJSON{delivered("900001^0"), failed("900002^0")}},
		{"the same push again", []receiptJSON{delivered("900001^0"), failed("900002^0")}},
		{"contrary and repeated receipts", []receiptJSON{failed("900001^0"), delivered("900002^0"), delivered("900001^0")}},
		{"unknown BizIds", []receiptJSON{delivered("999999^0"), failed("999998^0")}},
	} {
		code, resp := post(t, g, "/sms/aliyun/report", push(t, tc.receipts))
		if code != http.StatusOK || resp != ackBody {
			t.Fatalf("%s: %d %s", tc.name, code, resp)
		}
		if got := sendertest.Status(t, g.DB, okID); got != sms.Delivered {
			t.Errorf("%s: first message %s, want delivered", tc.name, got)
		}
		if got := sendertest.Status(t, g.DB, badID); got != sms.Failed {
			t.Errorf("%s: second message %s, want failed", tc.name, got)
		}
		if i == 0 {
			first = deliveredAt()
		} else if at := deliveredAt(); !at.Equal(first) {
			t.Errorf("%s: delivered_at moved from %v to %v", tc.name, first, at)
		}
	}
	if code, resp := post(t, g, "/sms/aliyun/report", `[{"biz_id":"900001^0"}]`); code != http.StatusBadRequest || resp != "[0].success: required" {
		t.Errorf("a receipt without success: %d %q", code, resp)
	}
}

// approvedSender is the gateway's sender once an administrator recorded
// Alibaba Cloud's approval of the alert and STATUS templates in Chinese.
func approvedSender(t *testing.T, g *gatewaytest.Gateway) *sender.Sender {
	t.Helper()
	for key, code := range map[string]string{templates.AlertUrgent: "SMS_154950909", templates.AllowanceKey(menus.AllowanceApproved, true): "SMS_154950910"} {
		if _, err := g.DB.SetTemplateApproval(t.Context(), access.System, templates.Approval{
			Template: key, Lang: "zh", Carrier: aliyun.CarrierName, Status: templates.Approved, ProviderID: code}); err != nil {
			t.Fatal(err)
		}
	}
	return &sender.Sender{DB: g.DB, Carriers: g.Senders, TemplatesOnly: g.TemplatesOnly, Approvals: g.DB, Log: slog.New(slog.DiscardHandler)}
}

// alert is an urgent-need alert rendered as the gateway renders it.
func alert(key string) sms.Message {
	m := templates.MustRender(templates.AlertUrgent, "zh", templates.P("child", "C0001"), templates.P("what", "保护问题"),
		templates.P("director", "+8613800138001"), templates.P("ref", "N23456"))
	return sms.Message{Carrier: aliyun.CarrierName, Phone: guardianZh, Kind: sms.KindAlert, DedupeKey: key,
		Body: m.Body, Template: m.Template, Lang: m.Lang, Params: m.Params}
}

// TestSendAndReceipt: an alert leaves through the outbox and the send
// client to the fake API, signed, with the template, its parameters by
// name and our id as OutId; its BizId is stored, and the receipt naming it
// marks it delivered. With a wrong secret the API refuses the signature
// and the message fails at once with the code as its reason.
func TestSendAndReceipt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		secret string
	}{
		{"right secret", keySecret},
		{"wrong secret", "not-the-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api := aliyuntest.New(t, keyID, keySecret)
			g := aliyunGateway(t, api, tc.secret)
			id, _, err := g.DB.Enqueue(t.Context(), alert("need:N23456"))
			if err != nil {
				t.Fatal(err)
			}
			s := approvedSender(t, g)
			if n, err := s.SendDue(t.Context()); err != nil || n != 1 {
				t.Fatalf("SendDue = %d, %v", n, err)
			}
			m, err := g.DB.MessageByID(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tc.secret != keySecret {
				if m.Status != sms.Failed || !strings.Contains(m.LastError, "SignatureDoesNotMatch") || strings.Contains(m.LastError, tc.secret) {
					t.Fatalf("message after a refused signature: %s %q", m.Status, m.LastError)
				}
				if r := api.Refusals(); len(r) != 1 || r[0] != "SignatureDoesNotMatch" || len(api.Sends()) != 0 {
					t.Fatalf("fake: refusals %v, sends %d", r, len(api.Sends()))
				}
				return
			}
			sends := api.Sends()
			if len(sends) != 1 {
				t.Fatalf("fake accepted %d sends (refused %v)", len(sends), api.Refusals())
			}
			got := sends[0]
			if got.PhoneNumbers != "13900139001" || got.TemplateCode != "SMS_154950909" || got.SignName != signName ||
				got.TemplateParam["child"] != "C0001" || got.TemplateParam["ref"] != "N23456" || got.TemplateParam["what"] != "保护问题" || len(got.TemplateParam) != 4 {
				t.Errorf("send %+v", got)
			}
			if got.OutID != strconv.FormatInt(id, 10) {
				t.Errorf("OutId %q, want our id %d", got.OutID, id)
			}
			if m.Status != sms.Sent || m.CarrierID != got.BizID {
				t.Fatalf("message after sending: %s, carrier id %q, want the BizId %q", m.Status, m.CarrierID, got.BizID)
			}
			r := delivered(got.BizID)
			r.OutID = got.OutID
			if code, resp := post(t, g, "/sms/aliyun/report", push(t, []receiptJSON{r})); code != http.StatusOK || resp != ackBody {
				t.Fatalf("receipt: %d %s", code, resp)
			}
			if st := sendertest.Status(t, g.DB, id); st != sms.Delivered {
				t.Errorf("after its receipt: %s, want delivered", st)
			}
		})
	}
}

// TestNotes: start-up names the push URLs to register, with the webhook
// secret's variable where the secret goes, never the secret itself.
func TestNotes(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) gateway.CarrierEnv {
		return gateway.CarrierEnv{Getenv: func(k string) string { return kv[k] }, PublicURL: "https://gw.example.org", Secret: hookSecret}
	}
	configured := map[string]string{"BAREFOOT_ALIYUN_ACCESS_KEY_ID": keyID, "BAREFOOT_ALIYUN_ACCESS_KEY_SECRET": keySecret, "BAREFOOT_ALIYUN_SIGN_NAME": signName}
	c, err := aliyun.New(env(configured))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Templates || c.Sender == nil || c.Signs {
		t.Errorf("carrier %+v", c)
	}
	want := "SmsUp https://gw.example.org/sms/aliyun/<BAREFOOT_WEBHOOK_SECRET> and SmsReport https://gw.example.org/sms/aliyun/report/<BAREFOOT_WEBHOOK_SECRET>"
	if len(c.Notes) != 1 || !strings.Contains(c.Notes[0], want) || strings.Contains(c.Notes[0], hookSecret) {
		t.Errorf("notes %q, want one naming %s", c.Notes, want)
	}
	own := map[string]string{"BAREFOOT_ALIYUN_WEBHOOK_SECRET": "own-secret"}
	for k, v := range configured {
		own[k] = v
	}
	if c, _ := aliyun.New(env(own)); len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "/sms/aliyun/<BAREFOOT_ALIYUN_WEBHOOK_SECRET>") || strings.Contains(c.Notes[0], "own-secret") {
		t.Errorf("notes with the carrier's own secret: %q", c.Notes)
	}
	if c, _ := aliyun.New(env(nil)); len(c.Notes) != 0 || c.Sender != nil {
		t.Errorf("not configured: notes %q, sender %v", c.Notes, c.Sender)
	}
}

// TestStatusRoundTrip: a guardian's 状态 arrives in a push; the reply,
// rendered from the template of the child's one allowance in its status, waits until the template is
// approved, then reaches Alibaba Cloud as the approved TemplateCode with
// its typed parameters by name.
func TestStatusRoundTrip(t *testing.T) {
	t.Parallel()
	api := aliyuntest.New(t, keyID, keySecret)
	g := aliyunGateway(t, api, keySecret)
	up := `[{"phone_number":"13900139001","content":"状态","send_time":"2026-11-30 09:00:00","dest_code":"1234","sequence_id":777}]`
	if code, resp := post(t, g, "/sms/aliyun", up); code != http.StatusOK || resp != ackBody {
		t.Fatalf("push: %d %q", code, resp)
	}
	waiting := &sender.Sender{DB: g.DB, Carriers: g.Senders, TemplatesOnly: g.TemplatesOnly, Approvals: g.DB, Log: slog.New(slog.DiscardHandler)}
	if _, err := waiting.SendDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(api.Sends()) != 0 {
		t.Fatal("an unapproved template reached Alibaba Cloud")
	}
	if n, err := approvedSender(t, g).SendDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("SendDue = %d, %v", n, err)
	}
	sends := api.Sends()
	if len(sends) != 1 || sends[0].TemplateCode != "SMS_154950910" || sends[0].PhoneNumbers != "13900139001" ||
		!maps.Equal(sends[0].TemplateParam, map[string]string{"name": "王小明", "scheme": "生活补贴", "amount": "500", "date": "2026-12-15"}) {
		t.Fatalf("Alibaba Cloud received %+v", sends)
	}
}

// TestReportAndAlert: a director's urgent one-line report arrives in a
// push; the need is saved, and the supervisors' alert reaches Alibaba
// Cloud as the approved alert template, with the child's code and the
// reference as parameters.
func TestReportAndAlert(t *testing.T) {
	t.Parallel()
	api := aliyuntest.New(t, keyID, keySecret)
	g := aliyunGateway(t, api, keySecret)
	msg := `[{"phone_number":"13800138001","content":"N C0001 6 2","send_time":"2026-11-30 09:00:00","dest_code":"1234","sequence_id":"778"}]`
	if code, resp := post(t, g, "/sms/aliyun", msg); code != http.StatusOK || resp != ackBody {
		t.Fatalf("push: %d %q", code, resp)
	}
	var ref string
	if err := g.SQL(t).Get(&ref, `SELECT ref FROM needs WHERE channel = 'sms' AND carrier = 'aliyun'`); err != nil {
		t.Fatalf("the need was not saved: %v", err)
	}
	if _, err := approvedSender(t, g).SendDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	var alerts int
	for _, s := range api.Sends() {
		if s.TemplateCode == "SMS_154950909" {
			if s.TemplateParam["child"] != "C0001" || s.TemplateParam["ref"] != ref {
				t.Fatalf("alert parameters %v, want C0001 and %s", s.TemplateParam, ref)
			}
			alerts++
		}
	}
	if alerts == 0 {
		t.Fatalf("no alert reached Alibaba Cloud: %+v", api.Sends())
	}
}
