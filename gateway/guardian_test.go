package gateway_test

import (
	"net/http"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
)

// TestGuardianMenu: on the second service code a guardian hears their
// child's allowance status; anyone else, a director included, is not
// registered there and hears nothing about any child.
func TestGuardianMenu(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	dial := func(session, phone, text string) string {
		t.Helper()
		status, body := g.Post(t, "/ussd/africastalking", gatewaytest.ATForm(session, phone, "*384*2016#", text))
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		return body
	}
	tests := []struct {
		name, phone, text, want string
	}{
		{"menu zh", "+8613900139001", "", "CON 儿童补贴查询\n1. 补贴状态\n2. 语言 Language"},
		{"status zh", "+8613900139001", "1", "END 王小明的生活补贴已批准，每月500元，下次发放2026-12-15。"},
		{"menu en", "+8613900139002", "", "CON Child allowance\n1. Allowance status\n2. Language 语言"},
		{"status en", "+8613900139002", "1", "END 刘佳: living allowance suspended. Please contact the county office."},
		{"director", enDirector, "1", "END 您的号码未登记，请联系县民政办公室。\nThis number is not registered. Please contact the county office."},
		{"stranger", "+8613999999999", "1", "END 您的号码未登记，请联系县民政办公室。\nThis number is not registered. Please contact the county office."},
	}
	for _, tt := range tests {
		if got := dial("ATUid_g_"+tt.name, tt.phone, tt.text); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
