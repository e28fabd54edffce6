"use strict";

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

views.registry = registryView;
