package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/admin"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/console"
	"github.com/barefoot-ussd/barefoot/gateway/dialog"
	"github.com/barefoot-ussd/barefoot/gateway/generic"
	"github.com/barefoot-ussd/barefoot/gateway/hubtel"
	"github.com/barefoot-ussd/barefoot/gateway/inbox"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/sessions"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// treeRefresh is how often a gateway looks for newly published trees, so
// several processes pick up a publish without a restart.
const treeRefresh = 10 * time.Second

func serve(ctx context.Context, cfg config) error {
	log := cfg.logger()
	slog.SetDefault(log)
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	rdb, err := cfg.openRedis(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()

	adapters := []gateway.USSDAdapter{africastalking.USSD{}, hubtel.USSD{}, generic.USSD{}}
	mopts := menus.Options{Region: cfg.Region, Budget: gateway.StrictestBudget(adapters)}
	catalog := menus.NewCatalog(db.TreeLoader(mopts))
	if n, err := db.RefreshCatalog(ctx, catalog, mopts); err != nil {
		return fmt.Errorf("load menu trees: %w", err)
	} else if n == 0 {
		log.Warn("no menu tree is published; run `barefoot seed` to load the demo")
	}
	go db.ListenForPublishes(ctx, log, func() {
		if _, err := db.RefreshCatalog(ctx, catalog, mopts); err != nil {
			log.Error("menu tree refresh failed", "err", err)
		}
	})
	go func() {
		t := time.NewTicker(treeRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := db.RefreshCatalog(ctx, catalog, mopts); err != nil {
					log.Error("menu tree refresh failed", "err", err)
				}
			}
		}
	}()

	store := sessions.NewStore(rdb, cfg.RedisPrefix)
	store.ResumeTTL = cfg.ResumeTTL
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	db.SetAlertCarrier(cfg.AlertCarrier)
	limited := prometheus.NewCounter(prometheus.CounterOpts{Name: "barefoot_sms_replies_limited_total", Help: "SMS not answered because the sender's reply limit was reached."})
	metrics.MustRegister(limited)
	box := &inbox.Service{
		Store: db, Registry: db, Reports: db, Menus: catalog, Conversations: store, DirectorTree: "director",
		Dialog:  &dialog.Service{Store: store, Registry: db, Reports: db, Menus: catalog, TTL: cfg.SMSSessionTTL, Log: log, Cache: &dialog.Cache{TTL: cfg.SMSSessionTTL}},
		Limiter: sessions.NewLimiter(rdb, cfg.RedisPrefix, cfg.SMSReplyLimit, cfg.SMSReplyWindow),
		Budget:  sessions.NewLimiter(rdb, cfg.RedisPrefix+"budget:", cfg.SMSDailyReplies, 24*time.Hour),
		Log:     log, Limited: limited, RequireSecret: cfg.StatusSecret,
	}
	senders, err := cfg.smsSenders(log)
	if err != nil {
		return err
	}
	out := &sender.Sender{DB: db, Carriers: senders, Log: log, Metrics: sender.NewMetrics(metrics)}
	go func() {
		if err := out.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("sms sender stopped", "err", err)
		}
	}()
	app := gateway.New(gateway.Config{
		Dialog: &dialog.Service{Store: store, Registry: db, Reports: db, Menus: catalog, TTL: cfg.SessionTTL, Log: log,
			Metrics: dialog.NewMetrics(metrics), Cache: &dialog.Cache{TTL: cfg.SessionTTL}},
		Metrics: metrics,
		Phones:  &phone.Cache{Normalizer: phone.Normalizer{Region: cfg.Region}},
		USSD:    adapters,
		SMS: []gateway.SMSAdapter{
			africastalking.SMS{},
			twilio.SMS{AuthToken: cfg.Twilio.Secret, PublicURL: cfg.PublicURL},
			kannel.SMS{},
		},
		Inbox: box,
		Mounts: []func(*fiber.App){(&admin.API{Store: db, Registry: db, Reports: db, People: db, Options: mopts, Location: cfg.Location, Log: log, Refresh: func(ctx context.Context) error {
			_, err := db.RefreshCatalog(ctx, catalog, mopts)
			return err
		}}).Mount, console.Mount},
		Routes: []gateway.Route{
			{Method: http.MethodPost, Path: "/sms/africastalking/dlr", Handler: africastalking.DLR(db)},
			{Method: http.MethodPost, Path: "/sms/twilio/status", Handler: twilio.Status(db, twilio.Verifier(cfg.Twilio.Secret, cfg.PublicURL))},
			{Method: http.MethodGet, Path: "/sms/kannel/dlr", Handler: kannel.DLR(db)},
		},
		Checks: []gateway.Check{{Name: "postgres", Ping: db.Ping}, {Name: "redis", Ping: store.Ping}},
		Log:    log,
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("BAREFOOT_ADDR: %w", err)
	}
	log.Info("barefoot listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(8 * time.Second); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// smsSenders builds the send client of every configured carrier. A
// carrier that is not configured has no client: its messages fail with a
// clear reason rather than wait forever.
func (c config) smsSenders(log *slog.Logger) (map[string]sender.Client, error) {
	out := map[string]sender.Client{}
	if c.AT.configured() {
		s := africastalking.Sender{BaseURL: c.AT.BaseURL, Username: c.AT.User, APIKey: c.AT.Secret, From: c.AT.From}
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("BAREFOOT_AT_*: %w", err)
		}
		out[africastalking.CarrierName] = s
	}
	if c.Twilio.configured() {
		callback := ""
		if c.PublicURL != "" {
			callback = c.PublicURL + "/sms/twilio/status"
		}
		s := twilio.Sender{BaseURL: c.Twilio.BaseURL, AccountSID: c.Twilio.User, AuthToken: c.Twilio.Secret, From: c.Twilio.From, StatusCallback: callback}
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("BAREFOOT_TWILIO_*: %w", err)
		}
		out[twilio.CarrierName] = s
	}
	if c.Kannel.configured() {
		dlr := ""
		if c.PublicURL != "" {
			dlr = c.PublicURL + "/sms/kannel/dlr?id={id}&status=%d"
		}
		s := kannel.Sender{BaseURL: c.Kannel.BaseURL, Username: c.Kannel.User, Password: c.Kannel.Secret, From: c.Kannel.From, DLRURL: dlr}
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("BAREFOOT_KANNEL_*: %w", err)
		}
		out[kannel.CarrierName] = s
	}
	if len(out) == 0 {
		log.Warn("no SMS carrier configured: replies and alerts stay queued and then fail; see README")
	}
	return out, nil
}

func migrate(ctx context.Context, cfg config, out io.Writer) error {
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	db.Close()
	fmt.Fprintln(out, "migrations applied")
	return nil
}
