package africastalking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// Base URLs of the messaging API. The sandbox takes the username "sandbox".
const (
	DefaultBaseURL = "https://api.africastalking.com"
	SandboxBaseURL = "https://api.sandbox.africastalking.com"
)

// maxResponse bounds what is read of a response; a send answer for one
// recipient is a few hundred bytes.
const maxResponse = 64 << 10

// Sender sends SMS through Africa's Talking's messaging API: a form POST to
// {BaseURL}/version1/messaging authenticated by the apiKey header.
type Sender struct {
	BaseURL  string
	Username string
	APIKey   string
	// From is the registered short code or sender id; AT's default when
	// empty.
	From string
	// Client is the HTTP client; sender.Call's default when nil.
	Client *http.Client
}

// Check reports configuration that cannot work, for start-up.
func (s Sender) Check() error {
	return sender.Required("africastalking: sender", sender.Field{Name: "BaseURL", Value: s.BaseURL}, sender.Field{Name: "Username", Value: s.Username}, sender.Field{Name: "APIKey", Value: s.APIKey})
}

// Per-recipient status codes of the send API.
var recipientStatus = map[int]struct {
	retry bool
	what  string
}{
	401: {false, "risk hold"},
	402: {false, "invalid sender id"},
	403: {false, "invalid phone number"},
	404: {false, "unsupported number type"},
	405: {false, "insufficient balance"},
	406: {false, "recipient blacklisted"},
	407: {false, "could not route"},
	409: {false, "do-not-disturb rejection"},
	500: {true, "internal server error"},
	501: {true, "gateway error"},
	502: {true, "rejected by gateway"},
}

// sendResponse is the part of the send API's answer that matters.
type sendResponse struct {
	SMSMessageData struct {
		Message    string `json:"Message"`
		Recipients []struct {
			StatusCode int    `json:"statusCode"`
			Status     string `json:"status"`
			MessageID  string `json:"messageId"`
		} `json:"Recipients"`
	} `json:"SMSMessageData"`
}

// Send sends m to m.Phone and returns AT's messageId, which its delivery
// reports name. The HTTP status is 2xx even when the recipient was
// refused, so the recipient's own status code decides: 100-102 accepted,
// 500-502 retryable, any other refusal final.
func (s Sender) Send(ctx context.Context, m sms.Message) (string, error) {
	form := url.Values{"username": {s.Username}, "to": {m.Phone}, "message": {m.Body}}
	if s.From != "" {
		form.Set("from", s.From)
	}
	ans, err := sender.Call{
		Carrier: "africastalking", Method: http.MethodPost, URL: strings.TrimRight(s.BaseURL, "/") + "/version1/messaging", Form: form,
		Header: http.Header{"apiKey": {s.APIKey}, "Accept": {"application/json"}}, Client: s.Client, Limit: maxResponse,
	}.Do(ctx)
	if err != nil {
		return "", err
	}
	if !ans.OK() {
		return "", sender.HTTPStatus("africastalking", ans.Status, sender.Snippet(string(ans.Body)))
	}

	var r sendResponse
	if err := json.Unmarshal(ans.Body, &r); err != nil {
		// The message may well have gone; sending it again could send it
		// twice, so this is final, as in courier.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "", sender.Finalf("africastalking: unreadable response (HTTP %d)", ans.Status)
		}
		return "", sender.Finalf("africastalking: unexpected response (HTTP %d)", ans.Status)
	}
	if len(r.SMSMessageData.Recipients) == 0 {
		// A request-wide refusal (say "InvalidSenderId") names no recipient.
		return "", sender.Finalf("africastalking: no recipient accepted: %s", sender.Snippet(r.SMSMessageData.Message))
	}
	rcpt := r.SMSMessageData.Recipients[0]
	switch {
	case rcpt.StatusCode >= 100 && rcpt.StatusCode <= 102, rcpt.StatusCode == 0 && rcpt.Status == "Success":
		return rcpt.MessageID, nil
	}
	if st, ok := recipientStatus[rcpt.StatusCode]; ok {
		return "", &sender.Error{Retry: st.retry, Reason: fmt.Sprintf("africastalking: recipient status %d (%s)", rcpt.StatusCode, st.what)}
	}
	return "", &sender.Error{
		Retry:  rcpt.StatusCode >= 500,
		Reason: fmt.Sprintf("africastalking: recipient status %d (%s)", rcpt.StatusCode, sender.Snippet(rcpt.Status)),
	}
}
