// Package sender works through the outbox: it claims due outbound SMS,
// hands each to its carrier's send client, and records the outcome, so that
// replies and alerts leave the gateway at least once and, thanks to the
// outbox's dedupe keys and leases, almost always exactly once.
//
// Carrier clients live in the carrier packages (gateway/africastalking,
// gateway/twilio, gateway/kannel); they classify their failures with this
// package's Error, which decides between retrying with backoff and giving
// up.
package sender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/prometheus/client_golang/prometheus"
)

// Outbox is what a sender needs of the store; *storage.DB implements it.
// Marks apply only to a message still in sending and otherwise return an
// error wrapping menus.ErrConflict.
type Outbox interface {
	ClaimDue(ctx context.Context, limit int, lease time.Duration) ([]sms.Message, error)
	MarkSent(ctx context.Context, id int64, carrierID string) error
	MarkRetry(ctx context.Context, id int64, reason string, at time.Time) error
	MarkFailed(ctx context.Context, id int64, reason string) error
	// MarkHeld puts a claimed message back without counting the attempt.
	MarkHeld(ctx context.Context, id int64, reason string, at time.Time) error
}

// Approvals says which templates a provider approved (storage.DB
// implements it).
type Approvals interface {
	ApprovedTemplate(ctx context.Context, carrier, template, lang string) (providerID string, ok bool, err error)
}

// DayCounter counts what was sent to a number (storage.DB implements it).
type DayCounter interface {
	SentSince(ctx context.Context, carrier, phone string, since time.Time) (int, error)
}

// chinaDay is the calendar providers in mainland China count their daily
// caps by (UTC+8, no daylight saving).
var chinaDay = time.FixedZone("UTC+8", 8*60*60)

// dayStart is the start of t's calendar day in China, and of the next.
func dayStart(t time.Time) (today, tomorrow time.Time) {
	c := t.In(chinaDay)
	today = time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, chinaDay)
	return today, today.AddDate(0, 0, 1)
}

// HoldFor is how long a message waits for its template's approval before
// it is looked at again; recording an approval wakes it at once.
const HoldFor = 15 * time.Minute

// ElsewhereDelay is how soon a message that only another process can send
// (see Error.Elsewhere) is claimable again.
const ElsewhereDelay = 2 * time.Second

// Confirmer is implemented by outboxes that can send again the alerts no
// carrier confirmed delivered (storage.DB does).
type Confirmer interface {
	ResendUnconfirmedAlerts(ctx context.Context, after time.Duration, resends int) (resent, gaveUp int, err error)
}

// Defaults for alerts whose delivery is not confirmed: sent again after
// half an hour without a delivery report, twice, then flagged.
const (
	DefaultConfirmWithin = 30 * time.Minute
	DefaultAlertResends  = 2
)

// Client sends one SMS through a carrier and returns the carrier's id for
// it. Failures should be *Error; anything else counts as retryable.
type Client interface {
	Send(ctx context.Context, m sms.Message) (carrierID string, err error)
}

// ClientFunc adapts a function to Client.
type ClientFunc func(ctx context.Context, m sms.Message) (string, error)

// Send calls f.
func (f ClientFunc) Send(ctx context.Context, m sms.Message) (string, error) { return f(ctx, m) }

// Defaults for a zero Sender field.
const (
	DefaultBatch       = 20
	DefaultWorkers     = 4
	DefaultLease       = 5 * time.Minute
	DefaultSendTimeout = 30 * time.Second
	DefaultPoll        = 2 * time.Second
	DefaultMaxAttempts = 8
)

// markTimeout bounds recording one outcome. Marks run on a context that a
// stop does not cancel: the carrier has already answered, and losing its
// answer means sending again.
const markTimeout = 10 * time.Second

// Sender drains the outbox. Several senders, in one process or many, may
// share a database: each claims its own batch.
type Sender struct {
	DB Outbox
	// Carriers are the send clients by carrier name (menus.SMS.Carrier).
	// A message for a carrier with no client fails.
	Carriers map[string]Client
	// TemplatesOnly names the carriers that send only templates their
	// provider approved: a message goes to one with its template's
	// approved id, or waits, visibly, until the template is approved.
	TemplatesOnly map[string]bool
	// Approvals finds approved templates; required with TemplatesOnly.
	Approvals Approvals
	// DailyCaps are the carriers' per-number daily caps (gateway.Carrier
	// DailyCap): a message past its number's cap waits, saying so, until
	// the next calendar day in China, when the provider counts afresh.
	// DB must then be a DayCounter.
	DailyCaps map[string]int
	// Batch is how many messages one pass claims.
	Batch int
	// Workers is how many messages of a batch are sent at once.
	Workers int
	// Lease is how long a claimed message stays this sender's; past it,
	// another sender may claim it again. It must exceed the time a batch
	// takes, ceil(Batch/Workers) × SendTimeout, which the defaults do
	// twice over; a message whose turn comes too late in its lease is
	// left for the next claim rather than risk being sent twice.
	Lease time.Duration
	// SendTimeout bounds one send, whatever the client's own timeout; it
	// is cut to half the Lease if longer.
	SendTimeout time.Duration
	// Poll is the pause between passes that found less than a batch.
	Poll time.Duration
	// MaxAttempts is how many attempts a message gets; a retryable failure
	// of the last one fails it.
	MaxAttempts int
	// Backoff is the delay before attempt n+1 after attempt n failed;
	// DefaultBackoff when nil.
	Backoff func(attempt int) time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log receives one line per outcome, with masked numbers and never a
	// body; slog.Default when nil.
	Log *slog.Logger
	// Metrics, when set, counts outcomes.
	Metrics *Metrics
	// ConfirmWithin is how long an alert may go without a delivery report
	// before it is sent again, AlertResends times at most (the defaults
	// when zero); only when DB is a Confirmer.
	ConfirmWithin time.Duration
	AlertResends  int
}

// DefaultBackoff waits 30 s after the first attempt and doubles each time,
// up to 30 minutes, less up to a fifth at random so that messages that
// failed together (a carrier outage) do not all come back together.
func DefaultBackoff(attempt int) time.Duration {
	const base, ceiling = 30 * time.Second, 30 * time.Minute
	d := ceiling
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 7 { // 30 s × 2^6 = 32 min is past the ceiling already
		d = min(base<<(attempt-1), ceiling)
	}
	return d - rand.N(d/5+1)
}

// Metrics are a sender's Prometheus counters.
type Metrics struct {
	Sends       *prometheus.CounterVec
	Duration    *prometheus.HistogramVec
	Unconfirmed *prometheus.CounterVec
}

// NewMetrics registers a sender's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_sms_sends_total", Help: "Outbound SMS send attempts, by carrier and outcome (sent, retry, failed).",
		}, []string{"carrier", "outcome"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "barefoot_sms_send_seconds", Help: "Time carriers' send APIs took to answer.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10),
		}, []string{"carrier"}),
		Unconfirmed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_alerts_unconfirmed_total", Help: "Alerts without a delivery report in time: sent again, or, past their resends, never confirmed.",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.Sends, m.Duration, m.Unconfirmed)
	return m
}

// Outcomes, for logs and metrics.
const (
	outcomeSent   = "sent"
	outcomeRetry  = "retry"
	outcomeFailed = "failed"
	outcomeHeld   = "held"
)

func (s *Sender) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return DefaultBatch
}

func (s *Sender) workers() int {
	if s.Workers > 0 {
		return s.Workers
	}
	return DefaultWorkers
}

func (s *Sender) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

// sendTimeout is SendTimeout, but at most half the lease, so that at least
// the first sends of a batch fit in it whatever the configuration.
func (s *Sender) sendTimeout() time.Duration {
	d := DefaultSendTimeout
	if s.SendTimeout > 0 {
		d = s.SendTimeout
	}
	return min(d, s.lease()/2)
}

func (s *Sender) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (s *Sender) backoff(attempt int) time.Duration {
	if s.Backoff != nil {
		return s.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Run sends due messages until ctx is done, pausing Poll between passes
// that found less than a full batch. A stop lets the batch in hand finish,
// sends and marks included, so that nothing the carrier accepted is left
// looking unsent; its length is bounded by Lease. Run returns nil once
// stopped; failed passes (the database is down) are logged and retried.
func (s *Sender) Run(ctx context.Context) error {
	if s.DB == nil {
		return errors.New("sender: no outbox")
	}
	poll := s.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		s.confirm(ctx)
		n, err := s.SendDue(context.WithoutCancel(ctx))
		if err != nil {
			s.log().Error("sms send pass", "err", err)
		}
		if n >= s.batch() && err == nil {
			timer.Reset(0) // more may be due
		} else {
			timer.Reset(poll)
		}
	}
}

// confirm queues again the alerts whose delivery was never confirmed, and
// says so: an urgent alert that may not have arrived must not be silent.
func (s *Sender) confirm(ctx context.Context) {
	c, ok := s.DB.(Confirmer)
	if !ok {
		return
	}
	within, resends := s.ConfirmWithin, s.AlertResends
	if within <= 0 {
		within = DefaultConfirmWithin
	}
	if resends <= 0 {
		resends = DefaultAlertResends
	}
	resent, gaveUp, err := c.ResendUnconfirmedAlerts(ctx, within, resends)
	switch {
	case err != nil:
		s.log().Error("unconfirmed alerts not checked", "err", err)
	case resent > 0 || gaveUp > 0:
		s.log().Warn("alerts without a delivery report", "sent_again", resent, "never_confirmed", gaveUp, "within", within.String())
		if s.Metrics != nil {
			s.Metrics.Unconfirmed.WithLabelValues("sent_again").Add(float64(resent))
			s.Metrics.Unconfirmed.WithLabelValues("never_confirmed").Add(float64(gaveUp))
		}
	}
}

// SendDue makes one pass: it claims up to Batch due messages, sends them,
// Workers at a time, and records each outcome. It returns how many it
// claimed. The error reports a failed claim or outcomes that could not be
// recorded (those messages are sent again once their lease expires); a
// failed send is not an error of the pass.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	msgs, err := s.DB.ClaimDue(ctx, s.batch(), s.lease())
	if err != nil {
		return 0, fmt.Errorf("sender: claim: %w", err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	// The last moment a send may start and still end within the lease.
	latest := s.now().Add(s.lease() - s.sendTimeout())

	var (
		mu   sync.Mutex
		errs []error
		next = make(chan sms.Message)
		wg   sync.WaitGroup
	)
	for range min(s.workers(), len(msgs)) {
		wg.Go(func() {
			for m := range next {
				if err := s.handle(ctx, m, latest); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
	return len(msgs), errors.Join(errs...)
}

// handle sends one claimed message and records the outcome. It returns an
// error only when the outcome could not be recorded.
func (s *Sender) handle(ctx context.Context, m sms.Message, latest time.Time) error {
	log := s.log().With("sms", m.ID, "carrier", m.Carrier, "phone", phone.Masked(m.Phone), "attempt", m.Attempts, "kind", m.Kind)

	if m.Attempts > s.maxAttempts() {
		// Earlier claims ran out their leases without an outcome: senders
		// died or hung on this message. Stop before it takes more down.
		return s.fail(ctx, log, m, fmt.Sprintf("gave up after %d attempts without an outcome", m.Attempts-1))
	}
	client, ok := s.Carriers[m.Carrier]
	if !ok || client == nil {
		return s.fail(ctx, log, m, fmt.Sprintf("no send client configured for carrier %q", m.Carrier))
	}
	if s.now().After(latest) {
		// Too late in the lease: another sender may claim it while this one
		// is still sending. Leave it to the next claim.
		log.Warn("sms left for the next claim: the batch outran its lease; raise Lease or lower Batch")
		return nil
	}
	if limit := s.DailyCaps[m.Carrier]; limit > 0 {
		if counter, ok := s.DB.(DayCounter); ok {
			today, tomorrow := dayStart(s.now())
			n, err := counter.SentSince(ctx, m.Carrier, m.Phone, today)
			if err != nil {
				return fmt.Errorf("daily cap of message %d: %w", m.ID, err)
			}
			if n >= limit {
				why := fmt.Sprintf("daily cap: %d messages to this number through %s today", limit, m.Carrier)
				s.count(m, outcomeHeld)
				log.Warn("sms held: the number's daily cap is reached", "reason", why, "retry_at", tomorrow)
				return s.mark(ctx, log, m, func(ctx context.Context) error { return s.DB.MarkHeld(ctx, m.ID, why, tomorrow) })
			}
		}
	}
	if s.TemplatesOnly[m.Carrier] {
		held, err := s.approve(ctx, &m)
		if err != nil {
			return err
		}
		if held != "" {
			at := s.now().Add(HoldFor)
			s.count(m, outcomeHeld)
			log.Warn("sms held: its template is not approved", "reason", held, "retry_at", at)
			return s.mark(ctx, log, m, func(ctx context.Context) error { return s.DB.MarkHeld(ctx, m.ID, held, at) })
		}
	}

	sctx, cancel := context.WithTimeout(ctx, s.sendTimeout())
	start := time.Now()
	carrierID, err := client.Send(sctx, m)
	cancel()
	if s.Metrics != nil {
		s.Metrics.Duration.WithLabelValues(m.Carrier).Observe(time.Since(start).Seconds())
	}

	if err == nil {
		s.count(m, outcomeSent)
		log.Info("sms sent")
		return s.mark(ctx, log, m, func(ctx context.Context) error { return s.DB.MarkSent(ctx, m.ID, carrierID) })
	}
	why := reasonOf(err)
	if e, ok := errors.AsType[*Error](err); ok && e.Elsewhere {
		// Not this process's to send: back in the queue for whichever
		// sender claims it next, without counting the attempt.
		at := s.now().Add(ElsewhereDelay)
		s.count(m, outcomeHeld)
		log.Debug("sms left to the process that can send it", "reason", why)
		return s.mark(ctx, log, m, func(ctx context.Context) error { return s.DB.MarkHeld(ctx, m.ID, why, at) })
	}
	switch {
	case Final(err):
		return s.fail(ctx, log, m, why)
	case m.Attempts >= s.maxAttempts():
		return s.fail(ctx, log, m, fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, why))
	}
	at := s.now().Add(s.backoff(m.Attempts))
	s.count(m, outcomeRetry)
	log.Warn("sms send failed, will retry", "reason", why, "retry_at", at)
	return s.mark(ctx, log, m, func(ctx context.Context) error { return s.DB.MarkRetry(ctx, m.ID, why, at) })
}

// approve sets m's approved template id for a carrier that sends only
// templates, or says why m must wait.
func (s *Sender) approve(ctx context.Context, m *sms.Message) (held string, err error) {
	if m.Template == "" {
		return fmt.Sprintf("free text: %s sends only approved templates", m.Carrier), nil
	}
	if s.Approvals == nil {
		return fmt.Sprintf("no template approvals are configured for %s", m.Carrier), nil
	}
	id, ok, err := s.Approvals.ApprovedTemplate(ctx, m.Carrier, m.Template, m.Lang)
	if err != nil {
		// The store will be back: the message stays claimed until its
		// lease runs out, and is claimed again then.
		return "", fmt.Errorf("template approval of message %d: %w", m.ID, err)
	}
	if !ok {
		return fmt.Sprintf("template %s (%s) is not approved at %s", m.Template, m.Lang, m.Carrier), nil
	}
	m.TemplateID = id
	return "", nil
}

func (s *Sender) fail(ctx context.Context, log *slog.Logger, m sms.Message, why string) error {
	s.count(m, outcomeFailed)
	log.Warn("sms failed", "reason", why)
	return s.mark(ctx, log, m, func(ctx context.Context) error { return s.DB.MarkFailed(ctx, m.ID, why) })
}

// mark records an outcome on a context a stop does not cancel. A conflict
// means the message was settled by someone else, typically a sender that
// claimed it after this one's lease ran out; it is logged, not returned.
func (s *Sender) mark(ctx context.Context, log *slog.Logger, m sms.Message, fn func(context.Context) error) error {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	err := fn(mctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, menus.ErrConflict):
		log.Warn("sms outcome not recorded: the message was settled elsewhere", "err", err)
		return nil
	default:
		log.Error("sms outcome not recorded; it will be sent again after its lease", "err", err)
		return fmt.Errorf("sender: sms %d: %w", m.ID, err)
	}
}

func (s *Sender) count(m sms.Message, outcome string) {
	if s.Metrics == nil {
		return
	}
	carrier := m.Carrier
	if _, ok := s.Carriers[carrier]; !ok {
		carrier = "unconfigured" // keeps label values to the configured set
	}
	s.Metrics.Sends.WithLabelValues(carrier, outcome).Inc()
}

// reasonOf is the storable reason of a failed send. An *Error's reason is
// the client's word; anything else is a client that did not classify its
// error, whose text is cut down and masked, and stripped of a URL, which
// may hold the number, the text and credentials.
func reasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return Snippet(err.Error())
}
