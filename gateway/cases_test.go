package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"golang.org/x/text/width"
)

// Demo supervisors: the county's, and one per township.
const (
	countySupervisor  = "+8613700137001"
	qingshanTownship  = "+8613700137002" // 青山镇, over 青山村 (C0001-C0005)
	shimenTownship    = "+8613700137003" // 石门乡, English
	strangerForCases  = "+8613999999997"
	caseRefusedZH     = "没有等待您确认的该编号个案，请核对编号。"
	caseRefusedEN     = "No case with that number awaits your acknowledgement. Please check the number."
	caseAckedPrefixZH = "个案"
)

// openDemoCase files an urgent protection need on C0001 by SMS and returns
// its case's code.
func openDemoCase(t *testing.T, g *gatewaytest.Gateway) string {
	t.Helper()
	if got := kannelSMS(t, g, zhDirector, "需求 C0001 6 2"); !strings.HasPrefix(got, "需求已上报") {
		t.Fatalf("need: %q", got)
	}
	var code string
	if err := g.SQL(t).GetContext(context.Background(), &code, `SELECT code FROM cases`); err != nil {
		t.Fatal(err)
	}
	return code
}

// TestSMSAcknowledgeCase: a supervisor of the case's chain acknowledges
// it by SMS, however the code is typed; anyone else, and any code that is
// no case's, gets one and the same refusal.
func TestSMSAcknowledgeCase(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	code := openDemoCase(t, g)
	unknown := "100000"
	if unknown == code {
		unknown = "100001"
	}
	tests := []struct {
		name, from, text, want string
	}{
		{"a stranger", strangerForCases, "OK " + code, caseRefusedZH + "\n" + caseRefusedEN},
		{"a stranger, no such case", strangerForCases, "OK " + unknown, caseRefusedZH + "\n" + caseRefusedEN},
		{"another township's supervisor", shimenTownship, "ok " + code, caseRefusedEN},
		{"another township's supervisor, no such case", shimenTownship, "ok " + unknown, caseRefusedEN},
		{"the director who reported", zhDirector, "收到 " + code, caseRefusedZH},
		{"the township, no such case", qingshanTownship, "收到" + unknown, caseRefusedZH},
		{"the township, full width and glued", qingshanTownship, "收到" + width.Widen.String(code), "个案" + code + "已确认，谢谢。"},
		{"the county, after", countySupervisor, "Ok，" + code, "个案" + code + "此前已确认。"},
	}
	for _, tt := range tests {
		if got := kannelSMS(t, g, tt.from, tt.text); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	var row struct {
		Status string `db:"status"`
		By     string `db:"acknowledged_by"`
	}
	if err := g.SQL(t).GetContext(context.Background(), &row, `SELECT status, acknowledged_by FROM cases WHERE code = $1`, code); err != nil {
		t.Fatal(err)
	}
	if row.Status != "acknowledged" || row.By != "钱站长" {
		t.Fatalf("case %+v", row)
	}
	if n := countRows(t, g, `SELECT count(*) FROM case_events WHERE kind = 'acknowledged' AND channel = 'sms'`); n != 1 {
		t.Fatalf("%d acknowledgements recorded", n)
	}
}

// TestSMSSupervisorForgotTheCode: a supervisor who answers a case SMS
// with 收到 or OK alone, or asks for HELP, is told how to acknowledge, in
// their language; a family or a stranger sending the same words is
// answered as before, and learns nothing of cases.
func TestSMSSupervisorForgotTheCode(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	const zhSupervisor, enSupervisor, guardian, stranger = "+8613700137002", "+8613700137003", "+8613900139001", "+8613900000077"
	tests := []struct {
		from, text, want, not string
	}{
		{zhSupervisor, "收到", "确认个案请回复“收到”加个案编号", ""},
		{zhSupervisor, "收到！", "确认个案请回复“收到”加个案编号", ""},
		{enSupervisor, "ok", "To acknowledge a case, reply OK and its number", ""},
		{enSupervisor, "HELP", "To acknowledge a case, reply OK and its number", ""},
		{guardian, "收到", "", "个案"},
		{stranger, "OK", "", "case"},
	}
	for _, tt := range tests {
		got := kannelSMS(t, g, tt.from, tt.text)
		if tt.want != "" && !strings.Contains(got, tt.want) || tt.not != "" && strings.Contains(strings.ToLower(got), tt.not) {
			t.Errorf("%s sends %q: %q", tt.from, tt.text, got)
		}
	}
}
