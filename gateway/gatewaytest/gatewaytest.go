// Package gatewaytest runs a whole gateway for tests: its own Postgres
// database seeded with the demo, its own Redis key prefix, and the Fiber app
// listening on a loopback port, so tests drive it exactly as a carrier does.
// It is assembled as the binary is (assemble.New), carriers included; their
// send clients reach nothing off the machine.
package gatewaytest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/sessions"
	"github.com/barefoot-ussd/barefoot/sessions/sessionstest"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/spool"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Gateway is a running gateway and the stores behind it.
type Gateway struct {
	URL string
	// AdminURL serves the admin API, the console and /metrics: URL, unless
	// they listen apart.
	AdminURL string
	DB       *storage.DB
	Redis    *redis.Client
	// RedisPrefix is the prefix of every key the gateway writes.
	RedisPrefix   string
	Store         *sessions.Store
	Conversations *conversation.Service
	Spool         *spool.Spool
	Catalog       *menus.Catalog
	// MenuOptions are what the gateway compiles trees with.
	MenuOptions menus.Options
	// Metrics is the gateway's own Prometheus registry.
	Metrics *prometheus.Registry
	// Senders are the send clients of the carriers Options.Env configures,
	// by carrier name, for a test's sender.Sender.
	Senders map[string]sender.Client
	// TemplatesOnly names the carriers that send only approved templates.
	TemplatesOnly map[string]bool
	// DailyCaps are the carriers' per-number daily caps.
	DailyCaps map[string]int
	// StopCarriers closes the carriers' own connections (CMPP) as a
	// shutdown does, and returns once they are closed; the test's end
	// does it too.
	StopCarriers func()
	client       *http.Client
	tb           testing.TB

	sqlOnce sync.Once
	sql     *sqlx.DB
	sqlErr  error
}

// Options tune MustGateway.
type Options struct {
	// Log receives the gateway's logs; discarded when nil.
	Log io.Writer
	// Redis replaces the test's own Redis, e.g. with a client of a server
	// that is down, or another gateway's, with its RedisPrefix, to run two
	// processes on one Redis.
	Redis       *redis.Client
	RedisPrefix string
	// HopBudget bounds each hop; the gateway's default when zero.
	HopBudget time.Duration
	// Env holds carrier settings, as the binary reads them from the
	// environment: BAREFOOT_TWILIO_AUTH_TOKEN turns signature checks on,
	// BAREFOOT_KANNEL_URL and BAREFOOT_KANNEL_USERNAME point Kannel's
	// sends at a test's own server. The public URL is the gateway's.
	Env map[string]string
	// ReplyLimit is the SMS replies a registered phone may get in ten
	// minutes (100 when zero); StrangerReplyLimit an unknown number's
	// (the binary's default when zero).
	ReplyLimit, StrangerReplyLimit int
	// StatusSecret requires a child code and secret with STATUS.
	StatusSecret bool
	// ReplyBudget bounds the SMS replies of the whole gateway (none when 0).
	ReplyBudget int
	// Location is the admin API's time zone (UTC when nil).
	Location *time.Location
	// DB shares another gateway's database, as several gateway processes
	// share one Postgres; a fresh seeded database when nil.
	DB *storage.DB
	// Listener is where the gateway serves, for a peer that must know its
	// address before the gateway starts (Kannel's get-url); a fresh
	// loopback port when nil.
	Listener net.Listener
	// AlertCarrier sends alerts about urgent reports (the binary's default
	// when empty).
	AlertCarrier string
	// WebhookSecret must come with every carrier callback; none when
	// empty, as for a gateway on loopback.
	WebhookSecret string
	// SeparateAdmin serves the admin API, the console and /metrics on a
	// listener of their own, at AdminURL.
	SeparateAdmin bool
}

// MustGateway starts a seeded gateway that is stopped when the test ends.
func MustGateway(tb testing.TB, opts Options) *Gateway {
	tb.Helper()
	ctx := context.Background()
	db := opts.DB
	if db == nil {
		db = storagetest.MustDB(tb)
		if err := demo.Seed(ctx, db, io.Discard); err != nil {
			tb.Fatalf("gatewaytest: seed: %v", err)
		}
	}
	rdb, prefix := opts.Redis, opts.RedisPrefix
	if prefix == "" {
		prefix = "bftest:down:"
	}
	if rdb == nil {
		rdb, prefix = sessionstest.MustRedis(tb)
	}
	log := slog.New(slog.DiscardHandler)
	if opts.Log != nil {
		log = slog.New(slog.NewJSONHandler(opts.Log, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: phone.RedactAttr}))
	}
	ln := opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatalf("gatewaytest: listen: %v", err)
		}
	}
	base := "http://" + ln.Addr().String()
	limit := opts.ReplyLimit
	if limit == 0 {
		limit = 100
	}
	strangers := opts.StrangerReplyLimit
	if strangers == 0 {
		strangers = assemble.DefaultStrangerReplyLimit
	}
	life, stop := context.WithCancel(context.Background())
	tb.Cleanup(stop)
	g, err := assemble.New(life, db, rdb, assemble.Settings{
		Region: "CN", RedisPrefix: prefix, SessionTTL: 5 * time.Minute, SMSSessionTTL: 30 * time.Minute,
		ReplyLimit: limit, StrangerReplyLimit: strangers, ReplyWindow: 10 * time.Minute, DailyReplies: opts.ReplyBudget, StatusSecret: opts.StatusSecret,
		Getenv: func(k string) string { return opts.Env[k] }, PublicURL: base, HTTPClient: sendertest.Client(),
		Location: opts.Location, HopBudget: opts.HopBudget, AlertCarrier: opts.AlertCarrier, WebhookSecret: opts.WebhookSecret, SeparateAdmin: opts.SeparateAdmin,
		SpoolDir: tb.TempDir(), SpoolEvery: 100 * time.Millisecond,
	}, log)
	if err != nil {
		tb.Fatalf("gatewaytest: assemble: %v", err)
	}
	go func() { _ = g.App.Listener(ln) }()
	tb.Cleanup(func() { _ = g.App.ShutdownWithTimeout(5 * time.Second) })
	runCtx, stopRuns := context.WithCancel(context.Background())
	runsDone := g.RunCarriers(runCtx, log)
	stopCarriers := func() {
		stopRuns()
		select {
		case <-runsDone:
		case <-time.After(10 * time.Second):
			tb.Errorf("gatewaytest: carrier connections not closed in 10 s")
		}
	}
	tb.Cleanup(stopCarriers)
	adminURL := base
	if g.Admin != nil {
		aln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("gatewaytest: listen: %v", err)
		}
		adminURL = "http://" + aln.Addr().String()
		go func() { _ = g.Admin.Listener(aln) }()
		tb.Cleanup(func() { _ = g.Admin.ShutdownWithTimeout(5 * time.Second) })
	}
	return &Gateway{
		URL: base, AdminURL: adminURL, DB: db, Redis: rdb, RedisPrefix: prefix, Store: g.Store, Conversations: g.Conversations, Spool: g.Spool, Catalog: g.Catalog, MenuOptions: g.MenuOptions, Metrics: g.Metrics,
		Senders: g.Senders, TemplatesOnly: g.TemplatesOnly, DailyCaps: g.DailyCaps, StopCarriers: stopCarriers, client: &http.Client{Timeout: 10 * time.Second}, tb: tb,
	}
}

// SQL opens a connection of the test's own to the gateway's database,
// for checking what was stored, and closes it when the test ends.
func (g *Gateway) SQL(tb testing.TB) *sqlx.DB {
	tb.Helper()
	// One pool for the gateway's life: tests call this in polling loops,
	// and a pool a call would hold a connection each until the test ends.
	g.sqlOnce.Do(func() {
		db, err := sqlx.Open("postgres", g.DB.DSN())
		if err != nil {
			g.sqlErr = err
			return
		}
		db.SetMaxOpenConns(4)
		g.sql = db
		g.tb.Cleanup(func() { _ = db.Close() })
	})
	if g.sqlErr != nil {
		tb.Fatalf("gatewaytest: open database: %v", g.sqlErr)
	}
	return g.sql
}

// ExecRegistry changes the registry behind the gateway's back, as another
// process or an operator's SQL would, and waits until the gateway has
// heard of it (its caller cache is dropped by the change's notification).
func (g *Gateway) ExecRegistry(tb testing.TB, q string, args ...any) {
	tb.Helper()
	before := g.DB.RegistryGeneration()
	if _, err := g.SQL(tb).Exec(q, args...); err != nil {
		tb.Fatalf("gatewaytest: %s: %v", q, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.DB.RegistryGeneration() == before {
		if time.Now().After(deadline) {
			tb.Fatalf("gatewaytest: the gateway never heard of the registry change")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Post sends a form to path and returns the status and body.
func (g *Gateway) Post(tb testing.TB, path string, form url.Values) (int, string) {
	tb.Helper()
	return g.PostRaw(tb, path, "application/x-www-form-urlencoded", form.Encode())
}

// PostRaw sends a body as is, for malformed-input tests.
func (g *Gateway) PostRaw(tb testing.TB, path, contentType, body string) (int, string) {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return g.Do(tb, req)
}

// Get fetches path.
func (g *Gateway) Get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	return g.Do(tb, httptest.NewRequest(http.MethodGet, path, nil))
}

// Do sends req, a request for a path on the gateway as httptest.NewRequest
// makes one, and returns the status and body.
func (g *Gateway) Do(tb testing.TB, req *http.Request) (int, string) {
	tb.Helper()
	u, err := url.Parse(g.URL + req.URL.RequestURI())
	if err != nil {
		tb.Fatal(err)
	}
	req.URL, req.Host, req.RequestURI = u, u.Host, ""
	resp, err := g.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, u.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// AT sends one Africa's Talking USSD callback and returns the body, failing
// the test on any status but 200.
func (g *Gateway) AT(tb testing.TB, session, phoneNumber, text string) string {
	tb.Helper()
	status, body := g.Post(tb, "/ussd/africastalking", ATForm(session, phoneNumber, "*384*2015#", text))
	if status != http.StatusOK {
		tb.Fatalf("AT callback text=%q: status %d: %s", text, status, body)
	}
	return body
}

// ATForm builds an Africa's Talking USSD callback.
func ATForm(session, phoneNumber, code, text string) url.Values {
	return url.Values{
		"sessionId":   {session},
		"serviceCode": {code},
		"phoneNumber": {phoneNumber},
		"networkCode": {"46000"},
		"text":        {text},
	}
}
