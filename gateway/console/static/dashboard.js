"use strict";

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

views.dashboard = dashboardView;
