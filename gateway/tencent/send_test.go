package tencent_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/gateway/tencent"
	"github.com/barefoot-ussd/barefoot/gateway/tencent/tencenttest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// Test numbers and credentials, not real ones.
const (
	sendPhone     = "+8613900000123"
	sendSecretID  = "AKIDtest0000000000000000000000000001"
	sendSecretKey = "test-secret-key-0123456789abcdef"
	sendAppID     = "1400000001"
	sendSign      = "赤脚儿童"
)

func sendMessage() sms.Message {
	return sms.Message{
		ID: 7, Carrier: tencent.CarrierName, Phone: sendPhone, Kind: sms.KindReply,
		Body: "王小明的生活补贴已批准，每月500元", Template: "status.reply", TemplateID: "1234567",
		Params: []sms.Param{{Name: "child", Value: "王小明"}, {Name: "amount", Value: "500"}, {Name: "date", Value: "2026-12-15"}},
	}
}

func sendClient(endpoint, key string) tencent.Sender {
	return tencent.Sender{Endpoint: endpoint, SecretID: sendSecretID, SecretKey: key, SDKAppID: sendAppID, SignName: sendSign, Client: sendertest.Client()}
}

// TestSendThroughFake: a message goes to the fake API signed, as the
// template id and its parameters in order, and comes back with the
// SerialNo.
func TestSendThroughFake(t *testing.T) {
	t.Parallel()
	api := tencenttest.New(t, sendSecretID, sendSecretKey)
	c := sendClient(api.URL, sendSecretKey)
	c.Region = "ap-beijing"
	id, err := c.Send(t.Context(), sendMessage())
	if err != nil || !strings.HasPrefix(id, "2433:") {
		t.Fatalf("Send = %q, %v", id, err)
	}
	sends := api.Sends()
	if len(sends) != 1 {
		t.Fatalf("%d sends", len(sends))
	}
	got := sends[0]
	want := tencenttest.Send{PhoneNumberSet: []string{sendPhone}, SmsSdkAppID: sendAppID, SignName: sendSign, TemplateID: "1234567",
		TemplateParamSet: []string{"王小明", "500", "2026-12-15"}, Region: "ap-beijing"}
	if !slices.Equal(got.PhoneNumberSet, want.PhoneNumberSet) || !slices.Equal(got.TemplateParamSet, want.TemplateParamSet) ||
		got.SmsSdkAppID != want.SmsSdkAppID || got.SignName != want.SignName || got.TemplateID != want.TemplateID || got.Region != want.Region {
		t.Errorf("sent %+v\nwant %+v", got, want)
	}

	// No parameters: an empty set, not null.
	m := sendMessage()
	m.Params = nil
	if _, err := c.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if p := api.Sends()[1].TemplateParamSet; p == nil || len(p) != 0 {
		t.Errorf("no params sent as %#v", p)
	}
	if r := api.Refusals(); len(r) != 0 {
		t.Errorf("refusals %v", r)
	}
}

// TestSendRefusedByFake: what the fake refuses, as Tencent would, fails
// the send the right way and quotes neither the secret key, the number
// nor the text.
func TestSendRefusedByFake(t *testing.T) {
	t.Parallel()
	api := tencenttest.New(t, sendSecretID, sendSecretKey)
	tests := []struct {
		name    string
		client  tencent.Sender
		refusal string
		retry   bool
	}{
		{"wrong secret key", sendClient(api.URL, "wrong-"+sendSecretKey), tencenttest.SignatureFailure, false},
		{"unknown secret id", func() tencent.Sender { c := sendClient(api.URL, sendSecretKey); c.SecretID = "AKIDnobody"; return c }(), tencenttest.SecretIDNotFound, false},
		{"clock ten minutes slow", func() tencent.Sender {
			c := sendClient(api.URL, sendSecretKey)
			c.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
			return c
		}(), tencenttest.SignatureExpire, true},
	}
	for _, tt := range tests {
		_, err := tt.client.Send(t.Context(), sendMessage())
		if err == nil {
			t.Fatalf("%s: sent", tt.name)
		}
		sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: tt.retry, Reason: tt.refusal}, sendMessage(), sendSecretKey, "wrong-"+sendSecretKey, "王小明")
	}
	if n := len(api.Sends()); n != 0 {
		t.Errorf("the fake accepted %d sends", n)
	}
	if got := api.Refusals(); !slices.Equal(got, []string{tencenttest.SignatureFailure, tencenttest.SecretIDNotFound, tencenttest.SignatureExpire}) {
		t.Errorf("refusals %v", got)
	}
}

// TestSendNoTemplate: without an approved template id nothing is sent.
func TestSendNoTemplate(t *testing.T) {
	t.Parallel()
	api := tencenttest.New(t, sendSecretID, sendSecretKey)
	m := sendMessage()
	m.TemplateID = ""
	_, err := sendClient(api.URL, sendSecretKey).Send(t.Context(), m)
	sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: false, Reason: "no approved template id"}, m, sendSecretKey)
	if n := len(api.Sends()) + len(api.Refusals()); n != 0 {
		t.Errorf("%d requests reached the API", n)
	}
}

// tencentStatus is SendSms's answer with one number's status.
func tencentStatus(code, serial string) sendertest.Reply {
	return sendertest.JSON(http.StatusOK, `{"Response":{"SendStatusSet":[{"SerialNo":"`+serial+`","PhoneNumber":"`+sendPhone+`","Fee":1,"SessionContext":"","Code":"`+code+`","Message":"about `+sendPhone+`","IsoCode":"CN"}],"RequestId":"r1"}}`)
}

// tencentError is SendSms's answer to a request refused as a whole.
func tencentError(code string) sendertest.Reply {
	return sendertest.JSON(http.StatusOK, `{"Response":{"Error":{"Code":"`+code+`","Message":"refused `+sendPhone+`"},"RequestId":"r2"}}`)
}

// TestSendOutcomes maps Tencent's answers: per-number codes and
// request-wide errors, retryable or final.
func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	ok := func(name string, reply sendertest.Reply, id string) sendertest.SendCase {
		return sendertest.SendCase{Name: name, Reply: reply, Outcome: sendertest.Outcome{ID: id}}
	}
	refused := func(name string, reply sendertest.Reply, retry bool, reason string) sendertest.SendCase {
		return sendertest.SendCase{Name: name, Reply: reply, Outcome: sendertest.Outcome{Retry: retry, Reason: reason}}
	}
	client := func(url string) sender.Client { return sendClient(url, sendSecretKey) }
	sendertest.RunSends(t, client, sendMessage(), []string{sendSecretKey},
		ok("accepted", tencentStatus("Ok", "2433:104571066915705366"), "2433:104571066915705366"),
		refused("accepted without serial", tencentStatus("Ok", ""), false, "without a SerialNo"),
		// Daily limits: the same day, a retry cannot pass.
		refused("daily limit per number", tencentStatus("LimitExceeded.PhoneNumberDailyLimit", ""), false, "LimitExceeded.PhoneNumberDailyLimit"),
		refused("same content daily", tencentStatus("LimitExceeded.PhoneNumberSameContentDailyLimit", ""), false, "LimitExceeded.PhoneNumberSameContentDailyLimit"),
		refused("app daily limit", tencentStatus("LimitExceeded.AppDailyLimit", ""), false, "LimitExceeded.AppDailyLimit"),
		refused("delivery frequency policy", tencentStatus("LimitExceeded.DeliveryFrequencyLimit", ""), false, "LimitExceeded.DeliveryFrequencyLimit"),
		// Short windows the backoff outlasts.
		refused("thirty second limit", tencentStatus("LimitExceeded.PhoneNumberThirtySecondLimit", ""), true, "LimitExceeded.PhoneNumberThirtySecondLimit"),
		refused("one hour limit", tencentStatus("LimitExceeded.PhoneNumberOneHourLimit", ""), true, "LimitExceeded.PhoneNumberOneHourLimit"),
		refused("blacklisted", tencentStatus("FailedOperation.PhoneNumberInBlacklist", ""), false, "FailedOperation.PhoneNumberInBlacklist"),
		refused("template unapproved", tencentStatus("FailedOperation.TemplateIncorrectOrUnapproved", ""), false, "FailedOperation.TemplateIncorrectOrUnapproved"),
		refused("bad number", tencentStatus("InvalidParameterValue.IncorrectPhoneNumber", ""), false, "InvalidParameterValue.IncorrectPhoneNumber"),
		refused("no balance", tencentStatus("FailedOperation.InsufficientBalanceInSmsPackage", ""), false, "FailedOperation.InsufficientBalanceInSmsPackage"),
		refused("timeout", tencentStatus("InternalError.Timeout", ""), true, "InternalError.Timeout"),
		refused("send and receive", tencentStatus("InternalError.SendAndRecvFail", ""), true, "InternalError.SendAndRecvFail"),
		refused("api signature", tencentError("AuthFailure.SignatureFailure"), false, "request refused: AuthFailure.SignatureFailure"),
		refused("api internal", tencentError("InternalError"), true, "request refused: InternalError"),
		refused("api throttled", tencentError("RequestLimitExceeded"), true, "request refused: RequestLimitExceeded"),
		refused("api unauthorized", tencentError("UnauthorizedOperation.SmsSdkAppIdVerifyFail"), false, "UnauthorizedOperation.SmsSdkAppIdVerifyFail"),
		refused("no statuses", sendertest.JSON(200, `{"Response":{"SendStatusSet":[],"RequestId":"r3"}}`), false, "0 send statuses"),
		refused("unreadable", sendertest.Text(200, "<html>"), false, "unreadable response"),
		refused("gateway error", sendertest.Text(502, ""), true, "HTTP 502"),
		refused("not found", sendertest.Text(404, ""), false, "HTTP 404"),
	)
	_, err := sendClient("http://127.0.0.1:1", sendSecretKey).Send(t.Context(), sendMessage())
	sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: true, Reason: "tencent: transport"}, sendMessage(), sendSecretKey)
}

func TestSenderCheck(t *testing.T) {
	t.Parallel()
	if err := sendClient(tencent.DefaultEndpoint, sendSecretKey).Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := (tencent.Sender{Endpoint: tencent.DefaultEndpoint}).Check(); err == nil || !strings.Contains(err.Error(), "SecretID, SecretKey, SDKAppID, SignName") {
		t.Errorf("nothing set: %v", err)
	}
	for _, bad := range []string{"sms.tencentcloudapi.com", "ftp://sms.tencentcloudapi.com", "https://", "https://h/?q=1"} {
		c := sendClient(bad, sendSecretKey)
		if err := c.Check(); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("endpoint %q: %v", bad, err)
		}
	}
}
