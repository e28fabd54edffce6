package menus_test

import (
	"errors"
	"testing"

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
