package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/menus"
)

// seed loads the demo registry and publishes the demo menu trees. It is
// idempotent: run twice, it changes nothing the second time.
func seed(ctx context.Context, cfg config, out io.Writer) error {
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := demo.Seed(ctx, db, out); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// checkMenus validates tree files and prints every problem.
func checkMenus(files []string, out io.Writer) error {
	bad := 0
	for _, f := range files {
		format, err := menus.FormatOf(f)
		if err == nil {
			var src []byte
			if src, err = os.ReadFile(f); err == nil {
				_, err = menus.Parse(src, format)
			}
		}
		if err != nil {
			bad++
			fmt.Fprintf(out, "%s: %v\n", f, strings.TrimPrefix(err.Error(), "menus: "+f+": "))
			continue
		}
		fmt.Fprintf(out, "%s: ok\n", f)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d trees invalid", bad, len(files))
	}
	return nil
}
