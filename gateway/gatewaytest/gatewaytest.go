// Package gatewaytest runs a whole gateway for tests: its own Postgres
// database seeded with the demo, its own Redis key prefix, and the Fiber app
// listening on a loopback port, so tests drive it exactly as a carrier does.
package gatewaytest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/admin"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/console"
	"github.com/barefoot-ussd/barefoot/gateway/dialog"
	"github.com/barefoot-ussd/barefoot/gateway/generic"
	"github.com/barefoot-ussd/barefoot/gateway/hubtel"
	"github.com/barefoot-ussd/barefoot/gateway/inbox"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/sessions"
	"github.com/barefoot-ussd/barefoot/sessions/sessionstest"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Gateway is a running gateway and the stores behind it.
type Gateway struct {
	URL     string
	DB      *storage.DB
	Redis   *redis.Client
	Store   *sessions.Store
	Dialog  *dialog.Service
	Catalog *menus.Catalog
	// MenuOptions are what the gateway compiles trees with.
	MenuOptions menus.Options
	// Metrics is the gateway's own Prometheus registry.
	Metrics *prometheus.Registry
	client  *http.Client
}

// Options tune MustGateway.
type Options struct {
	// Log receives the gateway's logs; discarded when nil.
	Log io.Writer
	// Redis replaces the test's own Redis, e.g. with a client of a server
	// that is down.
	Redis *redis.Client
	// HopBudget bounds each hop; the gateway's default when zero.
	HopBudget time.Duration
	// TwilioToken turns Twilio signature checks on.
	TwilioToken string
	// ReplyLimit is the SMS replies a phone may get in ten minutes (100
	// when zero).
	ReplyLimit int
	// StatusSecret requires a child code and secret with STATUS.
	StatusSecret bool
	// ReplyBudget bounds the SMS replies of the whole gateway (none when 0).
	ReplyBudget int
	// Location is the admin API's time zone (UTC when nil).
	Location *time.Location
	// DB shares another gateway's database, as several gateway processes
	// share one Postgres; a fresh seeded database when nil.
	DB *storage.DB
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
	rdb, prefix := opts.Redis, "bftest:down:"
	if rdb == nil {
		rdb, prefix = sessionstest.MustRedis(tb)
	}
	log := slog.New(slog.DiscardHandler)
	if opts.Log != nil {
		log = slog.New(slog.NewJSONHandler(opts.Log, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: phone.RedactAttr}))
	}
	adapters := []gateway.USSDAdapter{africastalking.USSD{}, hubtel.USSD{}, generic.USSD{}}
	mopts := menus.Options{Region: "CN", Budget: gateway.StrictestBudget(adapters)}
	catalog := menus.NewCatalog(db.TreeLoader(mopts))
	if _, err := db.RefreshCatalog(ctx, catalog, mopts); err != nil {
		tb.Fatalf("gatewaytest: load trees: %v", err)
	}
	// Publishes by any gateway on this database reach this one at once,
	// as in serve.
	listenCtx, stopListening := context.WithCancel(context.Background())
	tb.Cleanup(stopListening)
	go db.ListenForPublishes(listenCtx, log, func() { _, _ = db.RefreshCatalog(listenCtx, catalog, mopts) })
	store := sessions.NewStore(rdb, prefix)
	metrics := prometheus.NewRegistry()
	svc := &dialog.Service{Store: store, Registry: db, Reports: db, Menus: catalog, TTL: 5 * time.Minute, Log: log, Metrics: dialog.NewMetrics(metrics), Cache: &dialog.Cache{TTL: 5 * time.Minute}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("gatewaytest: listen: %v", err)
	}
	base := "http://" + ln.Addr().String()
	limit := opts.ReplyLimit
	if limit == 0 {
		limit = 100
	}
	box := &inbox.Service{
		Store: db, Registry: db, Reports: db, Menus: catalog, Conversations: store, DirectorTree: "director",
		Dialog:  &dialog.Service{Store: store, Registry: db, Reports: db, Menus: catalog, TTL: 30 * time.Minute, Log: log, Cache: &dialog.Cache{TTL: 30 * time.Minute}},
		Limiter: sessions.NewLimiter(rdb, prefix, limit, 10*time.Minute), Log: log, RequireSecret: opts.StatusSecret,
	}
	if opts.ReplyBudget > 0 {
		box.Budget = sessions.NewLimiter(rdb, prefix+"budget:", opts.ReplyBudget, 24*time.Hour)
	}
	app := gateway.New(gateway.Config{
		Dialog: svc,
		Phones: &phone.Cache{Normalizer: phone.Normalizer{Region: "CN"}},
		USSD:   adapters,
		SMS:    []gateway.SMSAdapter{africastalking.SMS{}, twilio.SMS{AuthToken: opts.TwilioToken, PublicURL: base}, kannel.SMS{}},
		Inbox:  box,
		Mounts: []func(*fiber.App){(&admin.API{Store: db, Registry: db, Reports: db, People: db, Options: mopts, Location: opts.Location, Log: log, Refresh: func(ctx context.Context) error {
			_, err := db.RefreshCatalog(ctx, catalog, mopts)
			return err
		}}).Mount, console.Mount},
		Metrics:   metrics,
		Checks:    []gateway.Check{{Name: "postgres", Ping: db.Ping}, {Name: "redis", Ping: store.Ping}},
		Log:       log,
		HopBudget: opts.HopBudget,
	})
	go func() { _ = app.Listener(ln) }()
	tb.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return &Gateway{
		URL: base, DB: db, Redis: rdb, Store: store, Dialog: svc, Catalog: catalog, MenuOptions: mopts, Metrics: metrics,
		client: &http.Client{Timeout: 10 * time.Second},
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
	req, err := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := g.client.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Get fetches path.
func (g *Gateway) Get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	resp, err := g.client.Get(g.URL + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
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
