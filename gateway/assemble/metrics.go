package assemble

import (
	"context"
	"database/sql"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// The stores' own state, read when /metrics is scraped: the Postgres and
// Redis connection pools, and the outbox of SMS waiting to be sent.

// dbStats reports the Postgres pool as client_golang's DBStatsCollector
// does, under its names (go_sql_*), so that the usual dashboards read it;
// storage keeps its *sql.DB to itself and gives only its statistics.
type dbStats struct {
	stats                                           func() sql.DBStats
	maxOpen, open, inUse, idle                      *prometheus.Desc
	waits, waited, idleClosed, idleTimeClosed, aged *prometheus.Desc
}

func newDBStats(stats func() sql.DBStats, name string) *dbStats {
	desc := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc("go_sql_"+n, help, nil, prometheus.Labels{"db_name": name})
	}
	return &dbStats{
		stats:          stats,
		maxOpen:        desc("max_open_connections", "Maximum number of open connections to the database."),
		open:           desc("open_connections", "The number of established connections both in use and idle."),
		inUse:          desc("in_use_connections", "The number of connections currently in use."),
		idle:           desc("idle_connections", "The number of idle connections."),
		waits:          desc("wait_count_total", "The total number of connections waited for."),
		waited:         desc("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		idleClosed:     desc("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
		idleTimeClosed: desc("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
		aged:           desc("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
	}
}

func (c *dbStats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waits, c.waited, c.idleClosed, c.idleTimeClosed, c.aged} {
		ch <- d
	}
}

func (c *dbStats) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(s.MaxOpenConnections))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	counter(c.waits, float64(s.WaitCount))
	counter(c.waited, s.WaitDuration.Seconds())
	counter(c.idleClosed, float64(s.MaxIdleClosed))
	counter(c.idleTimeClosed, float64(s.MaxIdleTimeClosed))
	counter(c.aged, float64(s.MaxLifetimeClosed))
}

// redisPool reports go-redis's connection pool: connections idle and in
// use, and how often a call found one free, waited for one, or gave up.
type redisPool struct {
	stats                                        func() *redis.PoolStats
	conns, pending                               *prometheus.Desc
	hits, misses, timeouts, waits, waited, stale *prometheus.Desc
}

func newRedisPool(stats func() *redis.PoolStats) *redisPool {
	desc := func(n, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("barefoot_redis_pool_"+n, help, labels, nil)
	}
	return &redisPool{
		stats:    stats,
		conns:    desc("connections", "Connections to Redis, idle or in use.", "state"),
		pending:  desc("pending_requests", "Calls waiting for a connection now."),
		hits:     desc("hits_total", "Calls that found an idle connection."),
		misses:   desc("misses_total", "Calls that found no idle connection and opened or waited for one."),
		timeouts: desc("timeouts_total", "Calls that gave up waiting for a connection."),
		waits:    desc("waits_total", "Calls that waited for a connection (the pool was at its size)."),
		waited:   desc("wait_seconds_total", "Time calls spent waiting for a connection."),
		stale:    desc("stale_connections_total", "Connections dropped as stale (idle too long, or broken)."),
	}
}

func (c *redisPool) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.conns, c.pending, c.hits, c.misses, c.timeouts, c.waits, c.waited, c.stale} {
		ch <- d
	}
}

func (c *redisPool) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	if s == nil {
		return
	}
	// A pool of its own for pipelines, when the client keeps one, is
	// part of the same budget of connections.
	all := []*redis.PoolStats{s}
	if s.PipelineStats != nil {
		all = append(all, (*redis.PoolStats)(s.PipelineStats))
	}
	var total, idle, pending, hits, misses, timeouts, waits, stale float64
	var waited time.Duration
	for _, p := range all {
		total += float64(p.TotalConns)
		idle += float64(p.IdleConns)
		pending += float64(p.PendingRequests)
		hits += float64(p.Hits)
		misses += float64(p.Misses)
		timeouts += float64(p.Timeouts)
		waits += float64(p.WaitCount)
		stale += float64(p.StaleConns)
		waited += time.Duration(p.WaitDurationNs)
	}
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, idle, "idle")
	ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, max(total-idle, 0), "in_use")
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, pending)
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, hits)
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, misses)
	ch <- prometheus.MustNewConstMetric(c.timeouts, prometheus.CounterValue, timeouts)
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, waits)
	ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, waited.Seconds())
	ch <- prometheus.MustNewConstMetric(c.stale, prometheus.CounterValue, stale)
}

// outboxStates are the states a waiting message is reported in.
var outboxStates = []string{storage.OutboxDue, storage.OutboxSending, storage.OutboxDeferred}

// outbox reports the SMS waiting to be sent, by carrier and state, and the
// age of the oldest of each, from one query per scrape. The query is
// bounded by a short timeout and made at most once per interval, however
// often /metrics is fetched. When it fails the failure is counted and
// logged, and the last figures read are reported again, the ages grown by
// the time since: a Postgres that is down must not blank the outbox it
// keeps from the operator.
type outbox struct {
	read func(context.Context) ([]storage.Backlog, error)
	// timeout bounds the query; every is the least time between two.
	timeout, every time.Duration
	log            *slog.Logger

	messages, oldest *prometheus.Desc
	failures         prometheus.Counter

	mu     sync.Mutex
	tried  time.Time
	last   []storage.Backlog
	readAt time.Time
	// carriers are reported in every state, at zero when nothing waits:
	// the ones that send, and any other the outbox has held.
	carriers []string
}

func newOutbox(read func(context.Context) ([]storage.Backlog, error), carriers []string, log *slog.Logger) *outbox {
	return &outbox{
		read: read, timeout: time.Second, every: time.Second, log: log, carriers: carriers,
		messages: prometheus.NewDesc("barefoot_outbox_messages",
			"SMS waiting in the outbox, by carrier and state: due (waiting for a sender now, a sender's lapsed claim included), sending (claimed by a sender), deferred (a retry backing off, or held for quiet hours or a daily cap).",
			[]string{"carrier", "state"}, nil),
		oldest: prometheus.NewDesc("barefoot_outbox_oldest_seconds",
			"How long the oldest SMS waiting in the outbox has been there, by carrier and state; 0 when none waits.",
			[]string{"carrier", "state"}, nil),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "barefoot_outbox_scrape_errors_total",
			Help: "Reads of the outbox for /metrics that failed; the last figures read were reported instead."}),
	}
}

func (c *outbox) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.oldest
	c.failures.Describe(ch)
}

func (c *outbox) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh()
	c.failures.Collect(ch)
	if c.readAt.IsZero() {
		return // never read: nothing known, rather than zeros
	}
	since := time.Since(c.readAt)
	type key struct{ carrier, state string }
	got := make(map[key]storage.Backlog, len(c.last))
	for _, b := range c.last {
		got[key{b.Carrier, b.State}] = b
	}
	for _, carrier := range c.carriers {
		for _, state := range outboxStates {
			b, ok := got[key{carrier, state}]
			age := 0.0
			if ok && b.Messages > 0 {
				age = (b.Oldest + since).Seconds()
			}
			ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, float64(b.Messages), carrier, state)
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, carrier, state)
		}
	}
}

// refresh reads the outbox unless it was tried less than every ago.
func (c *outbox) refresh() {
	now := time.Now()
	if !c.tried.IsZero() && now.Sub(c.tried) < c.every {
		return
	}
	c.tried = now
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rows, err := c.read(ctx)
	if err != nil {
		c.failures.Inc()
		c.log.Warn("outbox not read for metrics; the last figures stand", "err", err)
		return
	}
	c.last, c.readAt = rows, now
	for _, b := range rows {
		if !slices.Contains(c.carriers, b.Carrier) {
			c.carriers = append(c.carriers, b.Carrier)
		}
	}
}

// registerStoreMetrics registers the stores' collectors with reg.
func registerStoreMetrics(reg prometheus.Registerer, db *storage.DB, rdb redis.UniversalClient, smsCarriers []string, log *slog.Logger) {
	reg.MustRegister(
		newDBStats(db.Stats, "barefoot"),
		newRedisPool(rdb.PoolStats),
		newOutbox(db.OutboxBacklog, smsCarriers, log),
	)
}
