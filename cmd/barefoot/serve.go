package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/africastalking"
	"github.com/barefoot-ussd/barefoot/gateway/dialog"
	"github.com/barefoot-ussd/barefoot/gateway/generic"
	"github.com/barefoot-ussd/barefoot/gateway/hubtel"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/sessions"
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
	app := gateway.New(gateway.Config{
		Dialog: &dialog.Service{Store: store, Registry: db, Reports: db, Menus: catalog, TTL: cfg.SessionTTL, Log: log,
			Metrics: dialog.NewMetrics(metrics)},
		Metrics: metrics,
		Phones:  &phone.Cache{Normalizer: phone.Normalizer{Region: cfg.Region}},
		USSD:    adapters,
		Checks:  []gateway.Check{{Name: "postgres", Ping: db.Ping}, {Name: "redis", Ping: store.Ping}},
		Log:     log,
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

func migrate(ctx context.Context, cfg config, out io.Writer) error {
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	db.Close()
	fmt.Fprintln(out, "migrations applied")
	return nil
}
