"use strict";

// ---------- reports ----------
const reportFilter = { kind: "visits", from: "", to: "", village: "", urgency: "", status: "" };

function query(f) {
  const q = new URLSearchParams();
  for (const k of ["from", "to", "village", "urgency", "status"]) if (f[k]) q.set(k, f[k]);
  return q.toString();
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

views.reports = reportsView;
