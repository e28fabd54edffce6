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

// ---------- menus ----------
const editor = { name: "", version: 0, tree: null, problems: [], raw: false, inputs: [], phone: "+8613800138002" };

async function menusView() {
  const r = await call("GET", "/menus");
  if (!r.ok) return el("p", { class: "err" }, JSON.stringify(r.data));
  const byTree = {};
  for (const v of r.data.versions) (byTree[v.name] = byTree[v.name] || []).push(v);
  if (!editor.name) editor.name = Object.keys(byTree)[0] || "";
  const versions = byTree[editor.name] || [];
  const live = versions.filter((v) => v.published_at).sort((a, b) => (a.published_at < b.published_at ? 1 : -1))[0];
  if (!editor.tree || !versions.some((v) => v.version === editor.version)) {
    const pick = live || versions[0];
    if (pick) await loadVersion(editor.name, pick.version);
  }
  const treeSelect = el("select", { id: "tree", onchange: async (e) => { editor.name = e.target.value; editor.tree = null; render(); } },
    Object.keys(byTree).map((n) => el("option", { value: n, selected: n === editor.name }, n)));
  const list = el("table", { id: "versions" }, el("tr", {}, el("th", {}, t("version")), el("th", {}, ""), el("th", {}, "")),
    versions.map((v) => el("tr", {},
      el("td", {}, "v" + v.version, " ", v === live ? el("b", { class: "ok" }, "● " + t("published")) : ""),
      el("td", {}, el("button", { class: "small", onclick: async () => { await loadVersion(editor.name, v.version); render(); } }, "✎ v" + v.version)),
      el("td", {}, v === live ? "" : el("button", { class: "small", "data-publish": v.version,
        onclick: async () => { const p = await call("POST", `/menus/${editor.name}/versions/${v.version}/publish`); status(p.ok ? t("publishedOk") + " " + v.version : JSON.stringify(p.data), p.ok); render(); } },
        live && v.version < live.version ? t("rollback") : t("publish"))))));
  return el("div", { class: "grid" },
    el("section", {},
      el("div", { class: "row" }, el("label", {}, t("tree")), treeSelect, el("span", { class: "muted" }, "v" + editor.version)),
      list,
      el("div", { class: "row" },
        el("button", { id: "validate", onclick: validate }, t("validate")),
        el("button", { id: "save", class: "primary", onclick: saveDraft }, t("saveDraft")),
        el("button", { id: "rawToggle", onclick: toggleRaw }, editor.raw ? t("structured") : t("raw")),
        el("span", { id: "status", class: "status" })),
      el("div", { id: "summary" }),
      el("div", { id: "editor" }, editor.raw ? rawEditor() : structuredEditor())),
    simulatorView());
}

async function loadVersion(name, version) {
  const r = await call("GET", `/menus/${name}/versions/${version}?as=json`);
  if (r.ok) { editor.tree = r.data.tree; editor.version = version; editor.problems = []; editor.inputs = []; }
}

function status(text, ok) {
  const s = $("#status");
  if (s) { s.textContent = text; s.className = "status " + (ok ? "ok" : "err"); }
}

function showProblems(problems) {
  editor.problems = problems || [];
  const box = $("#editor");
  if (box && !editor.raw) box.replaceChildren(structuredEditor());
  const sum = $("#summary");
  if (sum) sum.replaceChildren(...editor.problems.filter((p) => !p.node).map((p) => el("p", { class: "problem" }, [p.field, p.message].filter(Boolean).join(": "))));
}

async function validate() {
  const r = await call("POST", `/menus/${editor.name}/validate`, editor.tree);
  if (r.ok) { status(t("valid"), true); showProblems([]); return true; }
  const e = r.data.error || {};
  status((e.problems || []).length + " " + t("problems"), false);
  showProblems(e.problems || [{ message: e.message }]);
  return false;
}

async function saveDraft() {
  const r = await call("POST", `/menus/${editor.name}/versions`, editor.tree);
  if (!r.ok) { const e = r.data.error || {}; status((e.problems || []).length + " " + t("problems"), false); showProblems(e.problems || [{ message: e.message }]); return; }
  editor.version = r.data.version;
  status(t("saved") + " " + r.data.version, true);
  render();
}

async function toggleRaw() {
  if (!editor.raw) {
    const r = await call("POST", "/menus/convert?to=yaml", editor.tree);
    if (!r.ok) return status(JSON.stringify(r.data), false);
    editor.yaml = r.data;
  }
  editor.raw = !editor.raw;
  render();
}

function rawEditor() {
  const area = el("textarea", { id: "yaml", rows: 30, value: editor.yaml || "" });
  return el("div", {}, area, el("button", { id: "applyYaml", onclick: async () => {
    const r = await call("POST", "/menus/convert?to=json", area.value, "application/yaml");
    if (!r.ok) return status(r.data.error ? r.data.error.message : r.data, false);
    editor.tree = r.data; editor.raw = false; render();
  } }, t("apply")));
}

function textInputs(obj, key, id) {
  obj[key] = obj[key] || {};
  return (editor.tree.languages || ["zh", "en"]).map((l) => el("div", { class: "row" }, el("label", {}, l),
    el("input", { type: "text", "data-id": `${id}.${l}`, value: obj[key][l] || "", oninput: (e) => { obj[key][l] = e.target.value; } })));
}

function move(list, i, d) {
  const j = i + d;
  if (j < 0 || j >= list.length) return;
  [list[i], list[j]] = [list[j], list[i]];
  render();
}

function structuredEditor() {
  const tree = editor.tree;
  if (!tree) return el("p", { class: "muted" }, t("noData"));
  const ids = tree.nodes.map((n) => n.id);
  const cards = tree.nodes.map((n, i) => {
    const mine = editor.problems.filter((p) => p.node === n.id);
    const optionsKey = n.kind === "menu" ? "options" : n.kind === "choice" ? "choices" : null;
    const opts = optionsKey ? (n[optionsKey] = n[optionsKey] || []) : [];
    return el("div", { class: "card" + (mine.length ? " bad" : ""), "data-node": n.id },
      el("div", { class: "row" }, el("b", {}, n.id), el("span", { class: "muted" }, n.kind),
        el("span", { class: "spacer" }),
        el("button", { class: "small", onclick: () => move(tree.nodes, i, -1) }, t("up")),
        el("button", { class: "small", onclick: () => move(tree.nodes, i, 1) }, t("down")),
        el("button", { class: "small", onclick: () => { tree.nodes.splice(i, 1); render(); } }, t("remove"))),
      mine.map((p) => el("p", { class: "problem" }, [p.field, p.message].filter(Boolean).join(": "))),
      el("div", { class: "muted" }, t("text")), textInputs(n, "text", `${n.id}.text`),
      opts.map((o, j) => el("div", { class: "card", "data-option": `${n.id}.${j + 1}` },
        el("div", { class: "row" }, el("b", {}, `${j + 1}.`),
          n.kind === "choice" ? [el("label", {}, t("value")), el("input", { type: "text", value: o.value || "", oninput: (e) => { o.value = e.target.value; } })] : "",
          el("label", {}, t("next")),
          el("select", { onchange: (e) => { o.next = e.target.value || undefined; } }, el("option", { value: "" }, "—"),
            ids.map((id) => el("option", { value: id, selected: o.next === id }, id))),
          el("button", { class: "small", onclick: () => move(opts, j, -1) }, t("up")),
          el("button", { class: "small", onclick: () => move(opts, j, 1) }, t("down")),
          el("button", { class: "small", onclick: () => { opts.splice(j, 1); render(); } }, t("remove"))),
        textInputs(o, "label", `${n.id}.option${j + 1}`))),
      optionsKey ? el("button", { class: "small", onclick: () => { opts.push({ label: {}, next: n.kind === "menu" ? tree.start : undefined }); render(); } }, t("addOption")) : "");
  });
  const newId = el("input", { type: "text", placeholder: "id" });
  const newKind = el("select", {}, ["menu", "input", "choice", "confirm", "end", "language"].map((k) => el("option", { value: k }, k)));
  return el("div", {}, cards, el("div", { class: "row" }, newId, newKind,
    el("button", { onclick: () => { if (newId.value) { tree.nodes.push({ id: newId.value, kind: newKind.value, text: {} }); render(); } } }, t("addNode"))));
}

// ---------- simulator ----------
function simulatorView() {
  const phone = el("input", { type: "text", id: "sim-phone", value: editor.phone, onchange: (e) => { editor.phone = e.target.value; editor.inputs = []; simulate(); } });
  const input = el("input", { type: "text", id: "sim-input" });
  const form = el("form", { onsubmit: (e) => { e.preventDefault(); editor.inputs.push(input.value); input.value = ""; simulate(); } },
    el("div", { class: "row" }, input, el("button", { type: "submit", id: "sim-send" }, t("send"))));
  setTimeout(simulate, 0);
  return el("aside", { class: "phone" }, el("b", {}, t("simulator")),
    el("div", { class: "row" }, el("label", {}, t("phone")), phone),
    el("pre", { id: "sim-screen" }, "…"), el("div", { id: "sim-len", class: "len" }), form,
    el("button", { type: "button", onclick: () => { editor.inputs = []; simulate(); } }, t("restart")));
}

async function simulate() {
  const screen = $("#sim-screen");
  if (!screen || !editor.tree) return;
  const r = await call("POST", `/menus/${editor.name}/simulate`, { tree: editor.tree, phone: editor.phone, inputs: editor.inputs });
  const len = $("#sim-len");
  if (!r.ok) {
    const e = r.data.error || {};
    screen.textContent = e.message || r.status;
    len.textContent = "";
    return;
  }
  const last = r.data.screens[r.data.screens.length - 1];
  screen.textContent = (last.end ? "END " : "CON ") + last.text;
  len.textContent = `${last.encoding} ${last.units}/${last.limit}`;
  len.className = "len" + (last.units > last.limit ? " over" : "");
}

// ---------- reports ----------
const reportFilter = { kind: "visits", from: "", to: "", village: "", urgency: "", status: "" };

function query(f) {
  const q = new URLSearchParams();
  for (const k of ["from", "to", "village", "urgency", "status"]) if (f[k]) q.set(k, f[k]);
  return q.toString();
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

async function reportsView() {
  const f = reportFilter;
  const r = await call("GET", `/reports/${f.kind}?${query(f)}`);
  const field = (k, type) => el("label", {}, t(k) + " ", el("input", { type: type || "text", value: f[k], onchange: (e) => { f[k] = e.target.value; render(); } }));
  return el("section", {},
    el("div", { class: "row" },
      el("select", { onchange: (e) => { f.kind = e.target.value; if (f.kind !== "needs") f.status = ""; render(); } },
        ["visits", "needs"].map((k) => el("option", { value: k, selected: f.kind === k }, t(k)))),
      field("from", "date"), field("to", "date"), field("village"), field("urgency"), f.kind === "needs" ? field("status") : "",
      el("button", { onclick: () => download(`/reports/${f.kind}.csv?${query(f)}&lang=${lang}`, `${f.kind}.csv`) }, t("exportCsv")),
      el("button", { onclick: () => download(`/reports/${f.kind}.xlsx?${query(f)}&lang=${lang}`, `${f.kind}.xlsx`) }, t("exportXlsx")),
      el("span", { id: "status", class: "status" })),
    r.ok ? table(r.data.items) : el("p", { class: "err" }, r.data.error ? r.data.error.message : String(r.status)));
}

// ---------- registry ----------
const reg = { resource: "children", q: "" };

async function registryView() {
  const r = await call("GET", `/registry/${reg.resource}?q=${encodeURIComponent(reg.q)}`);
  const csv = el("textarea", { rows: 6, id: "csv", placeholder: "CSV" });
  const result = el("pre", { id: "import-result" });
  const doImport = async (dry) => {
    const res = await call("POST", `/registry/${reg.resource}/import${dry ? "?dry_run=1" : ""}`, csv.value, "text/csv");
    result.textContent = JSON.stringify(res.data, null, 2);
    if (res.ok && !dry) render();
  };
  return el("section", {},
    el("div", { class: "row" },
      el("label", {}, t("resource")),
      el("select", { onchange: (e) => { reg.resource = e.target.value; render(); } },
        ["directors", "children", "guardians", "supervisors", "allowances"].map((k) => el("option", { value: k, selected: reg.resource === k }, k))),
      el("input", { type: "text", value: reg.q, placeholder: t("search"), onchange: (e) => { reg.q = e.target.value; render(); } })),
    r.ok ? table(r.data.items) : el("p", { class: "err" }, r.data.error ? r.data.error.message : String(r.status)),
    el("h3", {}, t("importCsv")), csv,
    el("div", { class: "row" }, el("button", { onclick: () => doImport(true) }, t("dryRun")), el("button", { class: "primary", onclick: () => doImport(false) }, t("doImport"))),
    result);
}

// ---------- dashboard ----------
async function dashboardView() {
  const month = new Date().toISOString().slice(0, 7);
  const r = await call("GET", `/reports/dashboard?month=${month}`);
  if (!r.ok) return el("p", { class: "err" }, r.data.error ? r.data.error.message : String(r.status));
  const d = r.data;
  const villages = d.villages || [];
  const max = Math.max(1, ...villages.map((v) => Math.max(v.visits || 0, v.needs || 0)));
  const w = 420, barH = 16, gap = 10, left = 90;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", villages.length * (2 * barH + gap) + 10); svg.setAttribute("id", "chart");
  villages.forEach((v, i) => {
    const y = i * (2 * barH + gap);
    const add = (tag, attrs, text) => { const n = document.createElementNS(svgNS, tag); for (const [k, val] of Object.entries(attrs)) n.setAttribute(k, val); if (text !== undefined) n.textContent = text; svg.append(n); };
    add("text", { x: 0, y: y + barH + 4 }, v.village);
    add("rect", { x: left, y, width: ((w - left - 40) * (v.visits || 0)) / max, height: barH, fill: "#1f6f8b" });
    add("text", { x: left + 4 + ((w - left - 40) * (v.visits || 0)) / max, y: y + barH - 3 }, `${t("visits")} ${v.visits || 0}`);
    add("rect", { x: left, y: y + barH, width: ((w - left - 40) * (v.needs || 0)) / max, height: barH, fill: "#d98b2b" });
    add("text", { x: left + 4 + ((w - left - 40) * (v.needs || 0)) / max, y: y + 2 * barH - 3 }, `${t("needs")} ${v.needs || 0}`);
  });
  const urgent = d.open_urgent_needs || d.openUrgentNeeds || {};
  return el("section", {},
    el("div", { class: "kpis" },
      el("div", { class: "kpi" }, el("b", {}, String(urgent.count ?? (urgent.refs || []).length ?? 0)), t("openUrgent"))),
    el("h3", {}, t("perVillage"), " ", month), villages.length ? svg : el("p", { class: "muted" }, t("noData")));
}

// ---------- SMS templates ----------
// Every SMS the gateway sends is a template; providers in mainland China
// send only those they approved. This lists each with its texts, its
// variables, the verdicts recorded and how many messages wait for one, and
// lets an administrator record a verdict copied from a provider's console.
async function templatesView() {
  const r = await call("GET", "/templates");
  if (!r.ok) return el("p", { class: "err" }, r.data.error ? r.data.error.message : String(r.status));
  const rows = r.data.templates.map((tm) => {
    const langs = Object.keys(tm.text).sort();
    const form = { lang: langs[0], carrier: "tencent", status: "approved", provider_id: "", note: "" };
    const out = el("span", { class: "status" });
    const save = async () => {
      const res = await call("PUT", `/templates/${tm.key}/approvals`, form);
      if (res.ok) return render();
      out.className = "status err";
      out.textContent = res.data.error ? res.data.error.message + (res.data.error.problems || []).map((p) => ` ${p.field}: ${p.message}`).join(";") : String(res.status);
    };
    const input = (k, attrs) => el("input", Object.assign({ value: form[k], "data-field": k, oninput: (e) => { form[k] = e.target.value; } }, attrs));
    const select = (k, opts, label) => el("select", { "data-field": k, onchange: (e) => { form[k] = e.target.value; } },
      opts.map((o) => el("option", { value: o, selected: form[k] === o }, label ? label(o) : o)));
    return el("article", { class: "template", "data-template": tm.key },
      el("h3", {}, tm.key, tm.held ? el("span", { class: "badge", "data-held": tm.held }, ` ${tm.held} ${t("waiting")}`) : ""),
      el("p", { class: "muted" }, tm.about),
      tm.screen || tm.vars.some((v) => v.kind === "text") ? el("p", { class: "warn" }, t("freeText")) : "",
      el("p", {}, t("variables"), ": ", tm.vars.length ? tm.vars.map((v) => `{${v.name}} (${v.kind})`).join(", ") : "—"),
      el("dl", {}, langs.flatMap((l) => [el("dt", {}, l), el("dd", { class: "text" }, tm.text[l])])),
      tm.approvals.length
        ? el("table", { class: "approvals" }, el("tr", {}, [t("carrier"), "lang", t("status"), t("providerId"), t("note")].map((h) => el("th", {}, h))),
          tm.approvals.map((a) => el("tr", { "data-approval": `${a.carrier}/${a.lang}` }, [a.carrier, a.lang, t(a.status), a.provider_id, a.note].map((c) => el("td", {}, c)))))
        : el("p", { class: "muted" }, t("notRecorded")),
      el("div", { class: "row" },
        select("carrier", ["tencent", "aliyun"]), select("lang", langs), select("status", ["approved", "pending", "rejected"], t),
        input("provider_id", { placeholder: t("providerId") }), input("note", { placeholder: t("note") }),
        el("button", { onclick: save, "data-record": tm.key }, t("record")), out));
  });
  return el("section", { id: "templates" }, rows);
}

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
  const view = (location.hash || "#menus").slice(1);
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.getAttribute("href") === "#" + view);
  const views = { menus: menusView, reports: reportsView, registry: registryView, dashboard: dashboardView, templates: templatesView };
  // A slower view started earlier must not replace one the user moved to
  // since (clicking from tab to tab while a page loads).
  const seq = ++renderSeq;
  const node = await (views[view] || menusView)();
  if (seq === renderSeq) main.replaceChildren(node);
}
let renderSeq = 0;

window.addEventListener("hashchange", render);
document.addEventListener("DOMContentLoaded", () => {
  $("#lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; sessionStorage.setItem("lang", lang); render(); });
  $("#logout").addEventListener("click", logout);
  render();
});
