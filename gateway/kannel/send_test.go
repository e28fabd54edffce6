package kannel_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/gofiber/fiber/v2"
)

// Test numbers and credentials, not real ones.
const (
	sendPhone    = "+8613900000009"
	sendPassword = "kannel-secret"
	sendDLRURL   = "https://gw.example.org/sms/kannel/dlr?id={id}&status=%d"
)

func sendMessage(body string) sms.Message {
	return sms.Message{ID: 4107, Carrier: kannel.CarrierName, Phone: sendPhone, Body: body, Kind: sms.KindAlert}
}

func sendClient(base string) kannel.Sender {
	return kannel.Sender{BaseURL: base, Username: "barefoot", Password: sendPassword, From: "10690000", DLRURL: sendDLRURL, Client: sendertest.Client()}
}

func accepted(sendertest.Request) sendertest.Reply {
	return sendertest.Text(http.StatusAccepted, "0: Accepted for delivery")
}

// fromUTF16BE decodes what Send put in text for UCS-2.
func fromUTF16BE(tb testing.TB, s string) string {
	tb.Helper()
	if len(s)%2 != 0 {
		tb.Fatalf("%d bytes of UTF-16", len(s))
	}
	units := make([]uint16, len(s)/2)
	for i := range units {
		units[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	return string(utf16.Decode(units))
}

func TestSendRequest(t *testing.T) {
	t.Parallel()
	carrier := sendertest.NewCarrier(t, accepted)
	id, err := sendClient(carrier.URL).Send(t.Context(), sendMessage("Visit V2345 recorded {ok}"))
	if err != nil || id != "4107" {
		t.Fatalf("Send = %q, %v; want our id 4107", id, err)
	}
	r := carrier.Last(t)
	if r.Method != http.MethodGet || r.Path != "/cgi-bin/sendsms" {
		t.Errorf("%s %s", r.Method, r.Path)
	}
	want := map[string]string{
		"username": "barefoot",
		"password": sendPassword,
		"to":       sendPhone,
		"from":     "10690000",
		"text":     "Visit V2345 recorded {ok}",
		"dlr-mask": "27",
		// Our id in, Kannel's %d left for it.
		"dlr-url": "https://gw.example.org/sms/kannel/dlr?id=4107&status=%d",
	}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"coding", "charset"} {
		if _, ok := r.Form[k]; ok {
			t.Errorf("%s sent for GSM-7 text", k)
		}
	}

	// No DLR URL: no reports asked for.
	c := sendClient(carrier.URL)
	c.DLRURL, c.From = "", ""
	if _, err := c.Send(t.Context(), sendMessage("x")); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dlr-mask", "dlr-url", "from"} {
		if _, ok := carrier.Last(t).Form[k]; ok {
			t.Errorf("%s sent without being configured", k)
		}
	}
}

func TestSendUCS2(t *testing.T) {
	t.Parallel()
	carrier := sendertest.NewCarrier(t, accepted)
	for _, body := range []string{
		"您的孩子的生活补助已于本月发放。",
		"Need N2345: 紧急",
		"smart quote ’ and emoji 🙂 outside the BMP",
	} {
		if _, err := sendClient(carrier.URL).Send(t.Context(), sendMessage(body)); err != nil {
			t.Fatal(err)
		}
		r := carrier.Last(t)
		if got := r.Form.Get("coding"); got != "2" {
			t.Errorf("%q: coding %q, want 2", body, got)
		}
		// No charset: smsbox takes the bytes as UTF-16BE without iconv.
		if _, ok := r.Form["charset"]; ok {
			t.Errorf("%q: charset sent", body)
		}
		if got := fromUTF16BE(t, r.Form.Get("text")); got != body {
			t.Errorf("text decodes to %q, want %q", got, body)
		}
	}
	// 🙂 is a surrogate pair: two units, four bytes.
	if n := len(carrier.Last(t).Form.Get("text")); n != 2*len(utf16.Encode([]rune("smart quote ’ and emoji 🙂 outside the BMP"))) {
		t.Errorf("%d bytes of UTF-16BE", n)
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	client := func(url string) sender.Client { return sendClient(url) }
	sendertest.RunSends(t, client, sendMessage("secret body 保密"), []string{sendPassword},
		sendertest.SendCase{Name: "accepted", Reply: sendertest.Text(202, "0: Accepted for delivery"), Outcome: sendertest.Outcome{ID: "4107"}},
		sendertest.SendCase{Name: "queued", Reply: sendertest.Text(202, "3: Queued for later delivery"), Outcome: sendertest.Outcome{ID: "4107"}},
		sendertest.SendCase{Name: "bad credentials", Reply: sendertest.Text(403, "Authorization failed for sendsms"),
			Outcome: sendertest.Outcome{Reason: "HTTP 403: Authorization failed for sendsms"}},
		sendertest.SendCase{Name: "bad request", Reply: sendertest.Text(400, "Missing receiver number, rejected"), Outcome: sendertest.Outcome{Reason: "HTTP 400"}},
		sendertest.SendCase{Name: "charset", Reply: sendertest.Text(400, "Charset or body misformed, rejected"), Outcome: sendertest.Outcome{Reason: "Charset or body misformed"}},
		sendertest.SendCase{Name: "temporal failure", Reply: sendertest.Text(503, "Temporal failure, try again later."), Outcome: sendertest.Outcome{Retry: true, Reason: "HTTP 503"}},
		sendertest.SendCase{Name: "odd 2xx", Reply: sendertest.Text(202, "4: something else"), Outcome: sendertest.Outcome{Reason: "unexpected answer"}},
	)

	// The request URL holds the password, number and text, the text
	// escaped ("hello+there"): a transport error must quote none of them.
	_, err := sendClient("http://127.0.0.1:1").Send(t.Context(), sendMessage("hello there"))
	sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: true, Reason: "kannel: transport"}, sendMessage("hello there"), sendPassword, "hello")
}

func TestSenderCheck(t *testing.T) {
	t.Parallel()
	if err := sendClient("http://127.0.0.1:13013").Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	c := sendClient("http://127.0.0.1:13013")
	c.DLRURL = "https://gw.example.org/sms/kannel/dlr?status=%d"
	if err := c.Check(); err == nil {
		t.Error("a DLRURL without {id} passed")
	}
	if err := (kannel.Sender{}).Check(); err == nil || !strings.Contains(err.Error(), "BaseURL, Username, Password") {
		t.Errorf("empty sender: %v", err)
	}
}

func TestDLR(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	const path = "/sms/kannel/dlr"
	app := sendertest.App(fiber.MethodGet, path, kannel.DLR(db))
	get := func(query string) (int, string) {
		t.Helper()
		return sendertest.Do(t, app, httptest.NewRequest(http.MethodGet, path+"?"+query, nil))
	}
	// Kannel's carrier id is our own message id; its report carries the
	// message's delivery token beside it.
	sent := func() (int64, string) {
		t.Helper()
		id := sendertest.MustSent(t, db, sendMessage("m"), "{id}")
		m, err := db.MessageByID(t.Context(), id)
		if err != nil || m.DLRToken == "" {
			t.Fatalf("message %d: %+v, %v", id, m, err)
		}
		return id, strconv.FormatInt(id, 10) + "&t=" + m.DLRToken
	}

	for _, tc := range []struct{ typ, want string }{
		{"1", sms.Delivered},
		{"2", sms.Failed},
		{"4", sms.Sent},
		{"8", sms.Sent},
		{"16", sms.Failed},
	} {
		id, ref := sent()
		if code, body := get("id=" + ref + "&status=" + tc.typ); code != http.StatusOK {
			t.Fatalf("type %s: %d %s", tc.typ, code, body)
		}
		if got := sendertest.Status(t, db, id); got != tc.want {
			t.Errorf("type %s: status %s, want %s", tc.typ, got, tc.want)
		}
	}

	// Forward only: delivered, then SMSC acks and a rejection arrive late.
	id, ref := sent()
	for _, typ := range []string{"1", "8", "16", "4"} {
		if code, body := get("id=" + ref + "&status=" + typ); code != http.StatusOK {
			t.Fatalf("type %s: %d %s", typ, code, body)
		}
	}
	if got := sendertest.Status(t, db, id); got != sms.Delivered {
		t.Errorf("after late reports: %s, want delivered", got)
	}

	for _, tc := range []struct {
		query string
		want  int
	}{
		{"id=999999&t=x&status=1", http.StatusOK},                                 // not ours: Kannel must not retry
		{"id=" + strings.Split(ref, "&")[0] + "&status=1", http.StatusBadRequest}, // no token
		{"id=" + ref + "&status=32", http.StatusBadRequest},
		{"id=" + ref + "&status=%25d", http.StatusBadRequest}, // a dlr-url Kannel did not fill in
		{"status=1", http.StatusBadRequest},
		{"id=" + ref, http.StatusBadRequest},
		{"id=" + ref + "&id=1&status=1", http.StatusBadRequest},
		{"id=" + strings.Split(ref, "&")[0] + "&t=0123456789abcdef0123456789abcdef&status=16", http.StatusOK}, // a guess: changes nothing
	} {
		if code, body := get(tc.query); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.query, code, body, tc.want)
		}
	}

	broken := storagetest.MustDB(t)
	_ = broken.Close()
	app = sendertest.App(fiber.MethodGet, path, kannel.DLR(broken))
	if code, _ := get("id=" + ref + "&status=1"); code != http.StatusInternalServerError {
		t.Errorf("store down: %d, want 500", code)
	}
}
