package menus_test

import (
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus"
)

func TestFillForm(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	visit, ok := m.FormFor("走访")
	if !ok {
		t.Fatal("no form for 走访")
	}
	need, _ := m.FormFor("n")
	tests := []struct {
		name   string
		form   menus.Form
		lang   string
		fields []string
		kind   menus.ReportKind
		field  int
		msg    string
	}{
		{"visit", visit, "en", []string{"C0001", "1"}, menus.ReportVisit, 0, ""},
		{"visit urgent digits-only child", visit, "en", []string{"2", "4"}, menus.ReportVisit, 0, ""},
		{"need", need, "en", []string{"C0001", "6", "2"}, menus.ReportNeed, 0, ""},
		{"not their child", visit, "en", []string{"C0009", "1"}, "", 1, "C0009 is not one of your children."},
		{"bad situation", visit, "zh", []string{"C0001", "9"}, "", 2, "选项无效。"},
		{"missing urgency", need, "en", []string{"C0001", "6"}, "", 3, "missing"},
		{"too many", visit, "en", []string{"C0001", "1", "1"}, "", 3, "Too many fields."},
		{"nothing", need, "en", nil, "", 1, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, r, p := m.FillForm(caller(tt.lang), tt.form, tt.fields, now, screen)
			if tt.kind != "" {
				if p != nil || r == nil || r.Kind != tt.kind {
					t.Fatalf("report %+v, problem %+v", r, p)
				}
				if got := m.Saved(s, "N234567").Screen; !strings.Contains(got, "N234567") {
					t.Fatalf("end screen %q", got)
				}
				return
			}
			if p == nil || p.Field != tt.field || !strings.Contains(p.Message, tt.msg) {
				t.Fatalf("problem %+v, want field %d with %q", p, tt.field, tt.msg)
			}
		})
	}
	if got := m.FormUsage(visit, "en"); got != "V <child ID> <situation 1-4>" {
		t.Fatalf("visit usage %q", got)
	}
	if got := m.FormUsage(need, "zh"); got != "N <儿童编号> <类别 1-7> <紧急程度 1-2>" {
		t.Fatalf("need usage %q", got)
	}
}
