"use strict";

// ---------- reports ----------
// Reports as an office reads them: a few columns in words, times on the
// deployment's clock (as the exports show them), urgent ones marked, and a
// need opened to follow it up.

// The words for the codes reports hold, as the demo menus put them to
// directors. A code without words (a tree's new choice) shows as it is.
const reportWords = {
  zh: {
    situation: { well: "良好", needs_support: "需要帮助", concern: "令人担忧", urgent: "紧急情况" },
    category: { registration: "出生或户口登记", school: "入学", health: "疫苗或健康", medical: "医疗救助", allowance: "生活补贴",
      protection: "保护问题", other: "其他" },
    urgency: { routine: "一般", urgent: "紧急" },
    status: { open: "待处理", referred: "已转介", resolved: "已解决" },
    channel: { ussd: "USSD 菜单", sms: "短信" },
    answer: { child: "儿童", situation: "情况", category: "需求类别", urgency: "紧急程度", note: "备注", language: "语言" },
  },
  en: {
    situation: { well: "Well", needs_support: "Needs support", concern: "Some concern", urgent: "Urgent concern" },
    category: { registration: "Birth/residence papers", school: "School enrolment", health: "Vaccination or health",
      medical: "Medical aid", allowance: "Living allowance", protection: "Protection concern", other: "Other" },
    urgency: { routine: "Routine", urgent: "Urgent" },
    status: { open: "Open", referred: "Referred", resolved: "Resolved" },
    channel: { ussd: "USSD menu", sms: "SMS" },
    answer: { child: "Child", situation: "Situation", category: "Category", urgency: "Urgency", note: "Note", language: "Language" },
  },
};
// word is a code in words: word("urgency", "urgent") is 紧急.
const word = (group, code) => (code && (reportWords[lang][group] || {})[code]) || code || "";
// worded is a report's own words, as the server words it from the tree
// version that asked (a new choice in an edited tree included), falling
// back to word(): worded(it, "detail", "category", it.category).
const worded = (it, field, group, code) => (it.words && it.words[lang] && it.words[lang][field]) || word(group, code);

Object.assign(T.zh, { restricted: "保护问题、医疗救助和紧急家访的详情，仅主管和个案负责人可见。", reportedAt: "上报时间", child: "儿童", director: "主任", situation: "情况", category: "需求类别",
  channel: "渠道", ref: "编号", lastAction: "最近处理", all: "全部", childCode: "儿童编号", directorPhone: "主任电话",
  refer: "转介", resolve: "解决", reopen: "重新打开", close: "关闭", history: "处理记录", when: "时间", who: "处理人",
  change: "变更", answers: "回答", noHistory: "尚无人处理", notePlaceholder: "备注：转介给谁、做了什么",
  toBeforeFrom: "结束日期早于开始日期，请调换两个日期", changed: "已更新", viewerCannot: "查看者不能更改需求状态",
  county: "县", timeZone: "时区" });
Object.assign(T.en, { restricted: "The details of protection concerns, medical needs and urgent visits are for supervisors and the case's holders only.", reportedAt: "Reported", child: "Child", director: "Director", situation: "Situation", category: "Category",
  channel: "Channel", ref: "Ref", lastAction: "Last action", all: "All", childCode: "Child ID", directorPhone: "Director's phone",
  refer: "Refer", resolve: "Resolve", reopen: "Reopen", close: "Close", history: "Follow-up", when: "When", who: "Who",
  change: "Change", answers: "Answers", noHistory: "Nobody has acted on it yet", notePlaceholder: "Note: referred to whom, what was done",
  toBeforeFrom: "The end date is before the start date: swap them", changed: "Updated", viewerCannot: "Viewers cannot change a need's status",
  county: "County", timeZone: "Time zone" });

const reportFilter = { kind: "visits", from: "", to: "", village: "", urgency: "", status: "", detail: "", director: "", child: "",
  page: 1, open: "" };

function query(f) {
  const q = new URLSearchParams();
  for (const k of ["from", "to", "village", "urgency", "director", "child"]) if (f[k]) q.set(k, f[k]);
  if (f.kind === "needs" && f.status) q.set("status", f.status);
  if (f.detail) q.set(f.kind === "needs" ? "category" : "situation", f.detail);
  return q.toString();
}

// reportFieldWords names a query parameter in a problem as the form does.
function reportFieldWords(field) {
  const names = { from: "from", to: "to", village: "village", urgency: "urgency", status: "status", category: "category",
    situation: "situation", director: "directorPhone", child: "childCode", page: "nextPage", per_page: "nextPage" };
  return t(names[field] || field);
}

// reportProblems puts a refused query in words; a reversed date range,
// the usual slip, gets a sentence of its own.
function reportProblems(r) {
  const problems = (r.data && r.data.error && r.data.error.problems) || [];
  if (problems.some((p) => p.field === "to" && /before from/.test(p.message))) {
    return el("div", { class: "err", role: "alert" }, el("p", { class: "problem", "data-field": "to" }, t("toBeforeFrom")));
  }
  return apiError(r, reportFieldWords);
}

// villageChoices are the places of the registry's children, read once from
// the dashboard (which lists every village with an active child).
let villageChoices = null;
async function villages() {
  if (villageChoices) return villageChoices;
  const r = await call("GET", "/reports/dashboard");
  if (!r.ok) return [];
  villageChoices = (r.data.villages || []).map((v) => v.village).filter((v, i, a) => a.indexOf(v) === i).sort();
  return villageChoices;
}

function choice(key, options, f, labelKey) {
  return el("label", {}, t(labelKey || key) + " ",
    el("select", { "data-filter": key, onchange: (e) => { f[key] = e.target.value; f.page = 1; render(); } },
      el("option", { value: "" }, t("all")),
      options.map(([v, text]) => el("option", { value: v, selected: f[key] === v }, text))));
}

function reportColumns(kind) {
  const cols = [
    ["reportedAt", (it) => it.reported_at_local || it.reported_at],
    ["child", (it) => `${it.child_code} ${it.child_name}`],
    ["village", (it) => it.village],
    ["director", (it) => it.director_name],
    kind === "needs" ? ["category", (it) => worded(it, "detail", "category", it.category)] : ["situation", (it) => worded(it, "detail", "situation", it.situation)],
    ["urgency", (it) => worded(it, "urgency", "urgency", it.urgency)],
  ];
  if (kind === "needs") {
    cols.push(["status", (it) => word("status", it.status)]);
    cols.push(["lastAction", (it) => it.last_change ? `${it.last_change.actor} ${it.last_change.at_local} ${word("status", it.last_change.to)}` : ""]);
  } else {
    cols.push(["channel", (it) => word("channel", it.channel)]);
  }
  return cols;
}

function reportTable(f, items) {
  if (!items.length) return el("p", { class: "muted" }, t("noData"));
  const cols = reportColumns(f.kind);
  const openNeed = (ref) => { f.open = ref; render(); };
  return el("table", { id: "report-table", class: "reports" },
    el("tr", {}, cols.map(([k]) => el("th", { "data-col": k }, t(k))), el("th", {}, t("ref"))),
    items.map((it) => el("tr", { "data-ref": it.ref, class: it.urgency === "urgent" ? "urgent" : null },
      cols.map(([k, get]) => el("td", { "data-col": k }, get(it))),
      el("td", {}, f.kind === "needs"
        ? el("button", { type: "button", class: "linkish", "data-open": it.ref, onclick: () => openNeed(it.ref) }, it.ref)
        : it.ref))));
}

// The moves the need workflow allows from each status, as the API does.
const needMoves = { open: ["referred", "resolved"], referred: ["resolved", "open"], resolved: ["open"] };
const moveWords = { referred: "refer", resolved: "resolve", open: "reopen" };

async function needDetail(f, ref) {
  const [r, me] = await Promise.all([call("GET", "/reports/" + encodeURIComponent(ref)), call("GET", "/me")]);
  const box = el("section", { class: "card detail", id: "need-detail", "data-ref": ref });
  if (!r.ok) { box.append(apiError(r)); return box; }
  const n = r.data;
  const canChange = me.ok && me.data.role !== "viewer";
  const note = el("textarea", { rows: 2, id: "need-note", placeholder: t("notePlaceholder") });
  const msg = el("p", { class: "status", id: "need-status" });
  const act = async (to) => {
    const res = await call("POST", `/reports/needs/${encodeURIComponent(n.ref)}/status`, { status: to, note: note.value });
    if (!res.ok) { msg.replaceChildren(apiError(res)); return; }
    render();
  };
  // dl lists [label, value, key] triples, labels already in words.
  const dl = (rows) => el("dl", {}, rows.flatMap(([label, v, key]) => [el("dt", {}, label), el("dd", { "data-field": key }, v)]));
  const answers = Object.entries(n.answers || {}).sort();
  box.append(
    el("div", { class: "row" }, el("h3", {}, t("needs"), " ", n.ref), el("span", { class: "spacer" }),
      el("button", { type: "button", id: "need-close", onclick: () => { f.open = ""; render(); } }, t("close"))),
    dl([["child", `${n.child_code} ${n.child_name}`], ["village", `${n.village} (${n.county})`],
      ["director", `${n.director_name} ${n.director_phone}`], ["category", worded(n, "detail", "category", n.category)],
      ["urgency", worded(n, "urgency", "urgency", n.urgency)], ["status", word("status", n.status)], ["reportedAt", n.reported_at_local]]
      .map(([k, v]) => [t(k), v, k])),
    el("h4", {}, t("answers")),
    n.restricted
      ? el("p", { class: "muted", id: "need-restricted" }, t("restricted"))
      : n.words && n.words[lang]
      ? dl(n.words[lang].answers.map((a) => [a.name !== a.key ? a.name : reportWords[lang].answer[a.key] || a.key, a.word, "answer:" + a.key]))
      : dl(answers.map(([k, v]) => [reportWords[lang].answer[k] || k, word(k, v), "answer:" + k])),
    el("h4", {}, t("history")),
    (n.history || []).length
      ? el("table", { id: "need-history" }, el("tr", {}, el("th", {}, t("when")), el("th", {}, t("who")), el("th", {}, t("change")), el("th", {}, t("note"))),
        n.history.map((h) => el("tr", {}, el("td", {}, h.at_local), el("td", {}, h.actor),
          el("td", {}, `${word("status", h.from)} → ${word("status", h.to)}`), el("td", {}, h.note))))
      : el("p", { class: "muted", id: "need-history" }, t("noHistory")),
    canChange
      ? el("div", {}, note, el("div", { class: "row" }, (needMoves[n.status] || []).map((to) =>
        el("button", { type: "button", class: to === "open" ? null : "primary", "data-move": to, onclick: () => act(to) }, t(moveWords[to])))), msg)
      : el("p", { class: "muted" }, t("viewerCannot")));
  return box;
}

async function reportsView() {
  const f = reportFilter;
  const q = query(f);
  const [r, places] = await Promise.all([call("GET", `/reports/${f.kind}?${q}${q ? "&" : ""}page=${f.page}`), villages()]);
  const field = (k, type, label) => el("label", {}, t(label || k) + " ",
    el("input", { type: type || "text", "data-filter": k, value: f[k], onchange: (e) => { f[k] = e.target.value.trim(); f.page = 1; render(); } }));
  const detailKey = f.kind === "needs" ? "category" : "situation";
  const words = reportWords[lang];
  const filters = el("div", { class: "row filters" },
    el("select", { "data-filter": "kind", onchange: (e) => { f.kind = e.target.value; f.status = ""; f.detail = ""; f.page = 1; f.open = ""; render(); } },
      ["visits", "needs"].map((k) => el("option", { value: k, selected: f.kind === k }, t(k)))),
    field("from", "date"), field("to", "date"),
    choice("village", places.map((v) => [v, v]), f),
    choice("detail", Object.entries(words[detailKey]), f, detailKey),
    choice("urgency", Object.entries(words.urgency), f),
    f.kind === "needs" ? choice("status", Object.entries(words.status), f) : "",
    field("director", "tel", "directorPhone"), field("child", "text", "childCode"),
    el("button", { onclick: () => download(`/reports/${f.kind}.csv?${q}${q ? "&" : ""}lang=${lang}`, `${f.kind}.csv`) }, t("exportCsv")),
    el("button", { onclick: () => download(`/reports/${f.kind}.xlsx?${q}${q ? "&" : ""}lang=${lang}`, `${f.kind}.xlsx`) }, t("exportXlsx")),
    el("span", { id: "status", class: "status" }));
  const go = (page) => { f.page = page; render(); };
  const body = r.ok
    ? [pager(r.data, go), reportTable(f, r.data.items || []),
      el("p", { class: "muted" }, t("timeZone"), ": ", r.data.time_zone || "")]
    : [reportProblems(r)];
  return el("section", {}, filters, f.kind === "needs" && f.open ? await needDetail(f, f.open) : "", body);
}

views.reports = reportsView;
