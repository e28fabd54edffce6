package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// purge forgets what is older than --older-than: message bodies and
// numbers, and reports' raw answers (storage.DB.Purge). Run it from cron
// with the retention the programme decides; nothing is forgotten unless
// asked.
func purge(ctx context.Context, cfg config, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(out)
	olderThan := fs.Duration("older-than", 0, "forget what is older than this, e.g. 2160h (90 days)")
	if err := fs.Parse(args); err != nil {
		return usageError{}
	}
	if *olderThan < 24*time.Hour {
		return errors.New("purge: --older-than must be at least 24h (it is a retention period, not a clean-up of today)")
	}
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	before := time.Now().Add(-*olderThan)
	p, err := db.Purge(ctx, before)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "forgot %d messages and the raw answers of %d reports from before %s\n", p.Messages, p.Reports, before.In(cfg.Location).Format("2006-01-02 15:04"))
	return nil
}

// rekey seals every report's answers under the first of BAREFOOT_DATA_KEYS.
func rekey(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.DataKeys == "" {
		return errors.New("BAREFOOT_DATA_KEYS: required by rekey")
	}
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.RekeyAnswers(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sealed the answers of %d reports under the first key\n", n)
	return nil
}
