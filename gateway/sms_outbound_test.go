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

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/gofiber/fiber/v2"
)

// Test numbers and credentials, not real ones.
const (
	outboundATPhone     = "+254711000007"
	outboundTwilioPhone = "+14155550177"
	outboundKannelPhone = "+8613900000077"
	outboundTwilioToken = "outbound-token"
	outboundPublicURL   = "https://gw.example.org"
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

func (c outboundCarriers) sender(db *storage.DB) *sender.Sender {
	client := sendertest.Client()
	return &sender.Sender{
		DB: db,
		Carriers: map[string]sender.Client{
			africastalking.CarrierName: africastalking.Sender{BaseURL: c.at.URL, Username: "barefoot", APIKey: "k", Client: client},
			twilio.CarrierName: twilio.Sender{
				BaseURL: c.twilio.URL, AccountSID: "AC1", AuthToken: outboundTwilioToken, From: "+14155550100",
				StatusCallback: outboundPublicURL + "/sms/twilio/status", Client: client,
			},
			kannel.CarrierName: kannel.Sender{
				BaseURL: c.kannel.URL, Username: "u", Password: "p",
				DLRURL: outboundPublicURL + "/sms/kannel/dlr?id={id}&status=%d", Client: client,
			},
		},
		Log: slog.New(slog.DiscardHandler),
	}
}

// outboundApp is the gateway with the three delivery report routes.
func outboundApp(db *storage.DB) *fiber.App {
	return gateway.New(gateway.Config{
		Routes: []gateway.Route{
			{Method: http.MethodPost, Path: "/sms/africastalking/dlr", Handler: africastalking.DLR(db)},
			{Method: http.MethodPost, Path: "/sms/twilio/status", Handler: twilio.Status(db, twilio.Verifier(outboundTwilioToken, outboundPublicURL))},
			{Method: http.MethodGet, Path: "/sms/kannel/dlr", Handler: kannel.DLR(db)},
		},
		Log: slog.New(slog.DiscardHandler),
	})
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
// them as delivered.
func TestSMSOutbound(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustDB(t)
	carriers := newOutboundCarriers(t)

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

	s := carriers.sender(db)
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
	if got := carriers.twilio.Last(t).Form; got.Get("To") != outboundTwilioPhone || got.Get("StatusCallback") != outboundPublicURL+"/sms/twilio/status" {
		t.Errorf("Twilio send %v", got)
	}
	if got := carriers.kannel.Last(t).Form; got.Get("coding") != "2" ||
		got.Get("dlr-url") != outboundPublicURL+"/sms/kannel/dlr?id="+strconv.FormatInt(zhID, 10)+"&status=%d" {
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
	app := outboundApp(db)
	twilioStatus := func(status string, sign bool) *http.Request {
		form := url.Values{"MessageSid": {carrierIDs["twilio"]}, "MessageStatus": {status}, "AccountSid": {"AC1"}, "To": {outboundTwilioPhone}}
		r := sendertest.PostForm("/sms/twilio/status", form)
		if sign {
			r.Header.Set(twilio.SignatureHeader, twilio.Sign(outboundTwilioToken, outboundPublicURL+"/sms/twilio/status", form))
		}
		return r
	}
	kannelDLR := func(typ string) *http.Request {
		return httptest.NewRequest(http.MethodGet, "/sms/kannel/dlr?id="+carrierIDs["kannel"]+"&status="+typ, nil)
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
		if code, body := sendertest.Do(t, app, tc.req); code != tc.want {
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
