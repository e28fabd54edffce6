package aliyun

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
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

// DefaultEndpoint is the SMS API, dysmsapi.
const DefaultEndpoint = "https://dysmsapi.aliyuncs.com"

// The API's version and the parameters every call signs with.
const (
	apiVersion       = "2017-05-25"
	signatureMethod  = "HMAC-SHA1"
	signatureVersion = "1.0"
	timestampLayout  = "2006-01-02T15:04:05Z"
)

// maxResponse bounds what is read of an answer: a SendSms answer is about
// 150 bytes, an error one a few hundred.
const maxResponse = 64 << 10

// defaultClient gives up after ten seconds, as sender.Call's does.
var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Sender sends SMS through the SendSms API: a GET to Endpoint whose query
// holds the call's parameters and its RPC signature, as Alibaba Cloud
// documents the API. The text sent is the approved template TemplateID with
// m.Params, never m.Body: the provider sends nothing else.
type Sender struct {
	Endpoint        string
	AccessKeyID     string
	AccessKeySecret string
	// SignName is the approved signature (签名) every message is sent
	// under, shown as 【SignName】 on the phone.
	SignName string
	// Client is the HTTP client; one with a 10 s timeout when nil.
	Client *http.Client
	// Now and Nonce are the clock and the SignatureNonce source; the
	// system clock and 128 random bits when nil.
	Now   func() time.Time
	Nonce func() string
}

// Check reports configuration that cannot work, for start-up.
func (s Sender) Check() error {
	if err := sender.Required("aliyun: sender", sender.Field{Name: "Endpoint", Value: s.Endpoint}, sender.Field{Name: "AccessKeyID", Value: s.AccessKeyID},
		sender.Field{Name: "AccessKeySecret", Value: s.AccessKeySecret}, sender.Field{Name: "SignName", Value: s.SignName}); err != nil {
		return err
	}
	if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("aliyun: sender: Endpoint is not an http(s) URL without a query")
	}
	return nil
}

// sendErrors are the answers' codes a send can fail with, by whether to try
// again. Codes not listed are final when Alibaba Cloud blames the caller
// (isv.*, and refusals of the request itself) and retryable when it blames
// itself (isp.*, Throttling*, HTTP 5xx).
var sendErrors = map[string]struct {
	retry bool
	what  string
}{
	// Frequency caps per number and per day: Alibaba Cloud counts a
	// minute, an hour and a day, and the backoff's first retries fall
	// inside the same window, so they cannot pass; the message fails with
	// the code as its reason, for an operator to see and raise the cap.
	"isv.BUSINESS_LIMIT_CONTROL":      {false, "frequency cap for this number; a retry would not pass it soon"},
	"isv.DAY_LIMIT_CONTROL":           {false, "daily cap reached; a retry would not pass it soon"},
	"isv.MONTH_LIMIT_CONTROL":         {false, "monthly cap reached; a retry would not pass it soon"},
	"isv.SMS_TEMPLATE_ILLEGAL":        {false, "template not approved or not of this account"},
	"isv.SMS_SIGNATURE_ILLEGAL":       {false, "signature not approved or not of this account"},
	"isv.SMS_SIGN_ILLEGAL":            {false, "signature forbidden"},
	"isv.SMS_CONTENT_ILLEGAL":         {false, "forbidden content in a parameter"},
	"isv.DENY_IP_RANGE":               {false, "mainland sends refused from this address's region"},
	"isv.MOBILE_NUMBER_ILLEGAL":       {false, "invalid phone number"},
	"isv.TEMPLATE_MISSING_PARAMETERS": {false, "a template variable has no value"},
	"isv.INVALID_JSON_PARAM":          {false, "TemplateParam is not a JSON object of strings"},
	"isv.AMOUNT_NOT_ENOUGH":           {false, "account out of credit"},
	"isv.OUT_OF_SERVICE":              {false, "account suspended"},
	"isv.BLACK_KEY_CONTROL_LIMIT":     {false, "blocked keyword in a parameter"},
	"isv.PARAM_LENGTH_LIMIT":          {false, "a parameter is too long"},
	"SignatureDoesNotMatch":           {false, "signature refused: check BAREFOOT_ALIYUN_ACCESS_KEY_SECRET"},
	"InvalidAccessKeyId.NotFound":     {false, "unknown AccessKey: check BAREFOOT_ALIYUN_ACCESS_KEY_ID"},
	"InvalidTimeStamp.Expired":        {false, "timestamp refused: check the clock"},
	"SignatureNonceUsed":              {true, "signature nonce reused"},
	"isp.SYSTEM_ERROR":                {true, "Alibaba Cloud system error"},
	"isp.RAM_PERMISSION_DENY":         {false, "the AccessKey may not send SMS (RAM permission)"},
	"ServiceUnavailable":              {true, "service unavailable"},
	"InternalError":                   {true, "Alibaba Cloud internal error"},
}

// sendResponse is the part of an answer that matters. Message is left out:
// it may quote what was sent.
type sendResponse struct {
	Code  string `json:"Code"`
	BizID string `json:"BizId"`
}

// Send sends the template m.TemplateID with m.Params to m.Phone and returns
// the BizId, which delivery receipts name. OutId carries our message id.
// A message without an approved template is refused: the gateway's sender
// never hands one over.
func (s Sender) Send(ctx context.Context, m sms.Message) (string, error) {
	if m.TemplateID == "" {
		return "", sender.Finalf("aliyun: message has no approved template (TemplateID); Alibaba Cloud sends nothing else")
	}
	params, err := templateParam(m.Params)
	if err != nil {
		return "", err
	}
	q := url.Values{
		"Action": {"SendSms"}, "Version": {apiVersion}, "Format": {"JSON"},
		"AccessKeyId": {s.AccessKeyID}, "SignatureMethod": {signatureMethod}, "SignatureVersion": {signatureVersion},
		"SignatureNonce": {s.nonce()}, "Timestamp": {s.now().UTC().Format(timestampLayout)},
		"PhoneNumbers": {PhoneNumber(m.Phone)}, "SignName": {s.SignName}, "TemplateCode": {m.TemplateID},
	}
	if params != "" {
		q.Set("TemplateParam", params)
	}
	if m.ID != 0 {
		q.Set("OutId", strconv.FormatInt(m.ID, 10))
	}
	target := strings.TrimRight(s.Endpoint, "/") + "/?Signature=" + PercentEncode(Sign(http.MethodGet, q, s.AccessKeySecret)) + "&" + CanonicalQuery(q)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		// Not err itself: it would quote the URL, the number in it.
		return "", sender.Finalf("aliyun: build request: bad Endpoint")
	}
	req.Header.Set("Accept", "application/json")
	client := s.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", sender.Transport(CarrierName, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", sender.Transport(CarrierName, err)
	}

	var r sendResponse
	jsonErr := json.Unmarshal(body, &r)
	if resp.StatusCode/100 == 2 && jsonErr == nil && r.Code == "OK" {
		if r.BizID == "" {
			// Accepted, but receipts cannot be matched; the message has
			// gone, so it is not sent again.
			return "", sender.Finalf("aliyun: accepted without a BizId")
		}
		return r.BizID, nil
	}
	return "", refusal(resp.StatusCode, r.Code, jsonErr == nil)
}

// refusal classifies a failed send by its code, or by the HTTP status when
// there is none.
func refusal(status int, code string, readable bool) *sender.Error {
	if !readable || code == "" {
		if status/100 == 2 {
			// Unreadable, yet 2xx: the message may well have gone.
			return sender.Finalf("aliyun: unreadable response (HTTP %d)", status)
		}
		return sender.HTTPStatus(CarrierName, status, "")
	}
	reason := fmt.Sprintf("aliyun: HTTP %d: %s", status, sender.Snippet(code))
	if known, ok := sendErrors[code]; ok {
		return &sender.Error{Retry: known.retry, Reason: reason + " (" + known.what + ")"}
	}
	retry := status == http.StatusTooManyRequests || status >= 500 || strings.HasPrefix(code, "isp.") || strings.HasPrefix(code, "Throttling")
	return &sender.Error{Retry: retry, Reason: reason}
}

// templateParam is m.Params as the JSON object SendSms takes, values by
// name: {"code":"C0001"}; "" when there are none. A parameter without a
// name, or named twice, is the template layer's mistake and final.
func templateParam(params []sms.Param) (string, error) {
	if len(params) == 0 {
		return "", nil
	}
	obj := make(map[string]string, len(params))
	for _, p := range params {
		if p.Name == "" {
			return "", sender.Finalf("aliyun: a template parameter has no name")
		}
		if _, dup := obj[p.Name]; dup {
			return "", sender.Finalf("aliyun: template parameter %q given twice", sender.Snippet(p.Name))
		}
		obj[p.Name] = p.Value
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // the provider renders the values as text
	if err := enc.Encode(obj); err != nil {
		return "", sender.Finalf("aliyun: template parameters: %v", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// PhoneNumber is an E.164 number as PhoneNumbers takes it: a mainland
// number without its country code (13800138000), any other with its
// country code and no plus (85291234567), for the international service.
func PhoneNumber(e164 string) string {
	if n, ok := strings.CutPrefix(e164, "+86"); ok {
		return n
	}
	return strings.TrimPrefix(e164, "+")
}

func (s Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s Sender) nonce() string {
	if s.Nonce != nil {
		return s.Nonce()
	}
	return rand.Text()
}
