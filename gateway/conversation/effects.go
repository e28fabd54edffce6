package conversation

import (
	"context"
	"errors"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Outcomes of a confirmed report, for the report counter.
const (
	outcomeSaved    = "saved"    // stored now
	outcomeReplayed = "replayed" // a retry, given the first reference
	outcomeFailed   = "failed"   // not stored; the caller may try again
	outcomeRefused  = "refused"  // never to be stored; the caller is told why
	outcomeSpooled  = "spooled"  // on local disk, filed when Postgres is back
)

// defaultReportBudget leaves a hop of the usual 5 s room to spool.
const defaultReportBudget = 2 * time.Second

// apply carries out a step's effects, after the step and in one place: a
// report is saved (with its alerts, in its transaction), a language is
// remembered. It returns the snapshot the step ends on, completed with
// the report's reference or turned back with the reason it was not
// saved, and whether a report was saved by this step.
func (s *Service) apply(ctx context.Context, hs *hop, m *menus.Machine, e event, before, next menus.Snapshot, effects menus.Effects) (menus.Snapshot, bool) {
	for _, eff := range effects {
		switch eff := eff.(type) {
		case menus.RememberLanguage:
			// Remembered for the phone, so the next dial and the SMS
			// replies use it; the session switches either way.
			if err := s.Registry.SetLanguage(ctx, e.phone, eff.Lang); err != nil {
				hs.log().Error("language choice not remembered", "lang", eff.Lang, "err", err)
				s.storeFailed(storePostgres, "registry")
			}
		case menus.DiscardWalk:
			hs.discarded = true
			if eff.Abandoned {
				hs.abandon(before, abandonCancelled)
			}
		}
	}
	if ns, ok := effects.NeedStatus(); ok {
		return s.markNeed(ctx, hs, m, e, before, next, ns)
	}
	r, ok := effects.Report()
	if !ok {
		return next, false
	}
	r.SessionKey = before.ReportKey
	if r.SessionKey == "" {
		r.SessionKey = e.conv.report
	}
	r.Channel, r.Carrier = e.conv.channel, e.carrier
	out, outcome := s.file(ctx, hs, m, before, next, r)
	hs.reports = append(hs.reports, filed{kind: r.Kind, outcome: outcome})
	if outcome == outcomeRefused {
		hs.discarded = true
	}
	return out, outcome == outcomeSaved || outcome == outcomeReplayed || outcome == outcomeSpooled
}

// file saves a confirmed report and completes the step: the end screen
// with its reference; the confirm again, to retry, when the store failed;
// or, when the store refused it for good, an end screen that says why.
func (s *Service) file(ctx context.Context, hs *hop, m *menus.Machine, before, next menus.Snapshot, r menus.Report) (menus.Snapshot, string) {
	budget := s.ReportBudget
	if budget == 0 {
		budget = defaultReportBudget
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)/2 < budget {
		budget = time.Until(dl) / 2
	}
	saveCtx, cancel := context.WithTimeout(ctx, budget)
	ref, created, err := s.Reports.FileReport(saveCtx, r)
	cancel()
	var dup *menus.SavedError
	switch {
	case err == nil:
		outcome := outcomeSaved
		if !created {
			outcome = outcomeReplayed
		}
		hs.log().Info("report saved", "kind", r.Kind, "ref", ref, "outcome", outcome, "tree", r.Tree, "version", r.Version)
		return m.Saved(next, ref), outcome
	case errors.As(err, &dup):
		hs.log().Warn("report refused: this conversation's report was saved with other answers", "kind", r.Kind, "ref", dup.Ref)
		return m.Refused(before, menus.RefusedSaved, dup.Ref), outcomeRefused
	case errors.Is(err, menus.ErrNotFound):
		hs.log().Warn("report refused: the child is no longer the director's", "kind", r.Kind)
		return m.Refused(before, menus.RefusedChild, ""), outcomeRefused
	}
	if s.Spool != nil {
		// Postgres could not take it in time: the report is made durable
		// on disk and filed, under the same reference, once it can. A
		// save that did commit after all is found by its key then.
		ref, serr := s.Spool.Put(r)
		if serr == nil {
			hs.log().Warn("report spooled; Postgres did not take it in time", "kind", r.Kind, "ref", ref, "err", err)
			s.storeFailed(storePostgres, "report")
			return m.Saved(next, ref), outcomeSpooled
		}
		hs.log().Error("report neither saved nor spooled; caller asked to retry", "kind", r.Kind, "err", err, "spool_err", serr)
		s.storeFailed(storePostgres, "report")
		s.storeFailed(storeSpool, "put")
		return m.Failed(before), outcomeFailed
	}
	hs.log().Error("report not saved; caller asked to retry", "kind", r.Kind, "err", err)
	s.storeFailed(storePostgres, "report")
	return m.Failed(before), outcomeFailed
}

// markNeed applies a director's status change of a need: the end screen
// naming the need; the confirm again when the store failed; or, when the
// need is not (any more) an open need of the director's child, an end
// screen that says nothing changed.
func (s *Service) markNeed(ctx context.Context, hs *hop, m *menus.Machine, e event, before, next menus.Snapshot, ns menus.SetNeedStatus) (menus.Snapshot, bool) {
	if s.Needs == nil {
		hs.log().Error("need status change with no needs store")
		return m.Failed(before), false
	}
	err := s.Needs.SetNeedStatusFromField(ctx, ns.DirectorID, ns.Ref, ns.Status, e.conv.channel, s.now())
	switch {
	case err == nil:
		hs.log().Info("need status changed from the field", "ref", ns.Ref, "status", ns.Status)
		out := m.Saved(next, ns.Ref)
		out.Caller.Needs = nil // changed: read again when next needed
		return out, true
	case errors.Is(err, menus.ErrNotFound):
		hs.log().Info("need status change refused: not an open need of the director's child", "ref", ns.Ref)
		hs.discarded = true
		return m.Refused(before, menus.RefusedNeed, ns.Ref), false
	}
	hs.log().Error("need status not changed; caller asked to retry", "ref", ns.Ref, "err", err)
	s.storeFailed(storePostgres, "needs")
	return m.Failed(before), false
}

// attachNeeds gives the walk its caller's open needs when its next step
// or screen may read them (the follow-up list, a need reference).
func (s *Service) attachNeeds(ctx context.Context, hs *hop, m *menus.Machine, snap *menus.Snapshot, input string) {
	if s.Needs == nil || snap.Caller.Needs != nil || snap.Caller.DirectorID == 0 || !m.WantsNeeds(*snap, input) {
		return
	}
	needs, err := s.Needs.OpenNeeds(ctx, snap.Caller.DirectorID, s.now())
	if err != nil {
		hs.log().Error("open needs not read; the walk goes on without them", "err", err)
		s.storeFailed(storePostgres, "needs")
		return
	}
	if needs == nil {
		needs = []menus.NeedBrief{}
	}
	snap.Caller.Needs = needs
}
