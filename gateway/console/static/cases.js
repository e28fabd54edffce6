"use strict";

// ---------- cases ----------
// Open cases by deadline, the overdue first and marked; a case's timeline;
// acknowledge, refer and resolve with a note. The API decides who may act:
// a viewer's buttons are refused with its message.
Object.assign(T.zh, { cases: "个案", caseCode: "个案编号", child: "儿童编号", category: "类别", area: "负责区域",
  deadline: "确认期限", overdue: "已逾期", open: "待确认", acknowledged: "已确认", referred: "已转介", resolved: "已解决",
  acknowledge: "确认", refer: "转介", resolve: "解决", timeline: "经过", allStatuses: "全部状态", overdueOnly: "只看逾期",
  opened: "开立", notified: "已通知", escalated: "已上报", system: "系统", sms: "短信", console: "控制台", back: "返回列表" });
Object.assign(T.en, { cases: "Cases", caseCode: "Case", child: "Child", category: "Category", area: "Answering area",
  deadline: "Deadline", overdue: "overdue", open: "open", acknowledged: "acknowledged", referred: "referred", resolved: "resolved",
  acknowledge: "Acknowledge", refer: "Refer", resolve: "Resolve", timeline: "Timeline", allStatuses: "All statuses",
  overdueOnly: "Overdue only", opened: "opened", notified: "notified", escalated: "escalated", system: "system", sms: "SMS",
  console: "console", back: "Back to the list" });

const caseFilter = { status: "open", overdue: false };
const when = (s) => (s ? new Date(s).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : "");

async function casesView() {
  const code = new URLSearchParams(location.hash.split("?")[1] || "").get("code");
  if (code) return caseView(code);
  const q = new URLSearchParams({ per_page: "100" });
  if (caseFilter.status) q.set("status", caseFilter.status);
  if (caseFilter.overdue) q.set("overdue", "true");
  const r = await call("GET", "/cases?" + q);
  if (!r.ok) return el("p", { class: "err" }, r.data.error ? r.data.error.message : String(r.status));
  const statusSelect = el("select", { id: "case-status", onchange: (e) => { caseFilter.status = e.target.value; render(); } },
    el("option", { value: "", selected: !caseFilter.status }, t("allStatuses")),
    ["open", "acknowledged", "referred", "resolved"].map((s) => el("option", { value: s, selected: caseFilter.status === s }, t(s))));
  const overdue = el("input", { type: "checkbox", id: "case-overdue", checked: caseFilter.overdue,
    onchange: (e) => { caseFilter.overdue = e.target.checked; render(); } });
  const rows = r.data.items.map((c) => el("tr", { "data-case": c.code, class: c.overdue ? "overdue" : "" },
    el("td", {}, el("a", { href: `#cases?code=${c.code}` }, c.code)),
    el("td", {}, c.child), el("td", {}, c.category), el("td", {}, c.area_name),
    el("td", {}, t(c.status), c.overdue ? el("strong", { class: "err" }, " " + t("overdue")) : ""),
    el("td", {}, c.status === "open" ? when(c.deadline_at) : "")));
  return el("section", { id: "cases" },
    el("div", { class: "row" }, statusSelect, el("label", {}, overdue, " ", t("overdueOnly")), el("span", { class: "muted" }, `${r.data.total}`)),
    rows.length
      ? el("table", { id: "case-list" }, el("tr", {}, ["caseCode", "child", "category", "area", "status", "deadline"].map((h) => el("th", {}, t(h)))), rows)
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
    el("p", {}, el("a", { href: "#cases" }, t("back"))),
    el("h3", {}, `${t("caseCode")} ${c.code} · ${c.category} · ${t(c.status)}`, c.overdue ? el("strong", { class: "err" }, " " + t("overdue")) : ""),
    el("p", {}, `${t("child")} ${c.child} · ${c.village_name} · ${t("area")} ${c.area_name} · ${t("deadline")} ${when(c.deadline_at)}`),
    el("div", { class: "row" }, note,
      ["acknowledge", "refer", "resolve"].filter((a) => can[a]).map((a) => el("button", { onclick: act(a), "data-act": a }, t(a))), out),
    el("h4", {}, t("timeline")),
    el("table", { id: "case-timeline" }, (c.events || []).map((e) => el("tr", { "data-event": e.kind },
      el("td", {}, when(e.at)), el("td", {}, t(e.kind)), el("td", {}, e.area_name || ""), el("td", {}, e.actor),
      el("td", {}, t(e.channel)), el("td", {}, e.note || "")))));
}

views.cases = casesView;
