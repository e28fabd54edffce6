package cases_test

import (
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/cases"
)

func TestParseAck(t *testing.T) {
	tests := []struct {
		words []string
		code  string
		ok    bool
	}{
		{[]string{"OK", "123456"}, "123456", true},
		{[]string{"收到", "654321"}, "654321", true},
		{[]string{"OK123456"}, "123456", true},
		{[]string{"收到000123"}, "000123", true},
		{[]string{"OK"}, "", false},
		{[]string{"OK", "12345"}, "", false},
		{[]string{"OK", "1234567"}, "", false},
		{[]string{"OK", "12345A"}, "", false},
		{[]string{"OK", "123456", "THANKS"}, "", false},
		{[]string{"OKAY", "123456"}, "", false},
		{[]string{"V", "C0001", "1"}, "", false},
		{nil, "", false},
	}
	for _, tt := range tests {
		code, ok := cases.ParseAck(tt.words)
		if code != tt.code || ok != tt.ok {
			t.Errorf("ParseAck(%q) = %q, %v; want %q, %v", tt.words, code, ok, tt.code, tt.ok)
		}
	}
}

func TestOpens(t *testing.T) {
	tests := []struct {
		r    menus.Report
		want bool
	}{
		{menus.Report{Kind: menus.ReportNeed, Category: "school", Urgency: menus.UrgencyUrgent}, true},
		{menus.Report{Kind: menus.ReportNeed, Category: "protection", Urgency: menus.UrgencyRoutine}, false},
		{menus.Report{Kind: menus.ReportVisit, Situation: "concern", Urgency: menus.UrgencyRoutine}, true},
		{menus.Report{Kind: menus.ReportVisit, Situation: "urgent"}, true},
		{menus.Report{Kind: menus.ReportVisit, Situation: "well", Urgency: menus.UrgencyRoutine}, false},
	}
	for _, tt := range tests {
		if got := cases.Opens(tt.r); got != tt.want {
			t.Errorf("Opens(%+v) = %v, want %v", tt.r, got, tt.want)
		}
	}
}

func TestDeadlines(t *testing.T) {
	d := cases.Deadlines{Default: 2 * time.Hour, ByCategory: map[string]time.Duration{"protection": 30 * time.Minute}}
	if got := d.For("PROTECTION"); got != 30*time.Minute {
		t.Errorf("protection: %v", got)
	}
	if got := d.For("school"); got != 2*time.Hour {
		t.Errorf("school: %v", got)
	}
	if got := (cases.Deadlines{}).For("school"); got != cases.DefaultDeadline {
		t.Errorf("zero value: %v", got)
	}
}
