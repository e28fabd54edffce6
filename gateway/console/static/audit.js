"use strict";

// ---------- audit ----------
// The audit log, for administrators: who changed what, when, newest first.

Object.assign(T.zh, { "act_menu.save": "保存菜单版本", "act_menu.publish": "发布菜单版本", "act_menu.simulate": "以登记号码模拟",
  "act_user.create": "创建用户", "act_login.failed": "登录失败", "act_need.status": "更改需求状态", "act_report.export": "导出报告",
  "act_template.approval": "记录模板审核", "act_token.create": "创建令牌", "act_token.revoke": "撤销令牌", auditNone: "暂无记录", auditLatest: "最近 {n} 条",
  publishedFrom: "版本 {from} → 版本 {to}", savedVersion: "版本 {version}" });
Object.assign(T.en, { "act_menu.save": "Saved a menu version", "act_menu.publish": "Published a menu version",
  "act_menu.simulate": "Simulated as a registered phone", "act_user.create": "Created a user", "act_login.failed": "Failed sign-in",
  "act_need.status": "Changed a need's status", "act_report.export": "Exported reports", "act_template.approval": "Recorded a template verdict",
  "act_token.create": "Created a token", "act_token.revoke": "Revoked a token",
  auditNone: "Nothing recorded yet", auditLatest: "The latest {n}", publishedFrom: "version {from} → version {to}",
  savedVersion: "version {version}" });

// change sums up an entry's before and after in a line.
function change(e) {
  const a = e.after || {}, b = e.before || {};
  if (e.action === "menu.publish") return fill(t("publishedFrom"), { from: b.published || "—", to: a.published });
  if (e.action === "menu.save") return fill(t("savedVersion"), { version: a.version }) + (a.note ? " · " + a.note : "");
  const text = JSON.stringify(e.after !== undefined && e.after !== null ? e.after : e.before);
  return text && text.length > 160 ? text.slice(0, 160) + "…" : text || "";
}

async function auditView() {
  const r = await call("GET", "/audit");
  if (!r.ok) return el("p", { class: "err" }, errorText(r.data));
  const tz = r.data.time_zone || "UTC";
  const entries = r.data.entries || [];
  if (!entries.length) return el("section", {}, el("p", { class: "muted" }, t("auditNone")));
  return el("section", {},
    el("p", { class: "muted" }, fill(t("auditLatest"), { n: entries.length })),
    el("table", { id: "audit-log" },
      el("tr", {}, [t("when"), t("who"), t("what"), t("object"), t("change")].map((h) => el("th", {}, h))),
      entries.map((e) => el("tr", { "data-action": e.action },
        el("td", {}, when(e.at, tz)),
        el("td", {}, e.actor),
        el("td", {}, T[lang]["act_" + e.action] ? t("act_" + e.action) : e.action),
        el("td", {}, [e.object_type, e.object_id].filter(Boolean).join(" ")),
        el("td", {}, change(e))))));
}

views.audit = auditView;
