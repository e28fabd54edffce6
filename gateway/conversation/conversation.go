// Package conversation owns conversations, whichever way they come in: a
// USSD session, a menu run as an SMS conversation, or a one-line SMS form.
// It decides which conversation an inbound event belongs to, builds every
// identity a conversation has (its session, its report key, its cache
// key), runs the menu engine on it, and applies the effects the engine
// declares (save this report, alert these supervisors, remember this
// language) in one place after each step.
//
// Carrier adapters hand it a normalised event (a Hop, or an inbound
// sms.Message) and render what it returns; everything a retry, a
// duplicate, a reordering or a lost Redis key can do to a conversation is
// handled here, once.
package conversation

import (
	"context"
	"log/slog"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// Sessions keeps session snapshots and each phone's resumable walk
// (sessions.Store implements it). Save must fail with an error matching
// menus.ErrConflict, and change nothing, when the revision moved.
type Sessions interface {
	LoadWithResume(ctx context.Context, channel, id, phone string) (menus.Snapshot, int64, bool, *menus.Snapshot, error)
	Save(ctx context.Context, channel, id, phone string, expected int64, snap menus.Snapshot, ttl time.Duration, resume menus.ResumeAction) (int64, error)
	Delete(ctx context.Context, channel, id string) error
}

// latest is implemented by conflict errors that carry the winner's state.
type latest interface {
	Latest() (menus.Snapshot, int64, bool)
}

// Registry finds who is calling or texting (storage.DB implements it). An
// unknown phone is an error matching menus.ErrNotFound.
type Registry interface {
	CallerByPhone(ctx context.Context, phone string) (menus.Caller, error)
	GuardianByPhone(ctx context.Context, phone string) (menus.Caller, error)
	// SetLanguage remembers the language a caller chose for their phone.
	SetLanguage(ctx context.Context, phone, lang string) error
	CheckStatusSecret(ctx context.Context, phone, code, secret string) (bool, error)
}

// Reports stores reports (storage.DB implements it).
type Reports interface {
	// FileReport saves r once per r.SessionKey and says whether this call
	// created it; a retry gets the first reference. A child that is not
	// the director's (any more) is an error matching menus.ErrNotFound; a
	// key already holding another report is a *menus.SavedError.
	FileReport(ctx context.Context, r menus.Report) (ref string, created bool, err error)
	// RefByKey returns the reference saved under a report key, if any.
	RefByKey(ctx context.Context, key string) (string, bool, error)
}

// Needs reads and changes the needs of a director's children
// (storage.DB implements it).
type Needs interface {
	// OpenNeeds returns the director's children's needs not yet resolved,
	// marking those whose follow-up is due by now.
	OpenNeeds(ctx context.Context, directorID int64, now time.Time) ([]menus.NeedBrief, error)
	// SetNeedStatusFromField marks a need of the director's child
	// referred or resolved; any other need is an error matching
	// menus.ErrNotFound.
	SetNeedStatusFromField(ctx context.Context, directorID int64, ref, status, channel string, now time.Time) error
}

// Spool keeps a report durable on local disk while Postgres cannot take
// it (spool.Spool implements it), and returns its reference.
type Spool interface {
	Put(r menus.Report) (string, error)
}

// Messages records SMS (storage.DB implements it).
type Messages interface {
	RecordInbound(ctx context.Context, m sms.Message) (int64, *sms.Message, error)
	Answer(ctx context.Context, inboundID int64, reply sms.Message) (sms.Message, error)
	// MarkAnswered records that a message was processed and answered
	// with nothing.
	MarkAnswered(ctx context.Context, inboundID int64) error
	// ForgetMessage empties an answered message of its text and number.
	ForgetMessage(ctx context.Context, inboundID int64) error
}

// Cases takes acknowledgements of cases by SMS (storage.DB implements it).
type Cases interface {
	// AcknowledgeCaseBySMS acknowledges the case with code for the
	// supervisor with phone; a code no case has and a phone not entitled
	// to it are the same refusal.
	AcknowledgeCaseBySMS(ctx context.Context, phone, code string, now time.Time) (cases.Ack, error)
	// SupervisorLanguage is the language of the active supervisor with
	// phone, and false when the phone is no supervisor's.
	SupervisorLanguage(ctx context.Context, phone string) (string, bool, error)
}

// Limiter counts replies against a limit (sessions.Limiter implements it).
type Limiter interface {
	Allow(ctx context.Context, key string) (bool, error)
}

// Menus finds compiled trees (menus.Catalog implements it): by USSD
// service code, by SMS keyword, by the form an SMS fills, or a session's
// pinned version.
type Menus interface {
	ForService(code string) (*menus.Machine, bool)
	ForKeyword(word string) (*menus.Machine, bool)
	MatchForm(words []string) (*menus.Machine, menus.Form, []string, bool)
	Version(ctx context.Context, name string, version int) (*menus.Machine, error)
}

// Service runs conversations.
type Service struct {
	Sessions Sessions
	Registry Registry
	Reports  Reports
	// Needs lists a director's follow-ups and takes their status changes;
	// nil leaves trees that use them without (nothing listed, nothing
	// changed).
	Needs Needs
	// Spool takes a confirmed report when Postgres cannot in time; nil
	// asks the caller to try again instead.
	Spool Spool
	// ReportBudget bounds a report's save in Postgres before it goes to
	// the spool (2 s when zero; never more than half the hop's time left).
	ReportBudget time.Duration
	Messages     Messages
	Menus        Menus
	// Cases takes supervisors' "OK <code>"; nil reads them as any other
	// message.
	Cases Cases
	// USSDTTL and SMSTTL are how long an idle USSD session and an idle
	// SMS menu conversation are kept.
	USSDTTL, SMSTTL time.Duration
	// Registered and Strangers bound the SMS replies one phone gets:
	// registered directors and guardians generously, unknown numbers
	// strictly. Budget, when set, bounds the replies of the whole
	// deployment (its key is "all"), a breaker against SMS pumping across
	// many numbers. Limits hold back replies only: every message is
	// processed and every report saved.
	Registered, Strangers, Budget Limiter
	// RequireSecret makes STATUS answer only "STATUS <child code>
	// <secret>" from the child's guardian.
	RequireSecret bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
	// Metrics counts and times hops, and counts lifecycle transitions,
	// walks' outcomes, reports, replies and store failures; nil counts
	// nothing.
	Metrics *Metrics
	// Cache saves the load of a mid-session hop; nil loads every time.
	Cache *Cache
	// Profiles are how each carrier counts an SMS, its provider's
	// signature included: STATUS replies are cut and SMS menu screens
	// paged to fit them. Carriers not named count the standard way.
	Profiles map[string]textlen.Profile
	// StoreBudget bounds each call to the session store (300 ms when
	// zero): a Redis that hangs costs a hop that much, and the hop goes on
	// from what the process holds or the carrier's path.
	StoreBudget time.Duration
}

// defaultStoreBudget leaves a 5 s hop room for two store calls, a save in
// Postgres and the spool.
const defaultStoreBudget = 300 * time.Millisecond

// storeCtx bounds one session store call.
func (s *Service) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.StoreBudget
	if d == 0 {
		d = defaultStoreBudget
	}
	return context.WithTimeout(ctx, d)
}

// Hop is one USSD callback, in the gateway's own terms.
type Hop struct {
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
