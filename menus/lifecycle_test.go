package menus_test

import (
	"errors"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

func TestAdvance(t *testing.T) {
	tests := []struct {
		from, event, to string
		err             bool
	}{
		{"", menus.EventInput, menus.PhaseActive, false},
		{menus.PhaseActive, menus.EventInput, menus.PhaseActive, false},
		{menus.PhaseActive, menus.EventConfirm, menus.PhaseConfirming, false},
		{menus.PhaseConfirming, menus.EventSave, menus.PhaseSaved, false},
		{menus.PhaseSaved, menus.EventEnd, menus.PhaseEnded, false},
		{menus.PhaseConfirming, menus.EventRelease, menus.PhaseReleased, false},
		{menus.PhaseActive, menus.EventTimeout, menus.PhaseTimedOut, false},
		{menus.PhaseTimedOut, menus.EventResume, menus.PhaseResumed, false},
		{menus.PhaseResumed, menus.EventInput, menus.PhaseActive, false},
		{menus.PhaseActive, menus.EventSave, menus.PhaseActive, true},
		{menus.PhaseEnded, menus.EventInput, menus.PhaseEnded, true},
		{menus.PhaseSaved, menus.EventTimeout, menus.PhaseSaved, true},
	}
	for _, tt := range tests {
		got, err := menus.Advance(tt.from, tt.event)
		if got != tt.to || (err != nil) != tt.err || (err != nil && !errors.Is(err, menus.ErrLifecycle)) {
			t.Errorf("Advance(%q, %q) = %q, %v; want %q, error %v", tt.from, tt.event, got, err, tt.to, tt.err)
		}
	}
}

func TestResumeOffer(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	c := caller("en")
	saved := m.Start(c, now, screen)
	saved, _, _ = m.Step(saved, "1", now)
	saved, _, _ = m.Step(saved, "C0002", now)

	offer := m.OfferResume(c, saved, now, screen)
	if offer.Node != menus.ResumeNode || offer.Resume == nil || offer.Resume.Answers["child"] != "C0002" {
		t.Fatalf("offer = %+v", offer)
	}
	want := "You have an unfinished report.\n1. Continue\n2. Start again"
	if offer.Screen != want {
		t.Fatalf("offer screen %q, want %q", offer.Screen, want)
	}
	again, choice := m.ChooseResume(offer, "7")
	if choice != menus.ResumeInvalid || again.Screen != "Invalid choice.\n"+want {
		t.Fatalf("invalid answer: %v %q", choice, again.Screen)
	}
	if _, choice := m.ChooseResume(offer, "1"); choice != menus.ResumeContinue {
		t.Fatalf("1 = %v", choice)
	}
	if _, choice := m.ChooseResume(offer, "２"); choice != menus.ResumeRestart {
		t.Fatalf("full-width 2 = %v", choice)
	}
	if _, _, err := m.Step(offer, "1", now); !errors.Is(err, menus.ErrStaleSnapshot) {
		t.Fatalf("Step on the offer: %v", err)
	}
	zh := m.OfferResume(caller("zh"), saved, now, screen)
	if zh.Screen != "您有未完成的报告。\n1. 继续填写\n2. 重新开始" {
		t.Fatalf("zh offer %q", zh.Screen)
	}
}

// TestAllowanceNode: a guardian of two children is asked which child, then
// hears that child's status; the words are AllowanceText's.
func TestAllowanceNode(t *testing.T) {
	m := MustMachine(t, "guardian.yaml")
	next := time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC)
	c := menus.Caller{Phone: "+8613900139009", GuardianID: 9, Language: "en",
		Children: []menus.ChildBrief{{Code: "C0001", Name: "王小明"}, {Code: "C0002", Name: "刘佳"}},
		Allowances: []menus.Allowance{
			{ChildCode: "C0001", ChildName: "王小明", Scheme: "living", Status: menus.AllowanceApproved, MonthlyYuan: 500, NextPayment: next},
			{ChildCode: "C0002", ChildName: "刘佳", Scheme: "orphan", Status: menus.AllowanceApplied},
		}}
	s := m.Start(c, now, screen)
	s, _, _ = m.Step(s, "1", now)
	if s.Ended || s.Screen != "Which child?\n1. 王小明\n2. 刘佳" {
		t.Fatalf("child question = %q (ended %v)", s.Screen, s.Ended)
	}
	s, _, _ = m.Step(s, "2", now)
	if !s.Ended || s.Screen != "刘佳: orphan allowance applied for, under review." {
		t.Fatalf("status = %q (ended %v)", s.Screen, s.Ended)
	}
	if got := menus.AllowanceText(c.Allowances[0], "zh"); got != "王小明的生活补贴已批准，每月500元，下次发放2026-12-15。" {
		t.Fatalf("zh text = %q", got)
	}
	// A guardian with no allowance on record hears so, not an empty screen.
	lone := menus.Caller{Phone: "+8613900139008", Language: "zh", Children: []menus.ChildBrief{{Code: "C0003", Name: "陈晨"}}}
	s = m.Start(lone, now, screen)
	s, _, _ = m.Step(s, "1", now)
	if !s.Ended || s.Screen != "暂无补贴记录，请联系县民政办公室。" {
		t.Fatalf("no allowance = %q", s.Screen)
	}
}
