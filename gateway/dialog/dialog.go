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

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// Store keeps session snapshots (sessions.Store implements it). Save must
// fail with an error matching menus.ErrConflict when the revision moved.
type Store interface {
	Load(ctx context.Context, channel, id string) (menus.Snapshot, int64, bool, error)
	Save(ctx context.Context, channel, id string, expected int64, snap menus.Snapshot, ttl time.Duration) (int64, error)
}

// latest is implemented by conflict errors that carry the winner's state.
type latest interface {
	Latest() (menus.Snapshot, int64, bool)
}

// Registry finds who is calling (storage.DB implements it). An unknown
// caller is an error matching menus.ErrNotFound.
type Registry interface {
	CallerByPhone(ctx context.Context, phone string) (menus.Caller, error)
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
}

// maxAttempts bounds the compare-and-set retries of one hop. Conflicts only
// come from concurrent callbacks of one session, which settle in one retry.
const maxAttempts = 4

// Hop answers one callback. It never fails: infrastructure errors are
// logged and the caller gets a screen that tells them what to do.
func (s *Service) Hop(ctx context.Context, h Hop) Reply {
	log := s.logger().With("carrier", h.Carrier, "session", h.Session, "phone", phone.Masked(h.Phone))
	snap, rev, found, err := s.Store.Load(ctx, h.Channel, h.Carrier+":"+h.Session)
	storeDown := false
	if err != nil {
		// Redis is a cache of the conversation: rebuild it from the path
		// and answer, rather than drop a caller mid-report.
		log.Error("session load failed; rebuilding from the path", "err", err)
		storeDown, found = true, false
	}
	for attempt := 1; ; attempt++ {
		out, save := s.route(ctx, log, h, snap, found)
		if !save || storeDown || out.Tree == "" {
			return replyOf(out)
		}
		_, err := s.Store.Save(ctx, h.Channel, h.Carrier+":"+h.Session, rev, out, s.TTL)
		if err == nil {
			return replyOf(out)
		}
		var l latest
		if !errors.Is(err, menus.ErrConflict) || !errors.As(err, &l) {
			log.Error("session save failed; answering anyway", "err", err)
			return replyOf(out)
		}
		if attempt == maxAttempts {
			log.Warn("session kept changing under this hop", "attempts", attempt)
			return Reply{Text: menus.Message(menus.MsgBusy, out.Lang), End: true}
		}
		snap, rev, found = l.Latest()
	}
}

// outcome is the snapshot a hop leads to; a snapshot with no tree is a
// gateway message rather than a menu screen.
type outcome = menus.Snapshot

func replyOf(o outcome) Reply { return Reply{Text: o.Screen, End: o.Ended} }

func message(key, lang string) outcome {
	return menus.Snapshot{Screen: menus.Message(key, lang), Ended: true, Lang: lang}
}

// route turns an incremental carrier's hop into the cumulative form the
// rest of the dialog works on, answering repeats from the stored screen.
func (s *Service) route(ctx context.Context, log *slog.Logger, h Hop, snap menus.Snapshot, found bool) (outcome, bool) {
	if h.Release {
		if found {
			snap.Ended = true
			return snap, true
		}
		return message(menus.MsgSessionError, ""), false
	}
	if !h.Incremental {
		return s.advance(ctx, log, h, snap, found)
	}
	switch {
	case found && snap.Caller.Phone != h.Phone:
		return s.advance(ctx, log, h, snap, found) // refused there
	case found && h.Seq <= snap.Seq:
		// A repeat, or an older hop arriving late: the stored screen,
		// nothing applied twice.
		return snap, false
	case found:
		h.Path = snap.Path
		if h.Path != "" {
			h.Path += Sep
		}
		h.Path += h.Input
	case !h.New:
		// Only the latest input arrived and the session is gone: it cannot
		// be rebuilt, so the caller must dial again.
		log.Warn("incremental session lost; asking the caller to dial again", "seq", h.Seq)
		return message(menus.MsgSessionError, ""), false
	}
	out, save := s.advance(ctx, log, h, snap, found)
	if out.Tree != "" {
		out.Seq = h.Seq
	}
	return out, save
}

// advance computes where a hop leads and whether the result is stored.
func (s *Service) advance(ctx context.Context, log *slog.Logger, h Hop, snap menus.Snapshot, found bool) (outcome, bool) {
	if found {
		if snap.Caller.Phone != h.Phone {
			// A session id is bound to the phone that opened it.
			log.Warn("session id reused by another phone")
			return message(menus.MsgSessionError, ""), false
		}
		if h.Path == snap.Path {
			return snap, false // a carrier retry: same screen, nothing applied twice
		}
		m, err := s.Menus.Version(ctx, snap.Tree, snap.Version)
		if err != nil {
			log.Error("pinned tree unavailable", "tree", snap.Tree, "version", snap.Version, "err", err)
			return message(menus.MsgBusy, snap.Lang), false
		}
		switch {
		case snap.Path == "" || strings.HasPrefix(h.Path, snap.Path+Sep):
			rest := h.Path
			if snap.Path != "" {
				rest = h.Path[len(snap.Path)+len(Sep):]
			}
			return s.feed(ctx, log, m, h, snap, rest), true
		case h.Path == "" || strings.HasPrefix(snap.Path, h.Path+Sep):
			// An older hop arriving late: answer it as it was answered,
			// by replaying its path, and never rewind the session.
			return s.feed(ctx, log, m, h, m.Start(snap.Caller, snap.Started, h.Budget), h.Path), false
		default:
			// The carrier's path disagrees with ours; the path is the
			// carrier's record of what the caller typed, so it wins.
			log.Warn("path diverged from the session; replaying it")
			return s.feed(ctx, log, m, h, m.Start(snap.Caller, snap.Started, h.Budget), h.Path), true
		}
	}
	m, ok := s.Menus.ForService(h.Service)
	if !ok {
		log.Warn("unknown service code", "service", h.Service)
		return message(menus.MsgUnknownService, ""), false
	}
	caller, err := s.Registry.CallerByPhone(ctx, h.Phone)
	switch {
	case errors.Is(err, menus.ErrNotFound):
		log.Info("unregistered caller")
		return message(menus.MsgUnknownCaller, ""), false
	case err != nil:
		log.Error("registry lookup failed", "err", err)
		return message(menus.MsgBusy, ""), false
	}
	return s.feed(ctx, log, m, h, m.Start(caller, s.now(), h.Budget), h.Path), true
}

// feed steps the machine through the inputs in path, saving any report the
// walk confirms, and records path as consumed.
func (s *Service) feed(ctx context.Context, log *slog.Logger, m *menus.Machine, h Hop, snap menus.Snapshot, path string) menus.Snapshot {
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
		if m.TakesText(snap) {
			// Free text may hold the separator itself.
			in, i = strings.Join(inputs[i:], Sep), len(inputs)
		}
		next, report, err := m.Step(snap, in, s.now())
		if err != nil {
			log.Error("menu step failed", "err", err)
			return message(menus.MsgSessionError, snap.Lang)
		}
		if report != nil {
			next = s.save(ctx, log, m, h, snap, next, report)
		}
		snap = next
	}
	snap.Path = consumed
	return snap
}

func (s *Service) save(ctx context.Context, log *slog.Logger, m *menus.Machine, h Hop, before, after menus.Snapshot, r *menus.Report) menus.Snapshot {
	r.SessionKey = h.Channel + ":" + h.Carrier + ":" + h.Session
	r.Channel = h.Channel
	r.Carrier = h.Carrier
	ref, err := s.Reports.SaveReport(ctx, *r)
	if err != nil {
		log.Error("report not saved; caller asked to retry", "kind", r.Kind, "err", err)
		return m.Failed(before)
	}
	log.Info("report saved", "kind", r.Kind, "ref", ref, "tree", r.Tree, "version", r.Version)
	return m.Saved(after, ref)
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
