package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/barefoot-ussd/barefoot/menus/access"
)

// adminCommand runs `barefoot admin create-user`: the first administrator
// has to come from somewhere other than the console.
func adminCommand(ctx context.Context, cfg config, args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 || args[0] != "create-user" {
		return usageError{}
	}
	fs := flag.NewFlagSet("create-user", flag.ContinueOnError)
	fs.SetOutput(out)
	username := fs.String("username", "", "login name (lower case)")
	role := fs.String("role", access.RoleAdmin, "admin, editor or viewer")
	area := fs.String("area", "", "code of the area the user answers for (a county or township); the whole deployment when empty")
	if err := fs.Parse(args[1:]); err != nil || *username == "" {
		return usageError{}
	}
	// The password is read from standard input, never from a flag, which
	// would leave it in the shell's history and the process list.
	fmt.Fprint(out, "password (at least 10 characters): ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	fmt.Fprintln(out)
	db, err := cfg.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	system := access.User{Username: "cli"}
	u, err := db.CreateUser(ctx, system, *username, password, *role)
	if err != nil {
		return err
	}
	if *area != "" {
		if u, err = db.SetUserArea(ctx, system, u.Username, *area); err != nil {
			return err
		}
	}
	token, err := db.CreateToken(ctx, system, u.ID, "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s (%s) created\nAPI token (shown once): %s\n", u.Username, u.Role, token)
	return nil
}
