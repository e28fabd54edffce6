package tencent_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/tencent"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

// Reply callbacks go through the bare adapter (wiretest): those recorded
// in fixtures/carriers/sms/tencent, each with its outcome beside it, and
// those built here.

func TestSMS(t *testing.T) {
	h := wiretest.SMS(t, tencent.SMS{}, "not sent inline")
	h.Replay(t, "sms/tencent", nil)

	post := func(body string) []*http.Request {
		return []*http.Request{wiretest.Request(http.MethodPost, h.Path, fiber.MIMEApplicationJSON, body)}
	}
	long := strings.Repeat("好", 1000) // 3000 bytes, the longest a reassembled message is
	h.Run(t,
		wiretest.Case{Name: "text too long", Requests: post(`{"mobile":"13900139001","nationcode":"86","text":"` + long + long + `","time":1714550400}`),
			Want: wiretest.Refused(http.StatusBadRequest, "text: longer than 4000 bytes")},
		wiretest.Case{Name: "form body", Requests: []*http.Request{wiretest.Request(http.MethodPost, h.Path, fiber.MIMEApplicationForm, "mobile=1")},
			Want: wiretest.Refused(http.StatusUnsupportedMediaType, "want application/json")},
		wiretest.Case{Name: "GET", Requests: []*http.Request{wiretest.Request(http.MethodGet, h.Path, "", "")},
			Want: wiretest.Refused(http.StatusUnsupportedMediaType, "want application/json")},
	)
	out := h.Do(t, post(`{"mobile":"13900139001","nationcode":"86","text":"` + long + `","time":1714550400}`)[0])
	if m, ok := out.Parsed.(sms.Message); out.Status != http.StatusOK || !ok || m.Body != long || m.Phone != "+8613900139001" || m.ReceivedAt.Unix() != 1714550400 {
		t.Errorf("long text came out %+v", out)
	}
}

// TestSMSReplyID: the id that drops Tencent's retries is the same for the
// same message, however it is spelt, and differs when anything that tells
// messages apart does; it quotes neither the number nor the text.
func TestSMSReplyID(t *testing.T) {
	h := wiretest.SMS(t, tencent.SMS{}, "")
	id := func(body string) string {
		t.Helper()
		out := h.Do(t, wiretest.Request(http.MethodPost, h.Path, fiber.MIMEApplicationJSON, body))
		m, ok := out.Parsed.(sms.Message)
		if !ok {
			t.Fatalf("%s: %+v", body, out)
		}
		return m.CarrierID
	}
	base := id(`{"extend":"","mobile":"13900139001","nationcode":"86","sign":"赤脚儿童","text":"状态","time":1714550400}`)
	if !strings.HasPrefix(base, "mo-") || strings.Contains(base, "13900139001") || len(base) != 35 {
		t.Fatalf("id %q", base)
	}
	for _, tc := range []struct {
		name, body string
		same       bool
	}{
		{"retried push", `{"extend":"","mobile":"13900139001","nationcode":"86","sign":"赤脚儿童","text":"状态","time":1714550400}`, true},
		{"other spelling, sign and extend", `{"time":"1714550400","text":"状态","nationcode":86,"mobile":"13900139001","sign":"另一个","extend":"9"}`, true},
		{"another second", `{"mobile":"13900139001","nationcode":"86","text":"状态","time":1714550401}`, false},
		{"another text", `{"mobile":"13900139001","nationcode":"86","text":"状态 ","time":1714550400}`, false},
		{"another phone", `{"mobile":"13900139002","nationcode":"86","text":"状态","time":1714550400}`, false},
		{"fields shifted", `{"mobile":"1390013900","nationcode":"861","text":"状态","time":1714550400}`, false},
	} {
		if got := id(tc.body); (got == base) != tc.same {
			t.Errorf("%s: id %q, base %q, same = %v", tc.name, got, base, tc.same)
		}
	}
}
