package gateway_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/chromedp/chromedp"
)

// officeConsole is the console in headless Chromium at 1280 px, signed in
// as one user, with the steps the tests below take in it.
type officeConsole struct {
	t    *testing.T
	ctx  context.Context
	url  string
	name string // of the screenshots
}

// mustOfficeConsole signs user (password "correct horse battery", as
// mustUser makes them) in to g's console.
func mustOfficeConsole(t *testing.T, g *gatewaytest.Gateway, user, name string) *officeConsole {
	t.Helper()
	c := &officeConsole{t: t, ctx: browser(t), url: g.URL, name: name}
	c.do("log in",
		chromedp.Navigate(g.URL+"/admin"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", user),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#login"),
		chromedp.WaitVisible("#nav"))
	return c
}

func (c *officeConsole) fail(format string, args ...any) {
	c.t.Helper()
	if png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100)); err == nil {
		artefact(c.t, c.name+"-failure.png", png)
	}
	c.t.Fatalf(format, args...)
}

func (c *officeConsole) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	for i, s := range steps {
		ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
		err := chromedp.Do(ctx, s)
		cancel()
		if err != nil {
			c.fail("%s, step %d: %v", what, i+1, err)
		}
	}
}

// open shows a page of the console as its tab would.
func (c *officeConsole) open(hash string) {
	c.t.Helper()
	c.eval(fmt.Sprintf(`(() => { location.hash = %q; return "" })()`, hash))
}

// wait polls js until it is true.
func (c *officeConsole) wait(what, js string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		c.fail("%s: %v; the page reads %.600q", what, err, c.eval(`document.querySelector("#main").innerText`))
	}
}

func (c *officeConsole) eval(js string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.fail("evaluate %.100s: %v", js, err)
	}
	return s
}

func (c *officeConsole) text(sel string) string {
	c.t.Helper()
	return c.eval(fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, sel))
}

// set changes a field as a user would and fires event on it ("change" for
// selects and filters, "input" for text a user types).
func (c *officeConsole) set(sel, value, event string) {
	c.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return "missing"; e.value = %q;
		e.dispatchEvent(new Event(%q, {bubbles: true})); return e.value === %q ? "" : "no such value: " + e.value })()`, sel, value, event, value)
	if got := c.eval(js); got != "" {
		c.fail("set %s to %q: %s", sel, value, got)
	}
}

// click clicks sel by the page's own script, which looks the element up
// as it clicks: a list redrawn as its data arrives replaces its buttons,
// and a node found before the redraw and clicked after it is gone.
func (c *officeConsole) click(sel string) {
	c.t.Helper()
	c.wait("click "+sel, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e || e.disabled) return false; e.click(); return true })()`, sel))
}

func (c *officeConsole) shot(name string) {
	c.t.Helper()
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatal(err)
	}
	artefact(c.t, name, png)
}

// waitRows waits for the report table to show exactly refs, in any order.
func (c *officeConsole) waitRows(what string, refs ...string) {
	c.t.Helper()
	want := slices.Sorted(slices.Values(refs))
	js := fmt.Sprintf(`(() => { const got = [...document.querySelectorAll("#report-table tr[data-ref]")].map((r) => r.dataset.ref).sort().join(",");
		return got === %q && (%d > 0 || !!document.querySelector("#main p.muted")) })()`, strings.Join(want, ","), len(want))
	c.wait(what+": rows "+strings.Join(want, ","), js)
}

// TestConsoleNeedFollowUp: an editor opens an urgent protection concern
// from the needs list, reads it in words (its details withheld), refers it with a note, resolves
// it and reopens it; the list says each time who acted last and when, and
// the history is the API's.
func TestConsoleNeedFollowUp(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	c := mustOfficeConsole(t, f.g, "editor1", "console-need")
	c.open("#reports")
	c.wait("the reports page", `!!document.querySelector('[data-filter="kind"]')`)
	c.set(`[data-filter="kind"]`, "needs", "change")
	row := fmt.Sprintf(`#report-table tr[data-ref=%q]`, f.nC9)
	c.wait("the needs list", fmt.Sprintf(`!!document.querySelector(%q)`, row+` button[data-open]`))
	if got := c.text(row + ` td[data-col="status"]`); got != "待处理" {
		t.Errorf("status of an open need reads %q", got)
	}
	c.click(row + ` button[data-open]`)
	c.wait("the need's detail", fmt.Sprintf(`!!document.querySelector('#need-detail[data-ref=%q]')`, f.nC9))
	detail := c.text("#need-detail")
	// An editor who holds no case of it follows the need up without
	// reading what the director wrote about the child.
	for _, want := range []string{"C0009 周洋", "石门村", "王芳", shimenDirector, "保护问题", "紧急", "待处理", "仅主管和个案负责人可见", "尚无人处理"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail lacks %q: %q", want, detail)
		}
	}
	if strings.Contains(detail, "HYPERLINK") {
		t.Errorf("the detail shows a protection concern's note to an editor: %q", detail)
	}

	steps := []struct {
		move, note, status string
	}{
		{"referred", "转介到乡派出所，李警官跟进", "已转介"},
		{"resolved", "孩子已由外婆照看", "已解决"},
		{"open", "外婆住院，需重新安排", "待处理"},
	}
	for i, st := range steps {
		c.set("#need-note", st.note, "input")
		c.click(fmt.Sprintf(`#need-detail button[data-move=%q]`, st.move))
		c.wait("step "+st.move, fmt.Sprintf(`document.querySelectorAll("#need-history tr").length === %d && document.querySelector("#need-history").innerText.includes(%q)`, i+2, st.note))
		c.wait("the list after "+st.move, fmt.Sprintf(`(document.querySelector(%q) || {}).innerText === %q`, row+` td[data-col="status"]`, st.status))
		last := c.text(row + ` td[data-col="lastAction"]`)
		if !strings.Contains(last, "editor1") || !strings.Contains(last, st.status) || !strings.Contains(last, time.Now().UTC().Format("2006-01-02")) {
			t.Errorf("after %s the list's last action reads %q", st.move, last)
		}
	}
	history := c.text("#need-history")
	if !strings.Contains(history, "待处理 → 已转介") || !strings.Contains(history, "已解决 → 待处理") {
		t.Errorf("history reads %q", history)
	}
	c.shot("console-need.png")

	n, err := f.g.DB.ReportWithHistory(context.Background(), f.nC9, 0)
	if err != nil || n.Status != "open" || len(n.History) != 3 {
		t.Fatalf("the need after the console: %+v, %v", n, err)
	}
	for i, h := range n.History {
		if h.Actor != "editor1" || h.To != steps[i].move || h.Note != steps[i].note {
			t.Errorf("history %d: %+v", i, h)
		}
	}
}

// TestConsoleReportsTable: reports read as words in either language, the
// time first and on the deployment's clock (as the exports show it),
// urgent ones marked, and nothing off-screen at 1280 px.
func TestConsoleReportsTable(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Location: shanghai})
	ctx := context.Background()
	caller, err := g.DB.CallerByPhone(ctx, enDirector)
	if err != nil {
		t.Fatal(err)
	}
	// 01:00 on 1 November in China, 31 October in UTC.
	at := time.Date(2026, 10, 31, 17, 0, 0, 0, time.UTC)
	save := func(r menus.Report) string {
		r.SessionKey, r.Channel, r.Carrier, r.DirectorID, r.Tree, r.Version = "table:"+string(r.Kind)+r.ChildCode, menus.ChannelUSSD, "at", caller.DirectorID, "director", 1
		r.ReportedAt = at
		ref, err := g.DB.SaveReport(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	urgent := save(menus.Report{Kind: menus.ReportNeed, ChildCode: "C0001", Category: "protection", Urgency: menus.UrgencyUrgent,
		Answers: map[string]string{"child": "C0001", "category": "protection", "urgency": "urgent"}})
	routine := save(menus.Report{Kind: menus.ReportNeed, ChildCode: "C0002", Category: "school", Urgency: menus.UrgencyRoutine})
	visit := save(menus.Report{Kind: menus.ReportVisit, ChildCode: "C0003", Situation: "needs_support", Urgency: menus.UrgencyRoutine})
	mustUser(t, g, "viewer1", access.RoleViewer)
	c := mustOfficeConsole(t, g, "viewer1", "console-reports")

	tests := []struct {
		lang, kind string
		headers    []string
		ref        string
		cells      map[string]string
	}{
		{"zh", "needs", []string{"上报时间", "儿童", "村", "主任", "需求类别", "紧急程度", "状态", "最近处理", "编号"}, urgent,
			map[string]string{"reportedAt": "2026-11-01 01:00", "child": "C0001 王小明", "category": "保护问题", "urgency": "紧急", "status": "待处理"}},
		{"zh", "visits", []string{"上报时间", "儿童", "村", "主任", "情况", "紧急程度", "渠道", "编号"}, visit,
			map[string]string{"reportedAt": "2026-11-01 01:00", "situation": "需要帮助", "urgency": "一般", "channel": "USSD 菜单"}},
		{"en", "needs", []string{"Reported", "Child", "Village", "Director", "Category", "Urgency", "Status", "Last action", "Ref"}, routine,
			map[string]string{"reportedAt": "2026-11-01 01:00", "category": "School enrolment", "urgency": "Routine", "status": "Open"}},
		{"en", "visits", []string{"Reported", "Child", "Village", "Director", "Situation", "Urgency", "Channel", "Ref"}, visit,
			map[string]string{"situation": "Needs support", "channel": "USSD menu"}},
	}
	for _, tt := range tests {
		if c.eval(`document.documentElement.lang`) != tt.lang {
			c.click("#lang")
		}
		c.open("#reports")
		c.wait("the reports page", `!!document.querySelector('[data-filter="kind"]')`)
		c.set(`[data-filter="kind"]`, tt.kind, "change")
		c.wait(tt.lang+" "+tt.kind, fmt.Sprintf(`document.documentElement.lang === %q && !!document.querySelector('#report-table tr[data-ref=%q]')`, tt.lang, tt.ref))
		headers := strings.Split(c.eval(`[...document.querySelectorAll("#report-table th")].map((h) => h.innerText).join("|")`), "|")
		if !slices.Equal(headers, tt.headers) {
			t.Errorf("%s %s: headers %q, want %q", tt.lang, tt.kind, headers, tt.headers)
		}
		for col, want := range tt.cells {
			if got := c.text(fmt.Sprintf(`#report-table tr[data-ref=%q] td[data-col=%q]`, tt.ref, col)); got != want {
				t.Errorf("%s %s: %s reads %q, want %q", tt.lang, tt.kind, col, got, want)
			}
		}
		// Nothing off-screen: the page does not scroll sideways and every
		// column's right edge is inside the window.
		if off := c.eval(`(() => { const w = window.innerWidth; const out = [...document.querySelectorAll("#report-table th, #main .filters > *")]
			.filter((e) => e.getBoundingClientRect().right > w).map((e) => e.innerText); if (document.documentElement.scrollWidth > w) out.push("scrollWidth " + document.documentElement.scrollWidth);
			return out.join("|") })()`); off != "" {
			t.Errorf("%s %s: off-screen at 1280 px: %s", tt.lang, tt.kind, off)
		}
		if tt.lang == "zh" && tt.kind == "needs" {
			c.shot("console-reports.png")
		}
	}
	// Urgent rows stand out; routine ones do not.
	c.set(`[data-filter="kind"]`, "needs", "change")
	c.wait("needs", fmt.Sprintf(`!!document.querySelector('#report-table tr[data-ref=%q]')`, routine))
	bg := func(ref string) string {
		return c.eval(fmt.Sprintf(`getComputedStyle(document.querySelector('#report-table tr[data-ref=%q] td')).backgroundColor`, ref))
	}
	if u, r := bg(urgent), bg(routine); u == r {
		t.Errorf("an urgent row looks like a routine one: %s", u)
	}
}

// TestConsoleReportFilters: the filters take words (selects), places from
// the registry, a director's phone and a child's ID; a reversed date range
// is explained in words; a viewer reads a need but cannot change it.
func TestConsoleReportFilters(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	c := mustOfficeConsole(t, f.g, "viewer1", "console-filters")
	tests := []struct {
		name  string
		set   [][3]string // selector, value, event
		want  []string
		shows string // a text the page must show instead of rows
	}{
		{"urgent needs", [][3]string{{`[data-filter="urgency"]`, "urgent", "change"}}, []string{f.nUSSD, f.nC9}, ""},
		{"open needs", [][3]string{{`[data-filter="status"]`, "open", "change"}}, []string{f.nSMS, f.nUSSD, f.nC9, f.nC777}, ""},
		{"protection", [][3]string{{`[data-filter="detail"]`, "protection", "change"}}, []string{f.nC9}, ""},
		{"a village from the registry", [][3]string{{`[data-filter="village"]`, "石门村", "change"}}, []string{f.nC9}, ""},
		{"a director's phone", [][3]string{{`[data-filter="director"]`, "138 0013 8003", "change"}}, []string{f.nC9}, ""},
		{"a child", [][3]string{{`[data-filter="child"]`, "c0777", "change"}}, []string{f.nC777}, ""},
		{"a reversed range", [][3]string{{`[data-filter="from"]`, "2026-11-02", "change"}, {`[data-filter="to"]`, "2026-11-01", "change"}},
			nil, "结束日期早于开始日期"},
	}
	for _, tt := range tests {
		c.do("reload", chromedp.Navigate(c.url+"/admin#reports"), chromedp.Reload())
		c.wait("the reports page", `!!document.querySelector('[data-filter="kind"]')`)
		c.set(`[data-filter="kind"]`, "needs", "change")
		c.wait("needs", `!!document.querySelector('[data-filter="status"]')`)
		for _, s := range tt.set {
			c.wait(tt.name+": "+s[0], fmt.Sprintf(`!!document.querySelector(%q)`, s[0]))
			c.set(s[0], s[1], s[2])
		}
		if tt.shows != "" {
			c.wait(tt.name, fmt.Sprintf(`document.querySelector("#main").innerText.includes(%q)`, tt.shows))
			if main := c.text("#main"); strings.Contains(main, "invalid parameter") {
				t.Errorf("%s: the page shows the bare API message: %q", tt.name, main)
			}
			continue
		}
		c.waitRows(tt.name, tt.want...)
	}
	// A viewer reads a need, the director's phone masked, with no button
	// to change it.
	c.do("reload", chromedp.Navigate(c.url+"/admin#reports"), chromedp.Reload())
	c.wait("the reports page", `!!document.querySelector('[data-filter="kind"]')`)
	c.set(`[data-filter="kind"]`, "needs", "change")
	c.wait("the needs list", fmt.Sprintf(`!!document.querySelector('button[data-open=%q]')`, f.nC9))
	c.click(fmt.Sprintf(`button[data-open=%q]`, f.nC9))
	c.wait("the need's detail", `!!document.querySelector("#need-detail dl")`)
	if detail := c.text("#need-detail"); strings.Contains(detail, shimenDirector) || !strings.Contains(detail, "*") ||
		c.eval(`String(document.querySelectorAll("#need-detail [data-move]").length)`) != "0" {
		t.Errorf("a viewer's need detail: %q", detail)
	}
}

// TestConsolePaging: report and registry lists say which rows of how many
// they show and page through all of them.
func TestConsolePaging(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	ctx := context.Background()
	caller, err := g.DB.CallerByPhone(ctx, enDirector)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	for i := range 133 {
		if _, err := g.DB.SaveReport(ctx, menus.Report{Kind: menus.ReportVisit, SessionKey: fmt.Sprintf("paging:%d", i), Channel: menus.ChannelUSSD,
			Carrier: "at", DirectorID: caller.DirectorID, ChildCode: "C0001", Situation: "well", Urgency: menus.UrgencyRoutine, Tree: "director",
			Version: 1, ReportedAt: start.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	var children []registry.ChildRecord
	for i := range 60 {
		children = append(children, registry.ChildRecord{Child: registry.Child{Code: fmt.Sprintf("P%04d", i), Name: fmt.Sprintf("孩子%d", i),
			Village: "青山村", County: "云岭县", DirectorPhone: enDirector}})
	}
	if _, _, err := g.DB.ImportChildren(ctx, access.System, children, false); err != nil {
		t.Fatal(err)
	}
	mustUser(t, g, "admin1", access.RoleAdmin)
	c := mustOfficeConsole(t, g, "admin1", "console-paging")

	for _, page := range []struct {
		hash, rows string
		pages      []string // what the range reads after each move
		moves      []string // next or prev
		counts     []int
	}{
		{"#reports", "#report-table tr[data-ref]", []string{"第 1–50 条，共 133 条", "第 51–100 条，共 133 条", "第 101–133 条，共 133 条", "第 51–100 条，共 133 条"},
			[]string{"next", "next", "prev"}, []int{50, 50, 33, 50}},
		{"#registry", "#main table tr:has(td)", []string{"第 1–50 条，共 66 条", "第 51–66 条，共 66 条"}, []string{"next"}, []int{50, 16}},
	} {
		c.open(page.hash)
		for i, want := range page.pages {
			c.wait(page.hash+" "+want, fmt.Sprintf(`(document.querySelector(".pager .range") || {}).innerText === %q && document.querySelectorAll(%q).length === %d`,
				want, page.rows, page.counts[i]))
			if i == len(page.pages)-1 {
				break
			}
			c.click(fmt.Sprintf(`.pager button[data-page=%q]`, page.moves[i]))
		}
	}
	// Back on the reports tab, the list is where it was left; each move
	// waits for the page it leads to, so no click lands on a list being
	// redrawn.
	c.open("#reports")
	c.wait("the page left", `(document.querySelector(".pager .range") || {}).innerText === "第 51–100 条，共 133 条"`)
	c.click(`.pager button[data-page="prev"]`)
	c.wait("page 1", `document.querySelector(".pager .range").innerText === "第 1–50 条，共 133 条"`)
	c.click(`.pager button[data-page="next"]`)
	c.wait("page 2", `document.querySelector(".pager .range").innerText === "第 51–100 条，共 133 条"`)
	c.click(`.pager button[data-page="next"]`)
	c.wait("the last page", `document.querySelector(".pager .range").innerText === "第 101–133 条，共 133 条"`)
	if c.eval(`String(document.querySelector('.pager button[data-page="next"]').disabled)`) != "true" {
		t.Error("the last page offers a next page")
	}
}

// TestConsoleDashboard: an office lands on the dashboard; the open urgent
// needs lead to their list; villages without a visit this month come first
// and are named; children unvisited for 30 days are listed; the month is
// the server's and can be changed; the trend has six months; no count is
// cut off, however large.
func TestConsoleDashboard(t *testing.T) {
	t.Parallel()
	f := mustReportsFixture(t)
	ctx := context.Background()
	caller, err := f.g.DB.CallerByPhone(ctx, enDirector)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 47 {
		if _, err := f.g.DB.SaveReport(ctx, menus.Report{Kind: menus.ReportVisit, SessionKey: fmt.Sprintf("dash:%d", i), Channel: menus.ChannelUSSD,
			Carrier: "at", DirectorID: caller.DirectorID, ChildCode: "C0001", Situation: "well", Urgency: menus.UrgencyRoutine, Tree: "director",
			Version: 1, ReportedAt: time.Now().Add(-time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	c := mustOfficeConsole(t, f.g, "editor1", "console-dashboard")
	c.wait("landing on the dashboard", `location.hash === "#dashboard" && !!document.querySelector("#dashboard #month")`)
	if got, want := c.eval(`document.querySelector("#month").value`), time.Now().UTC().Format("2006-01"); got != want {
		t.Errorf("month picker at %q, want the server's %q", got, want)
	}
	labels := c.eval(`[...document.querySelectorAll("#village-bars .bar-row")].map((r) => r.dataset.label + (r.classList.contains("flag") ? "!" : "")).join(",")`)
	if !strings.HasSuffix(labels, ",青山村") || !strings.Contains(labels, "石门村!") || !strings.Contains(labels, "河口村!") {
		t.Errorf("villages in order %q: unvisited ones first and flagged", labels)
	}
	if callout := c.text("#no-visit-villages"); !strings.Contains(callout, "石门村") || !strings.Contains(callout, "河口村") || strings.Contains(callout, "青山村") {
		t.Errorf("villages without visits: %q", callout)
	}
	// 47 + the 2 made through the channels today, written whole and
	// inside the chart.
	if got := c.text(`#village-bars .bar-row[data-label="青山村"] .bar-count[data-kind="visits"]`); got != "家访 49" {
		t.Errorf("青山村's visits read %q", got)
	}
	if cut := c.eval(`(() => { const out = []; for (const b of document.querySelectorAll(".bars")) { const box = b.getBoundingClientRect();
		for (const n of b.querySelectorAll(".bar-count, .bar-label")) { const r = n.getBoundingClientRect();
		if (n.scrollWidth > n.clientWidth + 1 || r.right > box.right || r.right > window.innerWidth) out.push(n.innerText); } } return out.join("|") })()`); cut != "" {
		t.Errorf("labels cut off: %q", cut)
	}
	if n := c.eval(`String(document.querySelectorAll("#trend-bars .bar-row").length)`); n != "6" {
		t.Errorf("%s months in the trend, want 6", n)
	}
	if got := c.text("#not-visited-count"); got != "6" {
		t.Errorf("children not visited in 30 days: %q, want 6", got)
	}
	unvisited := c.text("#not-visited")
	for _, want := range []string{"C0003 陈晨", "从未家访", "C0009 周洋", "2026-10-15 10:00"} {
		if !strings.Contains(unvisited, want) {
			t.Errorf("the unvisited children lack %q: %q", want, unvisited)
		}
	}
	c.shot("console-dashboard-office.png")

	// Another month.
	c.set("#month", "2026-10", "change")
	c.wait("October", `document.querySelector("#dashboard h3").innerText.includes("2026-10")`)
	if got := c.text(`#village-bars .bar-row[data-label="石门村"] .bar-count[data-kind="visits"]`); got != "家访 1" {
		t.Errorf("石门村 in October: %q", got)
	}

	// The open urgent needs lead to their list.
	if got := c.text("#open-urgent b"); got != "2" {
		t.Errorf("open urgent needs: %q", got)
	}
	c.click("#open-urgent")
	c.wait("the open urgent needs", `location.hash === "#reports"`)
	c.waitRows("open urgent needs", f.nUSSD, f.nC9)
	if u, s := c.eval(`document.querySelector('[data-filter="urgency"]').value`), c.eval(`document.querySelector('[data-filter="status"]').value`); u != "urgent" || s != "open" {
		t.Errorf("filters after the link: urgency %q, status %q", u, s)
	}
}

// TestConsoleImport: an administrator picks a CSV file, reads what its
// columns should be before anything goes wrong, sees each bad row's
// problems by line and column, then imports a good file and keeps the
// result in view.
func TestConsoleImport(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	mustUser(t, g, "admin1", access.RoleAdmin)
	c := mustOfficeConsole(t, g, "admin1", "console-import")
	c.open("#registry")
	c.wait("the registry", `!!document.querySelector("#resource")`)
	c.set("#resource", "directors", "change")
	c.wait("directors", `!!document.querySelector('#columns-help [data-column="phone"]')`)
	if cols := c.eval(`[...document.querySelectorAll("#columns-help [data-column]")].map((e) => e.dataset.column).join(",")`); cols != "phone,name,language,village,county,area" {
		t.Errorf("column help for directors: %q", cols)
	}
	// The help names the columns the API reads, for every resource: an
	// empty file's error lists them.
	admin := mustUser(t, g, "admin2", access.RoleAdmin)
	for _, res := range []string{"children", "guardians", "allowances", "supervisors", "areas", "directors"} {
		c.set("#resource", res, "change")
		c.wait(res, fmt.Sprintf(`!!document.querySelector('#columns-help[data-resource=%q] li')`, res))
		help := c.eval(`[...document.querySelectorAll("#columns-help [data-column]")].map((e) => e.dataset.column).join(",")`)
		_, body := api(t, g, "POST", "/registry/"+res+"/import?dry_run=1", admin, "text/csv", "")
		if _, api, _ := strings.Cut(body, "must name the columns: "); !strings.HasPrefix(api, help+`"`) {
			t.Errorf("%s: the help names %q, the API %s", res, help, body)
		}
	}
	bad := filepath.Join(t.TempDir(), "directors.csv")
	if err := os.WriteFile(bad, []byte("phone,name,language,village,county\n12345,李四,zh,青山村,云岭县\n+8613800138099,,fr,青山村,云岭县\n+8613800138098,赵六,zh,青山村,云岭县\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.do("choose a file", chromedp.SetUploadFiles(chromedp.CSS("#csv-file"), []string{bad}))
	c.wait("the file read", `document.querySelector("#csv").value.includes("李四")`)
	c.click("#dry-run")
	c.wait("the problems", `!!document.querySelector("#import-problems")`)
	problems := c.eval(`[...document.querySelectorAll("#import-problems tr[data-line]")].map((r) => [...r.cells].map((d) => d.innerText).join(" ")).join("\n")`)
	// By line and column, worded in the console's language.
	for _, want := range []string{"2 phone", "3 name", "3 language", "不是有效的手机号", "必须填写", "只能是 zh 或 en"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q: %q", want, problems)
		}
	}
	if strings.Contains(problems, "required") || strings.Contains(problems, "not a valid") {
		t.Errorf("problems in English in the Chinese console: %q", problems)
	}
	if result := c.text("#import-result"); strings.Contains(result, "{") || strings.Contains(result, "422") || !strings.Contains(result, "2 行有问题") {
		t.Errorf("the result reads %q", result)
	}
	c.shot("console-import-problems.png")

	c.set("#csv", "phone,name,language,village,county\n+8613800138097,钱七,zh,石门村,云岭县\n", "input")
	c.click("#do-import")
	c.wait("the import", `document.querySelector("#main table") && document.querySelector("#main table").innerText.includes("钱七")`)
	if result := c.text("#import-result"); !strings.Contains(result, "已导入 1 行") {
		t.Errorf("after the import the result reads %q", result)
	}
}

// TestConsoleRegistryInWords: the registry's tables read in the
// console's language: named columns, and yes, Chinese, township rather
// than true, zh, township.
func TestConsoleRegistryInWords(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	mustUser(t, g, "admin1", access.RoleAdmin)
	c := mustOfficeConsole(t, g, "admin1", "console-registry")
	c.open("#registry")
	c.wait("the registry", `!!document.querySelector("#resource")`)
	c.set("#resource", "directors", "change")
	c.wait("directors", `!!document.querySelector('td[data-col="phone"]')`)
	headers := c.eval(`[...document.querySelectorAll("th")].map((e) => e.textContent).join(",")`)
	for _, want := range []string{"电话", "姓名", "短信语言", "在用"} {
		if !strings.Contains(headers, want) {
			t.Errorf("headers %q lack %q", headers, want)
		}
	}
	cells := c.eval(`[...document.querySelectorAll("td")].map((e) => e.textContent).join(",")`)
	if strings.Contains(cells, "true") || !strings.Contains(cells, "是") || !strings.Contains(cells, "中文") {
		t.Errorf("cells %q", cells)
	}
	c.set("#resource", "areas", "change")
	c.wait("areas", `!!document.querySelector('td[data-col="level"]')`)
	if cells := c.eval(`[...document.querySelectorAll('td[data-col="level"]')].map((e) => e.textContent).join(",")`); !strings.Contains(cells, "乡镇") || strings.Contains(cells, "township") {
		t.Errorf("levels %q", cells)
	}
}

// TestConsoleScopedOfficer: a township's officer signs in to a console of
// their township: no registry tab, their township's needs only, and a
// protection concern's details said to be restricted until they hold its
// case.
func TestConsoleScopedOfficer(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	mustUser(t, g, "qingshan1", access.RoleEditor)
	if _, err := g.DB.SetUserArea(context.Background(), access.System, "qingshan1", "YL-QS"); err != nil {
		t.Fatal(err)
	}
	mine := refRE.FindString(kannelSMS(t, g, enDirector, "N C0001 6 2"))
	theirs := refRE.FindString(kannelSMS(t, g, shimenDirector, "N C0009 6 2"))
	c := mustOfficeConsole(t, g, "qingshan1", "console-scoped")
	c.wait("the nav", `document.querySelector('#nav a[href="#registry"]').hidden === true`)
	c.open("#reports")
	c.wait("the reports page", `!!document.querySelector('[data-filter="kind"]')`)
	c.set(`[data-filter="kind"]`, "needs", "change")
	c.wait("the needs list", fmt.Sprintf(`!!document.querySelector('#report-table tr[data-ref=%q]')`, mine))
	if rows := c.eval(`[...document.querySelectorAll("#report-table tr[data-ref]")].map((r) => r.dataset.ref).join(",")`); rows != mine {
		t.Errorf("the officer's needs %q, want only %s (not %s)", rows, mine, theirs)
	}
	c.click(fmt.Sprintf(`#report-table tr[data-ref=%q] button[data-open]`, mine))
	c.wait("the need's detail", `!!document.querySelector("#need-restricted")`)
	c.shot("console-scoped.png")
}

// TestConsoleScriptsLoad: every page's script loads and registers its
// view. The scripts share one global scope, so a name declared twice
// stops the later script, and its page never appears.
func TestConsoleScriptsLoad(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	mustUser(t, g, "admin1", access.RoleAdmin)
	c := mustOfficeConsole(t, g, "admin1", "console-scripts")
	pages := c.eval(`[...document.querySelectorAll("#nav a")].map((a) => a.getAttribute("href").slice(1)).join(",")`)
	if missing := c.eval(`[...document.querySelectorAll("#nav a")].map((a) => a.getAttribute("href").slice(1)).filter((v) => typeof views[v] !== "function").join(",")`); missing != "" || !strings.Contains(pages, "cases") {
		t.Fatalf("pages without a view: %q (of %q)", missing, pages)
	}
	// Every tab is named in words, in both languages.
	for _, lang := range []string{"zh", "en"} {
		c.eval(fmt.Sprintf(`(() => { lang = %q; render(); return "" })()`, lang))
		if raw := c.eval(`[...document.querySelectorAll("#nav a")].filter((a) => a.textContent.trim() === a.getAttribute("href").slice(1)).map((a) => a.textContent).join(",")`); raw != "" {
			t.Errorf("%s: tabs named by their code: %q", lang, raw)
		}
	}
}
