// Command barefoot is the Barefoot gateway: one binary with subcommands.
//
//	barefoot serve      run the gateway (migrates first)
//	barefoot migrate    apply database migrations
//	barefoot seed       load the demo registry and menu trees
//	barefoot simulate   a terminal phone that talks to a running gateway
//	barefoot menus check FILE...  validate menu trees
//	barefoot admin create-user    create a console user
//	barefoot purge --older-than D forget old message bodies and raw answers
//	barefoot rekey                seal reports' answers under the first data key
//	barefoot loadgen    load a running gateway with simulated phones
//
// Configuration comes from BAREFOOT_* environment variables (see README).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: barefoot <command> [flags]

commands:
  serve               run the gateway (applies migrations first)
  migrate             apply database migrations
  seed                load the demo registry and menu trees
  simulate            talk to a running gateway from the terminal
  menus check FILE... validate menu tree files
  admin create-user --username NAME [--role admin|editor|viewer]
                      create a console user (password read from stdin)
  purge --older-than DURATION
                      forget message bodies and numbers, and reports' raw
                      answers, older than DURATION (e.g. 2160h); report
                      counts and the audit log are kept
  rekey               seal every report's answers under the first key of
                      BAREFOOT_DATA_KEYS (after a key rotation)
  loadgen             load a gateway on this machine with simulated phones
                      walking whole sessions (--help)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		// One line, no stack trace: these are operator-facing.
		fmt.Fprintln(os.Stderr, "barefoot:", err)
		os.Exit(1)
	}
}

type usageError struct{}

func (usageError) Error() string { return "usage" }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{}
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return err
	}
	switch args[0] {
	case "serve":
		return serve(ctx, cfg)
	case "migrate":
		return migrate(ctx, cfg, stdout)
	case "seed":
		return seed(ctx, cfg, stdout)
	case "simulate":
		return simulate(ctx, cfg, args[1:], stdin, stdout)
	case "admin":
		return adminCommand(ctx, cfg, args[1:], stdin, stdout)
	case "purge":
		return purge(ctx, cfg, args[1:], stdout)
	case "rekey":
		return rekey(ctx, cfg, stdout)
	case "loadgen":
		return loadgenCommand(ctx, cfg, args[1:], stdout)
	case "menus":
		if len(args) < 3 || args[1] != "check" {
			return usageError{}
		}
		return checkMenus(args[2:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{}
}
