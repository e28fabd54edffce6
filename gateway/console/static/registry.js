"use strict";

// ---------- registry ----------
// Lists page by page, and CSV import: a file or pasted text, the columns
// of the chosen resource explained before anything goes wrong, and every
// problem listed by line and column until the next import.

Object.assign(T.zh, { directors: "主任", children: "儿童", guardians: "监护人", supervisors: "督导", allowances: "补贴",
  areas: "区域", chooseFile: "选择 CSV 文件", orPaste: "或粘贴 CSV 内容", columnsHelp: "第一行写列名，列的顺序不限：", optional: "可不填",
  dryRunDone: (n, c, u, s) => `试导入：${n} 行都没有问题，将新增 ${c}、更新 ${u}、不变 ${s}；尚未导入。`,
  importDone: (n, c, u, s) => `已导入 ${n} 行：新增 ${c}、更新 ${u}、不变 ${s}。`,
  importFailed: (n) => `${n} 行有问题，没有导入任何记录：`, wholeFile: "整个文件" });
Object.assign(T.en, { directors: "Directors", children: "Children", guardians: "Guardians", supervisors: "Supervisors",
  allowances: "Allowances", areas: "Areas", chooseFile: "Choose a CSV file", orPaste: "or paste CSV", columnsHelp: "The first line names the columns, in any order:",
  optional: "optional",
  dryRunDone: (n, c, u, s) => `Dry run: all ${n} rows are fine; ${c} would be added, ${u} updated, ${s} unchanged. Nothing imported yet.`,
  importDone: (n, c, u, s) => `Imported ${n} rows: ${c} added, ${u} updated, ${s} unchanged.`,
  importFailed: (n) => `${n} lines have problems; nothing was imported:`, wholeFile: "whole file" });

// importColumns explains each resource's CSV columns, as the API reads
// them (gateway/admin/registry.go); [name, zh, en, optional].
const importColumns = {
  directors: [["phone", "手机号，如 13800138001", "mobile number, e.g. 13800138001"], ["name", "姓名", "name"],
    ["language", "短信语言：zh 或 en", "SMS language: zh or en"], ["village", "村", "village"], ["county", "县", "county"], ["area", "所属区域编号（村、乡镇或县，见“区域”）", "area code (village, township or county; see Areas)", true]],
  children: [["code", "儿童编号，如 C0001", "child ID, e.g. C0001"], ["name", "姓名", "name"],
    ["birth_date", "出生日期，如 2015-03-12", "birth date, e.g. 2015-03-12", true], ["village", "村", "village"], ["county", "县", "county"],
    ["directors", "负责主任的手机号，多个用 ; 分隔", "phones of the responsible directors, separated by ;"], ["area", "所属区域编号（村、乡镇或县，见“区域”）", "area code (village, township or county; see Areas)", true]],
  guardians: [["phone", "手机号", "mobile number"], ["name", "姓名", "name"], ["language", "短信语言：zh 或 en", "SMS language: zh or en"],
    ["children", "儿童编号，多个用 ; 分隔", "child IDs, separated by ;"],
    ["status_secret", "查询口令（身份证后几位）", "status secret (last digits of the ID card)", true]],
  allowances: [["child", "儿童编号", "child ID"], ["scheme", "类别：living、orphan、disability、other", "scheme: living, orphan, disability, other"],
    ["status", "状态：applied、approved、paid、suspended、rejected", "status: applied, approved, paid, suspended, rejected"],
    ["monthly_yuan", "每月金额（元）", "monthly amount (yuan)"], ["last_paid", "最近发放日期", "last paid on", true],
    ["next_payment", "下次发放日期", "next payment on", true]],
  supervisors: [["phone", "手机号", "mobile number"], ["name", "姓名", "name"], ["language", "短信语言：zh 或 en", "SMS language: zh or en"],
    ["county", "县", "county"], ["area", "所属区域编号（村、乡镇或县，见“区域”）", "area code (village, township or county; see Areas)", true]],
  areas: [["code", "区域编号，如行政区划代码", "area code, e.g. the division code"], ["name", "名称", "name"],
    ["level", "级别：prefecture、county、township、village", "level: prefecture, county, township, village"],
    ["parent", "上级区域编号", "code of the area above", true]],
};

const reg = { resource: "children", q: "", page: 1, csv: "", result: null };

// importField names a problem's column: "directors[1]" is the second
// phone of the directors column.
function importField(field) {
  const m = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(field || "");
  if (!m) return field || t("wholeFile");
  return m[2] === undefined ? m[1] : `${m[1]} #${Number(m[2]) + 1}`;
}

function importResult(res) {
  if (!res) return el("div", { id: "import-result" });
  const box = el("div", { id: "import-result", class: res.ok ? "ok" : "err", role: "status" });
  if (res.ok) {
    const d = res.data;
    box.append(el("p", {}, T[lang][d.dry_run ? "dryRunDone" : "importDone"](d.rows, d.created, d.updated, d.unchanged)));
    return box;
  }
  const e = (res.data && res.data.error) || {};
  const problems = e.problems || [];
  if (!problems.length || problems[0].line === undefined) return apiError(res);
  const lines = new Set(problems.map((p) => p.line));
  box.append(el("p", {}, T[lang].importFailed(lines.size)),
    el("table", { id: "import-problems" },
      el("tr", {}, el("th", {}, t("line")), el("th", {}, t("column")), el("th", {}, t("problem"))),
      problems.map((p) => el("tr", { "data-line": p.line }, el("td", {}, String(p.line)), el("td", {}, importField(p.field)), el("td", {}, importProblemText(p))))));
  return box;
}

// importProblems word the API's import problem codes; a code without
// words shows the server's English.
const importProblems = {
  zh: { required: "必须填写", too_long: "最多 {max} 个字", phone_invalid: "不是有效的手机号", language: "只能是 zh 或 en",
    child_code: "应为一个大写字母加 4 到 9 位数字，如 C0001", area_code: "应为 1 到 32 个字母、数字、点、横线或下划线",
    date: "应为 YYYY-MM-DD 格式的日期", date_early: "不能早于 1900 年", date_future: "不能是将来的日期", one_of: "只能是 {values} 之一",
    yuan: "应为整数元", yuan_negative: "不能小于 0", yuan_max: "最多 {max}", secret: "应为 4 到 12 位字母或数字",
    no_director: "每个儿童至少要有一位负责主任", own_parent: "区域不能是自己的上级", no_such_director: "没有登记这个手机号的主任",
    no_such_area: "没有这个编号的区域", no_such_child: "没有这个编号的儿童", duplicate: "与第 {line} 行重复",
    not_utf8: "文件不是 UTF-8 文本，请另存为“CSV UTF-8”", empty_file: "文件为空；第一行应写列名：{columns}",
    unknown_column: "没有这一列；可用的列为 {columns}", column_twice: "这一列写了两次", missing_column: "缺少这一列",
    too_many_rows: "一个文件最多 {max} 行，请拆分", field_count: "有 {got} 个字段，而第一行有 {want} 列", no_rows: "文件中没有要导入的行" },
};
const importProblemText = (p) => (p.code && importProblems[lang] && importProblems[lang][p.code] ? fill(importProblems[lang][p.code], p.params) : p.message);

async function registryView() {
  const r = await call("GET", `/registry/${reg.resource}?q=${encodeURIComponent(reg.q)}&page=${reg.page}`);
  const csv = el("textarea", { rows: 6, id: "csv", placeholder: t("orPaste"), value: reg.csv, oninput: (e) => { reg.csv = e.target.value; } });
  const file = el("input", { type: "file", id: "csv-file", accept: ".csv,text/csv,text/plain", onchange: async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    reg.csv = await f.text();
    csv.value = reg.csv;
  } });
  const doImport = async (dry) => {
    const res = await call("POST", `/registry/${reg.resource}/import${dry ? "?dry_run=1" : ""}`, reg.csv, "text/csv");
    reg.result = res;
    // The result stays on the page, the list showing what an import changed.
    if (res.ok && !dry) reg.csv = "";
    render();
  };
  const help = el("div", { class: "card", id: "columns-help", "data-resource": reg.resource }, el("p", {}, t("columnsHelp")),
    el("ul", {}, importColumns[reg.resource].map(([name, zh, en, optional]) => el("li", { "data-column": name },
      el("code", {}, name), " — ", lang === "zh" ? zh : en, optional ? ` (${t("optional")})` : ""))));
  return el("section", {},
    el("div", { class: "row" },
      el("label", {}, t("resource")),
      el("select", { id: "resource", onchange: (e) => { reg.resource = e.target.value; reg.page = 1; reg.result = null; render(); } },
        Object.keys(importColumns).map((k) => el("option", { value: k, selected: reg.resource === k }, t(k)))),
      el("input", { type: "text", value: reg.q, placeholder: t("search"), onchange: (e) => { reg.q = e.target.value; reg.page = 1; render(); } })),
    r.ok ? [pager(r.data, (p) => { reg.page = p; render(); }), table(r.data.items)] : apiError(r),
    el("h3", {}, t("importCsv")), help,
    el("div", { class: "row" }, el("label", { for: "csv-file" }, t("chooseFile")), file), csv,
    el("div", { class: "row" }, el("button", { id: "dry-run", onclick: () => doImport(true) }, t("dryRun")),
      el("button", { class: "primary", id: "do-import", onclick: () => doImport(false) }, t("doImport"))),
    importResult(reg.result));
}

views.registry = registryView;
