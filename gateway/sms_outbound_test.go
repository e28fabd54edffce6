package gateway_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/storage"
)

// Test numbers and credentials, not real ones.
const (
	outboundATPhone     = "+254711000007"
	outboundTwilioPhone = "+14155550177"
	outboundKannelPhone = "+8613900000077"
	outboundTwilioToken = "outbound-token"
)

// outboundCarriers are fake carrier APIs on loopback, one per carrier,
// each accepting every message under a fresh id.
type outboundCarriers struct {
	at, twilio, kannel *sendertest.Carrier
}

func newOutboundCarriers(t *testing.T) outboundCarriers {
	var n atomic.Int64
	return outboundCarriers{
		at: sendertest.NewCarrier(t, func(r sendertest.Request) sendertest.Reply {
			return sendertest.JSON(http.StatusCreated, fmt.Sprintf(
				`{"SMSMessageData":{"Message":"Sent to 1/1","Recipients":[{"statusCode":101,"number":%q,"status":"Success","cost":"KES 0.8000","messageId":"ATXid_%d"}]}}`,
				r.Form.Get("to"), n.Add(1)))
		}),
		twilio: sendertest.NewCarrier(t, func(sendertest.Request) sendertest.Reply {
			return sendertest.JSON(http.StatusCreated, fmt.Sprintf(`{"sid":"SM%032d","status":"queued"}`, n.Add(1)))
		}),
		kannel: sendertest.NewCarrier(t, func(sendertest.Request) sendertest.Reply {
			return sendertest.Text(http.StatusAccepted, "0: Accepted for delivery")
		}),
	}
}

// env configures the gateway's three SMS carriers for sending, through
// the settings the binary reads, to the fakes.
func (c outboundCarriers) env() map[string]string {
	return map[string]string{
		"BAREFOOT_AT_USERNAME": "barefoot", "BAREFOOT_AT_API_KEY": "k", "BAREFOOT_AT_BASE_URL": c.at.URL,
		"BAREFOOT_TWILIO_ACCOUNT_SID": "AC1", "BAREFOOT_TWILIO_AUTH_TOKEN": outboundTwilioToken,
		"BAREFOOT_TWILIO_FROM": "+14155550100", "BAREFOOT_TWILIO_BASE_URL": c.twilio.URL,
		"BAREFOOT_KANNEL_URL": c.kannel.URL, "BAREFOOT_KANNEL_USERNAME": "u", "BAREFOOT_KANNEL_PASSWORD": "p",
	}
}

func outboundMessage(t *testing.T, db *storage.DB, id int64) sms.Message {
	t.Helper()
	m, err := db.MessageByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSMSOutbound follows messages through every outbound step: a reply to
// an inbound SMS and alerts are queued, one sender pass hands each to its
// carrier, and delivery reports, late and repeated ones included, settle
// them as delivered. The gateway is assembled as the binary is, its
// carriers configured through their settings.
func TestSMSOutbound(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	carriers := newOutboundCarriers(t)
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: carriers.env()})
	db := g.DB

	// An AT message answered through AT's send API, as the inbox does.
	in := sms.Message{Carrier: africastalking.CarrierName, CarrierID: "ATin_1", Phone: outboundATPhone, Body: "STATUS"}
	inID, _, err := db.RecordInbound(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := db.Answer(ctx, inID, sms.Message{Body: "No report is open.", Status: sms.Queued})
	if err != nil {
		t.Fatal(err)
	}
	// An alert raised twice (a retried report): queued once.
	alert := sms.Message{Carrier: twilio.CarrierName, Phone: outboundTwilioPhone, Body: "Urgent need N23456", Kind: sms.KindAlert, DedupeKey: "need:N23456:1"}
	alertID, _, err := db.Enqueue(ctx, alert)
	if err != nil {
		t.Fatal(err)
	}
	if again, created, err := db.Enqueue(ctx, alert); err != nil || created || again != alertID {
		t.Fatalf("second enqueue = %d, %v, %v", again, created, err)
	}
	zh := sms.Message{Carrier: kannel.CarrierName, Phone: outboundKannelPhone, Body: "紧急：需要家访 N23456", Kind: sms.KindAlert, DedupeKey: "need:N23456:2"}
	zhID, _, err := db.Enqueue(ctx, zh)
	if err != nil {
		t.Fatal(err)
	}

	s := &sender.Sender{DB: db, Carriers: g.Senders, Log: slog.New(slog.DiscardHandler)}
	if n, err := s.SendDue(ctx); err != nil || n != 3 {
		t.Fatalf("SendDue = %d, %v; want 3", n, err)
	}
	if n, err := s.SendDue(ctx); err != nil || n != 0 {
		t.Fatalf("second SendDue = %d, %v; want 0", n, err)
	}
	for name, c := range map[string]*sendertest.Carrier{"at": carriers.at, "twilio": carriers.twilio, "kannel": carriers.kannel} {
		if n := len(c.Requests()); n != 1 {
			t.Errorf("%s received %d sends, want 1", name, n)
		}
	}
	if got := carriers.at.Last(t).Form; got.Get("to") != outboundATPhone || got.Get("message") != reply.Body {
		t.Errorf("AT send %v", got)
	}
	if got := carriers.twilio.Last(t).Form; got.Get("To") != outboundTwilioPhone || got.Get("StatusCallback") != g.URL+"/sms/twilio/status" {
		t.Errorf("Twilio send %v", got)
	}
	kannelToken := outboundMessage(t, db, zhID).DLRToken
	if got := carriers.kannel.Last(t).Form; got.Get("coding") != "2" || len(kannelToken) < 32 ||
		got.Get("dlr-url") != g.URL+"/sms/kannel/dlr?id="+strconv.FormatInt(zhID, 10)+"&t="+kannelToken+"&status=%d" {
		t.Errorf("Kannel send %v", got)
	}

	ids := map[string]int64{"at": reply.ID, "twilio": alertID, "kannel": zhID}
	carrierIDs := map[string]string{}
	for name, id := range ids {
		m := outboundMessage(t, db, id)
		if m.Status != sms.Sent || m.Attempts != 1 || m.CarrierID == "" {
			t.Fatalf("%s message after sending: %+v", name, m)
		}
		carrierIDs[name] = m.CarrierID
	}
	if carrierIDs["kannel"] != strconv.FormatInt(zhID, 10) {
		t.Errorf("Kannel carrier id %q, want our id %d", carrierIDs["kannel"], zhID)
	}

	// Delivery reports, each followed by a late, lesser one.
	twilioStatus := func(status string, sign bool) *http.Request {
		form := url.Values{"MessageSid": {carrierIDs["twilio"]}, "MessageStatus": {status}, "AccountSid": {"AC1"}, "To": {outboundTwilioPhone}}
		r := sendertest.PostForm("/sms/twilio/status", form)
		if sign {
			r.Header.Set(twilio.SignatureHeader, twilio.Sign(outboundTwilioToken, g.URL+"/sms/twilio/status", form))
		}
		return r
	}
	kannelDLR := func(typ string) *http.Request {
		return httptest.NewRequest(http.MethodGet, "/sms/kannel/dlr?id="+carrierIDs["kannel"]+"&t="+kannelToken+"&status="+typ, nil)
	}
	atDLR := func(status string) *http.Request {
		return sendertest.PostForm("/sms/africastalking/dlr", url.Values{"id": {carrierIDs["at"]}, "status": {status}, "phoneNumber": {outboundATPhone}})
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"twilio unsigned", twilioStatus("failed", false), http.StatusForbidden},
		{"at delivered", atDLR("Success"), http.StatusOK},
		{"at late", atDLR("Buffered"), http.StatusOK},
		{"at unknown status", atDLR("Lost"), http.StatusBadRequest},
		{"twilio delivered", twilioStatus("delivered", true), http.StatusOK},
		{"twilio late", twilioStatus("sent", true), http.StatusOK},
		{"kannel delivered", kannelDLR("1"), http.StatusOK},
		{"kannel late", kannelDLR("8"), http.StatusOK},
		{"kannel repeated", kannelDLR("1"), http.StatusOK},
	} {
		if code, body := g.Do(t, tc.req); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}
	for name, id := range ids {
		if m := outboundMessage(t, db, id); m.Status != sms.Delivered {
			t.Errorf("%s message: %s, want delivered", name, m.Status)
		}
	}

	// AT retries the inbound message: it is answered as the first time,
	// with the reply as it stands now.
	againID, again, err := db.RecordInbound(ctx, in)
	if err != nil || againID != inID || again == nil || again.ID != reply.ID || again.Body != reply.Body || again.Status != sms.Delivered {
		t.Errorf("inbound retry = %d, %+v, %v", againID, again, err)
	}
	if n, err := s.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("a final SendDue = %d, %v; want nothing to send", n, err)
	}
}
