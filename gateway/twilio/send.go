package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// maxSendResponse bounds what is read of a response: a message resource is
// about 1 kB.
const maxSendResponse = 64 << 10

// Sender sends SMS through Twilio's Messages API: a form POST to
// {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with HTTP Basic
// auth (account sid and auth token).
type Sender struct {
	BaseURL    string
	AccountSID string
	AuthToken  string
	// From is our Twilio number, E.164.
	From string
	// StatusCallback, when set, is where Twilio posts status callbacks for
	// the message (see Status).
	StatusCallback string
	// Client is the HTTP client; sender.Call's default when nil.
	Client *http.Client
}

// Check reports configuration that cannot work, for start-up.
func (s Sender) Check() error {
	return sender.Required("twilio: sender", sender.Field{Name: "BaseURL", Value: s.BaseURL}, sender.Field{Name: "AccountSID", Value: s.AccountSID}, sender.Field{Name: "AuthToken", Value: s.AuthToken}, sender.Field{Name: "From", Value: s.From})
}

// Twilio error codes a send may answer with, by whether to try again.
// Codes not listed are final unless the HTTP status says otherwise.
var sendErrors = map[int]struct {
	retry bool
	what  string
}{
	20429: {true, "too many requests"},
	21211: {false, "invalid To number"},
	21408: {false, "region not enabled"},
	21610: {false, "recipient opted out"},
	21612: {false, "To number not reachable from From"},
	21614: {false, "To is not a mobile number"},
	30001: {true, "queue overflow"},
}

// messageResource is the part of Twilio's answers that matters: a message
// resource on success, an error resource (code, status) on failure. Twilio's
// error message is left out: it quotes the number.
type messageResource struct {
	Sid  string `json:"sid"`
	Code int    `json:"code"`
}

// Send sends m to m.Phone and returns the message sid, which status
// callbacks name. 429 and 5xx are retryable; other refusals are final,
// with Twilio's error code in the reason.
func (s Sender) Send(ctx context.Context, m sms.Message) (string, error) {
	form := url.Values{"To": {m.Phone}, "From": {s.From}, "Body": {m.Body}}
	if s.StatusCallback != "" {
		form.Set("StatusCallback", s.StatusCallback)
	}
	ans, err := sender.Call{
		Carrier: CarrierName, Method: http.MethodPost, Form: form,
		URL:    strings.TrimRight(s.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(s.AccountSID) + "/Messages.json",
		Header: http.Header{"Accept": {"application/json"}}, User: s.AccountSID, Password: s.AuthToken,
		Client: s.Client, Limit: maxSendResponse,
	}.Do(ctx)
	if err != nil {
		return "", err
	}

	var r messageResource
	jsonErr := json.Unmarshal(ans.Body, &r)
	if ans.OK() {
		if jsonErr != nil {
			// The message may well have gone; final rather than twice.
			return "", sender.Finalf("twilio: unreadable response (HTTP %d)", ans.Status)
		}
		return r.Sid, nil
	}
	e := sender.HTTPStatus(CarrierName, ans.Status, "")
	if jsonErr == nil && r.Code != 0 {
		if known, ok := sendErrors[r.Code]; ok {
			e.Retry = e.Retry || known.retry
			e.Reason += fmt.Sprintf(": error %d (%s)", r.Code, known.what)
		} else {
			e.Reason += fmt.Sprintf(": error %d", r.Code)
		}
	}
	return "", e
}
