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
    notRecorded: "尚无审核记录" },
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
    freeText: "its variable is free text: a provider may refuse it", notRecorded: "no verdict recorded yet" },
};
let lang = sessionStorage.getItem("lang") || "zh";
const t = (k) => (T[lang] && T[lang][k]) || k;

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
  const headers = {};
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
    if (!r.ok) { msg.textContent = (r.data.error && r.data.error.message) || r.status; return; }
    sessionStorage.setItem("token", r.data.token);
    location.hash = "#menus";
    render();
  } },
  el("div", { class: "row" }, el("label", { for: "username" }, t("username")), user),
  el("div", { class: "row" }, el("label", { for: "password" }, t("password")), pass),
  el("button", { class: "primary", type: "submit", id: "login" }, t("login")), msg);
  return el("section", {}, form);
}


// status shows the outcome of an action in the page's status line.
function status(text, ok) {
  const s = $("#status");
  if (s) { s.textContent = text; s.className = "status " + (ok ? "ok" : "err"); }
}

async function download(path, filename) {
  const r = await fetch("/api/v1" + path, { headers: { Authorization: "Bearer " + sessionStorage.getItem("token") } });
  if (!r.ok) return status(await r.text(), false);
  const a = el("a", { href: URL.createObjectURL(await r.blob()), download: filename });
  document.body.append(a); a.click(); a.remove();
}

function table(items) {
  if (!items || !items.length) return el("p", { class: "muted" }, t("noData"));
  const cols = Object.keys(items[0]).filter((k) => typeof items[0][k] !== "object");
  return el("table", {}, el("tr", {}, cols.map((c) => el("th", {}, c))),
    items.map((it) => el("tr", {}, cols.map((c) => el("td", {}, it[c] === null || it[c] === undefined ? "" : String(it[c]))))));
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
  const main = $("#main");
  if (!signedIn) { main.replaceChildren(loginView()); return; }
  const view = (location.hash || "#menus").slice(1).split("?")[0];
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.getAttribute("href") === "#" + view);
  // A slower view started earlier must not replace one the user moved to
  // since (clicking from tab to tab while a page loads).
  const seq = ++renderSeq;
  const node = await (views[view] || views.menus)();
  if (seq === renderSeq) main.replaceChildren(node);
}
let renderSeq = 0;

window.addEventListener("hashchange", render);
document.addEventListener("DOMContentLoaded", () => {
  $("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; sessionStorage.setItem("lang", lang); render(); });
  $("#logout").addEventListener("click", logout);
  render();
});
