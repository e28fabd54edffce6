package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium for a test. make test installs it; a
// missing browser fails the test rather than skip it, so a broken machine
// cannot pass CI by accident.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (make test installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first action starts the browser, which lives as long as the
	// context of that action: it gets no timeout of its own; each later
	// step does.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// artefact is where screenshots go: artifacts/ at the repository root.
func artefact(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := filepath.Join("..", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleEditPublishSimulate drives the console as an administrator
// would: log in, edit a label, see a validation error next to its node,
// save and publish, and walk the new label in the phone simulator (and on
// the real USSD endpoint).
func TestConsoleEditPublishSimulate(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	if _, err := g.DB.CreateUser(context.Background(), access.User{}, "county", "correct horse battery", access.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	label := `input[data-id="main.option1.en"]`
	prompt := `input[data-id="visit_child.text.en"]`
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, s := range steps {
			sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err := chromedp.Do(sctx, s)
			cancel()
			if err != nil {
				if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
					artefact(t, "console-failure.png", png)
				}
				t.Fatalf("%s, step %d: %v", what, i+1, err)
			}
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	waitFor := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("%s: %v (screen %q)", what, err, text("#sim-screen"))
		}
	}
	// set types into a field as a user would, firing its input event.
	set := func(sel, value string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, sel, value)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatalf("set %s: %v", sel, err)
		}
	}
	shot := func() []byte {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		return png
	}
	step("log in",
		chromedp.Navigate(g.URL+"/admin"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "county"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#login"),
		// Signing in lands on the dashboard; the editor is a tab away.
		chromedp.WaitVisible("#dashboard"),
		chromedp.Navigate(g.URL+"/admin#menus"),
		chromedp.WaitVisible(label))
	// A validation error shows next to its node.
	set(prompt, " ")
	step("validate", chromedp.Click("#validate"), chromedp.WaitVisible(`[data-node="visit_child"] .problem`))
	problem := text(`[data-node="visit_child"] .problem`)
	// Mend it, edit a label, save a draft, publish it.
	set(prompt, "Enter the child ID (e.g. C0001)")
	set(label, "Log a visit")
	step("save", chromedp.Click("#save"), chromedp.WaitVisible(`button[data-publish="2"]`))
	step("publish",
		chromedp.Click(`button[data-publish="2"]`),
		chromedp.WaitVisible("#confirm-ok"),
		chromedp.Click("#confirm-ok"),
		chromedp.WaitNotPresent(`button[data-publish="2"]`))
	saved := text("#versions")
	// In the English console, the simulator plays the tree as an English
	// director sees it.
	step("English", chromedp.Click("#lang"))
	waitFor("simulator shows the new label", `document.querySelector("#sim-screen").textContent.includes("1. Log a visit")`)
	step("answer 1 in the simulator", chromedp.SendKeys("#sim-input", "1"), chromedp.Click("#sim-send"))
	waitFor("simulator moves on", `document.querySelector("#sim-screen").textContent.includes("Enter the child ID")`)
	afterInput := text("#sim-screen")
	editorPNG := shot()
	step("dashboard", chromedp.Navigate(g.URL+"/admin#dashboard"), chromedp.WaitVisible("#main section"))
	dashboardPNG := shot()
	if !strings.Contains(problem, "缺少 en 文字") {
		t.Errorf("validation error next to the node = %q", problem)
	}
	if !strings.Contains(saved, "v2") || !strings.Contains(saved, "● ") {
		t.Errorf("versions after publishing = %q", saved)
	}
	if !strings.Contains(afterInput, "Enter the child ID") {
		t.Errorf("simulator after 1 = %q", afterInput)
	}
	if body := g.AT(t, "ATUid_console", enDirector, ""); !strings.Contains(body, "1. Log a visit") {
		t.Errorf("published label not live on USSD: %q", body)
	}
	artefact(t, "console-editor.png", editorPNG)
	artefact(t, "console-dashboard.png", dashboardPNG)
}

// TestConsoleTemplates: a county administrator sees which SMS templates a
// provider has not approved and how many messages wait for each, records
// Tencent's approval of the alert in Chinese, and the waiting alert is
// released.
func TestConsoleTemplates(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	ctx := context.Background()
	if _, err := g.DB.CreateUser(ctx, access.User{}, "county", "correct horse battery", access.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	alert := templates.MustRender(templates.AlertUrgent, "zh", templates.P("child", "C0001"), templates.P("what", "保护问题"),
		templates.P("director", "+8613800138001"), templates.P("ref", "N7K2Q9"))
	id, _, err := g.DB.Enqueue(ctx, sms.Message{Carrier: "tencent", Phone: "+8613900139001", Kind: sms.KindAlert,
		Body: alert.Body, Template: alert.Template, Lang: alert.Lang, Params: alert.Params})
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	s := &sender.Sender{DB: g.DB, TemplatesOnly: map[string]bool{"tencent": true}, Approvals: g.DB, Log: slog.New(slog.DiscardHandler),
		Carriers: map[string]sender.Client{"tencent": sender.ClientFunc(func(context.Context, sms.Message) (string, error) { sent++; return "serial-1", nil })}}
	if _, err := s.SendDue(ctx); err != nil || sent != 0 {
		t.Fatalf("SendDue: %v, %d sent", err, sent)
	}

	bctx := browser(t)
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, st := range steps {
			sctx, cancel := context.WithTimeout(bctx, 15*time.Second)
			err := chromedp.Do(sctx, st)
			cancel()
			if err != nil {
				if png, serr := chromedp.Run(bctx, chromedp.FullScreenshot(100)); serr == nil {
					artefact(t, "console-templates-failure.png", png)
				}
				t.Fatalf("%s, step %d: %v", what, i+1, err)
			}
		}
	}
	card := `article[data-template="alert_urgent"]`
	run("log in and open the templates",
		chromedp.Navigate(g.URL+"/admin"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "county"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#login"),
		chromedp.WaitVisible("#nav"),
		chromedp.Navigate(g.URL+"/admin#templates"),
		chromedp.WaitVisible(card+` [data-held="1"]`))
	before, err := chromedp.Run(bctx, chromedp.Text(card))
	if err != nil {
		t.Fatal(err)
	}
	pick := fmt.Sprintf(`(() => { const c = document.querySelector(%q); const set = (f, v) => { const e = c.querySelector('[data-field="' + f + '"]'); e.value = v; e.dispatchEvent(new Event(e.tagName === "SELECT" ? "change" : "input", {bubbles: true})); }; set("carrier", "tencent"); set("lang", "zh"); set("status", "approved"); set("provider_id", "2300001"); return true })()`, card)
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](pick)); err != nil {
		t.Fatal(err)
	}
	run("record the approval",
		chromedp.Click(card+` button[data-record="alert_urgent"]`),
		chromedp.WaitVisible(card+` tr[data-approval="tencent/zh"]`),
		chromedp.WaitNotPresent(card+` [data-held]`))
	row, err := chromedp.Run(bctx, chromedp.Text(card+` tr[data-approval="tencent/zh"]`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artefact(t, "console-templates.png", png)

	if !strings.Contains(before, "紧急：儿童{child}") || !strings.Contains(before, "{ref} (ref)") {
		t.Errorf("the alert's card shows %q", before)
	}
	if !strings.Contains(row, "2300001") || !strings.Contains(row, "已通过") {
		t.Errorf("the recorded approval reads %q", row)
	}
	if _, err := s.SendDue(ctx); err != nil || sent != 1 {
		t.Fatalf("after the approval: %v, %d sent", err, sent)
	}
	if m, err := g.DB.MessageByID(ctx, id); err != nil || m.Status != sms.Sent {
		t.Fatalf("the alert after the approval: %+v, %v", m, err)
	}
}

// TestConsoleCases: an officer opens the cases page, finds the overdue
// case first and marked, reads its timeline and acknowledges it.
func TestConsoleCases(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	ctx := context.Background()
	if _, err := g.DB.CreateUser(ctx, access.User{}, "officer", "correct horse battery", access.RoleEditor); err != nil {
		t.Fatal(err)
	}
	// Two cases: one of 青山村 (C0001), one of 石门村 (C0009), the later
	// one overdue.
	first := openDemoCase(t, g)
	if got := kannelSMS(t, g, "+8613800138003", "需求 C0009 6 2"); !strings.HasPrefix(got, "需求已上报") {
		t.Fatalf("need: %q", got)
	}
	var overdue string
	if err := g.SQL(t).GetContext(ctx, &overdue, `UPDATE cases SET deadline_at = now() - interval '1 hour' WHERE code <> $1 RETURNING code`, first); err != nil {
		t.Fatal(err)
	}
	bctx := browser(t)
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, st := range steps {
			sctx, cancel := context.WithTimeout(bctx, 15*time.Second)
			err := chromedp.Do(sctx, st)
			cancel()
			if err != nil {
				if png, serr := chromedp.Run(bctx, chromedp.FullScreenshot(100)); serr == nil {
					artefact(t, "console-cases-failure.png", png)
				}
				t.Fatalf("%s, step %d: %v", what, i+1, err)
			}
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	run("log in",
		chromedp.Navigate(g.URL+"/admin"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "officer"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#login"),
		chromedp.WaitVisible("#nav"))
	run("open the cases page", chromedp.Navigate(g.URL+"/admin#cases"), chromedp.WaitVisible("#case-list"))
	order := eval(`[...document.querySelectorAll("#case-list tr[data-case]")].map((r) => r.dataset.case + (r.classList.contains("overdue") ? "!" : "")).join(" ")`)
	if want := overdue + "! " + first; order != want {
		t.Fatalf("list order %q, want %q (overdue first and marked)", order, want)
	}
	listPNG, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	run("open the overdue case",
		chromedp.Click(`tr[data-case="`+overdue+`"] a`),
		chromedp.WaitVisible(`#case-timeline tr[data-event="opened"]`),
		chromedp.SendKeys("#case-note", "called the township"),
		chromedp.Click(`button[data-act="acknowledge"]`),
		chromedp.WaitVisible(`#case-timeline tr[data-event="acknowledged"]`))
	if got := eval(`document.querySelector('#case-timeline tr[data-event="acknowledged"]').textContent`); !strings.Contains(got, "officer") || !strings.Contains(got, "called the township") {
		t.Fatalf("acknowledged event %q", got)
	}
	var status string
	if err := g.SQL(t).GetContext(ctx, &status, `SELECT status FROM cases WHERE code = $1`, overdue); err != nil || status != "acknowledged" {
		t.Fatalf("case %s is %q, %v", overdue, status, err)
	}
	artefact(t, "console-cases.png", listPNG)
}
