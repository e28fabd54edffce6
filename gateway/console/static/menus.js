"use strict";

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

views.menus = menusView;
