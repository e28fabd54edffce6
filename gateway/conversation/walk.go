package conversation

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// event is one input to a conversation, whichever channel it came on: a
// USSD callback, or an SMS fed to a menu conversation.
type event struct {
	conv    conv
	carrier string
	phone   string
	// service is the dialled code that picks the tree of a new USSD
	// session; tree picks it directly (an SMS conversation has no code).
	service string
	tree    *menus.Machine
	path    string
	// Incremental channels send only the latest input.
	incremental bool
	input       string
	seq         int
	opens       bool
	// restart opens the conversation anew even when one is open (MENU).
	restart bool
	release bool
	budget  textlen.Budget
	ttl     time.Duration
}

// Kinds of hop, for the hop counter.
const (
	hopNew      = "new"
	hopAdvance  = "advance"
	hopRepeat   = "repeat"
	hopLate     = "late"
	hopRebuilt  = "rebuilt"
	hopRefused  = "refused"
	hopReleased = "released"
)

// maxAttempts bounds the compare-and-set retries of one hop. Conflicts only
// come from concurrent callbacks of one session, which settle in one retry.
const maxAttempts = 4

// turn is one hop in the making: where it leads, and what to store.
type turn struct {
	out    menus.Snapshot
	save   bool
	resume menus.ResumeAction
	kind   string
	// timedOut is the walk this dial found unfinished, whose session is
	// thereby known to have timed out.
	timedOut *menus.Snapshot
}

// Hop answers one USSD callback. It never fails: infrastructure errors are
// logged and the caller gets a screen that tells them what to do.
func (s *Service) Hop(ctx context.Context, h Hop) Reply {
	return s.run(ctx, event{
		conv: ussdConv(h.Carrier, h.Session), carrier: h.Carrier, phone: h.Phone, service: h.Service,
		path: h.Path, incremental: h.Incremental, input: h.Input, seq: h.Seq, opens: h.New, release: h.Release,
		budget: h.Budget, ttl: s.USSDTTL,
	})
}

// run answers one event of a conversation: load, step, apply, store.
func (s *Service) run(ctx context.Context, e event) Reply {
	began := time.Now()
	log := s.hopLogger(e)
	var (
		snap      menus.Snapshot
		rev       int64
		found     bool
		dirty     bool
		resumable *menus.Snapshot
		err       error
		storeDown bool
		// kept is set while snap is the copy this process last wrote.
		kept bool
	)
	if snap, rev, dirty, found = s.Cache.get(e.conv.cacheKey(), s.now()); found {
		kept = true
	} else {
		lctx, cancel := s.storeCtx(ctx)
		snap, rev, found, resumable, err = s.Sessions.LoadWithResume(lctx, e.conv.channel, e.conv.id, e.phone)
		cancel()
		if err != nil {
			// Redis is a cache of the conversation: rebuild it from the
			// path and answer, rather than drop a caller mid-report.
			log().Error("session load failed; rebuilding from the path", "err", err)
			s.storeFailed(storeRedis, "load")
			storeDown, found, resumable = true, false, nil
		}
	}
	for attempt := 1; ; attempt++ {
		hs := &hop{log: log}
		t := s.route(ctx, hs, e, snap, found, resumable)
		if !t.save || storeDown || t.out.Tree == "" {
			s.observe(hs, e, t, began)
			return replyOf(t.out)
		}
		sctx, cancel := s.storeCtx(ctx)
		newRev, err := s.Sessions.Save(sctx, e.conv.channel, e.conv.id, e.phone, rev, t.out, e.ttl, t.resume)
		cancel()
		if err == nil {
			s.Cache.put(e.conv.cacheKey(), t.out, newRev, s.now())
			s.observe(hs, e, t, began)
			return replyOf(t.out)
		}
		var l latest
		if !errors.Is(err, menus.ErrConflict) || !errors.As(err, &l) {
			// The store is down: this process's copy carries the session
			// (an incremental carrier's next callback cannot be rebuilt
			// without it) until the store is back.
			log().Error("session save failed; answering from this process's copy", "err", err)
			s.storeFailed(storeRedis, "save")
			s.Cache.putDirty(e.conv.cacheKey(), t.out, rev, s.now())
			s.observe(hs, e, t, began)
			return replyOf(t.out)
		}
		if attempt == maxAttempts {
			log().Warn("session kept changing under this hop", "attempts", attempt)
			return Reply{Text: menus.Message(menus.MsgBusy, t.out.Lang), End: true}
		}
		cur, curRev, exists := l.Latest()
		if kept && (!exists && (dirty || !snap.Ended) || dirty && cur.Hops < snap.Hops) {
			// The store lost what this process last wrote or kept: it was
			// restarted or flushed, whether or not a call failed meanwhile.
			// The kept copy is the session (an incremental carrier's next
			// callback cannot be rebuilt without it), written over what the
			// store has.
			log().Info("session missing from the store; restoring this process's copy", "rev", curRev)
			rev, dirty, kept = curRev, false, false
			continue
		}
		snap, rev, found, dirty, kept = cur, curRev, exists, false, false
	}
}

// hopLogger returns the logger of one event's hop, built on first use:
// most hops log nothing at the levels enabled, and attaching the
// conversation's attributes costs more than the rest of a hop's
// bookkeeping.
func (s *Service) hopLogger(e event) func() *slog.Logger {
	var l *slog.Logger
	return func() *slog.Logger {
		if l == nil {
			l = s.logger().With("channel", e.conv.channel, "carrier", e.carrier, "phone", phone.Masked(e.phone))
			if e.conv.channel == menus.ChannelUSSD {
				l = l.With("session", strings.TrimPrefix(e.conv.id, e.carrier+":"))
			}
		}
		return l
	}
}

// forget drops a conversation from the store and this process's memory.
func (s *Service) forget(ctx context.Context, log *slog.Logger, c conv) {
	s.Cache.forget(c.cacheKey())
	dctx, cancel := s.storeCtx(ctx)
	defer cancel()
	if err := s.Sessions.Delete(dctx, c.channel, c.id); err != nil {
		log.Error("conversation not deleted", "err", err)
		s.storeFailed(storeRedis, "delete")
	}
}

func (s *Service) transition(log func() *slog.Logger, e event, from, to string) {
	if from == "" {
		from = none
	}
	level := slog.LevelDebug
	switch to {
	case menus.PhaseSaved, menus.PhaseTimedOut, menus.PhaseResumed, menus.PhaseReleased:
		level = slog.LevelInfo
	}
	// Not "from" and "to": those name phone numbers, which the log
	// redactor masks.
	if s.logger().Enabled(context.Background(), level) {
		log().Log(context.Background(), level, "session lifecycle", "phase_from", from, "phase_to", to)
	}
	if s.Metrics != nil {
		s.Metrics.Transitions.WithLabelValues(e.conv.channel, from, to).Inc()
	}
}

func replyOf(o menus.Snapshot) Reply { return Reply{Text: o.Screen, End: o.Ended} }

func message(key, lang string) turn {
	return turn{out: menus.Snapshot{Screen: menus.Message(key, lang), Ended: true, Lang: lang}, kind: hopRefused}
}

// attach gives a stored snapshot its caller's children and allowances
// again, from the registry (kept in the process): a stored snapshot holds
// only who the caller is. A caller no longer registered gets none, and
// the walk's validators refuse what they would have allowed.
func (s *Service) attach(ctx context.Context, hs *hop, snap *menus.Snapshot) {
	if snap.Tree == "" || snap.Caller.Phone == "" || snap.Caller.Attached() {
		return
	}
	m, err := s.Menus.Version(ctx, snap.Tree, snap.Version)
	if err != nil {
		return // answered as a pinned tree that is unavailable, below
	}
	lookup := s.Registry.CallerByPhone
	if m.Tree().For() == menus.AudienceGuardian {
		lookup = s.Registry.GuardianByPhone
	}
	c, err := lookup(ctx, snap.Caller.Phone)
	switch {
	case errors.Is(err, menus.ErrNotFound):
		hs.log().Info("caller left the registry mid-walk")
		snap.Caller.Children, snap.Caller.Allowances = []menus.ChildBrief{}, []menus.Allowance{}
	case err != nil:
		hs.log().Error("registry lookup failed; the walk goes on without the caller's children", "err", err)
		s.storeFailed(storePostgres, "registry")
	default:
		snap.Caller.Children, snap.Caller.Allowances = c.Children, c.Allowances
		if snap.Caller.Children == nil {
			snap.Caller.Children = []menus.ChildBrief{}
		}
	}
}

// route turns an incremental channel's event into the cumulative form the
// rest of the walk works on, answering repeats from the stored screen.
func (s *Service) route(ctx context.Context, hs *hop, e event, snap menus.Snapshot, found bool, resumable *menus.Snapshot) turn {
	if found {
		s.attach(ctx, hs, &snap)
	}
	if found && snap.Caller.Phone != e.phone {
		// A session id is bound to the phone that opened it: another
		// phone can neither continue nor end it.
		hs.log().Warn("session id reused by another phone")
		return message(menus.MsgSessionError, "")
	}
	if found && snap.Phase == menus.PhaseReleased && !e.release {
		// The carrier ended this session; input after that cannot be
		// applied, and the caller must dial again (to resume).
		return message(menus.MsgSessionError, snap.Lang)
	}
	if e.release {
		if !found {
			return message(menus.MsgSessionError, "")
		}
		if !snap.Ended {
			hs.abandon(snap, abandonReleased)
			snap.Ended = true
			snap.Phase = hs.advance(snap.Phase, menus.EventRelease)
		}
		// The walk stays resumable: a release mid-report is exactly the
		// dropped session the caller will want to continue.
		return turn{out: snap, save: true, resume: menus.ResumeKeep, kind: hopReleased}
	}
	if !e.incremental {
		return s.advance(ctx, hs, e, snap, found, resumable)
	}
	switch {
	case found && e.restart:
		// MENU by SMS opens the conversation anew: the old one is over,
		// and the write replaces it at the revision read.
		if !snap.Ended {
			hs.abandon(snap, abandonCancelled)
		}
		found = false
	case found && e.seq > 0 && e.seq <= snap.Seq:
		// A repeat, or an older hop arriving late: the stored screen,
		// nothing applied twice.
		return turn{out: snap, kind: hopRepeat}
	case found && snap.Ended:
		// An SMS conversation that has ended takes no more input.
		return message(menus.MsgSessionError, snap.Lang)
	case found:
		e.path = snap.Path
		if e.path != "" {
			e.path += Sep
		}
		e.path += e.input
	case !e.opens:
		// Only the latest input arrived and the session is gone: it cannot
		// be rebuilt, so the caller must dial again (and will be offered
		// to resume).
		hs.log().Warn("incremental session lost; asking the caller to dial again", "seq", e.seq)
		return message(menus.MsgSessionError, "")
	}
	t := s.advance(ctx, hs, e, snap, found, resumable)
	if t.out.Tree != "" {
		t.out.Seq = e.seq
	}
	return t
}

// advance computes where an event leads and whether the result is stored.
func (s *Service) advance(ctx context.Context, hs *hop, e event, snap menus.Snapshot, found bool, resumable *menus.Snapshot) turn {
	if found {
		if e.path == snap.Path {
			return turn{out: snap, kind: hopRepeat} // a carrier retry: same screen, nothing applied twice
		}
		m, err := s.Menus.Version(ctx, snap.Tree, snap.Version)
		if err != nil {
			hs.log().Error("pinned tree unavailable", "tree", snap.Tree, "version", snap.Version, "err", err)
			s.treeFailed(err)
			return message(menus.MsgBusy, snap.Lang)
		}
		switch {
		case snap.Path == "" || strings.HasPrefix(e.path, snap.Path+Sep):
			rest := e.path
			if snap.Path != "" {
				rest = e.path[len(snap.Path)+len(Sep):]
			}
			return s.settle(hs, s.feed(ctx, hs, m, e, snap, rest), hopAdvance)
		case e.path == "" || strings.HasPrefix(snap.Path, e.path+Sep):
			// An older hop arriving late: answer it as it was answered,
			// by replaying its path, and never rewind the session.
			replay := s.start(hs, m, e, snap.Caller, snap.Started)
			replay.ReportKey = snap.ReportKey
			t := s.settle(hs, s.feed(ctx, hs, m, e, replay, e.path), hopLate)
			t.save = false
			return t
		default:
			// The carrier's path disagrees with ours; the path is the
			// carrier's record of what the caller typed, so it wins.
			hs.log().Warn("path diverged from the session; replaying it")
			replay := s.start(hs, m, e, snap.Caller, snap.Started)
			replay.ReportKey = snap.ReportKey
			return s.settle(hs, s.feed(ctx, hs, m, e, replay, e.path), hopRebuilt)
		}
	}
	m := e.tree
	if m == nil {
		var ok bool
		if m, ok = s.Menus.ForService(e.service); !ok {
			hs.log().Warn("unknown service code", "service", e.service)
			return message(menus.MsgUnknownService, "")
		}
	}
	lookup := s.Registry.CallerByPhone
	if m.Tree().For() == menus.AudienceGuardian {
		lookup = s.Registry.GuardianByPhone
	}
	caller, err := lookup(ctx, e.phone)
	switch {
	case errors.Is(err, menus.ErrNotFound):
		hs.log().Info("unregistered caller")
		return message(menus.MsgUnknownCaller, "")
	case err != nil:
		hs.log().Error("registry lookup failed", "err", err)
		s.storeFailed(storePostgres, "registry")
		return message(menus.MsgBusy, "")
	}
	kind := hopNew
	if e.path != "" && !e.opens {
		kind = hopRebuilt
		if since := m.LiveSince(); m.Version() > 1 && !since.IsZero() && s.now().Sub(since) < e.ttl {
			// The session's snapshot is gone and this version went live
			// while the session may already have been running on the one
			// before: its inputs may mean other things here. Which
			// version the caller saw cannot be known, so the walk ends.
			hs.log().Warn("session lost across a publish; asking the caller to dial again", "tree", m.Tree().Name, "version", m.Version())
			return message(menus.MsgTreeChanged, caller.Language)
		}
	}
	start := s.start(hs, m, e, caller, s.now())
	if resumable != nil && e.path == "" && resumable.Tree == m.Tree().Name && resumable.ReportKey != start.ReportKey {
		if ref, saved := s.alreadySaved(ctx, hs, resumable.ReportKey); saved {
			// Its report was saved on a hop whose session write failed:
			// it is not unfinished, whatever the store remembers.
			hs.log().Info("resumable walk already saved; not offered", "ref", ref)
			t := s.settle(hs, s.feed(ctx, hs, m, e, start, e.path), kind)
			t.resume = menus.ResumeForget
			return t
		}
		// A walk this phone left unfinished: offer it before anything
		// else. A shortcut dial (inputs on the first callback) states
		// what the caller wants, so it skips the offer.
		offer := m.OfferResume(caller, *resumable, s.now(), e.budget)
		offer.ReportKey, offer.Phase = start.ReportKey, menus.PhaseStarted
		return turn{out: offer, save: true, resume: menus.ResumeKeep, kind: kind, timedOut: resumable}
	}
	return s.settle(hs, s.feed(ctx, hs, m, e, start, e.path), kind)
}

// alreadySaved reports whether a report was saved under key. A store that
// cannot tell is taken as "no": the caller is offered the walk, and a
// second confirm gets the first reference anyway.
func (s *Service) alreadySaved(ctx context.Context, hs *hop, key string) (string, bool) {
	ref, ok, err := s.Reports.RefByKey(ctx, key)
	if err != nil {
		hs.log().Error("could not check whether a resumable walk was saved", "err", err)
		s.storeFailed(storePostgres, "report")
		return "", false
	}
	return ref, ok
}

// start opens a walk whose report is keyed to this conversation.
func (s *Service) start(hs *hop, m *menus.Machine, e event, c menus.Caller, at time.Time) menus.Snapshot {
	snap := m.Start(c, at, e.budget)
	snap.ReportKey = e.conv.report
	snap.Phase = menus.PhaseStarted
	hs.transitions = append(hs.transitions, [2]string{"", menus.PhaseStarted})
	return snap
}

// settle decides what a hop's outcome does to the phone's resumable walk:
// a finished or abandoned walk is forgotten, one under way is kept.
func (s *Service) settle(hs *hop, out menus.Snapshot, kind string) turn {
	t := turn{out: out, save: true, kind: kind}
	switch {
	case out.Tree == "":
		t.save, t.kind = false, hopRefused
	case out.Node == menus.ResumeNode:
		t.resume = menus.ResumeKeep
	case out.Ended || hs.discarded:
		t.resume = menus.ResumeForget
	case out.Unfinished():
		t.resume = menus.ResumeSave
	}
	return t
}

// feed steps the walk through the inputs in path, applying each step's
// effects and answering a resume offer, and records path as consumed.
func (s *Service) feed(ctx context.Context, hs *hop, m *menus.Machine, e event, snap menus.Snapshot, path string) menus.Snapshot {
	consumed := snap.Path
	if path != "" {
		if consumed != "" {
			consumed += Sep
		}
		consumed += path
	}
	inputs := splitPath(path)
	for i := 0; i < len(inputs) && !snap.Ended; i++ {
		in := inputs[i]
		if snap.Node == menus.ResumeNode {
			snap, m = s.answerOffer(ctx, hs, m, e, snap, in)
			continue
		}
		if m.TakesText(snap) {
			// Free text may hold the separator itself.
			in, i = strings.Join(inputs[i:], Sep), len(inputs)
		}
		s.attachNeeds(ctx, hs, m, &snap, in)
		next, effects, err := m.Step(snap, in, s.now())
		if err != nil {
			hs.log().Error("menu step failed", "err", err)
			return message(menus.MsgSessionError, snap.Lang).out
		}
		next, saved := s.apply(ctx, hs, m, e, snap, next, effects)
		snap = next
		snap.Phase = hs.advance(snap.Phase, s.lifecycleEvent(m, snap, saved))
		if snap.Ended && snap.Phase == menus.PhaseSaved {
			snap.Phase = hs.advance(snap.Phase, menus.EventEnd)
		}
	}
	snap.Path = consumed
	return snap
}

// answerOffer applies the caller's answer to the resume offer. Continuing
// swaps in the saved walk, on the tree version it was pinned to.
func (s *Service) answerOffer(ctx context.Context, hs *hop, m *menus.Machine, e event, offer menus.Snapshot, in string) (menus.Snapshot, *menus.Machine) {
	next, choice := m.ChooseResume(offer, in)
	switch choice {
	case menus.ResumeContinue:
		saved := *offer.Resume
		// The offer was made to this caller, looked up on this dial.
		saved.Caller.Children, saved.Caller.Allowances = offer.Caller.Children, offer.Caller.Allowances
		pinned, err := s.Menus.Version(ctx, saved.Tree, saved.Version)
		if err != nil {
			hs.log().Error("resumed walk's tree unavailable", "tree", saved.Tree, "version", saved.Version, "err", err)
			s.treeFailed(err)
			return s.start(hs, m, e, offer.Caller, s.now()), m
		}
		saved.Path, saved.Seq, saved.Budget, saved.Notice, saved.Page = offer.Path, offer.Seq, e.budget, "", 0
		saved.Ended = false
		saved.Phase = hs.advance(menus.PhaseTimedOut, menus.EventResume)
		saved.Screen = pinned.Render(saved)
		return saved, pinned
	case menus.ResumeRestart:
		fresh := s.start(hs, m, e, offer.Caller, s.now())
		fresh.ReportKey, fresh.Path, fresh.Hops = offer.ReportKey, offer.Path, offer.Hops+1
		fresh.Phase = hs.advance(fresh.Phase, menus.EventInput)
		hs.discarded = true
		return fresh, m
	}
	return next, m
}

// lifecycleEvent is the lifecycle event a step amounts to.
func (s *Service) lifecycleEvent(m *menus.Machine, snap menus.Snapshot, saved bool) string {
	switch {
	case saved:
		return menus.EventSave
	case snap.Ended:
		return menus.EventEnd
	case m.Confirming(snap):
		return menus.EventConfirm
	}
	return menus.EventInput
}

// hop is what one event carries through the conversation: its logger,
// the lifecycle transitions it makes, the reports it files and the walks
// it finds abandoned, logged and counted once the hop is answered, and
// whether it discarded the walk.
type hop struct {
	log         func() *slog.Logger
	transitions [][2]string
	reports     []filed
	abandoned   []abandonment
	discarded   bool
}

// abandon records that the walk of snap was left unfinished at its node.
func (hs *hop) abandon(snap menus.Snapshot, reason string) {
	hs.abandoned = append(hs.abandoned, abandonment{tree: snap.Tree, node: snap.Node, reason: reason})
}

// filed is a report a hop tried to save, and how that went.
type filed struct {
	kind    menus.ReportKind
	outcome string
}

// advance moves a lifecycle phase, logging (not failing on) an event the
// phase does not allow: a rebuilt or skipped-ahead walk may jump phases.
func (hs *hop) advance(phase, event string) string {
	next, err := menus.Advance(phase, event)
	if err != nil {
		hs.log().Debug("lifecycle event ignored", "err", err)
	}
	if next != phase {
		hs.transitions = append(hs.transitions, [2]string{phase, next})
	}
	return next
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, Sep)
}
