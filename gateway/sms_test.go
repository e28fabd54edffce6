package gateway_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

const (
	zhGuardian = "+8613900139001"
	enGuardian = "+8613900139002"
)

// kannelSMS sends one SMS the way Kannel's get-url does and returns the
// inline reply.
func kannelSMS(t *testing.T, g *gatewaytest.Gateway, from, text string) string {
	t.Helper()
	status, body := g.Get(t, "/sms/kannel?"+url.Values{"from": {from}, "to": {"10690001"}, "text": {text}}.Encode())
	if status != http.StatusOK {
		t.Fatalf("kannel sms %q: %d %s", text, status, body)
	}
	return body
}

func TestSMSStatus(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	approved := "王小明的生活补贴已批准，每月500元，下次发放2026-12-15。"
	tests := []struct {
		name, from, text, want string
	}{
		{"zh keyword", zhGuardian, "状态", approved},
		{"zh query keyword", zhGuardian, "查询", approved},
		{"english keyword in any case", zhGuardian, "status", approved},
		{"stray spaces and punctuation", zhGuardian, "  Status！ ", approved},
		{"full width", zhGuardian, "ＳＴＡＴＵＳ", approved},
		{"english guardian", enGuardian, "STATUS", "刘佳: living allowance suspended. Please contact the county office."},
		{"help zh", zhGuardian, "帮助", "发送\"状态\"查询孩子的补贴。"},
		{"help en", enGuardian, "help", "Send STATUS to check your child's allowance."},
	}
	for _, tt := range tests {
		if got := kannelSMS(t, g, tt.from, tt.text); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestSMSStatusStranger: a number that is not a registered guardian learns
// how to register and nothing else, whether or not the code it names
// exists.
func TestSMSStatusStranger(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	real := kannelSMS(t, g, "+8613999999999", "STATUS C0001")
	fake := kannelSMS(t, g, "+8613999999998", "STATUS C7777")
	if real != fake || !strings.Contains(real, "register") || strings.Contains(real, "C0001") || strings.Contains(real, "王小明") {
		t.Fatalf("stranger replies %q / %q", real, fake)
	}
}

func TestSMSForms(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	tests := []struct {
		name, from, text string
		kind             menus.ReportKind
		want             string
	}{
		{"visit", enDirector, "V C0001 1", menus.ReportVisit, "Visit saved. Ref V"},
		{"full-width with ideographic spaces", enDirector, "Ｖ　Ｃ０００１　１", menus.ReportVisit, "Visit saved. Ref V"},
		{"chinese alias and punctuation", zhDirector, "走访，C0002，3", menus.ReportVisit, "家访已保存，编号V"},
		{"need", enDirector, "n c3 6 2", menus.ReportNeed, "Need reported. Ref N"},
		{"need chinese separators", zhDirector, "需求；C0004、2；1", menus.ReportNeed, "需求已上报，编号N"},
		{"not their child", enDirector, "V C0009 1", "", "Field 1 (child ID): C0009 is not one of your children.\nFormat: V <child ID> <situation 1-4>"},
		{"bad situation", zhDirector, "V C0001 7", "", "第2项（情况）：选项无效。\n格式：V <儿童编号> <情况 1-4>"},
		{"missing urgency", enDirector, "N C0001 6", "", "Field 3 (urgency): missing\nFormat: N <child ID> <category 1-7> <urgency 1-2>"},
		{"too many fields", enDirector, "V C0001 1 1", "", "Field 3 (3): Too many fields."},
	}
	for _, tt := range tests {
		got := kannelSMS(t, g, tt.from, tt.text)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q, want it to start %q", tt.name, got, tt.want)
			continue
		}
		ref := refRE.FindString(got)
		if tt.kind == "" {
			if ref != "" {
				t.Errorf("%s: a bad form got a reference: %q", tt.name, got)
			}
			continue
		}
		r, err := g.DB.ReportByRef(context.Background(), ref)
		if err != nil || r.Kind != tt.kind || r.Channel != menus.ChannelSMS || r.Carrier != "kannel" {
			t.Errorf("%s: report %+v, %v", tt.name, r, err)
		}
	}
}

// TestSMSMenuConversation runs the director menu as an SMS conversation:
// the same screens, validation and save-once rule as USSD.
func TestSMSMenuConversation(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	steps := []struct{ text, want string }{
		{"menu", "1. Record a home visit"},
		{"1", "Enter the child ID"},
		{"C0009", "C0009 is not one of your children"},
		{"C0001", "How is 王小明?"},
		{"2", "1. Confirm"},
		{"1", "Visit saved. Ref V"},
		{"菜单", "1. Record a home visit"}, // a new conversation
	}
	var saved string
	for _, st := range steps {
		got := kannelSMS(t, g, enDirector, st.text)
		if !strings.Contains(got, st.want) {
			t.Fatalf("%q: %q, want %q", st.text, got, st.want)
		}
		if strings.Contains(got, "Visit saved") {
			saved = got
		}
	}
	r, err := g.DB.ReportByRef(context.Background(), refRE.FindString(saved))
	if err != nil || r.Channel != menus.ChannelSMS || r.Situation != "needs_support" {
		t.Fatalf("conversation report %+v, %v", r, err)
	}
}

// TestSMSCarrierRetry: Africa's Talking delivers the same message twice;
// it is recorded once and answered once (the reply queued for the sender).
func TestSMSCarrierRetry(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	form := url.Values{"from": {"+8613900139001"}, "to": {"20880"}, "text": {"状态"}, "id": {"ATXid_retry_1"}, "date": {"2026-11-28 10:00:00"}}
	for range 2 {
		if status, body := g.Post(t, "/sms/africastalking", form); status != 200 || body != "" {
			t.Fatalf("AT sms: %d %q", status, body)
		}
	}
	msgs, err := g.DB.Messages(context.Background(), zhGuardian)
	if err != nil {
		t.Fatal(err)
	}
	var in, out int
	for _, m := range msgs {
		switch m.Direction {
		case sms.In:
			in++
		case sms.Out:
			out++
			if m.Status != sms.Queued || !strings.Contains(m.Body, "王小明") || m.Carrier != "at" {
				t.Fatalf("queued reply %+v", m)
			}
		}
	}
	if in != 1 || out != 1 {
		t.Fatalf("%d inbound and %d outbound rows, want 1 and 1", in, out)
	}
}

func TestSMSTwilioSignature(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: map[string]string{"BAREFOOT_TWILIO_AUTH_TOKEN": "tok123"}})
	form := url.Values{"MessageSid": {"SM00000000000000000000000000000001"}, "AccountSid": {"AC1"}, "From": {zhGuardian}, "To": {"+15005550006"}, "Body": {"状态"}}
	post := func(sig string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/sms/twilio", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		return resp.StatusCode, b.String()
	}
	if status, _ := post("bm90IGEgc2lnbmF0dXJl"); status != http.StatusForbidden {
		t.Fatalf("bad signature: %d", status)
	}
	if status, _ := post(""); status != http.StatusForbidden {
		t.Fatalf("no signature: %d", status)
	}
	status, body := post(twilio.Sign("tok123", g.URL+"/sms/twilio", form))
	if status != http.StatusOK || !strings.Contains(body, "<Message>王小明的生活补贴已批准") {
		t.Fatalf("signed: %d %q", status, body)
	}
}

// TestSMSRateLimit: past the reply limit a phone's messages are recorded
// but not answered.
func TestSMSRateLimit(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{ReplyLimit: 2})
	for i, want := range []bool{true, true, false, false} {
		got := kannelSMS(t, g, zhGuardian, "状态")
		if (got != "") != want {
			t.Fatalf("message %d: reply %q, want a reply: %v", i+1, got, want)
		}
	}
	msgs, _ := g.DB.Messages(context.Background(), zhGuardian)
	in := 0
	for _, m := range msgs {
		if m.Direction == sms.In {
			in++
		}
	}
	if in != 4 {
		t.Fatalf("%d inbound rows recorded, want all 4", in)
	}
}

// TestSMSStatusWithSecret: where a deployment requires it, STATUS answers
// only with the child's code and the guardian's secret, and every wrong
// combination gets the same instruction.
func TestSMSStatusWithSecret(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{StatusSecret: true})
	if got := kannelSMS(t, g, zhGuardian, "状态 C0001 0417"); got != "王小明的生活补贴已批准，每月500元，下次发放2026-12-15。" {
		t.Fatalf("right code and secret: %q", got)
	}
	instruction := kannelSMS(t, g, zhGuardian, "状态")
	if !strings.Contains(instruction, "STATUS <child code>") {
		t.Fatalf("instruction = %q", instruction)
	}
	for _, tt := range []struct{ from, text string }{
		{zhGuardian, "状态 C0001 9999"},           // wrong secret
		{zhGuardian, "状态 C0002 0417"},           // not their child
		{zhGuardian, "状态 C7777 0417"},           // no such child
		{enGuardian, "STATUS C0001 0417"},       // another guardian's secret
		{"+8613999999999", "STATUS C0001 0417"}, // not a guardian
	} {
		if got := kannelSMS(t, g, tt.from, tt.text); got != instruction {
			t.Errorf("%s %q: %q, want the same instruction as always", tt.from, tt.text, got)
		}
	}
}

// TestSMSReplyBudget: once the deployment's daily replies are spent, no
// phone gets a reply (each is still within its own limit), and every
// message is still recorded.
func TestSMSReplyBudget(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{ReplyBudget: 2})
	for i, from := range []string{zhGuardian, enGuardian, "+8613999999999"} {
		got := kannelSMS(t, g, from, "STATUS")
		if (got != "") != (i < 2) {
			t.Fatalf("message %d from %s: reply %q", i+1, from, got)
		}
	}
	// The stranger's message was recorded (a retry would be known), then
	// forgotten: no number, no text.
	if n := countRows(t, g, `SELECT count(*) FROM messages WHERE direction = 'in' AND phone IS NULL AND body = '' AND forgotten_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d forgotten inbound messages, want the stranger's", n)
	}
}

// TestRepliesCarryTheirTemplates: every SMS the gateway sends is stored
// with the template it was rendered from, its language and its variables,
// so a carrier that sends only approved templates can send it: a family's
// STATUS, a stranger's reply, a director's one-line report and the alert
// it raises.
func TestRepliesCarryTheirTemplates(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	kannelSMS(t, g, zhGuardian, "状态")
	kannelSMS(t, g, "+8613999999997", "状态")
	kannelSMS(t, g, enDirector, "N C0001 6 2") // urgent protection concern: alerts
	var rows []struct {
		Kind     string `db:"kind"`
		Template string `db:"template"`
		Lang     string `db:"template_lang"`
		Params   string `db:"params"`
		Body     string `db:"body"`
	}
	if err := g.SQL(t).Select(&rows, `SELECT kind, template, template_lang, COALESCE(params::text, '') AS params, body
FROM messages WHERE direction = 'out' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []struct{ kind, template, lang, params string }{
		{"reply", "allowance_approved_next", "zh", `[{"Name": "name", "Value": "王小明"}, {"Name": "scheme", "Value": "生活补贴"}, {"Name": "amount", "Value": "500"}, {"Name": "date", "Value": "2026-12-15"}]`},
		{"reply", "register", "zh+en", ""},
		{"alert", "case_opened", "zh", `"Name": "what", "Value": "保护问题"`},
		{"alert", "alert_urgent", "", `"Name": "child", "Value": "C0001"`},
		{"reply", "menu_screen", "en", `"Name": "screen", "Value": "Need reported. Ref N`},
	}
	if len(rows) < len(want) {
		t.Fatalf("%d outbound messages: %+v", len(rows), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Kind != w.kind || r.Template != w.template || (w.lang != "" && r.Lang != w.lang) || !strings.Contains(r.Params, w.params) {
			t.Errorf("message %d: %+v, want %+v", i+1, r, w)
		}
	}
	for _, r := range rows {
		if r.Template == "" {
			t.Errorf("free text sent: %q", r.Body)
		}
	}
}
