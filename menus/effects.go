package menus

// The engine does no I/O: a step returns the next snapshot and the effects
// the world must see happen, and the conversation layer applies them in one
// place after the step. A new kind of consequence (opening a case, say) is
// a new effect, not a new comparison of snapshots.

// Effect is one consequence of a step.
type Effect interface{ effect() }

// SaveReport asks for the report to be stored once. The snapshot returned
// with it stands on the confirm's next screen, whose text names the
// reference only the store knows: the caller completes it with Saved, or
// turns back with Failed or Refused.
type SaveReport struct{ Report Report }

// AlertSupervisors asks for the supervisors of the child's area to be
// alerted to the report saved by the same step, in the save's own
// transaction, so that an alert exists exactly when its report does.
type AlertSupervisors struct{}

// RememberLanguage asks for the caller's language choice to be kept for
// their phone, so the next dial and the SMS replies use it.
type RememberLanguage struct{ Lang string }

// DiscardWalk says the walk was finished or abandoned (cancelled, sent
// home, ended): there is nothing left to offer back on the next dial.
// Abandoned is set when the caller turned away from the answers given (a
// confirm cancelled, Home mid-walk) rather than reached an end.
type DiscardWalk struct{ Abandoned bool }

func (SaveReport) effect()       {}
func (AlertSupervisors) effect() {}
func (RememberLanguage) effect() {}
func (DiscardWalk) effect()      {}

// Effects is a step's list of effects.
type Effects []Effect

// Report returns the report the effects save, if any, with Alert set when
// they also alert supervisors.
func (es Effects) Report() (Report, bool) {
	var (
		r     Report
		found bool
		alert bool
	)
	for _, e := range es {
		switch e := e.(type) {
		case SaveReport:
			r, found = e.Report, true
		case AlertSupervisors:
			alert = true
		}
	}
	r.Alert = found && alert
	return r, found
}

// Discards reports whether the effects end the walk.
func (es Effects) Discards() bool {
	for _, e := range es {
		if _, ok := e.(DiscardWalk); ok {
			return true
		}
	}
	return false
}

// Abandons reports whether the effects end the walk because the caller
// turned away from it.
func (es Effects) Abandons() bool {
	for _, e := range es {
		if d, ok := e.(DiscardWalk); ok && d.Abandoned {
			return true
		}
	}
	return false
}
