package aliyun_test

import (
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/aliyun"
	"github.com/barefoot-ussd/barefoot/gateway/aliyun/aliyuntest"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// Test numbers and credentials, not real ones.
const (
	keyID     = "LTAI5tTestKeyId0123"
	keySecret = "test-secret-0123456789abcdef"
	signName  = "儿童关爱"
	mainland  = "+8613800138000"
)

func sendClient(endpoint, secret string) aliyun.Sender {
	return aliyun.Sender{Endpoint: endpoint, AccessKeyID: keyID, AccessKeySecret: secret, SignName: signName, Client: sendertest.Client()}
}

// templated is a message as the sender hands it over: rendered from a
// template, with the provider's approved id for it.
func templated(phone string) sms.Message {
	return sms.Message{
		ID: 42, Carrier: aliyun.CarrierName, Phone: phone, Body: "C0001 本月补助已发放 <&>", Kind: sms.KindReply,
		Template: "status.reply", TemplateID: "SMS_154950909",
		Params: []sms.Param{{Name: "code", Value: "C0001"}, {Name: "status", Value: "已发放 <&> \"ok\""}},
	}
}

// TestSendThroughFake: a send reaches the fake API signed as Alibaba Cloud
// checks it, with the template, its parameters as a JSON object by name,
// our id as OutId and the number as SendSms takes it, and returns the
// BizId; every send has a fresh nonce, so sends in a row all pass.
func TestSendThroughFake(t *testing.T) {
	t.Parallel()
	api := aliyuntest.New(t, keyID, keySecret)
	client := sendClient(api.URL, keySecret)
	for i, tc := range []struct{ phone, number string }{
		{mainland, "13800138000"},
		{"+85291234567", "85291234567"},
		{mainland, "13800138000"},
	} {
		id, err := client.Send(t.Context(), templated(tc.phone))
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		sends := api.Sends()
		if len(sends) != i+1 {
			t.Fatalf("fake accepted %d sends, want %d (refused %v)", len(sends), i+1, api.Refusals())
		}
		got := sends[i]
		if id != got.BizID || !strings.HasSuffix(id, "^0") {
			t.Errorf("Send = %q, the fake's BizId %q", id, got.BizID)
		}
		if got.PhoneNumbers != tc.number || got.SignName != signName || got.TemplateCode != "SMS_154950909" || got.OutID != "42" {
			t.Errorf("send %d: %+v", i, got)
		}
		if len(got.TemplateParam) != 2 || got.TemplateParam["code"] != "C0001" || got.TemplateParam["status"] != `已发放 <&> "ok"` {
			t.Errorf("TemplateParam %v", got.TemplateParam)
		}
		if raw := got.Query.Get("TemplateParam"); raw != `{"code":"C0001","status":"已发放 <&> \"ok\""}` {
			t.Errorf("TemplateParam sent as %s", raw)
		}
		for k, want := range map[string]string{"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0"} {
			if got.Query.Get(k) != want {
				t.Errorf("%s = %q, want %q", k, got.Query.Get(k), want)
			}
		}
		if got.Query.Has("AccessKeySecret") || strings.Contains(got.Query.Encode(), keySecret) {
			t.Error("the secret went out with the request")
		}
	}

	// Without parameters no TemplateParam is sent; the body is never sent.
	m := templated(mainland)
	m.Params = nil
	if _, err := client.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	last := api.Sends()[len(api.Sends())-1]
	if last.Query.Has("TemplateParam") {
		t.Errorf("TemplateParam %q sent for a template without parameters", last.Query.Get("TemplateParam"))
	}
	for k, v := range last.Query {
		if strings.Contains(v[0], "补助") {
			t.Errorf("%s carries the body", k)
		}
	}
}

// TestFakeRefuses: the fake holds requests to what Alibaba Cloud checks:
// a wrong secret, a nonce used before, a stale timestamp, an unknown key.
func TestFakeRefuses(t *testing.T) {
	t.Parallel()
	api := aliyuntest.New(t, keyID, keySecret)
	fixed := func(c aliyun.Sender) aliyun.Sender {
		c.Nonce = func() string { return "same-nonce" }
		return c
	}
	tests := []struct {
		name    string
		client  aliyun.Sender
		code    string
		retry   bool
		because string
	}{
		{"wrong secret", sendClient(api.URL, "not-the-secret"), "SignatureDoesNotMatch", false, "check BAREFOOT_ALIYUN_ACCESS_KEY_SECRET"},
		{"first use of a nonce", fixed(sendClient(api.URL, keySecret)), "", false, ""},
		{"nonce replayed", fixed(sendClient(api.URL, keySecret)), "SignatureNonceUsed", true, "nonce reused"},
		{"stale timestamp", func() aliyun.Sender {
			c := sendClient(api.URL, keySecret)
			c.Now = func() time.Time { return time.Now().Add(-time.Hour) }
			return c
		}(), "InvalidTimeStamp.Expired", false, "check the clock"},
		{"unknown key", func() aliyun.Sender { c := sendClient(api.URL, keySecret); c.AccessKeyID = "LTAIother"; return c }(), "InvalidAccessKeyId.NotFound", false, "BAREFOOT_ALIYUN_ACCESS_KEY_ID"},
	}
	for _, tt := range tests {
		before := len(api.Sends())
		_, err := tt.client.Send(t.Context(), templated(mainland))
		if tt.code == "" {
			if err != nil || len(api.Sends()) != before+1 {
				t.Fatalf("%s: %v", tt.name, err)
			}
			continue
		}
		if len(api.Sends()) != before {
			t.Errorf("%s: the fake accepted it", tt.name)
		}
		refusals := api.Refusals()
		if len(refusals) == 0 || refusals[len(refusals)-1] != tt.code {
			t.Errorf("%s: fake refused with %v, want %s", tt.name, refusals, tt.code)
		}
		sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: tt.retry, Reason: tt.code}, templated(mainland), keySecret, "not-the-secret")
		if err != nil && !strings.Contains(err.Error(), tt.because) {
			t.Errorf("%s: reason %q does not say %q", tt.name, err, tt.because)
		}
	}
}

// TestSendOutcomes maps each answer of the API to a final or retryable
// failure; none quotes the number, the body, a parameter or the secret.
func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	refused := func(name string, reply sendertest.Reply, retry bool, reason string) sendertest.SendCase {
		return sendertest.SendCase{Name: name, Reply: reply, Outcome: sendertest.Outcome{Retry: retry, Reason: reason}}
	}
	answer := func(status int, code string) sendertest.Reply {
		return sendertest.JSON(status, `{"RequestId":"F655A8D5","Code":"`+code+`","Message":"号码 13800138000 C0001 触发流控"}`)
	}
	client := func(url string) sender.Client { return sendClient(url, keySecret) }
	m := templated(mainland)
	sendertest.RunSends(t, client, m, []string{keySecret, "C0001", "13800138000"},
		sendertest.SendCase{Name: "accepted", Reply: sendertest.JSON(200, `{"Message":"OK","RequestId":"F655A8D5","Code":"OK","BizId":"900619746936498440^0"}`),
			Outcome: sendertest.Outcome{ID: "900619746936498440^0"}},
		refused("per-number frequency cap", answer(200, "isv.BUSINESS_LIMIT_CONTROL"), false, "isv.BUSINESS_LIMIT_CONTROL (frequency cap for this number; a retry would not pass it soon)"),
		refused("daily cap", answer(200, "isv.DAY_LIMIT_CONTROL"), false, "isv.DAY_LIMIT_CONTROL (daily cap reached"),
		refused("monthly cap", answer(200, "isv.MONTH_LIMIT_CONTROL"), false, "isv.MONTH_LIMIT_CONTROL"),
		refused("template", answer(200, "isv.SMS_TEMPLATE_ILLEGAL"), false, "isv.SMS_TEMPLATE_ILLEGAL"),
		refused("signature", answer(200, "isv.SMS_SIGNATURE_ILLEGAL"), false, "isv.SMS_SIGNATURE_ILLEGAL"),
		refused("number", answer(200, "isv.MOBILE_NUMBER_ILLEGAL"), false, "isv.MOBILE_NUMBER_ILLEGAL (invalid phone number)"),
		refused("out of credit", answer(200, "isv.OUT_OF_SERVICE"), false, "isv.OUT_OF_SERVICE"),
		refused("another isv code", answer(200, "isv.SOMETHING_NEW"), false, "HTTP 200: isv.SOMETHING_NEW"),
		refused("platform error", answer(200, "isp.SYSTEM_ERROR"), true, "isp.SYSTEM_ERROR"),
		refused("another isp code", answer(200, "isp.SOMETHING_NEW"), true, "isp.SOMETHING_NEW"),
		refused("throttled", answer(400, "Throttling.User"), true, "HTTP 400: Throttling.User"),
		refused("server error with a code", answer(503, "ServiceUnavailable"), true, "HTTP 503: ServiceUnavailable"),
		refused("server error, no body", sendertest.Text(502, "Bad Gateway"), true, "aliyun: HTTP 502"),
		refused("refused, no body", sendertest.Text(403, ""), false, "aliyun: HTTP 403"),
		refused("unreadable 200", sendertest.Text(200, "<html>"), false, "unreadable response"),
		refused("OK without BizId", sendertest.JSON(200, `{"Code":"OK","Message":"OK"}`), false, "without a BizId"),
	)
	_, err := sendClient("http://127.0.0.1:1", keySecret).Send(t.Context(), m)
	sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: true, Reason: "aliyun: transport"}, m, keySecret)
}

// TestSendRefusesUntemplated: Alibaba Cloud sends only approved templates,
// so a message without one, or with parameters the template layer got
// wrong, fails at once and never reaches the API.
func TestSendRefusesUntemplated(t *testing.T) {
	t.Parallel()
	api := aliyuntest.New(t, keyID, keySecret)
	client := sendClient(api.URL, keySecret)
	noTemplate := templated(mainland)
	noTemplate.TemplateID = ""
	unnamed := templated(mainland)
	unnamed.Params = append(unnamed.Params, sms.Param{Value: "x"})
	twice := templated(mainland)
	twice.Params = append(twice.Params, sms.Param{Name: "code", Value: "C0002"})
	for name, tc := range map[string]struct {
		m      sms.Message
		reason string
	}{
		"no template id":    {noTemplate, "no approved template"},
		"unnamed parameter": {unnamed, "has no name"},
		"parameter twice":   {twice, `"code" given twice`},
	} {
		_, err := client.Send(t.Context(), tc.m)
		sendertest.CheckFailed(t, err, sendertest.Outcome{Reason: tc.reason}, tc.m, keySecret)
		if err == nil {
			t.Errorf("%s: sent", name)
		}
	}
	if n := len(api.Sends()) + len(api.Refusals()); n != 0 {
		t.Errorf("the API was called %d times", n)
	}
}

func TestSenderCheck(t *testing.T) {
	t.Parallel()
	if err := sendClient(aliyun.DefaultEndpoint, keySecret).Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := (aliyun.Sender{Endpoint: aliyun.DefaultEndpoint}).Check(); err == nil || !strings.Contains(err.Error(), "AccessKeyID, AccessKeySecret, SignName") {
		t.Errorf("no credentials: %v", err)
	}
	for _, bad := range []string{"dysmsapi.aliyuncs.com", "ftp://dysmsapi.aliyuncs.com", "https://dysmsapi.aliyuncs.com/?a=1"} {
		c := sendClient(bad, keySecret)
		if err := c.Check(); err == nil {
			t.Errorf("endpoint %q passes", bad)
		}
	}
}
