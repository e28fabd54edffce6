"use strict";

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

views.templates = templatesView;
