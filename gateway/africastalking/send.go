package africastalking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// CarrierName is Africa's Talking's short name in stored messages, the key
// of its send client in sender.Sender.Carriers.
const CarrierName = "at"

// Base URLs of the messaging API. The sandbox takes the username "sandbox".
const (
	DefaultBaseURL = "https://api.africastalking.com"
	SandboxBaseURL = "https://api.sandbox.africastalking.com"
)

// sendTimeout is the default client's budget: the official SDK allows
// about 3 s to connect and 9 s to read.
const sendTimeout = 10 * time.Second

// maxResponse bounds what is read of a response; a send answer for one
// recipient is a few hundred bytes.
const maxResponse = 64 << 10

var defaultClient = &http.Client{Timeout: sendTimeout}

// Sender sends SMS through Africa's Talking's messaging API: a form POST to
// {BaseURL}/version1/messaging authenticated by the apiKey header.
type Sender struct {
	BaseURL  string
	Username string
	APIKey   string
	// From is the registered short code or sender id; AT's default when
	// empty.
	From string
	// Client is the HTTP client; one with a 10 s timeout when nil.
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.BaseURL, "/")+"/version1/messaging", strings.NewReader(form.Encode()))
	if err != nil {
		return "", sender.Finalf("africastalking: build request: bad BaseURL")
	}
	req.Header.Set("apiKey", s.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	client := s.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", sender.Transport("africastalking", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", sender.Transport("africastalking", err)
	}
	if resp.StatusCode/100 != 2 {
		return "", sender.HTTPStatus("africastalking", resp.StatusCode, sender.Snippet(string(body)))
	}

	var r sendResponse
	if err := json.Unmarshal(body, &r); err != nil {
		// The message may well have gone; sending it again could send it
		// twice, so this is final, as in courier.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "", sender.Finalf("africastalking: unreadable response (HTTP %d)", resp.StatusCode)
		}
		return "", sender.Finalf("africastalking: unexpected response (HTTP %d)", resp.StatusCode)
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
