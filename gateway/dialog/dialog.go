// Package dialog runs one hop of a menu conversation for any channel: it
// loads the caller's session, feeds the new input to the menu engine,
// applies the engine's effects (saving a report) and stores the session
// again with a compare-and-set, retrying when a concurrent callback for the
// same session got there first.
//
// Carrier adapters turn their wire format into a Hop and a Reply back into
// theirs; everything a carrier retry, a duplicate, a reordering or a lost
// Redis key can do to a conversation is handled here, once.
package dialog

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// Store keeps session snapshots and each phone's resumable walk
// (sessions.Store implements it). Save must fail with an error matching
// menus.ErrConflict, and change nothing, when the revision moved.
type Store interface {
	LoadWithResume(ctx context.Context, channel, id, phone string) (menus.Snapshot, int64, bool, *menus.Snapshot, error)
	Save(ctx context.Context, channel, id, phone string, expected int64, snap menus.Snapshot, ttl time.Duration, resume menus.ResumeAction) (int64, error)
}

// latest is implemented by conflict errors that carry the winner's state.
type latest interface {
	Latest() (menus.Snapshot, int64, bool)
}

// Registry finds who is calling (storage.DB implements it). An unknown
// caller is an error matching menus.ErrNotFound.
type Registry interface {
	CallerByPhone(ctx context.Context, phone string) (menus.Caller, error)
	// GuardianByPhone looks up the callers of guardian trees.
	GuardianByPhone(ctx context.Context, phone string) (menus.Caller, error)
	// SetLanguage remembers the language a caller chose for their phone.
	SetLanguage(ctx context.Context, phone, lang string) error
}

// Reports saves reports idempotently per Report.SessionKey (storage.DB
// implements it).
type Reports interface {
	SaveReport(ctx context.Context, r menus.Report) (string, error)
}

// Menus finds compiled trees (menus.Catalog implements it).
type Menus interface {
	ForService(code string) (*menus.Machine, bool)
	Version(ctx context.Context, name string, version int) (*menus.Machine, error)
}

// Hop is one callback of a conversation, in the gateway's own terms.
type Hop struct {
	Channel string // menus.ChannelUSSD or menus.ChannelSMS
	Carrier string // short carrier name, e.g. "at"
	Session string // the carrier's session id
	Phone   string // E.164
	Service string // dialled service code
	// Path is every input of the session so far, joined by Sep; "" on the
	// first hop, or the inputs a shortcut dial carries (*384*2015*1#).
	Path string

	// Incremental carriers (Hubtel, the generic adapter in its incremental
	// form) send only the latest input: Input holds it, Seq numbers the
	// hops of the session from 1, and the gateway accumulates the path.
	// Seq 0 means the channel numbers nothing (an SMS conversation, whose
	// messages are deduplicated by carrier id before they get here).
	Incremental bool
	Input       string
	Seq         int
	// New is set by incremental carriers on a session's first callback,
	// whose Path holds any shortcut inputs.
	New bool
	// Release is set when the carrier reports that the session ended.
	Release bool

	// Budget is the carrier's screen budget, set by the gateway from the
	// adapter; every screen of the session is measured and paged to fit it.
	Budget textlen.Budget
}

// Sep joins inputs in a Path, as Africa's Talking does.
const Sep = "*"

// Reply is what the caller sees: a screen and whether the session ends.
type Reply struct {
	Text string
	End  bool
}

// Service runs hops.
type Service struct {
	Store    Store
	Registry Registry
	Reports  Reports
	Menus    Menus
	// TTL is how long an idle session is kept.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
	// Metrics counts hops, lifecycle transitions and reports; nil counts
	// nothing.
	Metrics *Metrics
	// Cache saves the load of a mid-session hop; nil loads every time.
	Cache *Cache
}

// Metrics are the dialog's Prometheus counters.
type Metrics struct {
	Hops        *prometheus.CounterVec
	Transitions *prometheus.CounterVec
	Reports     *prometheus.CounterVec
}

// NewMetrics registers the dialog's counters with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Hops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_hops_total", Help: "Menu hops answered, by channel, carrier and how they were handled.",
		}, []string{"channel", "carrier", "kind"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_session_transitions_total", Help: "Session lifecycle transitions.",
		}, []string{"channel", "from", "to"}),
		Reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_reports_total", Help: "Reports confirmed by callers, by kind, channel and outcome.",
		}, []string{"kind", "channel", "outcome"}),
	}
	reg.MustRegister(m.Hops, m.Transitions, m.Reports)
	return m
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

// Hop answers one callback. It never fails: infrastructure errors are
// logged and the caller gets a screen that tells them what to do.
func (s *Service) Hop(ctx context.Context, h Hop) Reply {
	log := s.logger().With("carrier", h.Carrier, "session", h.Session, "phone", phone.Masked(h.Phone))
	id := h.Carrier + ":" + h.Session
	cacheKey := h.Channel + ":" + id
	var (
		snap      menus.Snapshot
		rev       int64
		found     bool
		resumable *menus.Snapshot
		err       error
		storeDown bool
	)
	if snap, rev, found = s.Cache.get(cacheKey, s.now()); !found {
		snap, rev, found, resumable, err = s.Store.LoadWithResume(ctx, h.Channel, id, h.Phone)
		if err != nil {
			// Redis is a cache of the conversation: rebuild it from the
			// path and answer, rather than drop a caller mid-report.
			log.Error("session load failed; rebuilding from the path", "err", err)
			storeDown, found, resumable = true, false, nil
		}
	}
	for attempt := 1; ; attempt++ {
		hs := &hop{log: log}
		t := s.route(ctx, hs, h, snap, found, resumable)
		if !t.save || storeDown || t.out.Tree == "" {
			s.observe(hs, h, t)
			return replyOf(t.out)
		}
		newRev, err := s.Store.Save(ctx, h.Channel, id, h.Phone, rev, t.out, s.TTL, t.resume)
		if err == nil {
			s.Cache.put(cacheKey, t.out, newRev, s.now())
			s.observe(hs, h, t)
			return replyOf(t.out)
		}
		var l latest
		if !errors.Is(err, menus.ErrConflict) || !errors.As(err, &l) {
			log.Error("session save failed; answering anyway", "err", err)
			s.Cache.forget(cacheKey)
			return replyOf(t.out)
		}
		if attempt == maxAttempts {
			log.Warn("session kept changing under this hop", "attempts", attempt)
			return Reply{Text: menus.Message(menus.MsgBusy, t.out.Lang), End: true}
		}
		snap, rev, found = l.Latest()
	}
}

// observe logs and counts what an answered hop did: its kind and the
// lifecycle transitions it made. A hop whose write lost a race is not
// observed; the retry that wins is.
func (s *Service) observe(hs *hop, h Hop, t turn) {
	if s.Metrics != nil {
		s.Metrics.Hops.WithLabelValues(h.Channel, h.Carrier, t.kind).Inc()
	}
	if !t.save {
		return // a repeat, a late hop replayed, or a refusal: nothing changed
	}
	if t.timedOut != nil {
		s.transition(hs.log, h, t.timedOut.Phase, menus.PhaseTimedOut)
	}
	for _, tr := range hs.transitions {
		s.transition(hs.log, h, tr[0], tr[1])
	}
}

func (s *Service) transition(log *slog.Logger, h Hop, from, to string) {
	if from == "" {
		from = "none"
	}
	level := slog.LevelDebug
	switch to {
	case menus.PhaseSaved, menus.PhaseTimedOut, menus.PhaseResumed, menus.PhaseReleased:
		level = slog.LevelInfo
	}
	log.Log(context.Background(), level, "session lifecycle", "from", from, "to", to)
	if s.Metrics != nil {
		s.Metrics.Transitions.WithLabelValues(h.Channel, from, to).Inc()
	}
}

func replyOf(o menus.Snapshot) Reply { return Reply{Text: o.Screen, End: o.Ended} }

func message(key, lang string) turn {
	return turn{out: menus.Snapshot{Screen: menus.Message(key, lang), Ended: true, Lang: lang}, kind: hopRefused}
}

// route turns an incremental carrier's hop into the cumulative form the
// rest of the dialog works on, answering repeats from the stored screen.
func (s *Service) route(ctx context.Context, hs *hop, h Hop, snap menus.Snapshot, found bool, resumable *menus.Snapshot) turn {
	if found && snap.Caller.Phone != h.Phone {
		// A session id is bound to the phone that opened it: another
		// phone can neither continue nor end it.
		hs.log.Warn("session id reused by another phone")
		return message(menus.MsgSessionError, "")
	}
	if found && snap.Phase == menus.PhaseReleased && !h.Release {
		// The carrier ended this session; input after that cannot be
		// applied, and the caller must dial again (to resume).
		return message(menus.MsgSessionError, snap.Lang)
	}
	if h.Release {
		if !found {
			return message(menus.MsgSessionError, "")
		}
		if !snap.Ended {
			snap.Ended = true
			snap.Phase = hs.advance(snap.Phase, menus.EventRelease)
		}
		// The walk stays resumable: a release mid-report is exactly the
		// dropped session the caller will want to continue.
		return turn{out: snap, save: true, resume: menus.ResumeKeep, kind: hopReleased}
	}
	if !h.Incremental {
		return s.advance(ctx, hs, h, snap, found, resumable)
	}
	switch {
	case found && h.Seq > 0 && h.Seq <= snap.Seq:
		// A repeat, or an older hop arriving late: the stored screen,
		// nothing applied twice.
		return turn{out: snap, kind: hopRepeat}
	case found:
		h.Path = snap.Path
		if h.Path != "" {
			h.Path += Sep
		}
		h.Path += h.Input
	case !h.New:
		// Only the latest input arrived and the session is gone: it cannot
		// be rebuilt, so the caller must dial again (and will be offered
		// to resume).
		hs.log.Warn("incremental session lost; asking the caller to dial again", "seq", h.Seq)
		return message(menus.MsgSessionError, "")
	}
	t := s.advance(ctx, hs, h, snap, found, resumable)
	if t.out.Tree != "" {
		t.out.Seq = h.Seq
	}
	return t
}

// advance computes where a hop leads and whether the result is stored.
func (s *Service) advance(ctx context.Context, hs *hop, h Hop, snap menus.Snapshot, found bool, resumable *menus.Snapshot) turn {
	if found {
		if h.Path == snap.Path {
			return turn{out: snap, kind: hopRepeat} // a carrier retry: same screen, nothing applied twice
		}
		m, err := s.Menus.Version(ctx, snap.Tree, snap.Version)
		if err != nil {
			hs.log.Error("pinned tree unavailable", "tree", snap.Tree, "version", snap.Version, "err", err)
			return message(menus.MsgBusy, snap.Lang)
		}
		switch {
		case snap.Path == "" || strings.HasPrefix(h.Path, snap.Path+Sep):
			rest := h.Path
			if snap.Path != "" {
				rest = h.Path[len(snap.Path)+len(Sep):]
			}
			return s.settle(s.feed(ctx, hs, m, h, snap, rest), hopAdvance)
		case h.Path == "" || strings.HasPrefix(snap.Path, h.Path+Sep):
			// An older hop arriving late: answer it as it was answered,
			// by replaying its path, and never rewind the session.
			t := s.settle(s.feed(ctx, hs, m, h, s.start(hs, m, h, snap.Caller, snap.Started), h.Path), hopLate)
			t.save = false
			return t
		default:
			// The carrier's path disagrees with ours; the path is the
			// carrier's record of what the caller typed, so it wins.
			hs.log.Warn("path diverged from the session; replaying it")
			return s.settle(s.feed(ctx, hs, m, h, s.start(hs, m, h, snap.Caller, snap.Started), h.Path), hopRebuilt)
		}
	}
	m, ok := s.Menus.ForService(h.Service)
	if !ok {
		hs.log.Warn("unknown service code", "service", h.Service)
		return message(menus.MsgUnknownService, "")
	}
	lookup := s.Registry.CallerByPhone
	if m.Tree().For() == menus.AudienceGuardian {
		lookup = s.Registry.GuardianByPhone
	}
	caller, err := lookup(ctx, h.Phone)
	switch {
	case errors.Is(err, menus.ErrNotFound):
		hs.log.Info("unregistered caller")
		return message(menus.MsgUnknownCaller, "")
	case err != nil:
		hs.log.Error("registry lookup failed", "err", err)
		return message(menus.MsgBusy, "")
	}
	kind := hopNew
	if h.Path != "" && !h.New {
		kind = hopRebuilt
	}
	start := s.start(hs, m, h, caller, s.now())
	if resumable != nil && h.Path == "" && resumable.Tree == m.Tree().Name && resumable.ReportKey != start.ReportKey {
		// A walk this phone left unfinished: offer it before anything
		// else. A shortcut dial (inputs on the first callback) states
		// what the caller wants, so it skips the offer.
		offer := m.OfferResume(caller, *resumable, s.now(), h.Budget)
		offer.ReportKey, offer.Phase = start.ReportKey, menus.PhaseStarted
		t := turn{out: offer, save: true, resume: menus.ResumeKeep, kind: kind, timedOut: resumable}
		return t
	}
	return s.settle(s.feed(ctx, hs, m, h, start, h.Path), kind)
}

// start opens a walk whose report is keyed to this session.
func (s *Service) start(hs *hop, m *menus.Machine, h Hop, c menus.Caller, at time.Time) menus.Snapshot {
	snap := m.Start(c, at, h.Budget)
	snap.ReportKey = h.Channel + ":" + h.Carrier + ":" + h.Session
	snap.Phase = menus.PhaseStarted
	hs.transitions = append(hs.transitions, [2]string{"", menus.PhaseStarted})
	return snap
}

// settle decides what a hop's outcome does to the phone's resumable walk:
// a finished or abandoned walk is forgotten, one under way is kept.
func (s *Service) settle(out menus.Snapshot, kind string) turn {
	t := turn{out: out, save: true, kind: kind}
	switch {
	case out.Tree == "":
		t.save, t.kind = false, hopRefused
	case out.Node == menus.ResumeNode:
		t.resume = menus.ResumeKeep
	case out.Ended || (len(out.Answers) == 0 && out.Hops > 0 && len(out.Trail) == 0):
		t.resume = menus.ResumeForget
	case len(out.Answers) > 0:
		t.resume = menus.ResumeSave
	}
	return t
}

// feed steps the walk through the inputs in path, saving any report it
// confirms and answering a resume offer, and records path as consumed.
func (s *Service) feed(ctx context.Context, hs *hop, m *menus.Machine, h Hop, snap menus.Snapshot, path string) menus.Snapshot {
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
			var ok bool
			if snap, m, ok = s.answerOffer(ctx, hs, m, h, snap, in); !ok {
				return snap
			}
			continue
		}
		if m.TakesText(snap) {
			// Free text may hold the separator itself.
			in, i = strings.Join(inputs[i:], Sep), len(inputs)
		}
		next, report, err := m.Step(snap, in, s.now())
		if err != nil {
			hs.log.Error("menu step failed", "err", err)
			return message(menus.MsgSessionError, snap.Lang).out
		}
		if report != nil {
			next = s.save(ctx, hs, m, h, snap, next, report)
		}
		if next.Lang != snap.Lang {
			// Remembered for the phone, so the next dial (and the SMS
			// replies) use it; the session switches either way.
			next.Caller.Language = next.Lang
			if err := s.Registry.SetLanguage(ctx, h.Phone, next.Lang); err != nil {
				hs.log.Error("language choice not remembered", "lang", next.Lang, "err", err)
			}
		}
		snap = next
		snap.Phase = hs.advance(snap.Phase, s.event(m, snap, report != nil))
		if snap.Ref != "" && snap.Ended && snap.Phase == menus.PhaseSaved {
			snap.Phase = hs.advance(snap.Phase, menus.EventEnd)
		}
	}
	snap.Path = consumed
	return snap
}

// answerOffer applies the caller's answer to the resume offer. Continuing
// swaps in the saved walk, on the tree version it was pinned to.
func (s *Service) answerOffer(ctx context.Context, hs *hop, m *menus.Machine, h Hop, offer menus.Snapshot, in string) (menus.Snapshot, *menus.Machine, bool) {
	next, choice := m.ChooseResume(offer, in)
	switch choice {
	case menus.ResumeContinue:
		saved := *offer.Resume
		pinned, err := s.Menus.Version(ctx, saved.Tree, saved.Version)
		if err != nil {
			hs.log.Error("resumed walk's tree unavailable", "tree", saved.Tree, "version", saved.Version, "err", err)
			return s.start(hs, m, h, offer.Caller, s.now()), m, true
		}
		saved.Path, saved.Seq, saved.Budget, saved.Notice, saved.Page = offer.Path, offer.Seq, h.Budget, "", 0
		saved.Ended = false
		saved.Phase = hs.advance(menus.PhaseTimedOut, menus.EventResume)
		saved.Screen = pinned.Render(saved)
		return saved, pinned, true
	case menus.ResumeRestart:
		fresh := s.start(hs, m, h, offer.Caller, s.now())
		fresh.ReportKey, fresh.Path, fresh.Hops = offer.ReportKey, offer.Path, offer.Hops+1
		fresh.Phase = hs.advance(fresh.Phase, menus.EventInput)
		return fresh, m, true
	}
	return next, m, true
}

// event is the lifecycle event a step amounts to.
func (s *Service) event(m *menus.Machine, snap menus.Snapshot, reported bool) string {
	switch {
	case reported && snap.Ref != "":
		return menus.EventSave
	case snap.Ended:
		return menus.EventEnd
	case m.Confirming(snap):
		return menus.EventConfirm
	}
	return menus.EventInput
}

// hop is what one callback carries through the dialog: its logger and the
// lifecycle transitions it makes, logged and counted once the hop is
// answered.
type hop struct {
	log         *slog.Logger
	transitions [][2]string
}

// advance moves a lifecycle phase, logging (not failing on) an event the
// phase does not allow: a rebuilt or skipped-ahead walk may jump phases.
func (hs *hop) advance(phase, event string) string {
	next, err := menus.Advance(phase, event)
	if err != nil {
		hs.log.Debug("lifecycle event ignored", "err", err)
	}
	if next != phase {
		hs.transitions = append(hs.transitions, [2]string{phase, next})
	}
	return next
}

func (s *Service) save(ctx context.Context, hs *hop, m *menus.Machine, h Hop, before, after menus.Snapshot, r *menus.Report) menus.Snapshot {
	r.SessionKey = before.ReportKey
	if r.SessionKey == "" {
		r.SessionKey = h.Channel + ":" + h.Carrier + ":" + h.Session
	}
	r.Channel = h.Channel
	r.Carrier = h.Carrier
	ref, err := s.Reports.SaveReport(ctx, *r)
	if err != nil {
		hs.log.Error("report not saved; caller asked to retry", "kind", r.Kind, "err", err)
		s.countReport(r, "failed")
		return m.Failed(before)
	}
	hs.log.Info("report saved", "kind", r.Kind, "ref", ref, "tree", r.Tree, "version", r.Version)
	s.countReport(r, "saved")
	return m.Saved(after, ref)
}

func (s *Service) countReport(r *menus.Report, outcome string) {
	if s.Metrics != nil {
		s.Metrics.Reports.WithLabelValues(string(r.Kind), r.Channel, outcome).Inc()
	}
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, Sep)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
