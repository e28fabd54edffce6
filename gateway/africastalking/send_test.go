package africastalking_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/gofiber/fiber/v2"
)

// A test number, not a real person's.
const sendPhone = "+254711000001"

func sendMessage(body string) sms.Message {
	return sms.Message{ID: 41, Carrier: africastalking.CarrierName, Phone: sendPhone, Body: body, Kind: sms.KindAlert}
}

func sendClient(url string) africastalking.Sender {
	return africastalking.Sender{BaseURL: url, Username: "barefoot", APIKey: "k-secret", From: "20880", Client: sendertest.Client()}
}

// recipient is a send API answer for one recipient.
func recipient(code int, status, id string) string {
	return `{"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{"statusCode":` +
		strconv.Itoa(code) + `,"number":"` + sendPhone + `","status":"` + status + `","cost":"KES 0.8000","messageId":"` + id + `"}]}}`
}

func TestSendRequest(t *testing.T) {
	t.Parallel()
	carrier := sendertest.NewCarrier(t, func(sendertest.Request) sendertest.Reply {
		return sendertest.JSON(http.StatusCreated, recipient(101, "Success", "ATXid_abc"))
	})
	body := "Visit V2345 recorded. 谢谢"
	id, err := sendClient(carrier.URL+"/").Send(t.Context(), sendMessage(body))
	if err != nil || id != "ATXid_abc" {
		t.Fatalf("Send = %q, %v; want ATXid_abc", id, err)
	}
	r := carrier.Last(t)
	if r.Method != http.MethodPost || r.Path != "/version1/messaging" {
		t.Errorf("%s %s, want POST /version1/messaging", r.Method, r.Path)
	}
	for h, want := range map[string]string{
		"apiKey":        "k-secret",
		"Accept":        "application/json",
		"Content-Type":  "application/x-www-form-urlencoded",
		"Authorization": "",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	want := url.Values{"username": {"barefoot"}, "to": {sendPhone}, "message": {body}, "from": {"20880"}}
	if r.Form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", r.Form, want)
	}

	// Without From, AT's default sender is used: no from field at all.
	c := sendClient(carrier.URL)
	c.From = ""
	if _, err := c.Send(t.Context(), sendMessage("x")); err != nil {
		t.Fatal(err)
	}
	if _, ok := carrier.Last(t).Form["from"]; ok {
		t.Error("from sent without a From")
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	client := func(url string) sender.Client { return sendClient(url) }
	sendertest.RunSends(t, client, sendMessage("secret body 保密"), []string{"k-secret"},
		sendertest.SendCase{Name: "processed", Reply: sendertest.JSON(201, recipient(100, "Success", "ATXid_1")), Outcome: sendertest.Outcome{ID: "ATXid_1"}},
		sendertest.SendCase{Name: "sent", Reply: sendertest.JSON(201, recipient(101, "Success", "ATXid_2")), Outcome: sendertest.Outcome{ID: "ATXid_2"}},
		sendertest.SendCase{Name: "queued", Reply: sendertest.JSON(201, recipient(102, "Success", "ATXid_3")), Outcome: sendertest.Outcome{ID: "ATXid_3"}},
		refused("risk hold", recipient(401, "RiskHold", "None"), false, "status 401 (risk hold)"),
		refused("invalid sender", recipient(402, "InvalidSenderId", "None"), false, "status 402"),
		refused("invalid number", recipient(403, "InvalidPhoneNumber", "None"), false, "status 403 (invalid phone number)"),
		refused("insufficient balance", recipient(405, "InsufficientBalance", "None"), false, "status 405 (insufficient balance)"),
		refused("blacklisted", recipient(406, "UserInBlacklist", "None"), false, "status 406 (recipient blacklisted)"),
		refused("unknown refusal", recipient(499, "Whatever", "None"), false, "status 499 (Whatever)"),
		refused("internal error", recipient(500, "InternalServerError", "None"), true, "status 500"),
		refused("gateway error", recipient(501, "GatewayError", "None"), true, "status 501"),
		refused("rejected by gateway", recipient(502, "RejectedByGateway", "None"), true, "status 502"),
		refused("no recipient", `{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}`, false, "InvalidSenderId"),
		sendertest.SendCase{Name: "unreadable 2xx", Reply: sendertest.Text(200, "<html>oops"), Outcome: sendertest.Outcome{Reason: "unreadable response"}},
		sendertest.SendCase{Name: "HTTP 500", Reply: sendertest.Text(500, "Internal error"), Outcome: sendertest.Outcome{Retry: true, Reason: "HTTP 500"}},
		sendertest.SendCase{Name: "HTTP 503", Reply: sendertest.Text(503, ""), Outcome: sendertest.Outcome{Retry: true, Reason: "HTTP 503"}},
		sendertest.SendCase{Name: "HTTP 429", Reply: sendertest.Text(429, "Too many requests"), Outcome: sendertest.Outcome{Retry: true, Reason: "HTTP 429"}},
		sendertest.SendCase{Name: "HTTP 401", Reply: sendertest.Text(401, "The supplied authentication is invalid"),
			Outcome: sendertest.Outcome{Reason: "HTTP 401: The supplied authentication is invalid"}},
		sendertest.SendCase{Name: "HTTP 400", Reply: sendertest.Text(400, "Invalid phone number: "+sendPhone), Outcome: sendertest.Outcome{Reason: "HTTP 400"}},
	)
}

// refused is a 201 whose JSON refuses the message.
func refused(name, json string, retry bool, reason string) sendertest.SendCase {
	return sendertest.SendCase{Name: name, Reply: sendertest.JSON(201, json), Outcome: sendertest.Outcome{Retry: retry, Reason: reason}}
}

func TestSendTransportErrors(t *testing.T) {
	t.Parallel()
	for name, base := range map[string]string{
		"refused":      "http://127.0.0.1:1", // nothing listens on port 1
		"off loopback": "https://api.africastalking.com",
		"no scheme":    "api.africastalking.com",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sendClient(base).Send(t.Context(), sendMessage("hello"))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			sendertest.CheckFailed(t, err, sendertest.Outcome{Retry: true, Reason: "africastalking: transport"}, sendMessage("hello"), "k-secret")
		})
	}
}

func TestDLR(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	app := sendertest.App(fiber.MethodPost, "/sms/africastalking/dlr", africastalking.DLR(db))
	post := func(form url.Values) (int, string) {
		t.Helper()
		return sendertest.Do(t, app, sendertest.PostForm("/sms/africastalking/dlr", form))
	}
	dlr := func(id, status string) url.Values {
		return url.Values{"id": {id}, "status": {status}, "phoneNumber": {sendPhone}, "networkCode": {"63902"}}
	}

	// Each status maps, through a message of its own.
	for i, tc := range []struct{ status, want string }{
		{"Sent", sms.Sent},
		{"Submitted", sms.Sent},
		{"Buffered", sms.Sent},
		{"Success", sms.Delivered},
		{"Rejected", sms.Failed},
		{"Failed", sms.Failed},
		{"Expired", sms.Failed},
	} {
		carrierID := "ATXid_map_" + strconv.Itoa(i)
		id := sendertest.MustSent(t, db, sendMessage("m"), carrierID)
		form := dlr(carrierID, tc.status)
		if tc.want == sms.Failed {
			form.Set("failureReason", "UserInBlackList")
		}
		if code, body := post(form); code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.status, code, body)
		}
		if got := sendertest.Status(t, db, id); got != tc.want {
			t.Errorf("%s: status %s, want %s", tc.status, got, tc.want)
		}
	}

	// Forward only: Success, then a late Sent and a Failed, stays delivered.
	id := sendertest.MustSent(t, db, sendMessage("m"), "ATXid_fwd")
	for _, st := range []string{"Success", "Sent", "Failed", "Success"} {
		if code, body := post(dlr("ATXid_fwd", st)); code != http.StatusOK {
			t.Fatalf("%s: %d %s", st, code, body)
		}
	}
	if got := sendertest.Status(t, db, id); got != sms.Delivered {
		t.Errorf("after a late Sent and Failed: %s, want delivered", got)
	}

	// Refusals, and an unknown id, which AT must stop retrying.
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"unknown id", sendertest.PostForm("/sms/africastalking/dlr", dlr("ATXid_nobody", "Success")), http.StatusOK},
		{"unknown status", sendertest.PostForm("/sms/africastalking/dlr", dlr("ATXid_fwd", "Delivered")), http.StatusBadRequest},
		{"no id", sendertest.PostForm("/sms/africastalking/dlr", url.Values{"status": {"Success"}}), http.StatusBadRequest},
		{"no status", sendertest.PostForm("/sms/africastalking/dlr", url.Values{"id": {"ATXid_fwd"}}), http.StatusBadRequest},
		{"id twice", sendertest.PostForm("/sms/africastalking/dlr", url.Values{"id": {"a", "b"}, "status": {"Success"}}), http.StatusBadRequest},
		{"not a form", func() *http.Request {
			r := sendertest.PostForm("/sms/africastalking/dlr", dlr("ATXid_fwd", "Success"))
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), http.StatusUnsupportedMediaType},
	} {
		if code, body := sendertest.Do(t, app, tc.req); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}

	// A store that fails is a 500, so that AT retries.
	broken := storagetest.MustDB(t)
	_ = broken.Close()
	app = sendertest.App(fiber.MethodPost, "/sms/africastalking/dlr", africastalking.DLR(broken))
	if code, _ := sendertest.Do(t, app, sendertest.PostForm("/sms/africastalking/dlr", dlr("ATXid_fwd", "Success"))); code != http.StatusInternalServerError {
		t.Errorf("store down: %d, want 500", code)
	}
}

func TestSenderCheck(t *testing.T) {
	t.Parallel()
	if err := sendClient(africastalking.SandboxBaseURL).Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := (africastalking.Sender{BaseURL: africastalking.DefaultBaseURL}).Check(); err == nil || !strings.Contains(err.Error(), "Username, APIKey") {
		t.Errorf("no credentials: %v", err)
	}
}
