// Package aliyun adapts Alibaba Cloud SMS (阿里云短信服务, dysmsapi) to the
// gateway: messages from phones (SmsUp, 上行) and delivery receipts
// (SmsReport, 状态报告), both by HTTP batch push, and the SendSms API,
// which replies and alerts go out through. A push is a JSON array that may
// hold several messages or receipts; it is answered {"code":0,"msg":"接收成功"}
// once every one of them is recorded, and anything else makes Alibaba
// Cloud push it again. Pushes carry no signature: the gateway's webhook
// secret, the last segment of the URLs registered, stands in for one.
//
// Alibaba Cloud sends only templates it approved (通知短信 here) under an
// approved signature (签名), so the send client sends a message's
// TemplateID and Params, never its Body.
//
// New reads the carrier's settings:
//
//	BAREFOOT_ALIYUN_ACCESS_KEY_ID      the AccessKey; messages go out
//	                                   through Alibaba Cloud once it is set
//	BAREFOOT_ALIYUN_ACCESS_KEY_SECRET  its secret, required with it
//	BAREFOOT_ALIYUN_SIGN_NAME          the approved signature, required
//	                                   with it
//	BAREFOOT_ALIYUN_ENDPOINT           the API, https://dysmsapi.aliyuncs.com
//	                                   by default
//
// Pushes come to BAREFOOT_PUBLIC_URL followed by /sms/aliyun (SmsUp) and
// /sms/aliyun/report (SmsReport); start-up names both URLs.
package aliyun

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway"
)

// CarrierName is Alibaba Cloud's short name in stored messages, the key of
// its send client in sender.Sender.Carriers.
const CarrierName = "aliyun"

// Where Alibaba Cloud pushes: the HTTP batch push URLs to set in its
// console are BAREFOOT_PUBLIC_URL followed by these and the webhook
// secret.
const (
	upPath     = "/sms/aliyun"
	reportPath = "/sms/aliyun/report"
)

// DefaultDailyCap is the provider's default limit of messages to one
// number in a calendar day; set the carrier's DAILY_CAP to what its
// console says.
const DefaultDailyCap = 10

// New returns Alibaba Cloud as the gateway serves it: its push routes and,
// once BAREFOOT_ALIYUN_ACCESS_KEY_ID is set, the send client.
func New(env gateway.CarrierEnv) (gateway.Carrier, error) {
	s := Sender{
		Endpoint: env.Setting("BAREFOOT_ALIYUN_ENDPOINT", DefaultEndpoint), AccessKeyID: env.Setting("BAREFOOT_ALIYUN_ACCESS_KEY_ID", ""),
		AccessKeySecret: env.Setting("BAREFOOT_ALIYUN_ACCESS_KEY_SECRET", ""), SignName: env.Setting("BAREFOOT_ALIYUN_SIGN_NAME", ""), Client: env.HTTPClient,
	}
	send, err := env.SendClient(s.AccessKeyID != "", s, "BAREFOOT_ALIYUN_ACCESS_KEY_ID", "BAREFOOT_ALIYUN_ACCESS_KEY_SECRET", "BAREFOOT_ALIYUN_SIGN_NAME")
	dailyCap, capErr := env.DailyCap("BAREFOOT_ALIYUN_DAILY_CAP", DefaultDailyCap)
	if err == nil {
		err = capErr
	}
	profile, profErr := env.Profile(CarrierName, signature(s.SignName))
	if err == nil {
		err = profErr
	}
	c := gateway.Carrier{
		Name: CarrierName, Sender: send, Templates: true, DailyCap: dailyCap, Profile: profile,
		// The report route first: /sms/aliyun/report must never be read
		// as /sms/aliyun/<secret>.
		Routes: []gateway.Route{
			{Method: http.MethodPost, Path: reportPath, Handler: Report(env.Deliveries)},
			{Method: http.MethodPost, Path: upPath, Receiving: Up},
		},
	}
	if send != nil {
		c.Notes = append(c.Notes, notes(env)...)
	}
	return c, err
}

// notes tell the operator what to set in Alibaba Cloud's console. The
// secret is named, never written: start-up logs are read by many.
func notes(env gateway.CarrierEnv) []string {
	if env.PublicURL == "" {
		return []string{"BAREFOOT_PUBLIC_URL is empty: set Alibaba Cloud's HTTP batch push URLs by hand, " + upPath + " for SmsUp and " + reportPath + " for SmsReport under the public URL, each followed by /<webhook secret>"}
	}
	registered := func(path string) string {
		u := env.CallbackURL(CarrierName, path)
		secret := env.WebhookSecret(CarrierName)
		if secret == "" {
			return u
		}
		which := "BAREFOOT_WEBHOOK_SECRET"
		if env.Setting("BAREFOOT_ALIYUN_WEBHOOK_SECRET", "") != "" {
			which = "BAREFOOT_ALIYUN_WEBHOOK_SECRET"
		}
		return strings.TrimSuffix(u, "/"+url.PathEscape(secret)) + "/<" + which + ">"
	}
	return []string{"Alibaba Cloud SMS: set the HTTP batch push (HTTP 批量推送) URLs in its console: SmsUp " + registered(upPath) + " and SmsReport " + registered(reportPath)}
}

// signature is what the provider adds to every message: the approved
// signature in 【】, which counts toward the message's length.
func signature(name string) string {
	if name == "" {
		return ""
	}
	return "【" + name + "】"
}
