// Package tencent adapts Tencent Cloud SMS (腾讯云短信) to the gateway: its
// reply callback (短信回复, the uplink), its status callback (状态回执), and
// its SendSms API, which replies and alerts go out through. Tencent posts a
// JSON object per incoming message and expects {"result":0,"errmsg":"OK"};
// replies go back through SendSms, which sends only templates approved in
// Tencent's console (Carrier.Templates).
//
// New reads the carrier's settings:
//
//	BAREFOOT_TENCENT_SECRET_ID    a CAM API key's SecretId; messages go out
//	                              through Tencent once it is set
//	BAREFOOT_TENCENT_SECRET_KEY   its SecretKey, required with the id
//	BAREFOOT_TENCENT_SDK_APP_ID   the SMS application's SdkAppId (1400...),
//	                              required with the id
//	BAREFOOT_TENCENT_SIGN_NAME    the approved signature (签名), required
//	                              with the id
//	BAREFOOT_TENCENT_REGION       X-TC-Region, ap-guangzhou by default
//	BAREFOOT_TENCENT_ENDPOINT     the API, https://sms.tencentcloudapi.com
//	                              by default
//
// Tencent signs neither callback, so both carry the webhook secret as the
// last segment of their path: set in the SMS console, the reply callback
// is BAREFOOT_PUBLIC_URL followed by /sms/tencent/<secret> and the status
// callback /sms/tencent/status/<secret>. Start-up says so.
package tencent

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway"
)

// CarrierName is Tencent Cloud SMS's short name in stored messages, the key
// of its send client in sender.Sender.Carriers.
const CarrierName = "tencent"

// Paths of the callbacks.
const (
	smsPath    = "/sms/tencent"
	statusPath = "/sms/tencent/status"
)

// secretPlaceholder stands for the webhook secret in start-up notes, which
// go to the log, where a secret must not.
const secretPlaceholder = "<webhook secret>"

// DefaultDailyCap is the provider's default limit of messages to one
// number in a calendar day; set the carrier's DAILY_CAP to what its
// console says.
const DefaultDailyCap = 10

// New returns Tencent Cloud SMS as the gateway serves it: the reply
// callback adapter, the status callback route and, once
// BAREFOOT_TENCENT_SECRET_ID is set, the send client.
func New(env gateway.CarrierEnv) (gateway.Carrier, error) {
	s := Sender{
		Endpoint: env.Setting("BAREFOOT_TENCENT_ENDPOINT", DefaultEndpoint), Region: env.Setting("BAREFOOT_TENCENT_REGION", DefaultRegion),
		SecretID: env.Setting("BAREFOOT_TENCENT_SECRET_ID", ""), SecretKey: env.Setting("BAREFOOT_TENCENT_SECRET_KEY", ""),
		SDKAppID: env.Setting("BAREFOOT_TENCENT_SDK_APP_ID", ""), SignName: env.Setting("BAREFOOT_TENCENT_SIGN_NAME", ""),
		Client: env.HTTPClient,
	}
	send, err := env.SendClient(s.SecretID != "", s, "BAREFOOT_TENCENT_SECRET_ID",
		"BAREFOOT_TENCENT_SECRET_KEY", "BAREFOOT_TENCENT_SDK_APP_ID", "BAREFOOT_TENCENT_SIGN_NAME")
	dailyCap, capErr := env.DailyCap("BAREFOOT_TENCENT_DAILY_CAP", DefaultDailyCap)
	if err == nil {
		err = capErr
	}
	profile, profErr := env.Profile(CarrierName, signature(s.SignName))
	if err == nil {
		err = profErr
	}
	c := gateway.Carrier{
		Name: CarrierName, SMS: SMS{}, Sender: send, Templates: true, DailyCap: dailyCap, Profile: profile,
		Routes: []gateway.Route{{Method: http.MethodPost, Path: statusPath, Handler: Status(env.Deliveries)}},
	}
	if send != nil {
		c.Notes = append(c.Notes, callbackNotes(env)...)
	}
	return c, err
}

// callbackNotes tell the operator what to set in Tencent's SMS console: the
// two callback URLs, the webhook secret shown as a placeholder.
func callbackNotes(env gateway.CarrierEnv) []string {
	if env.PublicURL == "" {
		return []string{"BAREFOOT_PUBLIC_URL is empty: the Tencent Cloud SMS reply and status callback URLs cannot be told; without them replies are never received and alerts never show delivered"}
	}
	return []string{
		"Tencent Cloud SMS: set the reply callback (回复回调) in the SMS console to " + masked(env, smsPath),
		"Tencent Cloud SMS: set the status callback (状态回执回调) in the SMS console to " + masked(env, statusPath),
	}
}

// masked is the callback URL of path with the webhook secret replaced by a
// placeholder.
func masked(env gateway.CarrierEnv, path string) string {
	u := env.CallbackURL(CarrierName, path)
	if secret := env.WebhookSecret(CarrierName); secret != "" {
		u = strings.TrimSuffix(u, "/"+url.PathEscape(secret)) + "/" + secretPlaceholder
	}
	return u
}

// signature is what the provider adds to every message: the approved
// signature in 【】, which counts toward the message's length.
func signature(name string) string {
	if name == "" {
		return ""
	}
	return "【" + name + "】"
}
