"use strict";

// ---------- menus ----------
// The editor works on the tree as JSON (editor.tree). editor.yaml is the
// YAML it was loaded or applied from, kept while no structured edit has
// changed the tree, so that a version saved from it keeps its comments.
// editor.base is the last saved version loaded: stored versions are valid,
// so the simulator plays it while the draft has problems.
const editor = { name: "", version: 0, tree: null, base: null, yaml: null, problems: [], raw: false, inputs: [], phone: "",
  tz: "UTC", diff: null };

Object.assign(T.zh, { kinds: "类型", kind_menu: "菜单", kind_input: "输入", kind_choice: "选择", kind_confirm: "确认提交",
  kind_end: "结束", kind_language: "语言选择", kind_allowance: "补贴查询", f_validate: "检查方式", f_save_as: "答案保存为",
  f_next: "下一步", f_cancel: "取消后到", f_action: "提交内容", f_min: "最小", f_max: "最大", f_min_date: "最早日期",
  f_max_date: "最晚日期", f_set: "预设答案", f_start: "起始节点", f_error: "错误提示", v_number: "数字", v_date: "日期",
  v_phone: "电话号码", v_child: "儿童编号", v_text: "文字", a_save_visit: "保存家访", a_save_need: "保存需求",
  sameAsNode: "同节点的下一步", none: "（未选择）", note: "备注", diffPrev: "与上一版比较", diffWith: "差异",
  publishTitle: "发布 {tree} 的版本 {to}？", publishWas: "来电者将使用版本 {to}，不再使用版本 {from}。",
  publishFirst: "来电者将开始使用版本 {to}。", rollbackTitle: "将 {tree} 回滚到版本 {to}？",
  rollbackWas: "来电者将使用较早的版本 {to}，不再使用版本 {from}。", versionNote: "版本 {version} 的备注：{note}",
  running: "正在通话的用户继续使用原来的版本。", simDraft: "模拟的是当前草稿", simFallback: "草稿有 {count} 个问题，模拟的是已保存的版本 {version}",
  simNothing: "草稿有 {count} 个问题，还没有可以模拟的版本", con: "会话继续，等待输入", end: "会话结束", sample: "示例主任或监护人",
  nodeId: "节点名称", idTaken: "已有同名节点", idBad: "节点名称须由小写字母、数字或“_”组成，并以字母开头" });
Object.assign(T.en, { kinds: "Kind", kind_menu: "Menu", kind_input: "Input", kind_choice: "Choice", kind_confirm: "Confirm and save",
  kind_end: "End", kind_language: "Language", kind_allowance: "Allowance", f_validate: "Check as", f_save_as: "Save answer as",
  f_next: "Next", f_cancel: "After cancel", f_action: "Saves", f_min: "Min", f_max: "Max", f_min_date: "Earliest date",
  f_max_date: "Latest date", f_set: "Preset answers", f_start: "Start node", f_error: "Error text", v_number: "Number",
  v_date: "Date", v_phone: "Phone number", v_child: "Child ID", v_text: "Text", a_save_visit: "Save a visit",
  a_save_need: "Save a need", sameAsNode: "the node's next", none: "(none)", note: "Note", diffPrev: "Compare with previous",
  diffWith: "Diff", publishTitle: "Publish version {to} of {tree}?", publishWas: "Callers will get version {to} instead of version {from}.",
  publishFirst: "Callers will start getting version {to}.", rollbackTitle: "Roll {tree} back to version {to}?",
  rollbackWas: "Callers will get the older version {to} instead of version {from}.", versionNote: "Note on version {version}: {note}",
  running: "Callers in a session keep the version they started on.", simDraft: "Playing the draft",
  simFallback: "The draft has {count} problems: playing saved version {version}",
  simNothing: "The draft has {count} problems and no saved version to play", con: "Session goes on: waiting for input",
  end: "Session ended", sample: "sample director or guardian", nodeId: "Node name", idTaken: "A node already has that name",
  idBad: "A node name is lower-case letters, digits or '_', starting with a letter" });

const kinds = ["menu", "input", "choice", "confirm", "end", "language", "allowance"];
const kindWord = (k) => (T[lang]["kind_" + k] ? t("kind_" + k) : k);

async function menusView() {
  const r = await call("GET", "/menus");
  if (!r.ok) return el("p", { class: "err" }, errorText(r.data));
  editor.tz = r.data.time_zone || "UTC";
  const byTree = {};
  for (const v of r.data.versions) (byTree[v.name] = byTree[v.name] || []).push(v);
  if (!editor.name) editor.name = Object.keys(byTree)[0] || "";
  const versions = byTree[editor.name] || [];
  const live = versions.find((v) => v.live);
  if (!editor.tree || !versions.some((v) => v.version === editor.version)) {
    const pick = live || versions[0];
    if (pick) await loadVersion(editor.name, pick.version);
  }
  const treeSelect = el("select", { id: "tree", onchange: (e) => {
    editor.name = e.target.value; editor.tree = null; editor.base = null; editor.inputs = []; editor.phone = ""; editor.diff = null;
    render();
  } }, Object.keys(byTree).map((n) => el("option", { value: n, selected: n === editor.name }, n)));
  const list = el("table", { id: "versions" },
    el("tr", {}, el("th", {}, t("version")), el("th", {}, t("date")), el("th", {}, t("author")), el("th", {}, t("note")),
      el("th", {}, ""), el("th", {}, ""), el("th", {}, "")),
    versions.map((v, i) => el("tr", { "data-version": v.version },
      el("td", {}, "v" + v.version, " ", v === live ? el("b", { class: "ok" }, "● " + t("published")) : ""),
      el("td", { class: "when" }, when(v.created_at, editor.tz)),
      el("td", { class: "author" }, v.author || ""),
      el("td", { class: "note" }, v.note || ""),
      el("td", {}, el("button", { class: "small", onclick: async () => { await loadVersion(editor.name, v.version); render(); } }, "✎ v" + v.version)),
      el("td", {}, versions[i + 1] ? el("button", { class: "small", "data-diff": v.version,
        onclick: () => showDiff(versions[i + 1].version, v.version) }, t("diffPrev")) : ""),
      el("td", {}, v === live ? "" : el("button", { class: "small", "data-publish": v.version, onclick: () => publish(v, live) },
        live && v.version < live.version ? t("rollback") : t("publish"))))));
  return el("div", { class: "grid" },
    el("section", {},
      el("div", { class: "row" }, el("label", {}, t("tree")), treeSelect, el("span", { class: "muted" }, "v" + editor.version)),
      list,
      editor.diff ? diffView(editor.diff) : "",
      el("div", { class: "row" },
        el("button", { id: "validate", onclick: validate }, t("validate")),
        el("input", { type: "text", id: "note", placeholder: t("note"), maxlength: 500 }),
        el("button", { id: "save", class: "primary", onclick: saveDraft }, t("saveDraft")),
        el("button", { id: "rawToggle", onclick: toggleRaw }, editor.raw ? t("structured") : t("raw")),
        el("span", { id: "status", class: "status" })),
      el("div", { id: "summary" }, treeProblems()),
      el("div", { id: "editor" }, editor.raw ? rawEditor() : structuredEditor())),
    simulatorView());
}

async function loadVersion(name, version) {
  const [r, src] = await Promise.all([call("GET", `/menus/${name}/versions/${version}?as=json`), call("GET", `/menus/${name}/versions/${version}`)]);
  if (!r.ok) return;
  editor.tree = r.data.tree; editor.base = JSON.parse(JSON.stringify(r.data.tree)); editor.version = version;
  editor.yaml = src.ok && src.data.format === "yaml" ? src.data.source : null;
  editor.problems = []; editor.inputs = [];
}

// changed marks a structured edit: the YAML the tree came from no longer
// says what it is.
function changed() { editor.yaml = null; }

async function publish(v, live) {
  const words = { tree: editor.name, to: v.version, from: live ? live.version : "" };
  const back = live && v.version < live.version;
  const lines = [fill(t(live ? (back ? "rollbackWas" : "publishWas") : "publishFirst"), words)];
  if (v.note) lines.push(fill(t("versionNote"), { version: v.version, note: v.note }));
  lines.push(t("running"));
  if (!await ask(fill(t(back ? "rollbackTitle" : "publishTitle"), words), lines, back ? t("rollback") : t("publish"))) return;
  const p = await call("POST", `/menus/${editor.name}/versions/${v.version}/publish`);
  status(p.ok ? t("publishedOk") + " " + v.version : errorText(p.data), p.ok);
  render();
}

async function showDiff(from, to) {
  const r = await call("GET", `/menus/${editor.name}/diff?from=${from}&to=${to}`);
  editor.diff = r.ok ? { from, to, text: r.data } : null;
  if (!r.ok) status(errorText(r.data), false);
  render();
}

function diffView(d) {
  const lines = String(d.text).split("\n").map((l) => el("span", {
    class: l.startsWith("+++") || l.startsWith("---") || l.startsWith("@@") ? "hunk" : l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "",
  }, l + "\n"));
  return el("div", { class: "card" }, el("div", { class: "row" }, el("b", {}, `${t("diffWith")} v${d.from} → v${d.to}`),
    el("span", { class: "spacer" }), el("button", { class: "small", onclick: () => { editor.diff = null; render(); } }, "✕")),
  el("pre", { id: "diff", class: "diff" }, lines));
}

function problemText(p) { return p.message; }

// treeProblems are the problems of the tree itself that no field below
// shows (the start node has its own field).
function treeProblems() {
  return editor.problems.filter((p) => !p.node && p.field !== "start").map((p) => el("p", { class: "problem" }, [p.field, problemText(p)].filter(Boolean).join(": ")));
}

function showProblems(problems) {
  editor.problems = problems || [];
  const box = $("#editor");
  if (box && !editor.raw) box.replaceChildren(structuredEditor());
  const sum = $("#summary");
  if (sum) sum.replaceChildren(...treeProblems());
}

async function validate() {
  const r = await call("POST", `/menus/${editor.name}/validate`, editor.tree);
  if (r.ok) { status(t("valid"), true); showProblems([]); return true; }
  status(errorText(r.data), false);
  const e = r.data.error || {};
  showProblems(e.problems || [{ message: errorText(r.data) }]);
  return false;
}

// saveDraft saves the tree as YAML: the YAML it came from when unchanged
// (its comments kept), else the tree written out as YAML, so that every
// version reads line by line and diffs as such.
async function saveDraft() {
  let yaml = editor.yaml;
  if (yaml === null) {
    const c = await call("POST", "/menus/convert?to=yaml", editor.tree);
    if (!c.ok) return status(errorText(c.data), false);
    yaml = c.data;
  }
  const note = ($("#note") && $("#note").value.trim()) || "";
  const r = await call("POST", `/menus/${editor.name}/versions` + (note ? "?note=" + encodeURIComponent(note) : ""), yaml, "application/yaml");
  if (!r.ok) { status(errorText(r.data), false); const e = r.data.error || {}; if (e.problems) showProblems(e.problems); return; }
  editor.version = r.data.version;
  editor.base = JSON.parse(JSON.stringify(editor.tree));
  editor.yaml = yaml;
  status(t("saved") + " " + r.data.version, true);
  render();
}

async function toggleRaw() {
  if (!editor.raw && editor.yaml === null) {
    const r = await call("POST", "/menus/convert?to=yaml", editor.tree);
    if (!r.ok) return status(errorText(r.data), false);
    editor.yaml = r.data;
  }
  editor.raw = !editor.raw;
  render();
}

function rawEditor() {
  const area = el("textarea", { id: "yaml", rows: 30, value: editor.yaml || "" });
  return el("div", {}, area, el("button", { id: "applyYaml", onclick: async () => {
    const r = await call("POST", "/menus/convert?to=json", area.value, "application/yaml");
    if (!r.ok) return status(errorText(r.data), false);
    editor.tree = r.data; editor.yaml = area.value; editor.raw = false; render();
  } }, t("apply")));
}

function textInputs(obj, key, id) {
  obj[key] = obj[key] || {};
  return (editor.tree.languages || ["zh", "en"]).map((l) => el("div", { class: "row" }, el("label", {}, l),
    el("input", { type: "text", "data-id": `${id}.${l}`, value: obj[key][l] || "", oninput: (e) => { obj[key][l] = e.target.value; changed(); } })));
}

function move(list, i, d) {
  const j = i + d;
  if (j < 0 || j >= list.length) return;
  [list[i], list[j]] = [list[j], list[i]];
  changed();
  render();
}

// nodeSelect picks a node by name; blank is "none" or, for an option,
// the node's own next.
function nodeSelect(value, onpick, blank, field) {
  return el("select", { "data-field": field, onchange: (e) => { onpick(e.target.value || undefined); changed(); } },
    el("option", { value: "" }, blank || t("none")),
    editor.tree.nodes.map((n) => el("option", { value: n.id, selected: value === n.id }, `${n.id} (${kindWord(n.kind)})`)));
}

function pick(values, value, words, onpick, field) {
  return el("select", { "data-field": field, onchange: (e) => { onpick(e.target.value || undefined); changed(); } },
    el("option", { value: "" }, t("none")),
    values.map((v) => el("option", { value: v, selected: value === v }, words(v))));
}

function textField(value, onset, field, attrs) {
  return el("input", Object.assign({ type: "text", "data-field": field, value: value === undefined || value === null ? "" : String(value),
    oninput: (e) => { onset(e.target.value); changed(); } }, attrs || {}));
}

function numberField(value, onset, field) {
  return textField(value, (v) => onset(v.trim() === "" || isNaN(Number(v)) ? undefined : Number(v)), field, { type: "number", class: "num" });
}

// presets edits a node's set as "answer=value, answer=value".
function presets(n) {
  const text = Object.entries(n.set || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  return textField(text, (v) => {
    const set = {};
    for (const part of v.split(/[,，]/)) {
      const [k, ...rest] = part.split("=");
      if (k.trim()) set[k.trim()] = rest.join("=").trim();
    }
    if (Object.keys(set).length) n.set = set; else delete n.set;
  }, "set", { placeholder: "category=school, urgency=routine" });
}

// The fields each kind of node has, beyond its text and options; unused
// fields go when the kind changes.
const kindFields = {
  menu: [], end: [], allowance: [],
  input: ["validate", "save_as", "min", "max", "min_date", "max_date", "next"],
  choice: ["save_as", "next"],
  confirm: ["action", "next", "cancel"],
  language: ["next"],
};
const allFields = ["validate", "save_as", "min", "max", "min_date", "max_date", "next", "cancel", "action", "options", "choices"];

function changeKind(n, kind) {
  for (const f of allFields) if (!(kindFields[kind] || []).includes(f)) delete n[f];
  n.kind = kind;
  fillNode(n);
  changed();
  render();
}

// fillNode gives a node of its kind what it needs, pointing onwards to
// the start node, so that all that is left to do shows on the form.
function fillNode(n) {
  const start = editor.tree.start;
  switch (n.kind) {
    case "input": n.validate = n.validate || "text"; n.save_as = n.save_as || n.id; n.next = n.next || start; break;
    case "choice": n.save_as = n.save_as || n.id; n.next = n.next || start; n.choices = n.choices || [{ value: "1", label: {} }]; break;
    case "menu": n.options = n.options && n.options.length ? n.options : [{ label: {}, next: start }]; break;
    case "confirm": n.action = n.action || "save_visit"; n.next = n.next || start; n.cancel = n.cancel || start; break;
    case "language": n.next = n.next || start; break;
  }
}

function structuredEditor() {
  const tree = editor.tree;
  if (!tree) return el("p", { class: "muted" }, t("noData"));
  const startProblems = editor.problems.filter((p) => !p.node && p.field === "start");
  const head = el("div", { class: "card field", "data-field": "start" },
    el("div", { class: "row" }, el("label", {}, t("f_start")), nodeSelect(tree.start, (v) => { tree.start = v; }, "", "start")),
    startProblems.map((p) => el("p", { class: "problem" }, problemText(p))));
  const cards = tree.nodes.map((n, i) => nodeCard(n, i));
  const newId = el("input", { type: "text", id: "new-id", placeholder: t("nodeId") });
  const newKind = el("select", { id: "new-kind" }, kinds.map((k) => el("option", { value: k }, kindWord(k))));
  const msg = el("span", { class: "problem" });
  return el("div", {}, head, cards, el("div", { class: "row" }, newId, newKind,
    el("button", { id: "add-node", onclick: () => {
      const id = newId.value.trim();
      if (!/^[a-z][a-z0-9_]{0,63}$/.test(id)) { msg.textContent = t("idBad"); return; }
      if (tree.nodes.some((x) => x.id === id)) { msg.textContent = t("idTaken"); return; }
      const n = { id, kind: newKind.value, text: {} };
      fillNode(n);
      tree.nodes.push(n);
      changed();
      render();
      setTimeout(validate, 0);
    } }, t("addNode")), msg));
}

function nodeCard(n, i) {
  const tree = editor.tree;
  const mine = editor.problems.filter((p) => p.node === n.id);
  const shown = new Set();
  // field lays out one field of the node with the problems about it.
  const field = (name, label, control) => {
    shown.add(name);
    return el("div", { class: "field", "data-field": name }, el("div", { class: "row" }, el("label", {}, label), control),
      mine.filter((p) => p.field === name).map((p) => el("p", { class: "problem" }, problemText(p))));
  };
  const optionsKey = n.kind === "menu" ? "options" : n.kind === "choice" ? "choices" : null;
  const opts = optionsKey ? (n[optionsKey] = n[optionsKey] || []) : [];
  const fields = [];
  fields.push(field("text", t("text"), el("div", {}, textInputs(n, "text", `${n.id}.text`))));
  const has = (f) => (kindFields[n.kind] || []).includes(f);
  if (has("validate")) {
    fields.push(field("validate", t("f_validate"), pick(["number", "date", "phone", "child", "text"], n.validate, (v) => t("v_" + v),
      (v) => { n.validate = v; render(); }, "validate")));
  }
  if (has("save_as")) fields.push(field("save_as", t("f_save_as"), textField(n.save_as, (v) => { n.save_as = v.trim() || undefined; }, "save_as")));
  if (has("min") && (n.validate === "number" || n.validate === "text")) {
    fields.push(field("min", t("f_min"), numberField(n.min, (v) => { n.min = v; }, "min")));
    fields.push(field("max", t("f_max"), numberField(n.max, (v) => { n.max = v; }, "max")));
  }
  if (has("min_date") && n.validate === "date") {
    fields.push(field("min_date", t("f_min_date"), textField(n.min_date, (v) => { n.min_date = v.trim() || undefined; }, "min_date", { placeholder: "today / 2026-01-31" })));
    fields.push(field("max_date", t("f_max_date"), textField(n.max_date, (v) => { n.max_date = v.trim() || undefined; }, "max_date", { placeholder: "today / 2026-01-31" })));
  }
  if (has("action")) {
    fields.push(field("action", t("f_action"), pick(["save_visit", "save_need"], n.action, (v) => t("a_" + v), (v) => { n.action = v; }, "action")));
  }
  if (has("next")) fields.push(field("next", t("f_next"), nodeSelect(n.next, (v) => { n.next = v; render(); }, "", "next")));
  if (has("cancel")) fields.push(field("cancel", t("f_cancel"), nodeSelect(n.cancel, (v) => { n.cancel = v; }, "", "cancel")));
  if (n.kind === "confirm" || (n.set && Object.keys(n.set).length)) fields.push(field("set", t("f_set"), presets(n)));
  if (n.error) fields.push(field("error", t("f_error"), el("div", {}, textInputs(n, "error", `${n.id}.error`))));
  if (n.label) fields.push(field("label", t("label"), el("div", {}, textInputs(n, "label", `${n.id}.label`))));
  const optionCards = opts.map((o, j) => {
    const f = `${optionsKey}[${j + 1}]`;
    for (const sub of ["label", "next", "value"]) shown.add(`${f}.${sub}`);
    if (n.kind === "menu") shown.add(`options[${j + 1}].label`);
    const about = (sub) => mine.filter((p) => p.field === `${f}.${sub}` || (sub === "label" && p.field === `options[${j + 1}].label`))
      .map((p) => el("p", { class: "problem" }, problemText(p)));
    const blank = n.kind === "choice" && n.next ? `${t("sameAsNode")}: ${n.next}` : "";
    return el("div", { class: "card", "data-option": `${n.id}.${j + 1}` },
      el("div", { class: "row" }, el("b", {}, `${j + 1}.`),
        n.kind === "choice" ? [el("label", {}, t("value")), textField(o.value, (v) => { o.value = v; }, `${f}.value`)] : "",
        el("label", {}, t("next")),
        nodeSelect(o.next, (v) => { o.next = v; }, blank, `${f}.next`),
        el("button", { class: "small", onclick: () => move(opts, j, -1) }, t("up")),
        el("button", { class: "small", onclick: () => move(opts, j, 1) }, t("down")),
        el("button", { class: "small", onclick: () => { opts.splice(j, 1); changed(); render(); } }, t("remove"))),
      about("value"), about("next"),
      textInputs(o, "label", `${n.id}.option${j + 1}`), about("label"));
  });
  if (optionsKey) shown.add(optionsKey);
  const kindSelect = el("select", { "data-field": "kind", onchange: (e) => changeKind(n, e.target.value) },
    kinds.map((k) => el("option", { value: k, selected: n.kind === k }, kindWord(k))));
  shown.add("kind");
  // Problems about no field shown here (the node as a whole, or a field
  // its kind does not use) head the card.
  const rest = mine.filter((p) => !shown.has(p.field) || p.field === "kind");
  return el("div", { class: "card" + (mine.length ? " bad" : ""), "data-node": n.id },
    el("div", { class: "row" }, el("b", {}, n.id), kindSelect,
      el("span", { class: "spacer" }),
      el("button", { class: "small", onclick: () => move(tree.nodes, i, -1) }, t("up")),
      el("button", { class: "small", onclick: () => move(tree.nodes, i, 1) }, t("down")),
      el("button", { class: "small", onclick: () => { tree.nodes.splice(i, 1); changed(); render(); } }, t("remove"))),
    rest.map((p) => el("p", { class: "problem node-problem" }, [p.field && !shown.has(p.field) ? p.field : "", problemText(p)].filter(Boolean).join(": "))),
    fields,
    optionCards,
    optionsKey ? el("div", {}, el("button", { class: "small", onclick: () => {
      opts.push(n.kind === "menu" ? { label: {}, next: tree.start } : { value: String(opts.length + 1), label: {} });
      changed(); render();
    } }, t("addOption")), mine.filter((p) => p.field === optionsKey).map((p) => el("p", { class: "problem" }, problemText(p)))) : "");
}

// ---------- simulator ----------
function simulatorView() {
  const phone = el("input", { type: "text", id: "sim-phone", value: editor.phone, placeholder: t("sample"),
    onchange: (e) => { editor.phone = e.target.value.trim(); editor.inputs = []; simulate(); } });
  const input = el("input", { type: "text", id: "sim-input" });
  const form = el("form", { onsubmit: (e) => { e.preventDefault(); editor.inputs.push(input.value); input.value = ""; simulate(); } },
    el("div", { class: "row" }, input, el("button", { type: "submit", id: "sim-send" }, t("send"))));
  setTimeout(simulate, 0);
  return el("aside", { class: "phone" }, el("b", {}, t("simulator")),
    el("div", { class: "row" }, el("label", {}, t("phone")), phone),
    el("div", { id: "sim-note", class: "note" }),
    el("pre", { id: "sim-screen" }, "…"), el("div", { id: "sim-state", class: "state" }), el("div", { id: "sim-len", class: "len" }), form,
    el("button", { type: "button", onclick: () => { editor.inputs = []; simulate(); } }, t("restart")));
}

let simSeq = 0;

// simulate plays the draft; while it has problems, the last saved version
// loaded, saying so, rather than nothing.
async function simulate() {
  const screen = $("#sim-screen");
  if (!screen || !editor.tree) return;
  const seq = ++simSeq;
  const body = (tree) => ({ tree, phone: editor.phone, lang, inputs: editor.inputs });
  let r = await call("POST", `/menus/${editor.name}/simulate`, body(editor.tree));
  let note = "";
  if (!r.ok && r.data.error && r.data.error.reason === "tree_invalid") {
    const count = (r.data.error.problems || []).length;
    if (editor.base) {
      note = fill(t("simFallback"), { count, version: editor.version });
      r = await call("POST", `/menus/${editor.name}/simulate`, body(editor.base));
    } else {
      note = fill(t("simNothing"), { count });
    }
  }
  if (seq !== simSeq) return;
  const len = $("#sim-len");
  const state = $("#sim-state");
  $("#sim-note").textContent = note;
  if (!r.ok) {
    screen.textContent = errorText(r.data);
    len.textContent = "";
    state.textContent = "";
    return;
  }
  const last = r.data.screens[r.data.screens.length - 1];
  screen.textContent = last.text;
  state.textContent = last.end ? t("end") : t("con");
  len.textContent = `${last.encoding} ${last.units}/${last.limit}`;
  len.className = "len" + (last.units > last.limit ? " over" : "");
}

views.menus = menusView;
