package menus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/looplab/fsm"
)

// Session lifecycle phases. A walk's screens are one state machine (the
// tree); its life as a session is another, smaller one, kept in the
// snapshot's Phase so that every transition can be logged and counted.
const (
	PhaseStarted    = "started"
	PhaseActive     = "active"
	PhaseConfirming = "confirming"
	PhaseSaved      = "saved"
	PhaseEnded      = "ended"
	// PhaseReleased: the caller or the network ended the session before
	// its last screen (a carrier's release or end notice).
	PhaseReleased = "released"
	// PhaseTimedOut: the session went quiet mid-report and the caller
	// dialled again; its answers were kept for resuming.
	PhaseTimedOut = "timed_out"
	PhaseResumed  = "resumed"
)

// Lifecycle events.
const (
	EventInput   = "input"
	EventConfirm = "confirm"
	EventSave    = "save"
	EventEnd     = "end"
	EventRelease = "release"
	EventTimeout = "timeout"
	EventResume  = "resume"
)

var lifecycleEvents = fsm.Events{
	{Name: EventInput, Src: []string{PhaseStarted, PhaseActive, PhaseConfirming, PhaseResumed}, Dst: PhaseActive},
	{Name: EventConfirm, Src: []string{PhaseStarted, PhaseActive, PhaseConfirming, PhaseResumed}, Dst: PhaseConfirming},
	{Name: EventSave, Src: []string{PhaseConfirming}, Dst: PhaseSaved},
	{Name: EventEnd, Src: []string{PhaseStarted, PhaseActive, PhaseConfirming, PhaseResumed, PhaseSaved}, Dst: PhaseEnded},
	{Name: EventRelease, Src: []string{PhaseStarted, PhaseActive, PhaseConfirming, PhaseResumed, PhaseSaved}, Dst: PhaseReleased},
	{Name: EventTimeout, Src: []string{PhaseStarted, PhaseActive, PhaseConfirming, PhaseResumed}, Dst: PhaseTimedOut},
	{Name: EventResume, Src: []string{PhaseTimedOut}, Dst: PhaseResumed},
}

var lifecyclePool = sync.Pool{New: func() any { return fsm.NewFSM(PhaseStarted, lifecycleEvents, nil) }}

// ErrLifecycle is returned for an event the current phase does not allow.
var ErrLifecycle = errors.New("menus: lifecycle transition not allowed")

// Advance returns the phase an event leads to from phase. An event the
// phase does not allow leaves it unchanged and returns ErrLifecycle; an
// event that keeps the phase (input while active) is not an error.
func Advance(phase, event string) (string, error) {
	if phase == "" {
		phase = PhaseStarted
	}
	f := lifecyclePool.Get().(*fsm.FSM)
	defer lifecyclePool.Put(f)
	f.SetState(phase)
	err := f.Event(context.Background(), event)
	var none fsm.NoTransitionError
	if err != nil && !errors.As(err, &none) {
		return phase, fmt.Errorf("%w: %s from %s", ErrLifecycle, event, phase)
	}
	return f.Current(), nil
}

// ResumeNode is the pseudo-node of the screen that offers to continue an
// unfinished report. Tree ids cannot start with '_', so it never clashes.
const ResumeNode = "_resume"

// OfferResume returns a snapshot at the resume offer for a caller who has
// an unfinished walk saved, in the language of the tree m.
func (m *Machine) OfferResume(c Caller, saved Snapshot, now time.Time, budget textlen.Budget) Snapshot {
	s := m.Start(c, now, budget)
	s.Node, s.Resume = ResumeNode, &saved
	m.render(&s)
	return s
}

// ResumeChoice reads the caller's answer to the resume offer.
type ResumeChoice int

// Answers to the resume offer.
const (
	ResumeInvalid ResumeChoice = iota
	ResumeContinue
	ResumeRestart
)

// ChooseResume interprets an input on the resume offer; an invalid one
// re-renders the offer with a notice.
func (m *Machine) ChooseResume(s Snapshot, input string) (Snapshot, ResumeChoice) {
	switch cleanInput(input) {
	case "1":
		return s, ResumeContinue
	case "2":
		return s, ResumeRestart
	}
	s.Hops++
	s.Notice = "invalid_option"
	m.render(&s)
	return s, ResumeInvalid
}

// ResumeAction tells a session store what to do with a caller's resumable
// walk when it saves a hop.
type ResumeAction int

// Resume actions.
const (
	// ResumeKeep leaves any saved walk as it is (the caller is being
	// offered it, or has not started anything worth keeping).
	ResumeKeep ResumeAction = iota
	// ResumeSave keeps this walk for the caller, replacing any other.
	ResumeSave
	// ResumeForget drops the caller's saved walk (finished, or abandoned
	// on purpose).
	ResumeForget
)
