package twilio_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/gofiber/fiber/v2"
)

// Test numbers and credentials, not real ones.
const (
	sendPhone = "+14155550123"
	sendSID   = "AC00000000000000000000000000000001"
	sendToken = "send-token-0123456789abcdef"
)

func sendMessage(body string) sms.Message {
	return sms.Message{ID: 7, Carrier: twilio.CarrierName, Phone: sendPhone, Body: body, Kind: sms.KindReply}
}

func sendClient(base string) twilio.Sender {
	return twilio.Sender{
		BaseURL: base, AccountSID: sendSID, AuthToken: sendToken, From: "+14155550100",
		StatusCallback: "https://gw.example.org/sms/twilio/status", Client: sendertest.Client(),
	}
}

// twilioError is an error resource as Twilio answers it; its message quotes
// the number.
func twilioError(status, code int) sendertest.Reply {
	return sendertest.JSON(status, `{"code":`+strconv.Itoa(code)+`,"message":"The 'To' number `+sendPhone+` is not valid.","more_info":"https://www.twilio.com/docs/errors/`+strconv.Itoa(code)+`","status":`+strconv.Itoa(status)+`}`)
}

func TestSendRequest(t *testing.T) {
	t.Parallel()
	carrier := sendertest.NewCarrier(t, func(sendertest.Request) sendertest.Reply {
		return sendertest.JSON(http.StatusCreated, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued","num_segments":"1"}`)
	})
	body := "您的孩子的补助已发放"
	sid, err := sendClient(carrier.URL).Send(t.Context(), sendMessage(body))
	if err != nil || sid != "SM0123456789abcdef0123456789abcdef" {
		t.Fatalf("Send = %q, %v", sid, err)
	}
	r := carrier.Last(t)
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+sendSID+"/Messages.json" {
		t.Errorf("%s %s", r.Method, r.Path)
	}
	req := &http.Request{Header: r.Header}
	if user, pass, ok := req.BasicAuth(); !ok || user != sendSID || pass != sendToken {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("content type %q", ct)
	}
	want := url.Values{"To": {sendPhone}, "From": {"+14155550100"}, "Body": {body}, "StatusCallback": {"https://gw.example.org/sms/twilio/status"}}
	if r.Form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", r.Form, want)
	}

	c := sendClient(carrier.URL)
	c.StatusCallback = ""
	if _, err := c.Send(t.Context(), sendMessage("x")); err != nil {
		t.Fatal(err)
	}
	if _, ok := carrier.Last(t).Form["StatusCallback"]; ok {
		t.Error("StatusCallback sent without one configured")
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	refused := func(name string, reply sendertest.Reply, retry bool, reason string) sendertest.SendCase {
		return sendertest.SendCase{Name: name, Reply: reply, Outcome: sendertest.Outcome{Retry: retry, Reason: reason}}
	}
	client := func(url string) sender.Client { return sendClient(url) }
	sendertest.RunSends(t, client, sendMessage("secret body 保密"), []string{sendToken},
		refused("opted out", twilioError(400, 21610), false, "HTTP 400: error 21610 (recipient opted out)"),
		refused("invalid To", twilioError(400, 21211), false, "HTTP 400: error 21211 (invalid To number)"),
		refused("other 400", twilioError(400, 21602), false, "HTTP 400: error 21602"),
		refused("bad credentials", twilioError(401, 20003), false, "HTTP 401: error 20003"),
		refused("too many requests", twilioError(429, 20429), true, "HTTP 429: error 20429"),
		refused("server error", twilioError(500, 20500), true, "HTTP 500"),
		refused("unavailable, no body", sendertest.Text(503, ""), true, "HTTP 503"),
		refused("unreadable 2xx", sendertest.Text(201, "not json"), false, "unreadable response"),
	)
	_, err := sendClient("http://127.0.0.1:1").Send(t.Context(), sendMessage("hello"))
	sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: true, Reason: "twilio: transport"}, sendMessage("hello"), sendToken)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	const path = "/sms/twilio/status"
	app := sendertest.App(fiber.MethodPost, path, twilio.Status(db, twilio.Verifier(sendToken, "https://gw.example.org")))
	callback := func(sid, status string) url.Values {
		return url.Values{
			"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {sendSID}, "MessageStatus": {status},
			"From": {"+14155550100"}, "To": {sendPhone}, "ApiVersion": {"2010-04-01"},
		}
	}
	signed := func(form url.Values) *http.Request {
		r := sendertest.PostForm(path, form)
		r.Header.Set(twilio.SignatureHeader, twilio.Sign(sendToken, "https://gw.example.org"+path, form))
		return r
	}
	post := func(form url.Values) (int, string) {
		t.Helper()
		return sendertest.Do(t, app, signed(form))
	}

	for i, tc := range []struct{ status, want string }{
		{"queued", sms.Sent},
		{"sending", sms.Sent},
		{"sent", sms.Sent},
		{"delivered", sms.Delivered},
		{"read", sms.Delivered},
		{"failed", sms.Failed},
		{"undelivered", sms.Failed},
		// Nothing to say about delivery: acknowledged, nothing changes.
		{"accepted", sms.Sent},
		{"scheduled", sms.Sent},
		{"canceled", sms.Sent},
		{"receiving", sms.Sent},
		{"received", sms.Sent},
	} {
		sid := "SMmap" + strconv.Itoa(i)
		id := sendertest.MustSent(t, db, sendMessage("m"), sid)
		form := callback(sid, tc.status)
		if tc.want == sms.Failed {
			form.Set("ErrorCode", "30003")
		}
		if code, body := post(form); code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.status, code, body)
		}
		if got := sendertest.Status(t, db, id); got != tc.want {
			t.Errorf("%s: status %s, want %s", tc.status, got, tc.want)
		}
	}

	// Out of order: delivered, then a late sent, stays delivered; the
	// legacy SmsStatus is read when MessageStatus is missing.
	id := sendertest.MustSent(t, db, sendMessage("m"), "SMfwd")
	legacy := callback("SMfwd", "")
	legacy.Del("MessageStatus")
	legacy.Set("SmsStatus", "delivered")
	for _, form := range []url.Values{legacy, callback("SMfwd", "sent"), callback("SMfwd", "undelivered")} {
		if code, body := post(form); code != http.StatusOK {
			t.Fatalf("%v: %d %s", form, code, body)
		}
	}
	if got := sendertest.Status(t, db, id); got != sms.Delivered {
		t.Errorf("after late callbacks: %s, want delivered", got)
	}

	// Signatures: missing, wrong, or for another URL, are refused and
	// change nothing.
	id2 := sendertest.MustSent(t, db, sendMessage("m"), "SMsig")
	unsigned := sendertest.PostForm(path, callback("SMsig", "failed"))
	wrong := signed(callback("SMsig", "failed"))
	wrong.Header.Set(twilio.SignatureHeader, twilio.Sign("another-token", "https://gw.example.org"+path, callback("SMsig", "failed")))
	tampered := sendertest.PostForm(path, callback("SMsig", "failed"))
	tampered.Header.Set(twilio.SignatureHeader, signed(callback("SMsig", "delivered")).Header.Get(twilio.SignatureHeader))
	for name, r := range map[string]*http.Request{"unsigned": unsigned, "wrong key": wrong, "tampered": tampered} {
		if code, _ := sendertest.Do(t, app, r); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	if got := sendertest.Status(t, db, id2); got != sms.Sent {
		t.Errorf("after refused callbacks: %s, want sent", got)
	}

	for _, tc := range []struct {
		name string
		form url.Values
		want int
	}{
		{"unknown sid", callback("SMnobody", "delivered"), http.StatusOK},
		{"unknown status", callback("SMsig", "vanished"), http.StatusBadRequest},
		{"no sid", url.Values{"MessageStatus": {"delivered"}}, http.StatusBadRequest},
		{"no status", url.Values{"MessageSid": {"SMsig"}}, http.StatusBadRequest},
	} {
		if code, body := post(tc.form); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}

	broken := storagetest.MustDB(t)
	_ = broken.Close()
	app = sendertest.App(fiber.MethodPost, path, twilio.Status(broken, twilio.Verifier(sendToken, "https://gw.example.org")))
	if code, _ := sendertest.Do(t, app, signed(callback("SMsig", "delivered"))); code != http.StatusInternalServerError {
		t.Errorf("store down: %d, want 500", code)
	}
}

func TestSenderCheck(t *testing.T) {
	t.Parallel()
	if err := sendClient(twilio.DefaultBaseURL).Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := (twilio.Sender{BaseURL: twilio.DefaultBaseURL}).Check(); err == nil || !strings.Contains(err.Error(), "AccountSID, AuthToken, From") {
		t.Errorf("no credentials: %v", err)
	}
}
