"use strict";

// ---------- dashboard ----------
// The questions an office asks first: which urgent needs nobody has taken
// up, which villages and children have gone unvisited, how the months go.

Object.assign(T.zh, { notVisited: "30 天内无人家访的儿童", neverVisited: "从未家访", lastVisit: "最近家访",
  noVisitVillages: "本月无家访的村", trend: "近六个月", allVisited: "30 天内每个儿童都有家访" });
Object.assign(T.en, { notVisited: "Children nobody has visited for 30 days", neverVisited: "never visited", lastVisit: "Last visit",
  noVisitVillages: "Villages without a visit this month", trend: "The last six months", allVisited: "Every child visited in the last 30 days" });

const dash = { month: "" };

// bars draws rows of a label and bars as HTML, each count written beside
// its bar so that no label is ever cut, whatever the largest count.
function bars(id, rows) {
  const max = Math.max(1, ...rows.flatMap((r) => r.values.map((v) => v.n)));
  return el("div", { class: "bars", id }, rows.map((r) => el("div", { class: "bar-row" + (r.flag ? " flag" : ""), "data-label": r.label },
    el("span", { class: "bar-label" }, r.label),
    el("div", { class: "bar-cells" }, r.values.map((v) => {
      const bar = el("span", { class: "bar " + v.kind });
      bar.style.width = (100 * v.n / max) + "%"; // CSSOM, which the CSP allows
      return el("div", { class: "bar-cell" }, el("span", { class: "bar-track" }, bar),
        el("span", { class: "bar-count", "data-kind": v.kind }, `${t(v.kind)} ${v.n}`));
    })))));
}

async function dashboardView() {
  const r = await call("GET", "/reports/dashboard" + (dash.month ? `?month=${encodeURIComponent(dash.month)}` : ""));
  if (!r.ok) return apiError(r);
  const d = r.data;
  const month = d.month;
  const urgent = d.open_urgent_needs || {};
  const nv = d.not_visited || { children: [] };
  // Fewest visits first: the villages an office should ask about.
  const villages = (d.villages || []).slice().sort((a, b) => (a.visits - b.visits) || a.village.localeCompare(b.village, "zh"));
  const unvisited = villages.filter((v) => !v.visits);
  const openUrgent = () => {
    Object.assign(reportFilter, { kind: "needs", urgency: "urgent", status: "open", from: "", to: "", village: "", detail: "",
      director: "", child: "", page: 1, open: "" });
  };
  return el("section", { id: "dashboard" },
    el("div", { class: "row" },
      el("label", {}, t("month") + " ", el("input", { type: "month", id: "month", value: month, max: d.current_month,
        onchange: (e) => { dash.month = e.target.value; render(); } }))),
    el("div", { class: "kpis" },
      el("a", { class: "kpi", id: "open-urgent", href: "#reports", onclick: openUrgent },
        el("b", {}, String(urgent.count || 0)), t("openUrgent")),
      el("a", { class: "kpi", href: "#dashboard-unvisited" }, el("b", { id: "not-visited-count" }, String(nv.count || 0)), t("notVisited"))),
    el("h3", {}, t("perVillage"), " ", month),
    unvisited.length
      ? el("p", { class: "callout", id: "no-visit-villages" }, t("noVisitVillages"), ": ", unvisited.map((v) => v.village).join("、"))
      : "",
    villages.length
      ? bars("village-bars", villages.map((v) => ({ label: v.village, flag: !v.visits,
        values: [{ kind: "visits", n: v.visits || 0 }, { kind: "needs", n: v.needs || 0 }] })))
      : el("p", { class: "muted" }, t("noData")),
    el("h3", {}, t("trend")),
    bars("trend-bars", (d.trend || []).map((m) => ({ label: m.month, values: [{ kind: "visits", n: m.visits }, { kind: "needs", n: m.needs }] }))),
    el("h3", { id: "dashboard-unvisited" }, t("notVisited"), ` (${nv.count || 0})`),
    (nv.children || []).length
      ? el("table", { id: "not-visited" },
        el("tr", {}, el("th", {}, t("child")), el("th", {}, t("village")), el("th", {}, t("lastVisit"))),
        nv.children.map((c) => el("tr", { "data-child": c.code }, el("td", {}, `${c.code} ${c.name}`), el("td", {}, c.village),
          el("td", {}, c.last_visit_local || t("neverVisited")))))
      : el("p", { class: "muted" }, t("allVisited")));
}

views.dashboard = dashboardView;
