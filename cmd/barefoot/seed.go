package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/gateway/assemble"
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
	if len(files) == 0 || files[0] == "-h" || files[0] == "--help" || files[0] == "help" {
		fmt.Fprint(out, checkUsage)
		return nil
	}
	opts := assemble.MenuOptions("")
	bad := 0
	for _, f := range files {
		format, err := menus.FormatOf(f)
		if err == nil {
			var src []byte
			if src, err = os.ReadFile(f); err == nil {
				_, err = menus.Check(src, format, opts)
			}
		}
		var verr *menus.ValidationError
		switch {
		case errors.As(err, &verr):
			bad++
			fmt.Fprintf(out, "%s: %d problems\n", f, len(verr.Problems))
			for _, p := range verr.Problems {
				fmt.Fprintf(out, "  %s\n", p)
			}
		case err != nil:
			bad++
			fmt.Fprintf(out, "%s: %v\n", f, strings.TrimPrefix(err.Error(), "menus: "))
		default:
			fmt.Fprintf(out, "%s: ok\n", f)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d trees invalid", bad, len(files))
	}
	return nil
}

const checkUsage = `usage: barefoot menus check FILE...

Checks menu tree files (.yaml, .yml or .json) exactly as publishing does:
the format, every node and every path (answers a save needs, placeholders a
screen shows), and every screen in every language against the strictest
screen budget of the gateway's carriers. Prints every problem, each naming
its node and field, and exits non-zero when any tree has one.
`
