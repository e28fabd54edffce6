package conversation

import (
	"errors"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the conversation layer's Prometheus metrics.
type Metrics struct {
	Hops        *prometheus.CounterVec
	Transitions *prometheus.CounterVec
	Reports     *prometheus.CounterVec
	Suppressed  *prometheus.CounterVec
	// HopSeconds and NodeSeconds time each hop answered, store calls
	// included: by where it came from, and by where it led.
	HopSeconds  *prometheus.HistogramVec
	NodeSeconds *prometheus.HistogramVec
	Sessions    *prometheus.CounterVec
	Abandoned   *prometheus.CounterVec
	StoreErrors *prometheus.CounterVec
}

// hopBuckets span a hop's life: a retry answered from memory takes well
// under a millisecond, a step with one Redis round trip a few, a report's
// save tens, and a hop that waits out a store's budget (300 ms each, a
// report's 2 s) or the carrier's whole 5 s falls in the last ones.
var hopBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// none labels a hop answered before any tree was chosen (an unknown
// caller or service code, a broken session, a busy store), and a lifecycle
// transition from no phase.
const none = "none"

// Outcomes of a walk, for the sessions counter.
const (
	sessionStarted   = "started"
	sessionCompleted = "completed"
	sessionAbandoned = "abandoned"
	sessionResumed   = "resumed"
)

// How the gateway learnt that a walk was abandoned.
const (
	abandonReleased  = "released"
	abandonTimedOut  = "timed_out"
	abandonCancelled = "cancelled"
)

// The stores a hop or an SMS depends on, and what was asked of them, for
// the store error counter: a small fixed set, each series present (at
// zero) from the start.
const (
	storeRedis    = "redis"
	storePostgres = "postgres"
	storeSpool    = "spool"
)

var storeOps = map[string][]string{
	storeRedis:    {"load", "save", "delete", "limit"},
	storePostgres: {"registry", "report", "needs", "tree", "message", "case"},
	storeSpool:    {"put"},
}

// NewMetrics registers the conversation layer's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Hops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_hops_total", Help: "Menu hops answered, by channel, carrier and how they were handled.",
		}, []string{"channel", "carrier", "kind"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_session_transitions_total", Help: "Session lifecycle transitions.",
		}, []string{"channel", "from", "to"}),
		Reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_reports_total",
			Help: "Reports confirmed by callers, by kind, channel and outcome: saved (new), replayed (a retry given the first reference), failed (to be retried), refused (for good), spooled (kept on disk until Postgres takes it).",
		}, []string{"kind", "channel", "outcome"}),
		Suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_sms_replies_suppressed_total",
			Help: "SMS processed but not answered, by reason: the sender's limit, the deployment's daily budget, or the limiter being unreachable.",
		}, []string{"sender", "reason"}),
		HopSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "barefoot_hop_seconds",
			Help:    "Time to answer a menu hop (a USSD callback, or an SMS fed to a menu conversation) in the conversation layer, its session store and Postgres calls included, by channel and carrier. Counts the hops barefoot_hops_total counts.",
			Buckets: hopBuckets,
		}, []string{"channel", "carrier"}),
		NodeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "barefoot_node_hop_seconds",
			Help:    "Time to answer a menu hop, by the tree and node it answered with (_resume for the offer to continue an unfinished walk; tree and node \"none\" for a hop refused before any tree: an unknown caller or service code, a broken session, a busy store). Nodes are those of the trees published.",
			Buckets: hopBuckets,
		}, []string{"tree", "node"}),
		Sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_sessions_total",
			Help: "Menu walks by channel and outcome: started (a USSD session or SMS conversation opened on a tree), completed (the walk reached an end of its tree: a report saved or refused, or an information screen), abandoned (each time the gateway learns a walk was left unfinished, as barefoot_sessions_abandoned_total counts), resumed (an unfinished walk continued from the offer on a later dial). A session that expires unnoticed, with no answers given or never dialled again, is neither completed nor abandoned.",
		}, []string{"channel", "outcome"}),
		Abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_sessions_abandoned_total",
			Help: "Walks left unfinished, by tree, the node the caller was at, and how the gateway learnt it: released (the carrier ended the session before the walk's end), timed_out (the caller dialled again and was offered an unfinished walk with answers; counted on every dial that offers it, a released one included), cancelled (the caller cancelled a confirm, went Home with answers given, or sent MENU or STOP during an SMS conversation).",
		}, []string{"tree", "node", "reason"}),
		StoreErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "barefoot_store_errors_total",
			Help: "Failed calls of hops and inbound SMS to their stores, each also logged, by store and operation: redis load, save, delete (sessions) and limit (SMS reply limits); postgres registry (callers, languages, secrets), report (saving one, or finding a saved one), needs, tree (a pinned tree version), message (recording SMS) and case (acknowledgements); spool put (a report neither saved nor spooled).",
		}, []string{"store", "op"}),
	}
	for store, ops := range storeOps {
		for _, op := range ops {
			m.StoreErrors.WithLabelValues(store, op)
		}
	}
	for _, ch := range []string{menus.ChannelUSSD, menus.ChannelSMS} {
		for _, o := range []string{sessionStarted, sessionCompleted, sessionAbandoned, sessionResumed} {
			m.Sessions.WithLabelValues(ch, o)
		}
	}
	reg.MustRegister(m.Hops, m.Transitions, m.Reports, m.Suppressed, m.HopSeconds, m.NodeSeconds, m.Sessions, m.Abandoned, m.StoreErrors)
	return m
}

// abandonment is a walk left unfinished: where, and how it became known.
type abandonment struct {
	tree, node, reason string
}

// observe logs and counts what an answered hop did: its kind and time, the
// lifecycle transitions it made, the walks it started, finished, resumed
// or found abandoned, and the reports it filed. A hop whose write lost a
// race is not observed; the retry that wins is, timed from the start.
func (s *Service) observe(hs *hop, e event, t turn, began time.Time) {
	if m := s.Metrics; m != nil {
		took := time.Since(began).Seconds()
		m.Hops.WithLabelValues(e.conv.channel, e.carrier, t.kind).Inc()
		m.HopSeconds.WithLabelValues(e.conv.channel, e.carrier).Observe(took)
		tree, node := t.out.Tree, t.out.Node
		if tree == "" {
			tree, node = none, none
		}
		m.NodeSeconds.WithLabelValues(tree, node).Observe(took)
	}
	for _, r := range hs.reports {
		s.countReport(r.kind, e.conv.channel, r.outcome)
	}
	if !t.save {
		return // a repeat, a late hop replayed, or a refusal: nothing changed
	}
	if t.kind == hopNew {
		s.countSession(e.conv.channel, sessionStarted)
	}
	if t.timedOut != nil {
		s.transition(hs.log, e, t.timedOut.Phase, menus.PhaseTimedOut)
		s.countAbandoned(e.conv.channel, abandonment{t.timedOut.Tree, t.timedOut.Node, abandonTimedOut})
	}
	for _, tr := range hs.transitions {
		s.transition(hs.log, e, tr[0], tr[1])
		switch tr[1] {
		case menus.PhaseEnded:
			s.countSession(e.conv.channel, sessionCompleted)
		case menus.PhaseResumed:
			s.countSession(e.conv.channel, sessionResumed)
		}
	}
	for _, a := range hs.abandoned {
		s.countAbandoned(e.conv.channel, a)
	}
}

func (s *Service) countSession(channel, outcome string) {
	if s.Metrics != nil {
		s.Metrics.Sessions.WithLabelValues(channel, outcome).Inc()
	}
}

func (s *Service) countAbandoned(channel string, a abandonment) {
	if s.Metrics != nil {
		s.Metrics.Abandoned.WithLabelValues(a.tree, a.node, a.reason).Inc()
		s.Metrics.Sessions.WithLabelValues(channel, sessionAbandoned).Inc()
	}
}

// storeFailed counts a failed store call; the caller logs it.
func (s *Service) storeFailed(store, op string) {
	if s.Metrics != nil {
		s.Metrics.StoreErrors.WithLabelValues(store, op).Inc()
	}
}

func (s *Service) countReport(kind menus.ReportKind, channel, outcome string) {
	if s.Metrics != nil {
		s.Metrics.Reports.WithLabelValues(string(kind), channel, outcome).Inc()
	}
}

// treeFailed counts a pinned tree version that could not be loaded,
// unless the version is simply not there.
func (s *Service) treeFailed(err error) {
	if !errors.Is(err, menus.ErrNotFound) {
		s.storeFailed(storePostgres, "tree")
	}
}
