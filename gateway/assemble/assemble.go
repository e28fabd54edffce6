// Package assemble is the composition root of a gateway process: it builds
// the menu catalog, the session store, the conversation layer, the admin
// API and console, and every carrier in Carriers, from one set of
// settings. The binary and the test harness both use it, so the gateway
// under test is the gateway that ships. It is the one package besides
// cmd/barefoot that knows every adapter.
package assemble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/admin"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/aliyun"
	"github.com/barefoot-ussd/barefoot/gateway/cmpp"
	"github.com/barefoot-ussd/barefoot/gateway/console"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/generic"
	"github.com/barefoot-ussd/barefoot/gateway/hubtel"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/tencent"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
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
	// Getenv reads the carriers' own settings (BAREFOOT_AT_USERNAME, ...,
	// each carrier package documents its own); none when nil.
	Getenv func(string) string
	// PublicURL is the gateway's base URL as carriers reach it, for their
	// callback URLs and Twilio's signatures.
	PublicURL string
	// HTTPClient calls the carriers' send APIs; each one's default when nil.
	HTTPClient *http.Client
	// WebhookSecret must come with every callback of a carrier that does
	// not sign its own (BAREFOOT_WEBHOOK_SECRET; a carrier's own
	// BAREFOOT_<NAME>_WEBHOOK_SECRET overrides it); none when empty, for
	// a gateway that listens on loopback only.
	WebhookSecret string
	// CaseDeadlines are how long each level has to acknowledge a case
	// (four hours for every category when zero).
	CaseDeadlines cases.Deadlines
	// AlertCarrier names the carrier alerts go out through, one that
	// carries SMS; the store's default when empty.
	AlertCarrier string
	Location     *time.Location
	// QuietHours hold reminders (follow-ups, monthly visit reminders)
	// until morning in Location; alerts are never held.
	QuietHours storage.QuietHours
	// ReminderDay is the day of the month directors without a visit that
	// month are reminded (storage.DefaultReminderDay when zero).
	ReminderDay int
	HopBudget   time.Duration
	// SeparateAdmin serves the admin API, the console and /metrics on an
	// app of their own (Gateway.Admin), for a listener of their own.
	SeparateAdmin bool
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

// firstWarmWait is how long New waits for the first warm of the caller
// cache: enough for a registry of tens of thousands, so that a process
// started under load answers its first dials without a query, short
// enough that a larger one does not hold readiness back. The warm goes
// on in the background; lookups go to Postgres until it is done.
const firstWarmWait = time.Second

// Gateway is an assembled gateway: its HTTP app and the parts a process
// or a test reaches into.
type Gateway struct {
	App           *fiber.App
	Catalog       *menus.Catalog
	MenuOptions   menus.Options
	Conversations *conversation.Service
	// Admin serves the admin API, the console and /metrics when they were
	// asked for apart (SeparateAdmin); nil when App serves them.
	Admin *fiber.App
	// Spool holds reports waiting for Postgres; nil without a SpoolDir.
	Spool   *spool.Spool
	Store   *sessions.Store
	Metrics *prometheus.Registry
	// Refresh loads newly published trees into the catalog.
	Refresh func(ctx context.Context) error
	// Senders are the send clients of the carriers configured for
	// sending, by carrier name, for the outbox's sender.Sender.
	Senders map[string]sender.Client
	// TemplatesOnly names the carriers that send only approved templates.
	TemplatesOnly map[string]bool
	// DailyCaps are the carriers' per-number daily caps.
	DailyCaps map[string]int
	// Unguarded names the carriers whose callbacks need no secret: a
	// gateway that listens beyond loopback must have none.
	Unguarded []string

	draining *atomic.Bool
	// runs are the carriers' own connections (RunCarriers), and receive
	// what they hand inbound SMS to, built like the SMS callbacks'.
	runs    []carrierRun
	receive gateway.Receive
}

type carrierRun struct {
	name string
	run  func(context.Context, gateway.Receive) error
}

// errDraining is what readiness says of a process shutting down.
var errDraining = errors.New("shutting down")

// Drain marks the process as shutting down: /readyz answers 503 from now
// on, while callbacks in flight and new ones are still answered until the
// listener closes.
func (g *Gateway) Drain() { g.draining.Store(true) }

// RunCarriers starts the long-lived connections of the carriers that keep
// one (CMPP) and returns at once; they run until ctx is done, then close
// their connections as their protocols want, and the channel returned is
// closed once every one has returned. A process stops them after its
// sender has finished the sends in flight, which need them.
func (g *Gateway) RunCarriers(ctx context.Context, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	var left atomic.Int32
	left.Store(int32(len(g.runs)))
	if len(g.runs) == 0 {
		close(done)
	}
	for _, r := range g.runs {
		go func() {
			if err := r.run(ctx, g.receive); err != nil && ctx.Err() == nil {
				log.Error("carrier connection stopped", "carrier", r.name, "err", err)
			}
			if left.Add(-1) == 0 {
				close(done)
			}
		}()
	}
	return done
}

// Carriers are the carriers the gateway serves, each declared by its own
// package. Adding a carrier is one package and one line here.
var Carriers = []gateway.NewCarrier{africastalking.New, hubtel.New, generic.New, twilio.New, kannel.New, tencent.New, aliyun.New, cmpp.New}

// BuildCarriers builds every carrier of Carriers. Errors name the setting to
// fix; carrier names must be unique, since they key stored messages and
// send clients.
func BuildCarriers(env gateway.CarrierEnv) ([]gateway.Carrier, error) {
	carriers := make([]gateway.Carrier, 0, len(Carriers))
	seen := map[string]bool{}
	for _, build := range Carriers {
		c, err := build(env)
		if err != nil {
			return nil, err
		}
		if c.Name == "" || seen[c.Name] {
			return nil, fmt.Errorf("assemble: carrier name %q is empty or taken", c.Name)
		}
		seen[c.Name] = true
		carriers = append(carriers, c)
	}
	return carriers, nil
}

// Guards are what each carrier's callbacks must show: its webhook secret
// and, from BAREFOOT_<NAME>_ALLOW, the addresses it calls from.
func Guards(env gateway.CarrierEnv, carriers []gateway.Carrier) (map[string]gateway.Guard, error) {
	out := map[string]gateway.Guard{}
	for _, c := range carriers {
		key := "BAREFOOT_" + strings.ToUpper(c.Name) + "_ALLOW"
		allow, err := gateway.ParseAllow(env.Setting(key, ""))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out[c.Name] = gateway.Guard{Secret: env.WebhookSecret(c.Name), Allow: allow}
	}
	return out, nil
}

// Unguarded names the carriers whose callbacks anyone who reaches the
// port could forge: no webhook secret, and no signature of their own.
func Unguarded(carriers []gateway.Carrier, guards map[string]gateway.Guard) []string {
	var out []string
	for _, c := range carriers {
		if c.USSD == nil && c.SMS == nil && len(c.Routes) == 0 {
			continue // no callbacks to forge: it connects out (CMPP)
		}
		if !c.Signs && guards[c.Name].Secret == "" {
			out = append(out, c.Name)
		}
	}
	return out
}

// checkAlertCarrier refuses an alert carrier that cannot carry an alert:
// one that is not in the list, or that has no SMS: neither an SMS adapter
// nor, for a carrier whose messages come otherwise (Alibaba Cloud's
// pushes), a send client.
func checkAlertCarrier(carriers []gateway.Carrier, name string) error {
	var sms []string
	for _, c := range carriers {
		if c.SMS == nil && c.Sender == nil && c.Run == nil {
			continue
		}
		if c.Name == name {
			return nil
		}
		sms = append(sms, c.Name)
	}
	want := strings.Join(sms, ", ")
	if i := strings.LastIndex(want, ", "); i >= 0 {
		want = want[:i] + " or " + want[i+2:]
	}
	return fmt.Errorf("BAREFOOT_ALERT_CARRIER: want %s, got %q", want, name)
}

// MenuOptions are what trees are compiled and checked with: the phone
// region ("CN" when empty) and the strictest screen budget of the
// carriers the gateway serves. The command line's check uses them too;
// screen budgets need no carrier settings.
func MenuOptions(region string) menus.Options {
	carriers, err := BuildCarriers(gateway.CarrierEnv{Getenv: func(string) string { return "" }})
	if err != nil {
		panic(fmt.Sprintf("assemble: a carrier needs settings to exist: %v", err)) // a programming error
	}
	return menuOptions(region, carriers)
}

func menuOptions(region string, carriers []gateway.Carrier) menus.Options {
	if region == "" {
		region = "CN"
	}
	var ussd []gateway.USSDAdapter
	for _, c := range carriers {
		if c.USSD != nil {
			ussd = append(ussd, c.USSD)
		}
	}
	return menus.Options{Region: region, Budget: gateway.StrictestBudget(ussd)}
}

// keepCallersWarm keeps the whole registry in db's caller cache, read
// again after any registry change here or in another process, and its
// numbers in phones, so that a registered caller's first hop needs no
// query and no parse, and a stranger's no query. It waits up to
// firstWarmWait for the first warm.
func keepCallersWarm(ctx context.Context, db *storage.DB, phones *phone.Cache, metrics *prometheus.Registry, log *slog.Logger) {
	read := prometheus.NewGauge(prometheus.GaugeOpts{Name: "barefoot_registry_phones",
		Help: "Phones of active directors and guardians in the caller cache, as last read from the registry."})
	unnormal := prometheus.NewGauge(prometheus.GaugeOpts{Name: "barefoot_registry_phones_unnormalised",
		Help: "Registry phones stored in a form no carrier's number normalises to: their callers are never found."})
	metrics.MustRegister(read, unnormal)
	db.CacheCallers(callerCacheTTL)
	go db.ListenForRegistryChanges(ctx, log)
	first := make(chan struct{})
	var once sync.Once
	refused := 0 // warms come one at a time
	go db.KeepCallersWarm(ctx, log, func(e164 []string) {
		n := phones.Known(e164...)
		read.Set(float64(len(e164)))
		unnormal.Set(float64(n))
		if n != refused && n > 0 {
			log.Warn("registry phones stored in a form no carrier's number normalises to: their callers are never found", "phones", n)
		}
		refused = n
		once.Do(func() { close(first) })
	})
	wait := time.NewTimer(firstWarmWait)
	defer wait.Stop()
	select {
	case <-first:
	case <-wait.C:
		log.Info("caller cache still warming; lookups go to Postgres meanwhile")
	case <-ctx.Done():
	}
}

// New assembles a gateway on db and rdb. It loads the published trees and
// listens, until ctx is done, for publishes by any process on db. Errors
// in the carriers' settings name the variable to fix.
func New(ctx context.Context, db *storage.DB, rdb redis.UniversalClient, s Settings, log *slog.Logger) (*Gateway, error) {
	if s.Region == "" {
		s.Region = "CN"
	}
	env := gateway.CarrierEnv{Getenv: s.Getenv, PublicURL: strings.TrimRight(s.PublicURL, "/"), Deliveries: db, HTTPClient: s.HTTPClient, Secret: s.WebhookSecret, Locker: db, Log: log}
	carriers, err := BuildCarriers(env)
	if err != nil {
		return nil, err
	}
	guards, err := Guards(env, carriers)
	if err != nil {
		return nil, err
	}
	if s.AlertCarrier != "" {
		if err := checkAlertCarrier(carriers, s.AlertCarrier); err != nil {
			return nil, err
		}
	}
	senders, templatesOnly, dailyCaps := map[string]sender.Client{}, map[string]bool{}, map[string]int{}
	profiles := map[string]textlen.Profile{}
	var runs []carrierRun
	for _, c := range carriers {
		if c.Run != nil {
			runs = append(runs, carrierRun{name: c.Name, run: c.Run})
		}
		for _, note := range c.Notes {
			log.Warn(note, "carrier", c.Name)
		}
		if c.Sender != nil {
			senders[c.Name] = c.Sender
		}
		if c.Templates {
			templatesOnly[c.Name] = true
		}
		if c.DailyCap > 0 {
			dailyCaps[c.Name] = c.DailyCap
		}
		if c.Profile != nil {
			profiles[c.Name] = *c.Profile
		}
	}
	mopts := menuOptions(s.Region, carriers)
	catalog := menus.NewCatalog(db.TreeLoader(mopts))
	refresh := func(ctx context.Context) error {
		_, err := db.RefreshCatalog(ctx, catalog, mopts)
		return err
	}
	if err := refresh(ctx); err != nil {
		return nil, fmt.Errorf("load menu trees: %w", err)
	}
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
	sending := slices.Sorted(maps.Keys(senders))
	registerStoreMetrics(metrics, db, rdb, sending, log)
	phones := &phone.Cache{Normalizer: phone.Normalizer{Region: s.Region}}
	keepCallersWarm(ctx, db, phones, metrics, log)
	db.SetAlertCarrier(s.AlertCarrier)
	db.SetCaseDeadlines(s.CaseDeadlines)
	db.SetCasework(storage.Casework{Location: s.Location, Quiet: s.QuietHours, ReminderDay: s.ReminderDay})
	db.SetSMSProfiles(profiles)
	conv := &conversation.Service{
		Sessions: store, Registry: db, Reports: db, Needs: db, Messages: db, Menus: catalog, Cases: db,
		USSDTTL: s.SessionTTL, SMSTTL: s.SMSSessionTTL,
		Registered:    sessions.NewLimiter(rdb, s.RedisPrefix, "registered", s.ReplyLimit, s.ReplyWindow),
		Strangers:     sessions.NewLimiter(rdb, s.RedisPrefix, "stranger", s.StrangerReplyLimit, s.ReplyWindow),
		RequireSecret: s.StatusSecret,
		Log:           log, Metrics: conversation.NewMetrics(metrics), Cache: &conversation.Cache{TTL: s.SessionTTL}, Profiles: profiles,
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
	api := &admin.API{Store: db, Registry: db, Reports: db, FollowUps: db, Templates: db, Reads: db, People: db, Cases: db, Options: mopts, Location: s.Location, Log: log, Refresh: refresh}
	mounts := []func(*fiber.App){api.Mount, console.Mount}
	draining := new(atomic.Bool)
	checks := []gateway.Check{
		// A process shutting down says so first, so that a load balancer
		// stops sending it callbacks before it stops taking them.
		{Name: "shutdown", Ping: func(context.Context) error {
			if draining.Load() {
				return errDraining
			}
			return nil
		}},
		{Name: "postgres", Ping: db.Ping}, {Name: "redis", Ping: store.Ping},
	}
	cfg := gateway.Config{
		Conversations: conv,
		Metrics:       metrics,
		Phones:        phones,
		Carriers:      carriers,
		Guards:        guards,
		Refused:       gateway.NewGuardMetrics(metrics),
		Mounts:        mounts,
		Checks:        checks,
		Log:           log,
		HopBudget:     s.HopBudget,
	}
	var adminApp *fiber.App
	if s.SeparateAdmin {
		cfg.Metrics, cfg.Mounts = nil, nil
		adminApp = gateway.NewAdmin(log, checks, metrics, mounts)
	}
	return &Gateway{
		App: gateway.New(cfg), Admin: adminApp, Catalog: catalog, MenuOptions: mopts, Conversations: conv, Spool: sp, Store: store,
		Metrics: metrics, Refresh: refresh, Senders: senders, TemplatesOnly: templatesOnly, DailyCaps: dailyCaps, Unguarded: Unguarded(carriers, guards), draining: draining,
		runs: runs, receive: gateway.NewReceive(cfg),
	}, nil
}
