package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/twilio"
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

	g, err := assemble.New(ctx, db, rdb, assemble.Settings{
		Region: cfg.Region, RedisPrefix: cfg.RedisPrefix, SessionTTL: cfg.SessionTTL, ResumeTTL: cfg.ResumeTTL,
		SMSSessionTTL: cfg.SMSSessionTTL, ReplyLimit: cfg.SMSReplyLimit, StrangerReplyLimit: cfg.SMSStrangerReplyLimit, ReplyWindow: cfg.SMSReplyWindow,
		DailyReplies: cfg.SMSDailyReplies, StatusSecret: cfg.StatusSecret, PublicURL: cfg.PublicURL,
		TwilioToken: cfg.Twilio.Secret, AlertCarrier: cfg.AlertCarrier, Location: cfg.Location,
	}, log)
	if err != nil {
		return fmt.Errorf("load menu trees: %w", err)
	}
	if len(g.Catalog.Published()) == 0 {
		log.Warn("no menu tree is published; run `barefoot seed` to load the demo")
	}
	// The publish listener loads new trees at once; this refresh is the
	// fallback for when it is down.
	go func() {
		t := time.NewTicker(treeRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := g.Refresh(ctx); err != nil {
					log.Error("menu tree refresh failed", "err", err)
				}
			}
		}
	}()
	g.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	senders, err := cfg.smsSenders(log)
	if err != nil {
		return err
	}
	out := &sender.Sender{DB: db, Carriers: senders, Log: log, Metrics: sender.NewMetrics(g.Metrics)}
	go func() {
		if err := out.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("sms sender stopped", "err", err)
		}
	}()
	if addr := os.Getenv("BAREFOOT_PPROF_ADDR"); addr != "" {
		if err := servePprof(ctx, addr, log); err != nil {
			return err
		}
	}
	app := g.App
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

// servePprof serves Go's profiler on addr, for measuring the gateway under
// load. It is off unless BAREFOOT_PPROF_ADDR is set, and only a loopback
// address is accepted: profiles show request data and cost CPU to take.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if ip, perr := netip.ParseAddr(host); err != nil || (host != "localhost" && (perr != nil || !ip.IsLoopback())) {
		return fmt.Errorf("BAREFOOT_PPROF_ADDR: want a loopback address such as 127.0.0.1:6060, got %q", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("BAREFOOT_PPROF_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Warn("profiler listening", "addr", ln.Addr().String())
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
