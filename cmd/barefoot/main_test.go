package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/sessions/sessionstest"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

func TestLoadConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := loadConfig(env())
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || !strings.Contains(c.DatabaseURL, "/barefoot?") || c.RedisURL != "redis://127.0.0.1:6379/0" || c.Region != "CN" || c.SessionTTL != 5*time.Minute {
		t.Fatalf("defaults = %+v", c)
	}
	if c.QuietHours.String() != "21:00-08:00" || c.ReminderDay != 25 {
		t.Fatalf("casework defaults: quiet %s, reminder day %d", c.QuietHours, c.ReminderDay)
	}
	if c, err := loadConfig(env("BAREFOOT_QUIET_HOURS", "off")); err != nil || c.QuietHours.String() != "off" {
		t.Fatalf("quiet hours off: %s, %v", c.QuietHours, err)
	}
	tests := []struct {
		env  []string
		want string // the variable the error must name
	}{
		{[]string{"BAREFOOT_SESSION_TTL", "soon"}, "BAREFOOT_SESSION_TTL"},
		{[]string{"BAREFOOT_SESSION_TTL", "1ms"}, "BAREFOOT_SESSION_TTL"},
		{[]string{"BAREFOOT_LOG_LEVEL", "loud"}, "BAREFOOT_LOG_LEVEL"},
		{[]string{"BAREFOOT_PHONE_REGION", "China"}, "BAREFOOT_PHONE_REGION"},
		{[]string{"BAREFOOT_WEBHOOK_SECRET", "short"}, "BAREFOOT_WEBHOOK_SECRET"},
		{[]string{"BAREFOOT_QUIET_HOURS", "nights"}, "BAREFOOT_QUIET_HOURS"},
		{[]string{"BAREFOOT_QUIET_HOURS", "21:00-21:00"}, "BAREFOOT_QUIET_HOURS"},
		{[]string{"BAREFOOT_REMINDER_DAY", "31"}, "BAREFOOT_REMINDER_DAY"},
	}
	for _, tt := range tests {
		if _, err := loadConfig(env(tt.env...)); err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
			t.Errorf("env %v: error %v, want one naming %s", tt.env, err, tt.want)
		}
	}
}

// TestUnreachableServicesNameTheVariable: a missing service is one line
// naming the variable to fix, without the password.
func TestUnreachableServicesNameTheVariable(t *testing.T) {
	t.Setenv("BAREFOOT_DATABASE_URL", "postgres://barefoot:s3cret@127.0.0.1:1/barefoot?sslmode=disable")
	err := run(context.Background(), []string{"migrate"}, nil, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "BAREFOOT_DATABASE_URL: ") || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("unreachable postgres: %v", err)
	}
	t.Setenv("BAREFOOT_DATABASE_URL", storagetest.DSNFor("barefoot_cmd_unused"))
	t.Setenv("BAREFOOT_REDIS_URL", "redis://127.0.0.1:1/0")
	cfg, _ := loadConfig(os.Getenv)
	if _, err := cfg.openRedis(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "BAREFOOT_REDIS_URL: ") {
		t.Fatalf("unreachable redis: %v", err)
	}
}

// TestServeReadsCarrierSettings: serve hands the environment to the
// carriers, which check their own settings; a mistake stops it with one
// line naming the variable, never the secret.
func TestServeReadsCarrierSettings(t *testing.T) {
	defer slog.SetDefault(slog.Default()) // serve sets its own
	name := storagetest.RandomName("barefoot_cmd")
	storagetest.MustDropDatabase(t, name)
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"BAREFOOT_TWILIO_AUTH_TOKEN", "s3cret-token"}, "BAREFOOT_PUBLIC_URL: "},
		{[]string{"BAREFOOT_AT_USERNAME", "barefoot"}, "BAREFOOT_AT_API_KEY: "},
		{[]string{"BAREFOOT_KANNEL_URL", "http://127.0.0.1:13013", "BAREFOOT_KANNEL_USERNAME", "barefoot"}, "BAREFOOT_KANNEL_PASSWORD: "},
		{[]string{"BAREFOOT_ALERT_CARRIER", "hubtel"}, "BAREFOOT_ALERT_CARRIER: "},
	} {
		env := map[string]string{
			"BAREFOOT_DATABASE_URL": storagetest.DSNFor(name), "BAREFOOT_REDIS_URL": sessionstest.URL(),
			"BAREFOOT_ADDR": "127.0.0.1:0", "BAREFOOT_LOG_LEVEL": "error", "BAREFOOT_SPOOL_DIR": t.TempDir(),
		}
		for i := 0; i+1 < len(tt.env); i += 2 {
			env[tt.env[i]] = tt.env[i+1]
		}
		cfg, err := loadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		err = serve(t.Context(), cfg)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("env %v: serve = %v, want an error naming %s", tt.env, err, tt.want)
		}
	}
}

// TestMigrateAndSeed runs the subcommands on a database of their own.
func TestMigrateAndSeed(t *testing.T) {
	name := storagetest.RandomName("barefoot_cmd")
	storagetest.MustDropDatabase(t, name)
	t.Setenv("BAREFOOT_DATABASE_URL", storagetest.DSNFor(name))
	var out bytes.Buffer
	for _, cmd := range []string{"migrate", "seed", "seed"} {
		if err := run(context.Background(), []string{cmd}, nil, &out); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	if !strings.Contains(out.String(), "migrations applied") || strings.Count(out.String(), "menu tree director: version 1 published") != 2 {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestSimulate plays the demo visit through the terminal phone against a
// running gateway.
func TestSimulate(t *testing.T) {
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	var out bytes.Buffer
	in := strings.NewReader("1\nC0009\nC0001\n1\n1\n")
	if err := run(context.Background(), []string{"simulate", "--phone", "+8613800138002", "--url", g.URL}, in, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1. Record a home visit", "C0009 is not one of your children", "How is 王小明?", "Visit saved. Ref V", "[session ended]"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("simulate output lacks %q:\n%s", want, out.String())
		}
	}
	// Hanging up mid-walk is not an error.
	out.Reset()
	if err := run(context.Background(), []string{"simulate", "--url", g.URL}, strings.NewReader("2\n"), &out); err != nil || !strings.Contains(out.String(), "[hung up]") {
		t.Fatalf("hang up: %v\n%s", err, out.String())
	}
}

// TestSimulateSMS texts the running gateway: a family's STATUS, and a
// director's one-line visit.
func TestSimulateSMS(t *testing.T) {
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"simulate", "--sms", "--phone", "+8613900139001", "--url", g.URL, "状态"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "王小明的生活补贴已批准") {
		t.Fatalf("status reply:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"simulate", "--sms", "--phone", "+8613800138002", "--url", g.URL}, strings.NewReader("V C0001 1\nhelp\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Visit saved. Ref V") || !strings.Contains(out.String(), "MENU for the menu") {
		t.Fatalf("director session:\n%s", out.String())
	}
}

// TestServeRefusesAnOpenPort: a gateway listening beyond loopback without
// a webhook secret would take forged callbacks from anyone; it does not
// start, and says which variable to set.
func TestServeRefusesAnOpenPort(t *testing.T) {
	defer slog.SetDefault(slog.Default()) // serve sets its own
	name := storagetest.RandomName("barefoot_cmd")
	storagetest.MustDropDatabase(t, name)
	env := map[string]string{
		"BAREFOOT_DATABASE_URL": storagetest.DSNFor(name), "BAREFOOT_REDIS_URL": sessionstest.URL(),
		"BAREFOOT_ADDR": "0.0.0.0:0", "BAREFOOT_LOG_LEVEL": "error", "BAREFOOT_SPOOL_DIR": t.TempDir(),
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	err = serve(t.Context(), cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "BAREFOOT_WEBHOOK_SECRET: required when BAREFOOT_ADDR") {
		t.Fatalf("serve on 0.0.0.0 without a secret: %v", err)
	}
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true, ":8080": false, "0.0.0.0:8080": false, "10.0.0.5:8080": false} {
		if loopback(addr) != want {
			t.Errorf("loopback(%q) = %v", addr, !want)
		}
	}
}

func TestMenusCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nlanguages: [zh]\nstart: a\nnodes:\n  - {id: a, kind: end, text: {zh: 好}}\n  - {id: b, kind: end, text: {zh: 坏}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"menus", "check", "../../fixtures/menus/director.yaml", bad}, nil, &out)
	if err == nil || !strings.Contains(out.String(), "director.yaml: ok") || !strings.Contains(out.String(), `node "b": unreachable`) {
		t.Fatalf("menus check: %v\n%s", err, out.String())
	}
}

// TestMenusCheckScreens: the command line checks screen budgets as
// publishing does, and FORMAT.md's worked example passes; --help helps.
func TestMenusCheckScreens(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../fixtures/menus/director.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{86, 256} {
		long := strings.Replace(string(src), "zh: 紧急程度？", "zh: "+strings.Repeat("紧", n), 1)
		f := filepath.Join(dir, fmt.Sprintf("long%d.yaml", n))
		if err := os.WriteFile(f, []byte(long), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := run(context.Background(), []string{"menus", "check", f}, nil, &out)
		if err == nil || !strings.Contains(out.String(), `node "need_urgency": text: zh prompt with its first option is`) || !strings.Contains(out.String(), "over the screen budget") {
			t.Fatalf("a %d-character Chinese prompt: %v\n%s", n, err, out.String())
		}
	}
	doc, err := os.ReadFile("../../menus/FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "<!-- school-tree -->\n```yaml\n")
	school, _, _ := strings.Cut(rest, "```")
	f := filepath.Join(dir, "school.yaml")
	if err := os.WriteFile(f, []byte(school), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"menus", "check", f}, nil, &out); err != nil {
		t.Fatalf("FORMAT.md's school tree: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"menus", "check", "--help"}, nil, &out); err != nil || !strings.Contains(out.String(), "usage: barefoot menus check FILE...") {
		t.Fatalf("--help: %v\n%s", err, out.String())
	}
}

func TestAdminCreateUser(t *testing.T) {
	name := storagetest.RandomName("barefoot_cmd")
	storagetest.MustDropDatabase(t, name)
	t.Setenv("BAREFOOT_DATABASE_URL", storagetest.DSNFor(name))
	var out bytes.Buffer
	if err := run(context.Background(), []string{"admin", "create-user", "--username", "county1", "--role", "editor"}, strings.NewReader("a long enough password\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "user county1 (editor) created") || !strings.Contains(out.String(), "API token (shown once): bft_") {
		t.Fatalf("output:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"admin", "create-user", "--username", "county2"}, strings.NewReader("short\n"), io.Discard); err == nil {
		t.Fatal("a short password was accepted")
	}
}

// TestPurgeCommand: purge asks for a retention period, and says what it
// forgot.
func TestPurgeCommand(t *testing.T) {
	name := storagetest.RandomName("barefoot_cmd")
	storagetest.MustDropDatabase(t, name)
	t.Setenv("BAREFOOT_DATABASE_URL", storagetest.DSNFor(name))
	var out bytes.Buffer
	if err := run(context.Background(), []string{"purge", "--older-than", "1h"}, nil, &out); err == nil {
		t.Fatal("purge of the last hour ran")
	}
	if err := run(context.Background(), []string{"purge", "--older-than", "2160h"}, nil, &out); err != nil || !strings.Contains(out.String(), "forgot 0 messages and the raw answers of 0 reports") {
		t.Fatalf("purge: %v\n%s", err, out.String())
	}
}

// TestFaultSIGTERMDrains: on a stop, readiness goes false first while
// callbacks are still answered, then the process stops within its bound.
func TestFaultSIGTERMDrains(t *testing.T) {
	defer slog.SetDefault(slog.Default()) // serve sets its own
	name := storagetest.RandomName("barefoot_cmd")
	storagetest.MustDropDatabase(t, name)
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	env := map[string]string{
		"BAREFOOT_DATABASE_URL": storagetest.DSNFor(name), "BAREFOOT_REDIS_URL": sessionstest.URL(),
		"BAREFOOT_ADDR": addr, "BAREFOOT_LOG_LEVEL": "error", "BAREFOOT_SPOOL_DIR": t.TempDir(), "BAREFOOT_DRAIN_DELAY": "1s",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg) }()
	get := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(30 * time.Second)
	for get("/readyz") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("the gateway never became ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	for get("/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("readiness never went false")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := get("/healthz"); got != 200 {
		t.Fatalf("callbacks during the drain delay: %d, want answered", got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after the stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}
