package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/cmd/barefoot/internal/loadgen"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/barefoot-ussd/barefoot/storage"
)

const loadgenUsage = `usage: barefoot loadgen [flags]
       barefoot loadgen --seed-directors N

Drives a running gateway on this machine through its carrier endpoints
(Africa's Talking USSD, Kannel SMS) with many simulated phones at once, each
walking whole sessions and checking every screen, and prints hops and
sessions a second, latency per hop and errors by kind.

Flows: visit (the home visit walk, saved), need (a need, saved), browse (the
visit walk backing out at the confirm, nothing saved), allowance (a guardian
dials *384*2016#), status (a guardian texts STATUS), form (a director texts
"V C0001 1"), mix (weighted, see --mix).

Directors' phones are synthetic (+861379xxxxxxx, English, 青山村, assigned the
demo children C0001-C0005): register them once with --seed-directors N,
which writes to BAREFOOT_DATABASE_URL through the audited registry import.
Guardians' flows use the demo guardians; SMS flows are subject to the
gateway's reply limits (BAREFOOT_SMS_REPLY_LIMIT, BAREFOOT_SMS_DAILY_REPLIES).

Flags:
`

// loadgenDirectorsPerImport bounds one import's transaction.
const loadgenDirectorsPerImport = 2000

func loadgenCommand(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, loadgenUsage)
		fs.PrintDefaults()
	}
	var lc loadgen.Config
	fs.StringVar(&lc.URL, "url", defaultURL(cfg.Addr), "gateway base URL; loopback only")
	fs.StringVar(&lc.Flow, "flow", "visit", "visit, need, browse, allowance, status, form or mix")
	fs.StringVar(&lc.Mix, "mix", loadgen.DefaultMix, "weights of a mixed run")
	fs.IntVar(&lc.Sessions, "sessions", 0, "stop after this many sessions (0: no limit)")
	fs.DurationVar(&lc.Duration, "duration", 0, "stop starting sessions after this long (default 10s when --sessions is not set)")
	fs.DurationVar(&lc.Warmup, "warmup", 0, "run this long before measuring")
	fs.IntVar(&lc.Concurrency, "concurrency", 16, "phones walking at once, each on its own connection")
	fs.IntVar(&lc.Directors, "directors", 10000, "synthetic directors seeded (see --seed-directors)")
	fs.DurationVar(&lc.Timeout, "timeout", 5*time.Second, "time limit of one hop")
	fs.Uint64Var(&lc.Seed, "seed", 1, "seed of the children the phones pick")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	seedN := fs.Int("seed-directors", 0, "register this many synthetic directors and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadgen: unexpected argument %q (see barefoot loadgen --help)", fs.Arg(0))
	}
	if *seedN != 0 {
		return seedLoadDirectors(ctx, cfg, *seedN, stdout)
	}
	if lc.Sessions == 0 && lc.Duration == 0 {
		lc.Duration = 10 * time.Second
	}
	if !*quiet {
		lc.Progress = os.Stderr
	}
	res, err := loadgen.Run(ctx, lc)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("loadgen: write summary: %w", err)
		}
	} else {
		res.WriteText(stdout)
	}
	if n := res.ErrorCount(); n > 0 {
		return fmt.Errorf("loadgen: %d hops failed", n)
	}
	return nil
}

// seedLoadDirectors registers n synthetic directors and assigns them the
// demo children, through the registry's audited import as an
// administrator's CSV would: what loadgen's phones dial in as. It is
// idempotent, and seeding fewer than before unassigns nobody.
func seedLoadDirectors(ctx context.Context, cfg config, n int, out io.Writer) error {
	if n < 1 || n > loadgen.MaxDirectors {
		return fmt.Errorf("loadgen: --seed-directors: want 1 to %d", loadgen.MaxDirectors)
	}
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	started := time.Now()
	created, err := seedDirectorsInto(ctx, db, n, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d synthetic directors (%d new) assigned C0001-C0005 in %.1fs\n", n, created, time.Since(started).Seconds())
	return nil
}

// loadChildren are the demo children every synthetic director is
// assigned.
var loadChildren = []string{"C0001", "C0002", "C0003", "C0004", "C0005"}

// seedDirectorsInto does seedLoadDirectors' work on an open store, so a
// test can seed a gateway's own database; progress goes to out.
func seedDirectorsInto(ctx context.Context, db *storage.DB, n int, out io.Writer) (created int, err error) {
	for from := 0; from < n; from += loadgenDirectorsPerImport {
		to := min(from+loadgenDirectorsPerImport, n)
		ds := make([]registry.Director, 0, to-from)
		for i := from; i < to; i++ {
			ds = append(ds, registry.Director{
				Phone: loadgen.DirectorPhone(i), Name: fmt.Sprintf("Load %07d", i+1),
				Language: "en", Village: "青山村", County: "云岭县",
			})
		}
		c, _, err := db.ImportDirectors(ctx, access.System, ds, false)
		if err != nil {
			return created, fmt.Errorf("loadgen: seed directors %d-%d: %w", from+1, to, err)
		}
		created += c
		if n > loadgenDirectorsPerImport {
			fmt.Fprintf(out, "directors %d/%d\n", to, n)
		}
	}
	// The children keep the directors they have (the responsible one
	// first) and gain the synthetic ones.
	var cs []registry.ChildRecord
	for _, code := range loadChildren {
		found, _, err := db.ListChildren(ctx, code, 10, 0)
		if err != nil {
			return created, fmt.Errorf("loadgen: read child %s: %w", code, err)
		}
		i := slices.IndexFunc(found, func(c registry.ChildRecord) bool { return c.Code == code })
		if i < 0 {
			return created, fmt.Errorf("loadgen: child %s is not in the registry: run `barefoot seed` first", code)
		}
		c := found[i]
		have := make(map[string]bool, len(c.Directors)+n)
		for _, p := range c.Directors {
			have[p] = true
		}
		for j := range n {
			if p := loadgen.DirectorPhone(j); !have[p] {
				c.Directors = append(c.Directors, p)
			}
		}
		cs = append(cs, c)
	}
	if _, _, err := db.ImportChildren(ctx, access.System, cs, false); err != nil {
		return created, fmt.Errorf("loadgen: assign %s: %w", strings.Join(loadChildren, ", "), err)
	}
	return created, nil
}
