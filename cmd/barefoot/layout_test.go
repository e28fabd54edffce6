package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layout's rules, checked on the import graph: the menu engine and its
// domain know no technology, adapters do not know each other, and a
// carrier is one package that no other carrier reaches into.

const module = "github.com/barefoot-ussd/barefoot/"

// carriers are the carrier packages. A new carrier is added here too, or
// TestLayout's check of the composition root fails.
var carriers = []string{"gateway/africastalking", "gateway/aliyun", "gateway/cmpp", "gateway/generic", "gateway/hubtel", "gateway/kannel", "gateway/tencent", "gateway/twilio"}

type pkg struct {
	ImportPath string
	Deps       []string
}

func listPackages(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", module+"...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		deps[strings.TrimPrefix(p.ImportPath, module)] = p.Deps
	}
	return deps
}

func TestLayout(t *testing.T) {
	pkgs := listPackages(t)
	forbidden := func(from string, banned ...string) {
		for _, d := range pkgs[from] {
			for _, b := range banned {
				if d == b || strings.HasPrefix(d, b+"/") {
					t.Errorf("%s depends on %s", from, d)
				}
			}
		}
	}
	drivers := []string{"github.com/gofiber/fiber/v2", "github.com/redis/go-redis/v9", "github.com/jmoiron/sqlx",
		"github.com/lib/pq", "github.com/pressly/goose/v3", "net/http", "database/sql"}
	adapters := []string{module + "gateway", module + "storage", module + "sessions", module + "cmd", module + "fixtures"}
	seen := 0
	for name := range pkgs {
		if name == "menus" || strings.HasPrefix(name, "menus/") {
			seen++
			forbidden(name, append(drivers, adapters...)...)
		}
	}
	if seen < 2 {
		t.Fatalf("found %d menus packages: the check ran on nothing", seen)
	}
	for _, c := range carriers {
		if _, ok := pkgs[c]; !ok {
			t.Fatalf("carrier package %s is gone: update the list", c)
		}
		var others []string
		for _, o := range carriers {
			if o != c {
				others = append(others, module+o)
			}
		}
		forbidden(c, others...)
		forbidden(c, module+"storage", module+"sessions", module+"gateway/assemble")
	}
	forbidden("storage", module+"gateway", module+"sessions")
	forbidden("sessions", module+"gateway", module+"storage")
	forbidden("gateway/conversation", append([]string{module + "storage", module + "sessions"}, prefixed(carriers)...)...)
	forbidden("gateway", prefixed(carriers)...)

	// Every carrier the composition root wires is in the list above, so
	// the rules cover each one.
	for _, d := range pkgs["gateway/assemble"] {
		name := strings.TrimPrefix(d, module)
		if !strings.HasPrefix(d, module+"gateway/") || strings.Count(name, "/") != 1 {
			continue
		}
		switch name {
		case "gateway/admin", "gateway/console", "gateway/conversation", "gateway/wire", "gateway/sender", "gateway/export":
			continue
		}
		if !slices.Contains(carriers, name) {
			t.Errorf("gateway/assemble wires %s, which is not in the carrier list", name)
		}
	}
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = module + n
	}
	return out
}
