package templates_test

import (
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
)

var P = templates.P

func TestRender(t *testing.T) {
	alert := []sms.Param{P("child", "C0001"), P("what", "保护问题"), P("director", "+8613800138001"), P("ref", "N7K2Q9")}
	tests := []struct {
		name, key, lang string
		params          []sms.Param
		want            string // the body, or the error's substring
		wantErr         bool
	}{
		{"alert zh", templates.AlertUrgent, "zh", alert, "紧急：儿童C0001，保护问题。报告人+8613800138001，编号N7K2Q9。", false},
		{"alert en", templates.AlertUrgent, "en", []sms.Param{P("child", "C0001"), P("what", "protection concern"), P("director", "+86*********01"), P("ref", "N7K2Q9")},
			"URGENT: child C0001, protection concern. Reported by +86*********01, ref N7K2Q9.", false},
		{"fixed, bilingual", templates.Register, "", nil, menus.Message(menus.MsgRegister, ""), false},
		{"fixed, zh", templates.HelpFamily, "zh", nil, menus.Message(menus.MsgHelpFamily, "zh"), false},
		{"unknown template", "nope", "zh", nil, "unknown template", true},
		{"no such language", templates.AlertUrgent, "fr", alert, `no "fr" text`, true},
		{"missing parameter", templates.AlertUrgent, "zh", alert[:3], "takes 4 parameters, got 3", true},
		{"extra parameter", templates.Register, "zh", alert[:1], "takes 0 parameters, got 1", true},
		{"parameters out of order", templates.AlertUrgent, "zh", []sms.Param{alert[1], alert[0], alert[2], alert[3]}, "parameter 1 is child, got what", true},
		{"a code that is not one", templates.AlertUrgent, "zh", []sms.Param{P("child", "C 0001"), alert[1], alert[2], alert[3]}, "not a code", true},
		{"a word over its length", templates.AlertUrgent, "zh", []sms.Param{alert[0], P("what", strings.Repeat("很", 31)), alert[2], alert[3]}, "31 characters, at most 30", true},
		{"a word on two lines", templates.AlertUrgent, "zh", []sms.Param{alert[0], P("what", "a\nb"), alert[2], alert[3]}, "one line", true},
		{"an empty value", templates.MenuScreen, "zh", []sms.Param{P("screen", "")}, "empty", true},
		{"a screen on several lines", templates.MenuScreen, "en", []sms.Param{P("screen", "1. Visit\n2. Need")}, "1. Visit\n2. Need", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := templates.Render(tt.key, tt.lang, tt.params...)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Render = %q, %v; want an error saying %q", m.Body, err, tt.want)
				}
				return
			}
			if err != nil || m.Body != tt.want || m.Template != tt.key {
				t.Fatalf("Render = %+v, %v; want %q", m, err, tt.want)
			}
		})
	}
}

// TestEveryTemplateRenders: each template renders in each of its languages
// with values of its variables' kinds, and names every variable in every
// text, so a provider reviewing a text sees all it will carry.
func TestEveryTemplateRenders(t *testing.T) {
	samples := map[templates.Kind]string{
		templates.KindCode: "C0001", templates.KindRef: "V3K9P2", templates.KindName: "王小明", templates.KindWord: "入学",
		templates.KindAmount: "300", templates.KindDate: "2026-12-01", templates.KindPhone: "+8613800138001", templates.KindText: "王小明：生活补贴已发放",
	}
	all := templates.All()
	if len(all) < 12 {
		t.Fatalf("%d templates", len(all))
	}
	for _, tm := range all {
		var params []sms.Param
		for _, v := range tm.Vars {
			params = append(params, P(v.Name, samples[v.Kind]))
		}
		for _, lang := range tm.Languages() {
			for _, v := range tm.Vars {
				if !strings.Contains(tm.Text[lang], "{"+v.Name+"}") {
					t.Errorf("%s (%s) does not show {%s}", tm.Key, lang, v.Name)
				}
			}
			m, err := templates.Render(tm.Key, lang, params...)
			if err != nil || strings.Contains(m.Body, "{") {
				t.Errorf("%s (%s) = %q, %v", tm.Key, lang, m.Body, err)
			}
		}
		if tm.About == "" {
			t.Errorf("%s says nothing of when it is sent", tm.Key)
		}
	}
}

// TestMustRenderFits: a name longer than its kind allows is cut to fit,
// not lost.
func TestMustRenderFits(t *testing.T) {
	long := strings.Repeat("长", 40)
	m := templates.MustRender(templates.AlertUrgent, "zh", P("child", "C0001"), P("what", long), P("director", "+8613800138001"), P("ref", "N7K2Q9"))
	if want := strings.Repeat("长", 29) + "…"; m.Params[1].Value != want || !strings.Contains(m.Body, want) {
		t.Fatalf("MustRender = %q", m.Body)
	}
}

// TestAllowanceReplyReadsAsTheMenu: the STATUS reply about one allowance,
// rendered from its status's template, reads exactly as the USSD guardian
// menu shows that allowance, in every status, with and without a next
// payment date, in both languages.
func TestAllowanceReplyReadsAsTheMenu(t *testing.T) {
	next := time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)
	for _, status := range menus.AllowanceStatuses {
		for _, when := range []time.Time{{}, next} {
			for _, lang := range []string{menus.LangZH, menus.LangEN} {
				a := menus.Allowance{ChildCode: "C0001", ChildName: "王小明", Scheme: "orphan", Status: status, MonthlyYuan: 300, NextPayment: when}
				m, err := templates.AllowanceReply(a, lang)
				if err != nil {
					t.Fatalf("%s %s next=%v: %v", status, lang, !when.IsZero(), err)
				}
				if want := menus.AllowanceText(a, lang); m.Body != want {
					t.Errorf("%s %s next=%v:\n got %q\nwant %q", status, lang, !when.IsZero(), m.Body, want)
				}
				if m.Template == templates.AllowanceStatus || !strings.HasPrefix(m.Template, "allowance_"+status) {
					t.Errorf("%s rendered from %q", status, m.Template)
				}
			}
		}
	}
	if _, err := templates.AllowanceReply(menus.Allowance{ChildName: strings.Repeat("名", 21), Status: menus.AllowancePaid}, "zh"); err == nil {
		t.Error("a name longer than its kind allows rendered")
	}
}
