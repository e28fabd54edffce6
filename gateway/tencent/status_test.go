package tencent_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/gateway/tencent"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/gofiber/fiber/v2"
)

const statusPath = "/sms/tencent/status"

// statusReport is one report of a status push.
func statusReport(sid, status string) string {
	return `{"user_receive_time":"2026-11-28 10:00:05","nationcode":"86","mobile":"13900000123","report_status":"` + status +
		`","errmsg":"DELIVRD","description":"用户短信接收成功","sid":"` + sid + `"}`
}

func statusPush(reports ...string) *http.Request {
	return wiretest.Request(http.MethodPost, statusPath, fiber.MIMEApplicationJSON, "["+strings.Join(reports, ",")+"]")
}

func TestStatus(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	app := sendertest.App(fiber.MethodPost, statusPath, tencent.Status(db))
	post := func(t *testing.T, r *http.Request, want int) string {
		t.Helper()
		code, body := sendertest.Do(t, app, r)
		if code != want {
			t.Fatalf("%d %s, want %d", code, body, want)
		}
		return body
	}
	m := sms.Message{Carrier: tencent.CarrierName, Phone: sendPhone, Body: "m", Kind: sms.KindAlert}
	sent := func(sid string) int64 {
		m.DedupeKey = sid
		return sendertest.MustSent(t, db, m, sid)
	}

	// The recorded push: one delivered, one failed, in one array.
	a, b := sent("2433:104571066915705401"), sent("2433:104571066915705402")
	if body := post(t, wiretest.Request(http.MethodPost, statusPath, fiber.MIMEApplicationJSON, wiretest.Fixture(t, "sms/tencent/status/two.json")), 200); body != `{"result":0,"errmsg":"OK"}` {
		t.Errorf("answer %q", body)
	}
	if sa, sb := sendertest.Status(t, db, a), sendertest.Status(t, db, b); sa != sms.Delivered || sb != sms.Failed {
		t.Errorf("after the recorded push: %s %s, want delivered failed", sa, sb)
	}

	// Several reports at once, repeats in the same push and across pushes,
	// and out of order: a FAIL after a SUCCESS, or a SUCCESS after a FAIL,
	// changes nothing settled.
	c, d, e := sent("sid-c"), sent("sid-d"), sent("sid-e")
	post(t, statusPush(statusReport("sid-c", "SUCCESS"), statusReport("sid-d", "FAIL"), statusReport("sid-c", "SUCCESS"), statusReport("sid-unknown", "SUCCESS")), 200)
	post(t, statusPush(statusReport("sid-c", "FAIL"), statusReport("sid-d", "SUCCESS"), statusReport("sid-e", "SUCCESS")), 200)
	post(t, statusPush(statusReport("sid-e", "SUCCESS")), 200)
	post(t, statusPush(), 200)
	for id, want := range map[int64]string{c: sms.Delivered, d: sms.Failed, e: sms.Delivered} {
		if got := sendertest.Status(t, db, id); got != want {
			t.Errorf("message %d: %s, want %s", id, got, want)
		}
	}

	// A malformed push is refused whole: the valid report before the bad
	// one is not applied.
	f := sent("sid-f")
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
		body string
	}{
		{"unknown status", statusPush(statusReport("sid-f", "SUCCESS"), statusReport("sid-f", "LOST")), 400, "[1].report_status: not SUCCESS or FAIL"},
		{"no sid", statusPush(statusReport("sid-f", "SUCCESS"), `{"report_status":"SUCCESS"}`), 400, "[1].sid: required"},
		{"empty sid", statusPush(statusReport("", "SUCCESS")), 400, "[0].sid: required"},
		{"duplicate field", statusPush(`{"sid":"sid-f","sid":"sid-g","report_status":"SUCCESS"}`), 400, "[0].sid: sent more than once"},
		{"object, not array", wiretest.Request(http.MethodPost, statusPath, fiber.MIMEApplicationJSON, statusReport("sid-f", "SUCCESS")), 400, "body: not a JSON array"},
		{"array of strings", wiretest.Request(http.MethodPost, statusPath, fiber.MIMEApplicationJSON, `["sid-f"]`), 400, "[0].body: not a single JSON object"},
		{"trailing data", wiretest.Request(http.MethodPost, statusPath, fiber.MIMEApplicationJSON, "["+statusReport("sid-f", "SUCCESS")+"]x"), 400, "trailing data"},
		{"form", wiretest.Request(http.MethodPost, statusPath, fiber.MIMEApplicationForm, "sid=sid-f"), 415, "want application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if body := post(t, tc.req, tc.want); !strings.Contains(body, tc.body) {
				t.Errorf("body %q, want %q", body, tc.body)
			}
		})
	}
	if got := sendertest.Status(t, db, f); got != sms.Sent {
		t.Errorf("after refused pushes: %s, want sent", got)
	}

	// The store down: a 5xx, so that Tencent pushes again.
	broken := storagetest.MustDB(t)
	_ = broken.Close()
	app = sendertest.App(fiber.MethodPost, statusPath, tencent.Status(broken))
	if code, body := sendertest.Do(t, app, statusPush(statusReport("sid-f", "SUCCESS"))); code != http.StatusInternalServerError || strings.Contains(body, `"result":0`) {
		t.Errorf("store down: %d %q, want 500", code, body)
	}
}
