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
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/assemble"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/storage"
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
		DailyReplies: cfg.SMSDailyReplies, StatusSecret: cfg.StatusSecret, Getenv: cfg.Getenv, PublicURL: cfg.PublicURL,
		AlertCarrier: cfg.AlertCarrier, CaseDeadlines: cfg.CaseDeadlines, Location: cfg.Location, QuietHours: cfg.QuietHours, ReminderDay: cfg.ReminderDay, WebhookSecret: cfg.WebhookSecret, SpoolDir: cfg.SpoolDir, SeparateAdmin: cfg.AdminAddr != "",
	}, log)
	if err != nil {
		return err // it names the setting to fix, or says what failed
	}
	if !loopback(cfg.Addr) && len(g.Unguarded) > 0 {
		return fmt.Errorf("BAREFOOT_WEBHOOK_SECRET: required when BAREFOOT_ADDR (%s) listens beyond loopback: anyone who reaches the port could forge callbacks of %s", cfg.Addr, strings.Join(g.Unguarded, ", "))
	}
	if cfg.DataKeys == "" {
		log.Warn("BAREFOOT_DATA_KEYS is empty: reports' answers are stored unsealed; see README, Security")
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
	if len(g.Senders) == 0 {
		// Not an error: the demo runs without a carrier account.
		log.Warn("no SMS carrier configured: replies and alerts stay queued and then fail; see README")
	}
	out := &sender.Sender{DB: db, Carriers: g.Senders, TemplatesOnly: g.TemplatesOnly, DailyCaps: g.DailyCaps, Approvals: db, Log: log, Metrics: sender.NewMetrics(g.Metrics)}
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		if err := out.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("sms sender stopped", "err", err)
		}
	}()
	// Scheduled work (case escalations, reminders) runs in every process;
	// the jobs table hands each due job to one of them.
	// This month's (or next month's) visit reminders: scheduled by
	// whichever process starts first, each month's run scheduling the next.
	if err := db.ScheduleVisitReminders(ctx, time.Now()); err != nil {
		log.Error("visit reminders not scheduled; the next start tries again", "err", err)
	}
	go db.RunJobs(ctx, time.Now, 15*time.Second, log)
	// Carriers' own connections (CMPP) outlive the signal until the sender
	// is done with them: a send cut off from its connection is sent again.
	runCtx, stopRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRuns()
	runs := carrierRuns{stop: stopRuns, done: g.RunCarriers(runCtx, log)}
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
	errc := make(chan error, 2)
	go func() { errc <- app.Listener(ln) }()
	if g.Admin != nil {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			_ = app.Shutdown()
			return fmt.Errorf("BAREFOOT_ADMIN_ADDR: %w", err)
		}
		log.Info("admin API, console and metrics listening", "addr", aln.Addr().String())
		go func() { errc <- g.Admin.Listener(aln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return shutdown(g, db, senderDone, runs, cfg.DrainDelay, log)
}

// carrierRuns are the carriers' own connections: stop ends them, and done
// is closed once they have returned.
type carrierRuns struct {
	stop func()
	done <-chan struct{}
}

// shutdown stops a gateway in an order that loses nothing: readiness goes
// false (a load balancer stops sending callbacks; BAREFOOT_DRAIN_DELAY
// gives it time to notice), the listeners stop taking connections and
// finish the callbacks in flight, the sender finishes the sends it
// started (a send cut short would be sent again by another process), and
// carriers' own connections are closed (CMPP's TERMINATE), and the spool
// is drained once more while Postgres is there. Each step is
// bounded, so SIGTERM ends the process within about half a minute.
func shutdown(g *assemble.Gateway, db *storage.DB, senderDone <-chan struct{}, runs carrierRuns, delay time.Duration, log *slog.Logger) error {
	log.Info("shutting down")
	g.Drain()
	time.Sleep(delay)
	if g.Admin != nil {
		if err := g.Admin.ShutdownWithTimeout(8 * time.Second); err != nil {
			log.Error("admin shutdown", "err", err)
		}
	}
	err := g.App.ShutdownWithTimeout(8 * time.Second)
	select {
	case <-senderDone:
	case <-time.After(15 * time.Second):
		log.Warn("sends still in flight at shutdown; their leases will let another process finish them")
	}
	runs.stop()
	select {
	case <-runs.done:
	case <-time.After(10 * time.Second):
		log.Warn("carrier connections not closed in time")
	}
	if g.Spool != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if n, derr := g.Spool.Drain(ctx, db); derr != nil {
			log.Warn("spool not drained at shutdown; the next start drains it", "filed", n, "err", derr)
		}
		cancel()
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// loopback reports whether addr listens on the loopback interface only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// servePprof serves Go's profiler on addr, for measuring the gateway under
// load. It is off unless BAREFOOT_PPROF_ADDR is set, and only a loopback
// address is accepted: profiles show request data and cost CPU to take.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	if !loopback(addr) {
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

func migrate(ctx context.Context, cfg config, out io.Writer) error {
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	db.Close()
	fmt.Fprintln(out, "migrations applied")
	return nil
}
