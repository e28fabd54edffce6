package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/chromedp/chromedp"
)

// ui drives the console in a browser for one test.
type ui struct {
	t    *testing.T
	ctx  context.Context
	name string // of the screenshot taken when a step fails
}

func newUI(t *testing.T, g *gatewaytest.Gateway, name string) *ui {
	t.Helper()
	if _, err := g.DB.CreateUser(context.Background(), access.User{}, "county", "correct horse battery", access.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	return &ui{t: t, ctx: browser(t), name: name}
}

func (u *ui) fail(format string, args ...any) {
	u.t.Helper()
	if png, err := chromedp.Run(u.ctx, chromedp.FullScreenshot(100)); err == nil {
		artefact(u.t, u.name+"-failure.png", png)
	}
	if page, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#status, .problem, #sim-note, #sim-screen")].map(e => e.textContent).join(" | ")`)); err == nil {
		u.t.Logf("the page says: %s", page)
	}
	u.t.Fatalf(format, args...)
}

func (u *ui) step(what string, steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	for i, s := range steps {
		sctx, cancel := context.WithTimeout(u.ctx, 15*time.Second)
		err := chromedp.Do(sctx, s)
		cancel()
		if err != nil {
			u.fail("%s, step %d: %v", what, i+1, err)
		}
	}
}

func (u *ui) text(sel string) string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Text(sel))
	if err != nil {
		u.fail("text of %s: %v", sel, err)
	}
	return s
}

func (u *ui) eval(js string) string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		u.fail("%s: %v", js, err)
	}
	return s
}

// waitFor polls a JavaScript condition.
func (u *ui) waitFor(what, js string) {
	u.t.Helper()
	if _, err := chromedp.Run(u.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		u.fail("%s: %v", what, err)
	}
}

// set types into a field or picks in a select as a user would.
func (u *ui) set(sel, value string) {
	u.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.value = %q;
		e.dispatchEvent(new Event(e.tagName === "SELECT" ? "change" : "input", {bubbles: true})); return true })()`, sel, value)
	ok, err := chromedp.Run(u.ctx, chromedp.Evaluate[bool](js))
	if err != nil || !ok {
		u.fail("set %s: %v (found: %v)", sel, err, ok)
	}
}

func (u *ui) logIn(url string, waitFor string) {
	u.t.Helper()
	u.step("log in",
		chromedp.Navigate(url+"/admin"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "county"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#login"),
		// Signing in lands on the dashboard; the editor is a tab away.
		chromedp.WaitVisible("#dashboard"),
		chromedp.Navigate(url+"/admin#menus"),
		chromedp.WaitVisible(waitFor))
}

func (u *ui) shot(name string) {
	u.t.Helper()
	png, err := chromedp.Run(u.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.t.Fatal(err)
	}
	artefact(u.t, name, png)
}

// TestConsoleStructuredEditor: a county officer adds an input node and
// finishes it in the form alone: it is created with a validator, an answer
// key and a next node; what is left to do shows, in Chinese, on the field
// it concerns; the simulator keeps playing the saved version meanwhile,
// saying so, and plays the draft once it is valid.
func TestConsoleStructuredEditor(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	u := newUI(t, g, "console-structured")
	u.logIn(g.URL, `[data-node="main"]`)
	if kind := u.eval(`document.querySelector('[data-node="main"] select[data-field="kind"]').selectedOptions[0].textContent`); kind != "菜单" {
		t.Errorf("the main node's kind reads %q", kind)
	}
	// A choice option without its own next goes to the node's: it says so.
	if blank := u.eval(`document.querySelector('[data-option="visit_situation.1"] select').options[0].textContent`); !strings.Contains(blank, "visit_confirm") {
		t.Errorf("a choice option without next reads %q", blank)
	}
	u.set("#new-id", "age")
	u.set("#new-kind", "input")
	u.step("add an input node", chromedp.Click("#add-node"), chromedp.WaitVisible(`[data-node="age"] .problem`))
	u.waitFor("the draft's problems shown", `document.querySelectorAll('[data-node="age"] .problem').length >= 3`)
	card := `[data-node="age"]`
	fields := u.eval(fmt.Sprintf(`[...document.querySelectorAll('%s [data-field]')].filter(e => e.tagName !== "DIV").map(e => e.dataset.field + "=" + e.value).join(" ")`, card))
	for _, want := range []string{"kind=input", "validate=text", "save_as=age", "next=main"} {
		if !strings.Contains(fields, want) {
			t.Errorf("the new node's fields %q lack %q", fields, want)
		}
	}
	textProblems := u.text(card + ` [data-field="text"] .problem`)
	nodeProblems := u.eval(fmt.Sprintf(`[...document.querySelectorAll('%s .node-problem')].map(e => e.textContent).join(" | ")`, card))
	all := u.eval(fmt.Sprintf(`[...document.querySelectorAll('%s .problem')].map(e => e.textContent).join(" | ")`, card))
	summary := u.text("#summary")
	if !strings.Contains(textProblems, "缺少 zh 文字") {
		t.Errorf("problems on the text field: %q", textProblems)
	}
	if nodeProblems != `从起始节点 "main" 无法到达` {
		t.Errorf("problems of the node as a whole: %q (all: %q)", nodeProblems, all)
	}
	if n := strings.Count(all, "|") + 1; n > 3 || summary != "" {
		t.Errorf("%d problems on the new node: %q; on the tree: %q", n, all, summary)
	}
	// Meanwhile the simulator plays the saved version and says so.
	u.waitFor("the simulator falls back", `document.querySelector("#sim-note").textContent.includes("版本 1")`)
	u.waitFor("the simulator plays the saved version", `document.querySelector("#sim-screen").textContent.includes("1. 记录家访")`)
	fallback := u.text("#sim-note")
	u.shot("console-structured-problems.png")

	// Everything is mended in the form.
	u.set(`input[data-id="age.text.zh"]`, "孩子几岁？")
	u.set(`input[data-id="age.text.en"]`, "How old is the child?")
	u.set(card+` select[data-field="next"]`, "visit_child")
	u.set(`[data-option="main.1"] select`, "age")
	u.step("validate", chromedp.Click("#validate"))
	u.waitFor("the draft is valid", `document.querySelector("#status").textContent === "检查通过" && ![...document.querySelectorAll(".problem")].some(e => e.textContent)`)
	u.step("restart the simulator", chromedp.Click(`aside.phone > button`))
	u.waitFor("the simulator plays the draft", `document.querySelector("#sim-note").textContent === ""`)
	u.step("answer 1", chromedp.SendKeys("#sim-input", "1"), chromedp.Click("#sim-send"))
	u.waitFor("the new node in the simulator", `document.querySelector("#sim-screen").textContent.includes("孩子几岁")`)
	if !strings.Contains(fallback, "草稿有") {
		t.Errorf("simulator note while invalid: %q", fallback)
	}
	u.shot("console-structured.png")
}

// TestConsolePublishHistory: publishing and rolling back ask first, naming
// the versions; the outcome stays on the page; versions show their date in
// the deployment's zone, author and note; they are stored as YAML (with
// the comments of the raw editor); two versions can be compared; an
// administrator reads the audit log.
func TestConsolePublishHistory(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Location: shanghai})
	u := newUI(t, g, "console-history")
	ctx := context.Background()
	u.logIn(g.URL, `input[data-id="main.option1.en"]`)
	u.set(`input[data-id="main.option1.en"]`, "Log a visit")
	u.set("#note", "家访改名")
	u.step("save", chromedp.Click("#save"), chromedp.WaitVisible(`tr[data-version="2"]`))
	row := u.text(`tr[data-version="2"]`)
	today := time.Now().In(shanghai).Format("2006/01/02")
	if !strings.Contains(row, "county") || !strings.Contains(row, "家访改名") || !strings.Contains(row, today) {
		t.Errorf("version 2 reads %q, want county, its note and %s", row, today)
	}
	v2, err := g.DB.TreeVersion(ctx, "director", 2)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Format != "yaml" || strings.Count(string(v2.Source), "\n") < 50 {
		t.Errorf("version 2 stored as %s in %d lines", v2.Format, strings.Count(string(v2.Source), "\n"))
	}

	// Publishing asks first; cancelling changes nothing.
	u.step("publish, then cancel", chromedp.Click(`button[data-publish="2"]`), chromedp.WaitVisible("#confirm"))
	question := u.text("#confirm")
	u.step("cancel", chromedp.Click("#confirm-cancel"), chromedp.WaitNotPresent("#confirm"))
	if live, err := g.DB.PublishedTrees(ctx); err != nil || live[0].Name != "director" || live[0].Version != 1 {
		t.Fatalf("after cancelling: %v %v", live, err)
	}
	u.step("publish",
		chromedp.Click(`button[data-publish="2"]`), chromedp.WaitVisible("#confirm-ok"),
		chromedp.Click("#confirm-ok"), chromedp.WaitNotPresent(`button[data-publish="2"]`))
	u.waitFor("the outcome survives the redraw", `document.querySelector("#status").textContent.includes("已发布版本 2")`)
	if !strings.Contains(question, "版本 2") || !strings.Contains(question, "版本 1") || !strings.Contains(question, "家访改名") {
		t.Errorf("the publish question reads %q", question)
	}
	u.step("roll back, then cancel", chromedp.Click(`button[data-publish="1"]`), chromedp.WaitVisible("#confirm"))
	rollback := u.text("#confirm")
	u.step("cancel", chromedp.Click("#confirm-cancel"), chromedp.WaitNotPresent("#confirm"))
	if !strings.Contains(rollback, "回滚") || !strings.Contains(rollback, "版本 1") {
		t.Errorf("the rollback question reads %q", rollback)
	}

	// The raw editor's comments are kept.
	u.step("raw YAML", chromedp.Click("#rawToggle"), chromedp.WaitVisible("#yaml"))
	u.eval(`(() => { const a = document.querySelector("#yaml"); a.value = "# 县里改过\n" + a.value.replace("Log a visit", "Visit a child"); return "" })()`)
	u.step("apply and save",
		chromedp.Click("#applyYaml"), chromedp.WaitVisible(`input[data-id="main.option1.en"]`),
		chromedp.Click("#save"), chromedp.WaitVisible(`tr[data-version="3"]`))
	v3, err := g.DB.TreeVersion(ctx, "director", 3)
	if err != nil || !strings.HasPrefix(string(v3.Source), "# 县里改过\n") {
		t.Errorf("version 3: %v\n%.200s", err, v3.Source)
	}
	u.step("diff", chromedp.Click(`button[data-diff="3"]`), chromedp.WaitVisible("#diff"))
	diff := u.text("#diff")
	if !strings.Contains(diff, "+# 县里改过") || !strings.Contains(diff, "Visit a child") || strings.Count(diff, "\n") > 40 {
		t.Errorf("the diff of 2 and 3:\n%s", diff)
	}
	u.shot("console-history.png")

	u.step("audit log", chromedp.Click(`a[href="#audit"]`), chromedp.WaitVisible("#audit-log"))
	audit := u.text("#audit-log")
	if !strings.Contains(audit, "发布菜单版本") || !strings.Contains(audit, "county") || !strings.Contains(audit, "版本 1 → 版本 2") || !strings.Contains(audit, today) {
		t.Errorf("the audit log reads %q", audit)
	}
	u.shot("console-audit.png")
}

// TestConsoleChinese: the Chinese console speaks Chinese: sign-in errors,
// the simulator's caller and its session state; switching tree starts the
// simulator afresh as that tree's audience, and switching language plays
// the tree in it.
func TestConsoleChinese(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	u := newUI(t, g, "console-chinese")
	u.step("wrong password",
		chromedp.Navigate(g.URL+"/admin"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "county"),
		chromedp.SendKeys("#password", "wrong horse battery"),
		chromedp.Click("#login"))
	u.waitFor("an error", `document.querySelector("#login-error").textContent !== ""`)
	if msg := u.text("#login-error"); msg != "用户名或密码错误" {
		t.Errorf("wrong password: %q", msg)
	}
	u.set("#password", "")
	u.step("log in", chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#login"), chromedp.WaitVisible("#dashboard"),
		chromedp.Navigate(g.URL+"/admin#menus"), chromedp.WaitVisible("#sim-screen"))
	u.waitFor("the simulator in Chinese", `document.querySelector("#sim-screen").textContent.includes("1. 记录家访")`)
	if state := u.text("#sim-state"); state != "会话继续，等待输入" {
		t.Errorf("session state %q", state)
	}
	u.step("answer 1", chromedp.SendKeys("#sim-input", "1"), chromedp.Click("#sim-send"))
	u.waitFor("the simulator moves on", `document.querySelector("#sim-screen").textContent.includes("儿童编号")`)
	u.set("#tree", "guardian")
	u.waitFor("the guardian tree from its start", `document.querySelector("#sim-screen").textContent.startsWith("儿童补贴查询")`)
	u.step("answer 1", chromedp.SendKeys("#sim-input", "1"), chromedp.Click("#sim-send"))
	u.waitFor("a sample guardian's children", `document.querySelector("#sim-screen").textContent.includes("示例儿童")`)
	u.step("English", chromedp.Click("#lang"))
	u.waitFor("the simulator in English", `document.querySelector("#sim-screen").textContent.includes("Sample child")`)
	u.shot("console-english.png")
}
