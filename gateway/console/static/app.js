// Barefoot console: a single page over the admin API (/api/v1). No build
// step and no third-party code: it must run from the binary in an offline
// county office. Everything it shows is set as text, never as HTML.
"use strict";

const T = {
  zh: { menus: "菜单", reports: "报告", registry: "登记", dashboard: "概览", logout: "退出", login: "登录", username: "用户名",
    password: "密码", tree: "菜单树", version: "版本", published: "已发布", publish: "发布", rollback: "回滚到此版本", diff: "差异",
    validate: "检查", saveDraft: "保存草稿", raw: "YAML 原文", structured: "结构视图", apply: "应用", addNode: "添加节点",
    addOption: "添加选项", remove: "删除", up: "上移", down: "下移", simulator: "手机模拟", phone: "电话", send: "发送",
    restart: "重新拨打", valid: "检查通过", problems: "个问题", saved: "已保存为版本", publishedOk: "已发布版本",
    visits: "家访", needs: "需求", from: "从", to: "到", village: "村", urgency: "紧急程度", status: "状态", search: "查询",
    exportCsv: "导出 CSV", exportXlsx: "导出 Excel", resource: "类别", importCsv: "导入 CSV", dryRun: "试导入", doImport: "导入",
    month: "月份", openUrgent: "未处理的紧急需求", perVillage: "各村本月家访与需求", text: "提示", label: "选项", next: "下一步",
    value: "值", kind: "类型", noData: "暂无数据", templates: "短信模板", template: "模板", variables: "变量",
    approvals: "审核", waiting: "条等待审核", carrier: "通道", providerId: "模板ID", note: "备注", record: "记录",
    pending: "审核中", approved: "已通过", rejected: "未通过", freeText: "变量为自由文本，服务商可能不予通过",
    notRecorded: "尚无审核记录", audit: "操作记录", when: "时间", who: "操作人", what: "操作", object: "对象", change: "内容",
    yes: "是", no: "否", cancel: "取消", ok: "确定", author: "保存人", date: "日期" },
  en: { menus: "Menus", reports: "Reports", registry: "Registry", dashboard: "Dashboard", logout: "Log out", login: "Log in",
    username: "Username", password: "Password", tree: "Tree", version: "Version", published: "published", publish: "Publish",
    rollback: "Roll back to this", diff: "Diff", validate: "Validate", saveDraft: "Save draft", raw: "Raw YAML",
    structured: "Structured", apply: "Apply", addNode: "Add node", addOption: "Add option", remove: "Remove", up: "Up",
    down: "Down", simulator: "Phone simulator", phone: "Phone", send: "Send", restart: "Dial again", valid: "Valid",
    problems: "problems", saved: "Saved as version", publishedOk: "Published version", visits: "Visits", needs: "Needs",
    from: "From", to: "To", village: "Village", urgency: "Urgency", status: "Status", search: "Search",
    exportCsv: "Export CSV", exportXlsx: "Export Excel", resource: "Resource", importCsv: "Import CSV", dryRun: "Dry run",
    doImport: "Import", month: "Month", openUrgent: "Open urgent needs", perVillage: "Visits and needs this month by village",
    text: "Text", label: "Option", next: "Next", value: "Value", kind: "Kind", noData: "Nothing yet", templates: "SMS templates",
    template: "Template", variables: "Variables", approvals: "Approvals", waiting: "waiting for approval", carrier: "Carrier",
    providerId: "Template id", note: "Note", record: "Record", pending: "pending", approved: "approved", rejected: "rejected",
    freeText: "its variable is free text: a provider may refuse it", notRecorded: "no verdict recorded yet", audit: "Audit log",
    when: "When", who: "Who", what: "Action", object: "Object", change: "Change", yes: "yes", no: "no", cancel: "Cancel", ok: "OK",
    author: "Saved by", date: "Date" },
};
let lang = sessionStorage.getItem("lang") || "zh";
const t = (k) => (T[lang] && T[lang][k]) || k;

// fill puts values into a wording: {name} becomes params.name.
const fill = (s, params) => String(s).replace(/\{(\w+)\}/g, (m, k) => (params && params[k] !== undefined ? params[k] : m));

// Reasons are the API's stable error codes (error.reason), worded here in
// both languages; a page words its own reasons by adding to this table.
const reasons = {
  zh: { credentials_required: "请输入用户名和密码", wrong_credentials: "用户名或密码错误",
    throttled: "错误次数太多，请 {seconds} 秒后再试", busy: "系统繁忙，请稍后再试", token_required: "请先登录",
    token_unknown: "登录已过期，请重新登录", role_required: "此操作需要{role}权限", version_number: "版本号须为从 1 开始的整数",
    version_unknown: "菜单树 {tree} 没有版本 {version}", tree_invalid: "菜单树有 {count} 个问题",
    tree_unparsed: "无法读取菜单树：{detail}", note_invalid: "备注须为一行，最多 {max} 个字",
    claimed: "{value} 已属于正在使用的菜单树 {owner}，未发布", phone_invalid: "电话号码无效",
    phone_unregistered: "这个号码没有登记为此菜单树的使用者", simulate_body: "模拟请求无效", too_many_inputs: "最多模拟 {max} 步",
    internal: "系统出错，请稍后再试", registry_scoped: "登记信息由负责全县的办公室管理" },
  en: { credentials_required: "Enter your username and password", wrong_credentials: "Wrong username or password",
    throttled: "Too many wrong attempts: try again in {seconds} seconds", busy: "Busy: try again in a moment",
    token_required: "Please log in", token_unknown: "Your session has ended: please log in again",
    role_required: "This needs the {role} role", version_number: "A version is a whole number from 1",
    version_unknown: "Tree {tree} has no version {version}", tree_invalid: "The tree has {count} problems",
    tree_unparsed: "The tree cannot be read: {detail}", note_invalid: "A note is one line of at most {max} characters",
    claimed: "{value} belongs to the live tree {owner}: nothing was published", phone_invalid: "Not a valid phone number",
    phone_unregistered: "That phone is not registered for this tree's audience", simulate_body: "The simulation request is not valid",
    too_many_inputs: "At most {max} steps can be simulated", internal: "Something went wrong: try again in a moment", registry_scoped: "the registry is managed by the office that runs the whole deployment" },
};
const roleWords = { zh: { admin: "管理员", editor: "编辑", viewer: "查看" }, en: { admin: "admin", editor: "editor", viewer: "viewer" } };

// errorText says an API error in the console's language: by its reason
// when the console knows it, else the server's message.
function errorText(data) {
  const e = (data && data.error) || {};
  const params = Object.assign({}, e.params);
  if (params.role) params.role = roleWords[lang][params.role] || params.role;
  const words = reasons[lang] || {};
  if (e.reason && words[e.reason]) return fill(words[e.reason], params);
  if (e.code === "internal" && words.internal) return words.internal;
  return e.message || (typeof data === "string" ? data : JSON.stringify(data));
}

// when shows a UTC time from the API in the deployment's time zone.
function when(iso, tz) {
  if (!iso) return "";
  try {
    const f = new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", { timeZone: tz || "UTC", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
    return f.format(new Date(iso));
  } catch (e) { return iso; }
}

// el builds an element: attributes, properties (on*), and children as
// nodes or text.
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "value") e.value = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
const $ = (s) => document.querySelector(s);

async function call(method, path, body, contentType) {
  const headers = { "Accept-Language": lang };
  const token = sessionStorage.getItem("token");
  if (token) headers.Authorization = "Bearer " + token;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const r = await fetch("/api/v1" + path, { method, headers, body: payload });
  const ct = r.headers.get("Content-Type") || "";
  const data = ct.includes("json") ? await r.json() : await r.text();
  if (r.status === 401 && path !== "/login") { logout(); }
  return { ok: r.ok, status: r.status, data };
}

function logout() {
  sessionStorage.removeItem("token");
  sessionStorage.removeItem("role");
  render();
}

// ---------- login ----------
function loginView() {
  const user = el("input", { type: "text", id: "username", autocomplete: "username" });
  const pass = el("input", { type: "password", id: "password", autocomplete: "current-password" });
  const msg = el("p", { class: "err", id: "login-error" });
  const form = el("form", { class: "card", onsubmit: async (ev) => {
    ev.preventDefault();
    const r = await call("POST", "/login", { username: user.value, password: pass.value });
    if (!r.ok) { msg.textContent = errorText(r.data); return; }
    sessionStorage.setItem("token", r.data.token);
    sessionStorage.setItem("role", (r.data.user && r.data.user.role) || "");
    sessionStorage.setItem("area", (r.data.user && r.data.user.area) || "");
    // An office's day starts from what needs doing, not the menu editor.
    location.hash = "#dashboard";
    render();
  } },
  el("div", { class: "row" }, el("label", { for: "username" }, t("username")), user),
  el("div", { class: "row" }, el("label", { for: "password" }, t("password")), pass),
  el("button", { class: "primary", type: "submit", id: "login" }, t("login")), msg);
  return el("section", {}, form);
}


// status shows the outcome of an action in the page's status line. The
// page is often redrawn right after an action: the message is shown again
// on the redrawn page, if that follows within a few seconds.
let flash = null;
function status(text, ok) {
  flash = { text, ok, at: Date.now() };
  showFlash();
}
function showFlash() {
  const s = $("#status");
  if (s && flash) { s.textContent = flash.text; s.className = "status " + (flash.ok ? "ok" : "err"); }
}

// ask shows an in-page dialog and resolves true when the user confirms.
// window.confirm would block the page, and tests with it.
function ask(title, lines, okLabel) {
  return new Promise((resolve) => {
    const done = (v) => { box.remove(); resolve(v); };
    const box = el("div", { id: "confirm", class: "overlay", role: "dialog", "aria-modal": "true" },
      el("div", { class: "card dialog" }, el("b", {}, title), lines.filter(Boolean).map((l) => el("p", {}, l)),
        el("div", { class: "row" },
          el("button", { id: "confirm-ok", class: "primary", onclick: () => done(true) }, okLabel || t("ok")),
          el("button", { id: "confirm-cancel", onclick: () => done(false) }, t("cancel")))));
    document.body.append(box);
    box.querySelector("#confirm-ok").focus();
  });
}

async function download(path, filename) {
  const r = await fetch("/api/v1" + path, { headers: { Authorization: "Bearer " + sessionStorage.getItem("token"), "Accept-Language": lang } });
  if (!r.ok) { const body = await r.text(); let data = body; try { data = JSON.parse(body); } catch (e) { /* text */ } return status(errorText(data), false); }
  const a = el("a", { href: URL.createObjectURL(await r.blob()), download: filename });
  document.body.append(a); a.click(); a.remove();
}

function table(items) {
  if (!items || !items.length) return el("p", { class: "muted" }, t("noData"));
  const cols = Object.keys(items[0]).filter((k) => typeof items[0][k] !== "object" || Array.isArray(items[0][k]));
  return el("table", {}, el("tr", {}, cols.map((c) => el("th", { "data-col": c }, colName(c)))),
    items.map((it) => el("tr", {}, cols.map((c) => el("td", { "data-col": c }, cellWord(c, it[c]))))));
}

// colWords name the fields of registry records (and other plain tables)
// for people; a field without a name shows as it is.
const colWords = {
  zh: { id: "序号", phone: "电话", name: "姓名", language: "短信语言", village: "村", county: "县", active: "在用", code: "编号",
    birth_date: "出生日期", directors: "负责主任", children: "儿童", child: "儿童编号", child_name: "儿童姓名", scheme: "补贴类别",
    status: "状态", monthly_yuan: "每月金额（元）", last_paid: "最近发放", next_payment: "下次发放", area: "所属区域", level: "级别",
    parent: "上级区域", status_secret: "查询口令" },
  en: { id: "No.", phone: "Phone", name: "Name", language: "SMS language", village: "Village", county: "County", active: "Active",
    code: "Code", birth_date: "Born", directors: "Directors", children: "Children", child: "Child ID", child_name: "Child",
    scheme: "Scheme", status: "Status", monthly_yuan: "Monthly (yuan)", last_paid: "Last paid", next_payment: "Next payment",
    area: "Area", level: "Level", parent: "Parent area", status_secret: "Status secret" },
};
const colName = (c) => (colWords[lang] && colWords[lang][c]) || c;

// valueWords word the codes registry records hold.
const valueWords = {
  zh: { true: "是", false: "否", zh: "中文", en: "英文", prefecture: "地区", county: "县", township: "乡镇", village: "村",
    living: "生活补贴", orphan: "孤儿补贴", disability: "残疾补贴", other: "其他", applied: "审核中", approved: "已批准",
    paid: "已发放", suspended: "已暂停", rejected: "未批准" },
  en: { true: "yes", false: "no", zh: "Chinese", en: "English", prefecture: "prefecture", county: "county", township: "township",
    village: "village", living: "living", orphan: "orphan", disability: "disability", other: "other", applied: "applied",
    approved: "approved", paid: "paid", suspended: "suspended", rejected: "rejected" },
};
function cellWord(col, v) {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? Object.values(x).join(" ") : String(x))).join("、");
  if (["active", "language", "level", "scheme", "status"].includes(col)) return (valueWords[lang] || {})[String(v)] || String(v);
  return String(v);
}

Object.assign(T.zh, { prev: "上一页", nextPage: "下一页", rangeOf: (a, b, n) => `第 ${a}–${b} 条，共 ${n} 条`,
  line: "行", column: "列", problem: "问题" });
Object.assign(T.en, { prev: "Previous", nextPage: "Next", rangeOf: (a, b, n) => `${a}–${b} of ${n}`,
  line: "Line", column: "Column", problem: "Problem" });

// pager says which rows of how many a page shows ("1–50 of 133") and moves
// to the page before or after it: go(page) loads that page.
function pager(p, go) {
  const total = p.total || 0, per = p.per_page || 50, page = p.page || 1;
  const first = total ? (page - 1) * per + 1 : 0, last = Math.min(page * per, total);
  return el("div", { class: "row pager" },
    el("button", { type: "button", "data-page": "prev", disabled: page <= 1, onclick: () => go(page - 1) }, t("prev")),
    el("span", { class: "range" }, T[lang].rangeOf(first, last, total)),
    el("button", { type: "button", "data-page": "next", disabled: last >= total, onclick: () => go(page + 1) }, t("nextPage")));
}

// apiError is an API error in words: its message, then each problem with
// the parameter or column it names (words(field) may put that in words).
function apiError(r, words) {
  const e = (r.data && r.data.error) || {};
  const problems = e.problems || [];
  const name = words || ((f) => f);
  return el("div", { class: "err", role: "alert" },
    problems.length ? problems.map((p) => el("p", { class: "problem", "data-field": p.field || "" },
      p.field ? name(p.field) + ": " : "", p.message)) : el("p", {}, e.message || String(r.status)));
}

// views maps a page's hash to the function that builds it. Each page is a
// script of its own (menus.js, reports.js, ...) that adds itself here and
// its words to T, so that pages can change without touching each other.
const views = {};

// ---------- shell ----------
async function render() {
  document.documentElement.lang = lang;
  $("#lang").textContent = lang === "zh" ? "English" : "中文";
  for (const n of document.querySelectorAll("[data-t]")) n.textContent = t(n.dataset.t);
  const signedIn = !!sessionStorage.getItem("token");
  $("#nav").hidden = !signedIn;
  $("#logout").hidden = !signedIn;
  for (const a of document.querySelectorAll("[data-role=admin]")) a.hidden = sessionStorage.getItem("role") !== "admin";
  // The registry is for users of the whole deployment, not of one area.
  for (const a of document.querySelectorAll("[data-scope=all]")) a.hidden = !!sessionStorage.getItem("area");
  const main = $("#main");
  if (!signedIn) { main.replaceChildren(loginView()); return; }
  const view = (location.hash || "#dashboard").slice(1).split("?")[0];
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.getAttribute("href") === "#" + view);
  // A slower view started earlier must not replace one the user moved to
  // since (clicking from tab to tab while a page loads).
  const seq = ++renderSeq;
  const node = await (views[view] || views.dashboard)();
  if (seq !== renderSeq) return;
  main.replaceChildren(node);
  if (flash && Date.now() - flash.at < 5000) showFlash();
}
let renderSeq = 0;

window.addEventListener("hashchange", render);
document.addEventListener("DOMContentLoaded", () => {
  $("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; sessionStorage.setItem("lang", lang); render(); });
  $("#logout").addEventListener("click", logout);
  render();
});
