// Package assemble is the composition root of a gateway process: it builds
// the menu catalog, the session store, the USSD dialog, the SMS inbox, the
// admin API and console, and every carrier route, from one set of
// settings. The binary and the test harness both use it, so the gateway
// under test is the gateway that ships. It is the one package besides
// cmd/barefoot that knows every adapter.
package assemble

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/admin"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/console"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/generic"
	"github.com/barefoot-ussd/barefoot/gateway/hubtel"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/sessions"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/spool"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Settings are what a deployment chooses; zero values take the defaults
// the binary documents.
type Settings struct {
	Region      string // default phone region, "CN"
	RedisPrefix string
	// SessionTTL and ResumeTTL: USSD idle sessions and unfinished walks.
	SessionTTL, ResumeTTL time.Duration
	// SMSSessionTTL is the idle timeout of SMS menu conversations.
	SMSSessionTTL time.Duration
	// ReplyLimit replies per registered phone (a director or guardian)
	// and StrangerReplyLimit per unknown number, per ReplyWindow;
	// DailyReplies for the whole deployment (no budget when 0). Limits
	// hold back replies, never reports.
	ReplyLimit         int
	StrangerReplyLimit int
	ReplyWindow        time.Duration
	DailyReplies       int
	StatusSecret       bool
	// PublicURL and TwilioToken: Twilio's signatures are checked against
	// the public URL when the token is set.
	PublicURL, TwilioToken string
	AlertCarrier           string
	Location               *time.Location
	HopBudget              time.Duration
	// SpoolDir keeps reports Postgres cannot take in time, on local disk
	// (no spool when empty); SpoolEvery is how often it is drained (5 s
	// when zero).
	SpoolDir   string
	SpoolEvery time.Duration
}

// Default SMS reply limits per phone and window (ten minutes by
// default): a director walking the menu by SMS or filing forms all
// afternoon stays well inside the first; an unknown number gets a few
// answers (how to register), then silence.
const (
	DefaultReplyLimit         = 60
	DefaultStrangerReplyLimit = 3
)

// callerCacheTTL bounds how long a caller looked up is kept should
// registry notifications be lost; they normally drop it within
// milliseconds of a change.
const callerCacheTTL = 5 * time.Minute

// Gateway is an assembled gateway: its HTTP app and the parts a process
// or a test reaches into.
type Gateway struct {
	App           *fiber.App
	Catalog       *menus.Catalog
	MenuOptions   menus.Options
	Conversations *conversation.Service
	// Spool holds reports waiting for Postgres; nil without a SpoolDir.
	Spool   *spool.Spool
	Store   *sessions.Store
	Metrics *prometheus.Registry
	// Refresh loads newly published trees into the catalog.
	Refresh func(ctx context.Context) error
}

// USSDAdapters are the carriers' USSD formats the gateway serves.
func USSDAdapters() []gateway.USSDAdapter {
	return []gateway.USSDAdapter{africastalking.USSD{}, hubtel.USSD{}, generic.USSD{}}
}

// MenuOptions are what trees are compiled and checked with: the phone
// region ("CN" when empty) and the strictest screen budget of the
// carriers the gateway serves. The command line's check uses them too.
func MenuOptions(region string) menus.Options {
	if region == "" {
		region = "CN"
	}
	return menus.Options{Region: region, Budget: gateway.StrictestBudget(USSDAdapters())}
}

// New assembles a gateway on db and rdb. It loads the published trees and
// listens, until ctx is done, for publishes by any process on db.
func New(ctx context.Context, db *storage.DB, rdb redis.UniversalClient, s Settings, log *slog.Logger) (*Gateway, error) {
	if s.Region == "" {
		s.Region = "CN"
	}
	adapters := USSDAdapters()
	mopts := MenuOptions(s.Region)
	catalog := menus.NewCatalog(db.TreeLoader(mopts))
	refresh := func(ctx context.Context) error {
		_, err := db.RefreshCatalog(ctx, catalog, mopts)
		return err
	}
	if err := refresh(ctx); err != nil {
		return nil, err
	}
	// Callers are looked up once and kept; any registry change, here or
	// in another process, drops the copy.
	db.CacheCallers(callerCacheTTL)
	go db.ListenForRegistryChanges(ctx, log)
	go db.ListenForPublishes(ctx, log, func() {
		if err := refresh(ctx); err != nil {
			log.Error("menu tree refresh failed", "err", err)
		}
	})

	store := sessions.NewStore(rdb, s.RedisPrefix)
	if s.ResumeTTL > 0 {
		store.ResumeTTL = s.ResumeTTL
	}
	metrics := prometheus.NewRegistry()
	db.SetAlertCarrier(s.AlertCarrier)
	conv := &conversation.Service{
		Sessions: store, Registry: db, Reports: db, Messages: db, Menus: catalog,
		USSDTTL: s.SessionTTL, SMSTTL: s.SMSSessionTTL,
		Registered:    sessions.NewLimiter(rdb, s.RedisPrefix, "registered", s.ReplyLimit, s.ReplyWindow),
		Strangers:     sessions.NewLimiter(rdb, s.RedisPrefix, "stranger", s.StrangerReplyLimit, s.ReplyWindow),
		RequireSecret: s.StatusSecret,
		Log:           log, Metrics: conversation.NewMetrics(metrics), Cache: &conversation.Cache{TTL: s.SessionTTL},
	}
	if s.DailyReplies > 0 {
		conv.Budget = sessions.NewLimiter(rdb, s.RedisPrefix, "daily", s.DailyReplies, 24*time.Hour)
	}
	var sp *spool.Spool
	if s.SpoolDir != "" {
		var err error
		if sp, err = spool.Open(s.SpoolDir, storage.NewRef); err != nil {
			return nil, err
		}
		sp.Log = log
		drained := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "barefoot_spool_drained_total",
			Help: "Spooled reports taken out of the spool: filed in Postgres, refused by it (set aside), or corrupt (set aside)."}, []string{"outcome"})
		metrics.MustRegister(drained, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "barefoot_spool_depth",
			Help: "Reports waiting in the spool for Postgres."}, func() float64 { n, _, _ := sp.Depth(); return float64(n) }))
		sp.OnDrain = func(outcome string) { drained.WithLabelValues(outcome).Inc() }
		conv.Spool = sp
		every := s.SpoolEvery
		if every == 0 {
			every = 5 * time.Second
		}
		go sp.Run(ctx, db, every)
	}
	api := &admin.API{Store: db, Registry: db, Reports: db, People: db, Options: mopts, Location: s.Location, Log: log, Refresh: refresh}
	app := gateway.New(gateway.Config{
		Conversations: conv,
		Metrics:       metrics,
		Phones:        &phone.Cache{Normalizer: phone.Normalizer{Region: s.Region}},
		USSD:          adapters,
		SMS: []gateway.SMSAdapter{
			africastalking.SMS{},
			twilio.SMS{AuthToken: s.TwilioToken, PublicURL: s.PublicURL},
			kannel.SMS{},
		},
		Mounts: []func(*fiber.App){api.Mount, console.Mount},
		Routes: []gateway.Route{
			{Method: http.MethodPost, Path: "/sms/africastalking/dlr", Handler: africastalking.DLR(db)},
			{Method: http.MethodPost, Path: "/sms/twilio/status", Handler: twilio.Status(db, twilio.Verifier(s.TwilioToken, s.PublicURL))},
			{Method: http.MethodGet, Path: "/sms/kannel/dlr", Handler: kannel.DLR(db)},
		},
		Checks:    []gateway.Check{{Name: "postgres", Ping: db.Ping}, {Name: "redis", Ping: store.Ping}},
		Log:       log,
		HopBudget: s.HopBudget,
	})
	return &Gateway{App: app, Catalog: catalog, MenuOptions: mopts, Conversations: conv, Spool: sp, Store: store, Metrics: metrics, Refresh: refresh}, nil
}
