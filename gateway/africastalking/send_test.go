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
	tests := []struct {
		name   string
		reply  sendertest.Reply
		wantID string
		retry  bool   // when an error is wanted
		reason string // a part of the error's reason; "" for success
	}{
		{"processed", sendertest.JSON(201, recipient(100, "Success", "ATXid_1")), "ATXid_1", false, ""},
		{"sent", sendertest.JSON(201, recipient(101, "Success", "ATXid_2")), "ATXid_2", false, ""},
		{"queued", sendertest.JSON(201, recipient(102, "Success", "ATXid_3")), "ATXid_3", false, ""},
		{"risk hold", sendertest.JSON(201, recipient(401, "RiskHold", "None")), "", false, "status 401 (risk hold)"},
		{"invalid sender", sendertest.JSON(201, recipient(402, "InvalidSenderId", "None")), "", false, "status 402"},
		{"invalid number", sendertest.JSON(201, recipient(403, "InvalidPhoneNumber", "None")), "", false, "status 403 (invalid phone number)"},
		{"insufficient balance", sendertest.JSON(201, recipient(405, "InsufficientBalance", "None")), "", false, "status 405 (insufficient balance)"},
		{"blacklisted", sendertest.JSON(201, recipient(406, "UserInBlacklist", "None")), "", false, "status 406 (recipient blacklisted)"},
		{"unknown refusal", sendertest.JSON(201, recipient(499, "Whatever", "None")), "", false, "status 499 (Whatever)"},
		{"internal error", sendertest.JSON(201, recipient(500, "InternalServerError", "None")), "", true, "status 500"},
		{"gateway error", sendertest.JSON(201, recipient(501, "GatewayError", "None")), "", true, "status 501"},
		{"rejected by gateway", sendertest.JSON(201, recipient(502, "RejectedByGateway", "None")), "", true, "status 502"},
		{"no recipient", sendertest.JSON(201, `{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}`), "", false, "InvalidSenderId"},
		{"unreadable 2xx", sendertest.Text(200, "<html>oops"), "", false, "unreadable response"},
		{"HTTP 500", sendertest.Text(500, "Internal error"), "", true, "HTTP 500"},
		{"HTTP 503", sendertest.Text(503, ""), "", true, "HTTP 503"},
		{"HTTP 429", sendertest.Text(429, "Too many requests"), "", true, "HTTP 429"},
		{"HTTP 401", sendertest.Text(401, "The supplied authentication is invalid"), "", false, "HTTP 401: The supplied authentication is invalid"},
		{"HTTP 400", sendertest.Text(400, "Invalid phone number: "+sendPhone), "", false, "HTTP 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			carrier := sendertest.NewCarrier(t, func(sendertest.Request) sendertest.Reply { return tt.reply })
			body := "secret body 保密"
			id, err := sendClient(carrier.URL).Send(t.Context(), sendMessage(body))
			if tt.reason == "" {
				if err != nil || id != tt.wantID {
					t.Fatalf("Send = %q, %v; want %q", id, err, tt.wantID)
				}
				return
			}
			if err == nil {
				t.Fatalf("Send = %q, nil; want an error", id)
			}
			if sender.Retryable(err) != tt.retry || sender.Final(err) == tt.retry {
				t.Errorf("retryable %v, final %v; want retryable %v", sender.Retryable(err), sender.Final(err), tt.retry)
			}
			checkReason(t, err, tt.reason, body)
		})
	}
}

// checkReason checks that err's text says why and quotes neither the
// number, the body nor the key.
func checkReason(t *testing.T, err error, want, body string) {
	t.Helper()
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("reason %q does not say %q", msg, want)
	}
	for _, secret := range []string{sendPhone, strings.TrimPrefix(sendPhone, "+"), body, "k-secret"} {
		if strings.Contains(msg, secret) {
			t.Errorf("reason %q quotes %q", msg, secret)
		}
	}
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
			if !sender.Retryable(err) {
				t.Errorf("%v is not retryable", err)
			}
			checkReason(t, err, "africastalking: transport", "hello")
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
