package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// Defaults of the send API's settings.
const (
	DefaultEndpoint = "https://sms.tencentcloudapi.com"
	DefaultRegion   = "ap-guangzhou"
)

// The SendSms call: service, version and action of Tencent Cloud API 3.0.
const (
	Service     = "sms"
	APIVersion  = "2021-01-11"
	ActionSend  = "SendSms"
	ContentType = "application/json; charset=utf-8"
)

// maxResponse bounds what is read of an answer; one number's is a few
// hundred bytes.
const maxResponse = 64 << 10

// defaultClient makes calls when the Sender names no client: ten seconds,
// as for the other carriers.
var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Sender sends SMS through Tencent Cloud SMS's SendSms API (version
// 2021-01-11): a JSON POST signed with TC3-HMAC-SHA256. Tencent sends only
// templates approved in its console, so a message goes as its TemplateID
// and the values of its Params, never as its Body.
type Sender struct {
	// Endpoint is the API's base URL, DefaultEndpoint in production.
	Endpoint string
	// SecretID and SecretKey are a CAM API key's; the key signs requests
	// and is never sent, logged or quoted.
	SecretID, SecretKey string
	// SDKAppID is the SMS application (SmsSdkAppId, 1400...).
	SDKAppID string
	// SignName is the approved signature (签名), without 【】.
	SignName string
	// Region is X-TC-Region, DefaultRegion when empty.
	Region string
	// Client is the HTTP client; one with a 10 s timeout when nil.
	Client *http.Client
	// Now is the clock requests are signed with; time.Now when nil.
	Now func() time.Time
}

// Check reports configuration that cannot work, for start-up.
func (s Sender) Check() error {
	if err := sender.Required("tencent: sender", sender.Field{Name: "Endpoint", Value: s.Endpoint}, sender.Field{Name: "SecretID", Value: s.SecretID},
		sender.Field{Name: "SecretKey", Value: s.SecretKey}, sender.Field{Name: "SDKAppID", Value: s.SDKAppID}, sender.Field{Name: "SignName", Value: s.SignName}); err != nil {
		return err
	}
	if _, err := s.target(); err != nil {
		return err
	}
	return nil
}

// target is the URL requests go to; its host is signed.
func (s Sender) target() (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s.Endpoint, "/") + "/")
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		// Not err itself: it would quote the URL, which is a setting.
		return nil, errors.New("tencent: sender: Endpoint is not an http(s) base URL")
	}
	return u, nil
}

// sendRequest is SendSms's body.
type sendRequest struct {
	PhoneNumberSet   []string `json:"PhoneNumberSet"`
	SmsSdkAppID      string   `json:"SmsSdkAppId"`
	SignName         string   `json:"SignName"`
	TemplateID       string   `json:"TemplateId"`
	TemplateParamSet []string `json:"TemplateParamSet"`
}

// sendResponse is the part of SendSms's answer that matters. Tencent
// answers HTTP 200 whatever happened: a request refused as a whole carries
// Error, an accepted one a SendStatus per number, each with its own Code.
// Messages are left out: they are Tencent's words, and may quote the
// number.
type sendResponse struct {
	Response struct {
		Error *struct {
			Code string `json:"Code"`
		} `json:"Error"`
		SendStatusSet []struct {
			SerialNo string `json:"SerialNo"`
			Code     string `json:"Code"`
		} `json:"SendStatusSet"`
		RequestID string `json:"RequestId"`
	} `json:"Response"`
}

// codeOK is a number's Code when Tencent took the message.
const codeOK = "Ok"

// Send sends m to m.Phone as the approved template m.TemplateID with the
// values of m.Params, in order, and returns Tencent's SerialNo, which its
// status callbacks name (sid). A message without a TemplateID is refused,
// final, without a call: Tencent would refuse it, and the gateway's sender
// never hands a carrier with Templates set a message whose template has
// no approved id.
func (s Sender) Send(ctx context.Context, m sms.Message) (string, error) {
	if m.TemplateID == "" {
		return "", sender.Finalf("tencent: no approved template id for template %q: Tencent Cloud sends approved templates only", m.Template)
	}
	target, err := s.target()
	if err != nil {
		return "", sender.Finalf("%s", err.Error())
	}
	params := make([]string, len(m.Params))
	for i, p := range m.Params {
		params[i] = p.Value
	}
	body, err := json.Marshal(sendRequest{
		PhoneNumberSet: []string{m.Phone}, SmsSdkAppID: s.SDKAppID, SignName: s.SignName,
		TemplateID: m.TemplateID, TemplateParamSet: params,
	})
	if err != nil {
		return "", sender.Finalf("tencent: encode request: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return "", sender.Finalf("tencent: build request")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := now().Unix()
	region := s.Region
	if region == "" {
		region = DefaultRegion
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("X-TC-Action", ActionSend)
	req.Header.Set("X-TC-Version", APIVersion)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-TC-Region", region)
	req.Header.Set("Authorization", Authorization(s.SecretID, s.SecretKey, Service, ts, http.MethodPost, []Header{
		{"Content-Type", ContentType}, {"Host", target.Host}, {"X-TC-Action", ActionSend},
	}, body))

	client := s.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", sender.Transport(CarrierName, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", sender.Transport(CarrierName, err)
	}
	if resp.StatusCode/100 != 2 {
		return "", sender.HTTPStatus(CarrierName, resp.StatusCode, "")
	}
	var r sendResponse
	if err := json.Unmarshal(b, &r); err != nil {
		// The message may well have gone; final rather than twice.
		return "", sender.Finalf("tencent: unreadable response (HTTP %d)", resp.StatusCode)
	}
	if e := r.Response.Error; e != nil {
		return "", classify(e.Code, "request refused")
	}
	if len(r.Response.SendStatusSet) != 1 {
		return "", sender.Finalf("tencent: %d send statuses for one number", len(r.Response.SendStatusSet))
	}
	st := r.Response.SendStatusSet[0]
	switch {
	case st.Code == codeOK && st.SerialNo != "":
		return st.SerialNo, nil
	case st.Code == codeOK:
		return "", sender.Finalf("tencent: accepted without a SerialNo")
	}
	return "", classify(st.Code, "number refused")
}

// retryCodes are the codes after which the same message may go through
// later: Tencent's own failures and throttling of the API, and the short
// per-number frequency windows, which the sender's backoff (30 s, then
// doubling) outlasts. Every other code is final: bad credentials,
// parameters, templates or signatures, a number on a block list, no
// balance, and the daily limits, which retrying the same day cannot pass.
// Codes are matched whole, then by their first part ("InternalError").
var retryCodes = map[string]bool{
	"InternalError":                              true,
	"RequestLimitExceeded":                       true,
	"ResourceUnavailable":                        true,
	"ServiceUnavailable":                         true,
	"AuthFailure.SignatureExpire":                true, // clock skew: a later attempt is signed anew
	"LimitExceeded.PhoneNumberThirtySecondLimit": true,
	"LimitExceeded.PhoneNumberOneHourLimit":      true,
}

// classify turns a Tencent error code into a send error that names it.
func classify(code, what string) *sender.Error {
	if code == "" {
		code = "no code"
	}
	retry, ok := retryCodes[code]
	if !ok {
		head, _, _ := strings.Cut(code, ".")
		retry = retryCodes[head]
	}
	// The code is Tencent's identifier, not free text; Snippet still
	// bounds it.
	return &sender.Error{Retry: retry, Reason: fmt.Sprintf("tencent: %s: %s", what, sender.Snippet(code))}
}
