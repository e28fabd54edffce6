"use strict";

// ---------- cases ----------
// Open cases by deadline, the overdue first and marked; a case's timeline;
// acknowledge, refer and resolve with a note. The API decides who may act:
// a viewer's buttons are refused with its message.
Object.assign(T.zh, { case_cases: "个案", case_caseCode: "个案编号", case_child: "儿童编号", case_category: "类别", case_area: "负责区域",
  case_deadline: "确认期限", case_overdue: "已逾期", case_open: "待确认", case_acknowledged: "已确认", case_referred: "已转介", case_resolved: "已解决",
  case_acknowledge: "确认", case_refer: "转介", case_resolve: "解决", case_timeline: "经过", case_allStatuses: "全部状态", case_overdueOnly: "只看逾期",
  case_opened: "开立", case_notified: "已通知", case_escalated: "已上报", case_system: "系统", case_sms: "短信", case_console: "控制台", case_back: "返回列表" });
Object.assign(T.en, { case_cases: "Cases", case_caseCode: "Case", case_child: "Child", case_category: "Category", case_area: "Answering area",
  case_deadline: "Deadline", case_overdue: "overdue", case_open: "open", case_acknowledged: "acknowledged", case_referred: "referred", case_resolved: "resolved",
  case_acknowledge: "Acknowledge", case_refer: "Refer", case_resolve: "Resolve", case_timeline: "Timeline", case_allStatuses: "All statuses",
  case_overdueOnly: "Overdue only", case_opened: "opened", case_notified: "notified", case_escalated: "escalated", case_system: "system", case_sms: "SMS",
  case_console: "console", case_back: "Back to the list" });

// The tab's name, unprefixed: the shell words the nav with t().
Object.assign(T.zh, { cases: "个案" });
Object.assign(T.en, { cases: "Cases" });

// ct is a word of this page: its keys are prefixed so that they cannot
// replace another page's (T is shared, and "child" means something else
// on the reports page).
const ct = (k) => (T[lang] && T[lang]["case_" + k]) || t(k);

const caseFilter = { status: "open", overdue: false };

async function casesView() {
  const code = new URLSearchParams(location.hash.split("?")[1] || "").get("code");
  if (code) return caseView(code);
  const q = new URLSearchParams({ per_page: "100" });
  if (caseFilter.status) q.set("status", caseFilter.status);
  if (caseFilter.overdue) q.set("overdue", "true");
  const r = await call("GET", "/cases?" + q);
  if (!r.ok) return el("p", { class: "err" }, r.data.error ? r.data.error.message : String(r.status));
  const statusSelect = el("select", { id: "case-status", onchange: (e) => { caseFilter.status = e.target.value; render(); } },
    el("option", { value: "", selected: !caseFilter.status }, ct("allStatuses")),
    ["open", "acknowledged", "referred", "resolved"].map((s) => el("option", { value: s, selected: caseFilter.status === s }, ct(s))));
  const overdue = el("input", { type: "checkbox", id: "case-overdue", checked: caseFilter.overdue,
    onchange: (e) => { caseFilter.overdue = e.target.checked; render(); } });
  const rows = r.data.items.map((c) => el("tr", { "data-case": c.code, class: c.overdue ? "overdue" : "" },
    el("td", {}, el("a", { href: `#cases?code=${c.code}` }, c.code)),
    el("td", {}, c.child), el("td", {}, word("category", c.category)), el("td", {}, c.area_name),
    el("td", {}, ct(c.status), c.overdue ? el("strong", { class: "err" }, " " + ct("overdue")) : ""),
    el("td", {}, c.status === "open" ? when(c.deadline_at, r.data.time_zone) : "")));
  return el("section", { id: "cases" },
    el("div", { class: "row" }, statusSelect, el("label", {}, overdue, " ", ct("overdueOnly")), el("span", { class: "muted" }, `${r.data.total}`)),
    rows.length
      ? el("table", { id: "case-list" }, el("tr", {}, ["caseCode", "child", "category", "area", "status", "deadline"].map((h) => el("th", {}, ct(h)))), rows)
      : el("p", { class: "muted" }, t("noData")));
}

async function caseView(code) {
  const r = await call("GET", "/cases/" + encodeURIComponent(code));
  if (!r.ok) return el("p", { class: "err" }, r.data.error ? r.data.error.message : String(r.status));
  const c = r.data;
  const note = el("input", { id: "case-note", placeholder: t("note") });
  const out = el("span", { class: "status", id: "case-result" });
  const act = (action) => async () => {
    const res = await call("POST", `/cases/${c.code}/${action}`, { note: note.value });
    if (res.ok) return render();
    out.className = "status err";
    out.textContent = res.data.error ? res.data.error.message : String(res.status);
  };
  const can = { acknowledge: c.status === "open", refer: c.status === "open" || c.status === "acknowledged", resolve: c.status !== "resolved" };
  return el("section", { id: "case", "data-case": c.code },
    el("p", {}, el("a", { href: "#cases" }, ct("back"))),
    el("h3", {}, `${ct("caseCode")} ${c.code} · ${word("category", c.category)} · ${ct(c.status)}`, c.overdue ? el("strong", { class: "err" }, " " + ct("overdue")) : ""),
    el("p", {}, `${ct("child")} ${c.child} · ${c.village_name} · ${ct("area")} ${c.area_name} · ${ct("deadline")} ${when(c.deadline_at, r.data.time_zone)}`),
    el("div", { class: "row" }, note,
      ["acknowledge", "refer", "resolve"].filter((a) => can[a]).map((a) => el("button", { onclick: act(a), "data-act": a }, ct(a))), out),
    el("h4", {}, ct("timeline")),
    el("table", { id: "case-timeline" }, (c.events || []).map((e) => el("tr", { "data-event": e.kind },
      el("td", {}, when(e.at, c.time_zone)), el("td", {}, ct(e.kind)), el("td", {}, e.area_name || ""), el("td", {}, e.actor),
      el("td", {}, ct(e.channel)), el("td", {}, e.note || "")))));
}

views.cases = casesView;
