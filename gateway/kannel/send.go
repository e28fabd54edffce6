package kannel

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// IDPlaceholder and TokenPlaceholder in Sender.DLRURL are replaced by our
// message id and its delivery token.
const (
	IDPlaceholder    = "{id}"
	TokenPlaceholder = "{token}"
)

// dlrMask asks Kannel for every report that settles a message: delivered
// (1) and not delivered (2) to the phone, accepted (8) and rejected (16) by
// the SMSC; not buffered (4), which says nothing new. It is courier's mask.
const dlrMask = "27"

// maxSendResponse bounds what is read of smsbox's one-line answer.
const maxSendResponse = 4 << 10

// Sender sends SMS through Kannel's smsbox sendsms interface: a GET of
// {BaseURL}/cgi-bin/sendsms with the credentials of a sendsms-user and the
// message in the query string.
type Sender struct {
	// BaseURL is smsbox's sendsms port, as http://smsbox:13013.
	BaseURL  string
	Username string
	Password string
	// From is the sender number; the sendsms-user's default when empty.
	From string
	// DLRURL is where Kannel reports delivery (see DLR), with {token}
	// where the message's delivery token goes, {id} where
	// our message id goes and Kannel's %d where the report type goes:
	// https://gw.example.org/sms/kannel/dlr?id={id}&status=%d. Without it
	// no reports are asked for.
	DLRURL string
	// Client is the HTTP client; sender.Call's default when nil.
	Client *http.Client
}

// Check reports configuration that cannot work, for start-up. A DLRURL
// without {id} would give reports no message could be matched to.
func (s Sender) Check() error {
	if err := sender.Required("kannel: sender", sender.Field{Name: "BaseURL", Value: s.BaseURL}, sender.Field{Name: "Username", Value: s.Username}, sender.Field{Name: "Password", Value: s.Password}); err != nil {
		return err
	}
	if s.DLRURL != "" && !strings.Contains(s.DLRURL, IDPlaceholder) {
		return fmt.Errorf("kannel: sender: DLRURL has no %s", IDPlaceholder)
	}
	return nil
}

// Send sends m to m.Phone. Kannel returns no id of its own, so the
// carrier id is our message id, which the DLR URL carries back.
//
// Text that fits GSM-7 goes as UTF-8 with no coding or charset: smsbox's
// default for 7-bit text is UTF-8, which it maps to the GSM alphabet.
// Other text (any Chinese character) must go as UCS-2, coding=2, and here
// there was a choice: send UTF-8 with charset=UTF-8 and let smsbox convert
// it, or convert it ourselves. smsbox converts with iconv, and a Kannel
// built without iconv fails any charset conversion ("Charset or body
// misformed, rejected"), even UTF-16BE to UTF-16BE; courier was bitten by
// this. So, as courier does, the text is encoded here as UTF-16BE (UCS-2
// with surrogate pairs for characters outside the BMP, which handsets
// decode) and sent with coding=2 and no charset, which smsbox passes on
// untouched whatever its build. A text longer than one SMS is split by
// Kannel as the sendsms-user's max-messages allows.
func (s Sender) Send(ctx context.Context, m sms.Message) (string, error) {
	id := strconv.FormatInt(m.ID, 10)
	q := url.Values{
		"username": {s.Username},
		"password": {s.Password},
		"to":       {m.Phone},
		"text":     {m.Body},
	}
	if enc, _ := textlen.Measure(m.Body); enc == textlen.UCS2 {
		q.Set("text", utf16BE(m.Body))
		q.Set("coding", "2")
	}
	if s.From != "" {
		q.Set("from", s.From)
	}
	if s.DLRURL != "" {
		q.Set("dlr-mask", dlrMask)
		q.Set("dlr-url", strings.NewReplacer(IDPlaceholder, id, TokenPlaceholder, url.QueryEscape(m.DLRToken)).Replace(s.DLRURL))
	}
	ans, err := sender.Call{
		Carrier: CarrierName, Method: http.MethodGet, URL: strings.TrimRight(s.BaseURL, "/") + "/cgi-bin/sendsms", Form: q,
		Client: s.Client, Limit: maxSendResponse,
	}.Do(ctx)
	if err != nil {
		return "", err
	}
	answer := sender.Snippet(string(ans.Body))
	if !ans.OK() {
		// smsbox answers 4xx for a bad request or credentials, 503
		// "Temporal failure, try again later." when bearerbox cannot take
		// the message.
		return "", sender.HTTPStatus(CarrierName, ans.Status, answer)
	}
	// 202 "0: Accepted for delivery" or "3: Queued for later delivery".
	if strings.HasPrefix(answer, "0:") || strings.HasPrefix(answer, "3:") {
		return id, nil
	}
	return "", sender.Finalf("kannel: HTTP %d: unexpected answer: %s", ans.Status, answer)
}

// utf16BE returns s encoded as UTF-16 big-endian bytes.
func utf16BE(s string) string {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}
