package admin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/gateway/export"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/reports"
	"github.com/gofiber/fiber/v2"
)

// The report endpoints: visits and needs listed with filters and paging,
// one report with its follow-up history, the status workflow of needs, CSV
// and XLSX exports, and the console's dashboard.
//
// Dates are calendar days in the deployment's time zone (API.Location,
// China Standard Time by default): from=2026-11-01&to=2026-11-30 selects
// reports whose reported_at is from 2026-11-01 00:00 up to but not
// including 2026-12-01 00:00 there, months of the dashboard likewise, and
// exports show times there. JSON responses carry times in UTC (RFC 3339
// with Z), which no client can misread.
//
// Places (village, county) are those of the child the report is about.
//
// Viewers may read everything here but see directors' phones masked
// (+86*******01); editors and admins see them whole, because they are the
// ones who call a director back about a need. Only editors and admins
// change a need's status.

// ReportStore is what the report endpoints need of the database
// (storage.DB). Its types are declared in storage too, as the same
// unnamed struct types, so that this package need not import storage.
type ReportStore interface {
	// Reports returns a page of the reports q selects, newest first, and
	// how many it selects in all.
	Reports(ctx context.Context, q reports.Query) ([]reports.Item, int, error)
	// ReportWithHistory returns one report, a need with its status history;
	// an unknown reference is an error wrapping menus.ErrNotFound.
	ReportWithHistory(ctx context.Context, ref string, scope int64) (reports.Item, error)
	// SetNeedStatus changes a need's status, audited; a change the workflow
	// does not allow is an error wrapping menus.ErrConflict, returned with
	// the need as it is.
	SetNeedStatus(ctx context.Context, actor access.User, ref, status, note string) (reports.Item, error)
	// RecordExport writes the audit entry of an export.
	RecordExport(ctx context.Context, actor access.User, kind menus.ReportKind, format string, params map[string]string, rows int) error
	// ReportDashboard counts reports per village in [from, before) and the
	// open urgent needs.
	ReportDashboard(ctx context.Context, from, before time.Time, refLimit int, scope int64) (reports.Dashboard, error)
	// ReportTrend counts reports in each month between consecutive starts.
	ReportTrend(ctx context.Context, starts []time.Time, scope int64) ([]reports.MonthCount, error)
	// ChildrenNotVisited counts the active children without a visit since
	// since and lists limit of them, the longest unvisited first.
	ChildrenNotVisited(ctx context.Context, since time.Time, limit int, scope int64) (int, []reports.Unvisited, error)
}

// Limits of the report endpoints.
const (
	reportPerPage    = 50
	reportMaxPerPage = 200
	reportMaxPage    = 100000
	// maxExportRows bounds one export: past it the filters should be
	// narrowed, rather than the gateway building a huge file in memory.
	maxExportRows = 50000
	// dashboardRefs is how many open urgent needs the dashboard lists.
	dashboardRefs = 100
	// trendMonths is how many months the dashboard's trend shows, the
	// chosen month the last of them.
	trendMonths = 6
	// notVisitedDays is how long without a visit puts a child on the
	// dashboard's list, and notVisitedLimit how many the list holds.
	notVisitedDays  = 30
	notVisitedLimit = 200
	maxNote         = 1000 // characters
	maxPlace        = 100  // characters of a village or county filter
)

// Need statuses.
const (
	statusOpen     = "open"
	statusReferred = "referred"
	statusResolved = "resolved"
)

var (
	reportUrgencies = []string{menus.UrgencyRoutine, menus.UrgencyUrgent}
	needStatuses    = []string{statusOpen, statusReferred, statusResolved}
	reportChannels  = []string{menus.ChannelUSSD, menus.ChannelSMS}
	exportLangs     = []string{menus.LangZH, menus.LangEN}
	// A situation or category is a choice value of a tree (needs_support,
	// registration ...); trees change, so only the form is checked.
	choiceValueRE = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)
)

// reportFilters are the query parameters that select reports of each kind.
var reportFilters = map[menus.ReportKind][]string{
	menus.ReportVisit: {"from", "to", "village", "county", "director", "child", "situation", "urgency", "channel"},
	menus.ReportNeed:  {"from", "to", "village", "county", "director", "child", "category", "urgency", "status", "channel"},
}

// mountReports adds the report endpoints. Fixed paths come before
// /reports/:ref, which would otherwise take them for references.
func (a *API) mountReports(r fiber.Router) {
	view := need(access.RoleViewer)
	r.Get("/reports/dashboard", view, a.dashboard)
	for _, kind := range []menus.ReportKind{menus.ReportVisit, menus.ReportNeed} {
		base := "/reports/" + string(kind) + "s"
		logged := a.readLogged(string(kind), "")
		r.Get(base, view, logged, a.listReports(kind))
		r.Get(base+".csv", view, logged, a.exportReports(kind, "csv"))
		r.Get(base+".xlsx", view, logged, a.exportReports(kind, "xlsx"))
	}
	r.Post("/reports/needs/:ref/status", need(access.RoleEditor), a.setNeedStatus)
	r.Get("/reports/:ref", view, a.readLogged("report", "ref"), a.getReport)
	r.Get("/follow-ups", view, a.readLogged("follow_up", ""), a.listFollowUps)
}

// invalidParams is the 422 of bad query parameters or body fields.
func invalidParams(problems []Problem) *Error {
	e := fail(http.StatusUnprocessableEntity, "invalid", "%d invalid parameters", len(problems))
	if len(problems) == 1 {
		// Say which and why, for clients that show only the message.
		e.Message = fmt.Sprintf("1 invalid parameter: %s: %s", problems[0].Field, problems[0].Message)
	}
	e.Problems = problems
	return e
}

// reportQuery reads the filters of kind from the query string, with the
// other parameters in extra allowed. It returns the query, every parameter
// as read (copied out of Fiber's buffers, normalised where that applies:
// for the audit entry of an export), or a 422 naming every bad parameter.
func (a *API) reportQuery(c *fiber.Ctx, kind menus.ReportKind, extra ...string) (reports.Query, map[string]string, error) {
	allowed := append(slices.Clone(reportFilters[kind]), extra...)
	params := map[string]string{}
	var problems []Problem
	problem := func(field, format string, args ...any) {
		problems = append(problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for k, v := range c.Context().QueryArgs().All() {
		key := string(k)
		switch _, seen := params[key]; {
		case !slices.Contains(allowed, key):
			if other := otherKind(kind); slices.Contains(reportFilters[other], key) {
				problem(key, "is not a filter of %ss", kind)
			} else {
				problem(key, "unknown parameter")
			}
		case seen:
			problem(key, "given more than once")
		default:
			params[key] = strings.TrimSpace(string(v))
		}
	}

	// Users answering for an area read only its reports.
	q := reports.Query{Kind: kind, Scope: user(c).Area}
	var from, to time.Time
	for key, v := range params {
		if v == "" {
			delete(params, key)
			continue
		}
		switch key {
		case "from", "to":
			d, err := time.ParseInLocation(time.DateOnly, v, a.loc())
			if err != nil {
				problem(key, "must be a date, YYYY-MM-DD")
				continue
			}
			if key == "from" {
				from, q.From = d, d
			} else {
				to, q.Before = d, d.AddDate(0, 0, 1)
			}
		case "village", "county":
			if utf8.RuneCountInString(v) > maxPlace {
				problem(key, "longer than %d characters", maxPlace)
				continue
			}
			if key == "village" {
				q.Village = v
			} else {
				q.County = v
			}
		case "director":
			e164, err := phone.Normalizer{Region: a.Options.Region}.Normalize(v)
			if err != nil {
				problem(key, "is not a phone number")
				continue
			}
			q.Director, params[key] = e164, e164
		case "child":
			code, ok := menus.ChildCode(v)
			if !ok {
				problem(key, "is not a child ID such as C0001")
				continue
			}
			q.Child, params[key] = code, code
		case "situation", "category":
			if !choiceValueRE.MatchString(v) {
				problem(key, "is not a choice value (lower-case letters, digits and _, e.g. needs_support)")
				continue
			}
			q.Detail = v
		case "urgency":
			if !slices.Contains(reportUrgencies, v) {
				problem(key, "must be one of %s", strings.Join(reportUrgencies, ", "))
			}
			q.Urgency = v
		case "status":
			if !slices.Contains(needStatuses, v) {
				problem(key, "must be one of %s", strings.Join(needStatuses, ", "))
			}
			q.Status = v
		case "channel":
			if !slices.Contains(reportChannels, v) {
				problem(key, "must be one of %s", strings.Join(reportChannels, ", "))
			}
			q.Channel = v
		case "lang":
			if !slices.Contains(exportLangs, v) {
				problem(key, "must be one of %s", strings.Join(exportLangs, ", "))
			}
		case "page":
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > reportMaxPage {
				problem(key, "must be a whole number from 1 to %d", reportMaxPage)
			}
		case "per_page":
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > reportMaxPerPage {
				problem(key, "must be a whole number from 1 to %d", reportMaxPerPage)
			}
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		problem("to", "is before from")
	}
	if len(problems) > 0 {
		// Map order must not decide the order of the problems.
		slices.SortStableFunc(problems, func(x, y Problem) int { return strings.Compare(x.Field, y.Field) })
		return reports.Query{}, nil, invalidParams(problems)
	}
	return q, params, nil
}

func otherKind(k menus.ReportKind) menus.ReportKind {
	if k == menus.ReportVisit {
		return menus.ReportNeed
	}
	return menus.ReportVisit
}

// queryInt is a validated whole-number parameter, or def when absent.
func queryInt(params map[string]string, key string, def int) int {
	if n, err := strconv.Atoi(params[key]); err == nil {
		return n
	}
	return def
}

type statusView struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Note  string `json:"note"`
	Actor string `json:"actor"`
	// Channel is console, or ussd or sms for a director in the field.
	Channel string `json:"channel"`
	At      string `json:"at"`
	// AtLocal is At on the deployment's clock, as exports show it.
	AtLocal string `json:"at_local"`
}

type reportView struct {
	Ref             string `json:"ref"`
	Kind            string `json:"kind"`
	ChildCode       string `json:"child_code"`
	ChildName       string `json:"child_name"`
	Village         string `json:"village"`
	County          string `json:"county"`
	DirectorPhone   string `json:"director_phone"`
	DirectorName    string `json:"director_name"`
	Situation       string `json:"situation,omitempty"`
	Category        string `json:"category,omitempty"`
	Urgency         string `json:"urgency"`
	Status          string `json:"status,omitempty"`
	StatusChangedAt string `json:"status_changed_at,omitempty"`
	Channel         string `json:"channel"`
	Carrier         string `json:"carrier"`
	MenuTree        string `json:"menu_tree"`
	MenuVersion     int    `json:"menu_version"`
	StartedAt       string `json:"started_at,omitempty"`
	ReportedAt      string `json:"reported_at"`
	// The same times on the deployment's clock ("2026-11-01 01:00"), as
	// exports show them, for a console to show without time zone data.
	ReportedAtLocal      string            `json:"reported_at_local"`
	StatusChangedAtLocal string            `json:"status_changed_at_local,omitempty"`
	Answers              map[string]string `json:"answers"`
	// LastChange is a need's latest follow-up step, absent until someone
	// acts on it.
	LastChange *statusView `json:"last_change,omitempty"`
	// Restricted says the answers are withheld from this reader: details
	// of a protection concern or medical need, or of an urgent visit, are
	// for supervisors and whoever holds its case.
	Restricted bool `json:"restricted,omitempty"`
	// Words are the report in words, by language: its answers in the
	// labels of the tree version that asked them.
	Words map[string]wordsView `json:"words,omitempty"`
	// History is present, possibly empty, on a need read alone.
	History []statusView `json:"history,omitzero"`
}

func timeJSON(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// localTime is t on the wall clock of loc, to the minute.
func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func statusJSON(h reports.StatusChange, loc *time.Location) statusView {
	return statusView{From: h.From, To: h.To, Note: h.Note, Actor: h.Actor, Channel: h.Channel, At: timeJSON(h.At), AtLocal: localTime(h.At, loc)}
}

// directorPhone is what the user may see of a director's phone.
func directorPhone(u access.User, e164 string) string {
	if u.Allows(access.RoleEditor) {
		return e164
	}
	return phone.Mask(e164)
}

func reportJSON(u access.User, it reports.Item, withHistory bool, loc *time.Location) reportView {
	v := reportView{
		Ref: it.Ref, Kind: string(it.Kind), ChildCode: it.ChildCode, ChildName: it.ChildName,
		Village: it.Village, County: it.County,
		DirectorPhone: directorPhone(u, it.DirectorPhone), DirectorName: it.DirectorName,
		Urgency: it.Urgency, Status: it.Status, StatusChangedAt: timeJSON(it.StatusChangedAt),
		Channel: it.Channel, Carrier: it.Carrier, MenuTree: it.Tree, MenuVersion: it.Version,
		StartedAt: timeJSON(it.StartedAt), ReportedAt: timeJSON(it.ReportedAt), Answers: it.Answers,
		ReportedAtLocal: localTime(it.ReportedAt, loc), StatusChangedAtLocal: localTime(it.StatusChangedAt, loc),
	}
	if v.Answers == nil {
		v.Answers = map[string]string{}
	}
	v.Restricted = it.Restricted
	if it.Kind == menus.ReportVisit {
		v.Situation = it.Detail
	} else {
		v.Category = it.Detail
		if !it.LastChange.At.IsZero() {
			last := statusJSON(it.LastChange, loc)
			v.LastChange = &last
		}
		if withHistory {
			v.History = make([]statusView, len(it.History))
			for i, h := range it.History {
				v.History[i] = statusJSON(h, loc)
			}
		}
	}
	return v
}

func (a *API) listReports(kind menus.ReportKind) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, params, err := a.reportQuery(c, kind, "page", "per_page")
		if err != nil {
			return a.write(c, err)
		}
		page, perPage := queryInt(params, "page", 1), queryInt(params, "per_page", reportPerPage)
		q.Limit, q.Offset = perPage, (page-1)*perPage
		items, total, err := a.Reports.Reports(c.UserContext(), q)
		if err != nil {
			return a.write(c, err)
		}
		out := make([]reportView, len(items))
		for i, it := range items {
			it = withhold(user(c), it)
			out[i] = reportJSON(user(c), it, false, a.loc())
			out[i].Words = a.reportWords(c.UserContext(), it)
		}
		return c.JSON(fiber.Map{"items": out, "page": page, "per_page": perPage, "total": total, "time_zone": a.loc().String()})
	}
}

func (a *API) getReport(c *fiber.Ctx) error {
	ref := strings.Clone(c.Params("ref"))
	it, err := a.Reports.ReportWithHistory(c.UserContext(), ref, user(c).Area)
	if errors.Is(err, menus.ErrNotFound) {
		return a.write(c, fail(http.StatusNotFound, "not_found", "no report %q", ref))
	}
	if err != nil {
		return a.write(c, err)
	}
	it = withhold(user(c), it)
	v := reportJSON(user(c), it, true, a.loc())
	v.Words = a.reportWords(c.UserContext(), it)
	return c.JSON(v)
}

// setNeedStatus moves a need through the workflow: open -> referred ->
// resolved, open -> resolved, and back to open from either.
func (a *API) setNeedStatus(c *fiber.Ctx) error {
	ref := strings.Clone(c.Params("ref"))
	var body struct {
		Status *string `json:"status"`
		Note   string  `json:"note"`
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.More() {
		return a.write(c, fail(http.StatusBadRequest, "invalid", `the body must be a JSON object {"status": "...", "note": "..."}`))
	}
	var problems []Problem
	switch {
	case body.Status == nil || *body.Status == "":
		problems = append(problems, Problem{Field: "status", Message: "required"})
	case !slices.Contains(needStatuses, *body.Status):
		problems = append(problems, Problem{Field: "status", Message: "must be one of " + strings.Join(needStatuses, ", ")})
	}
	if utf8.RuneCountInString(body.Note) > maxNote {
		problems = append(problems, Problem{Field: "note", Message: fmt.Sprintf("longer than %d characters", maxNote)})
	}
	if len(problems) > 0 {
		return a.write(c, invalidParams(problems))
	}
	it, err := a.Reports.SetNeedStatus(c.UserContext(), user(c), ref, *body.Status, body.Note)
	switch {
	case errors.Is(err, menus.ErrNotFound):
		return a.write(c, fail(http.StatusNotFound, "not_found", "no need %q", ref))
	case errors.Is(err, menus.ErrConflict):
		return a.write(c, fail(http.StatusConflict, "conflict", "need %s is %s and cannot become %s", it.Ref, it.Status, *body.Status))
	case err != nil:
		return a.write(c, err)
	}
	it = withhold(user(c), it)
	v := reportJSON(user(c), it, true, a.loc())
	v.Words = a.reportWords(c.UserContext(), it)
	return c.JSON(v)
}

// exportReports sends every report the filters select as a CSV or XLSX
// file, headers in ?lang (zh by default). The export is audited before a
// byte of it is sent.
func (a *API) exportReports(kind menus.ReportKind, format string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		// page and per_page are accepted so that a console can pass a
		// list's query string as it is; an export holds every page.
		q, params, err := a.reportQuery(c, kind, "lang", "page", "per_page")
		if err != nil {
			return a.write(c, err)
		}
		delete(params, "page")
		delete(params, "per_page")
		lang := params["lang"]
		if lang == "" {
			lang = menus.LangZH
		}
		q.Limit = maxExportRows + 1
		items, _, err := a.Reports.Reports(c.UserContext(), q)
		if err != nil {
			return a.write(c, err)
		}
		if len(items) > maxExportRows {
			return a.write(c, invalidParams([]Problem{{Field: "from", Message: fmt.Sprintf("more than %d reports match; narrow the dates or other filters", maxExportRows)}}))
		}
		for i := range items {
			items[i] = withhold(user(c), items[i])
		}
		table := reportTable(user(c), kind, items, lang, func(it reports.Item) wordsView { return a.reportWordsIn(c.UserContext(), it, lang) })
		var buf bytes.Buffer
		var ctype string
		switch format {
		case "csv":
			ctype = "text/csv; charset=utf-8"
			err = export.CSV(&buf, table, lang, a.loc())
		default:
			ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
			err = export.XLSX(&buf, table, sheetNames[kind][lang], lang, a.loc())
		}
		if err != nil {
			return a.write(c, fmt.Errorf("export %ss: %w", kind, err))
		}
		if err := a.Reports.RecordExport(c.UserContext(), user(c), kind, format, params, len(items)); err != nil {
			return a.write(c, err)
		}
		c.Set(fiber.HeaderContentType, ctype)
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, exportName(kind, format, params, time.Now())))
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Send(buf.Bytes())
	}
}

var sheetNames = map[menus.ReportKind]map[string]string{
	menus.ReportVisit: {menus.LangZH: "家访", menus.LangEN: "Visits"},
	menus.ReportNeed:  {menus.LangZH: "需求", menus.LangEN: "Needs"},
}

// exportName names the file after its kind and dates: the filter's when
// given (barefoot-needs-2026-11-01_2026-11-30.csv), else the day of export.
func exportName(kind menus.ReportKind, format string, params map[string]string, now time.Time) string {
	span := now.Format(time.DateOnly)
	if from, to := params["from"], params["to"]; from != "" || to != "" {
		if from == "" {
			from = "start"
		}
		if to == "" {
			to = span
		}
		span = from + "_" + to
	}
	return fmt.Sprintf("barefoot-%ss-%s.%s", kind, span, format)
}

// restrictedWords say, in an export, that a row's answers are withheld.
var restrictedWords = map[string]string{
	menus.LangZH: "受限：仅主管和个案负责人可见",
	menus.LangEN: "restricted: supervisors and the case's holders only",
}

func exportCol(key string, kind export.Kind, zh, en string) export.Column {
	return export.Column{Key: key, Kind: kind, Header: map[string]string{menus.LangZH: zh, menus.LangEN: en}}
}

// sensitiveCategories are the needs whose details (what the director
// wrote) are read only by supervisors and the case's holders.
var sensitiveCategories = []string{"protection", "medical"}

// withhold is it as u may read it. The details of a protection concern or
// medical need, and of an urgent visit, are for admins (the office's
// supervisors) and for whoever acknowledged, referred or resolved its
// case; others see that it exists, its category, urgency and status, but
// not its answers.
func withhold(u access.User, it reports.Item) reports.Item {
	sensitive := it.Urgency == menus.UrgencyUrgent ||
		(it.Kind == menus.ReportNeed && slices.Contains(sensitiveCategories, it.Detail))
	if !sensitive || u.Allows(access.RoleAdmin) || slices.Contains(it.CaseHolders, u.Username) {
		return it
	}
	it.Answers = nil
	it.Restricted = true
	return it
}

// reportTable lays reports out for export: fixed columns, then one column
// per answer key found in any of them, in key order. Values are in words
// (in lang, as worded reports them); answers' columns are named by the
// newest tree that names them.
func reportTable(u access.User, kind menus.ReportKind, items []reports.Item, lang string, worded func(reports.Item) wordsView) export.Table {
	cols := []export.Column{
		exportCol("ref", export.Text, "编号", "Reference"),
		exportCol("reported_at", export.DateTime, "上报时间", "Reported at"),
		exportCol("child_code", export.Text, "儿童编号", "Child ID"),
		exportCol("child_name", export.Text, "儿童姓名", "Child name"),
		exportCol("village", export.Text, "村", "Village"),
		exportCol("county", export.Text, "县", "County"),
		exportCol("director_name", export.Text, "主任姓名", "Director"),
		exportCol("director_phone", export.Text, "主任电话", "Director phone"),
	}
	if kind == menus.ReportVisit {
		cols = append(cols, exportCol("detail", export.Text, "情况", "Situation"))
	} else {
		cols = append(cols, exportCol("detail", export.Text, "需求类别", "Category"))
	}
	cols = append(cols, exportCol("urgency", export.Text, "紧急程度", "Urgency"))
	if kind == menus.ReportNeed {
		cols = append(cols,
			exportCol("status", export.Text, "状态", "Status"),
			exportCol("status_changed_at", export.DateTime, "状态更新时间", "Status changed at"))
	}
	cols = append(cols,
		exportCol("restricted", export.Text, "详情", "Details"),
		exportCol("channel", export.Text, "渠道", "Channel"),
		exportCol("carrier", export.Text, "运营商", "Carrier"),
		exportCol("menu_version", export.Number, "菜单版本", "Menu version"))
	var keys []string
	names := map[string]string{}
	rows := make([]map[string]any, len(items))
	for i, it := range items {
		w := worded(it)
		row := map[string]any{
			"ref": it.Ref, "reported_at": it.ReportedAt, "child_code": it.ChildCode, "child_name": it.ChildName,
			"village": it.Village, "county": it.County, "director_name": it.DirectorName,
			"director_phone": directorPhone(u, it.DirectorPhone), "detail": w.Detail, "urgency": w.Urgency,
			"status": w.Status, "status_changed_at": it.StatusChangedAt,
			"channel": w.Channel, "carrier": it.Carrier, "menu_version": it.Version,
		}
		if it.Restricted {
			row["restricted"] = restrictedWords[lang]
		}
		for _, aw := range w.Answers {
			row["answer:"+aw.Key] = aw.Word
			if !slices.Contains(keys, aw.Key) {
				keys = append(keys, aw.Key)
			}
			if _, named := names[aw.Key]; !named && aw.Name != aw.Key {
				names[aw.Key] = aw.Name // items are newest first
			}
		}
		rows[i] = row
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := cmp.Or(names[k], k)
		cols = append(cols, exportCol("answer:"+k, export.Text, "回答："+name, "Answer: "+name))
	}
	return export.Table{Columns: cols, Rows: rows}
}

type villageView struct {
	County  string `json:"county"`
	Village string `json:"village"`
	Visits  int    `json:"visits"`
	Needs   int    `json:"needs"`
}

// dashboard is the console's month at a glance: ?month=2026-11 (this
// month in the deployment's time zone when absent).
func (a *API) dashboard(c *fiber.Ctx) error {
	var problems []Problem
	month := ""
	for k, v := range c.Context().QueryArgs().All() {
		switch key := string(k); {
		case key != "month":
			problems = append(problems, Problem{Field: key, Message: "unknown parameter"})
		case month != "":
			problems = append(problems, Problem{Field: key, Message: "given more than once"})
		default:
			month = strings.TrimSpace(string(v))
		}
	}
	now := time.Now().In(a.loc())
	current := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, a.loc())
	from := current
	if month != "" {
		m, err := time.ParseInLocation("2006-01", month, a.loc())
		if err != nil {
			problems = append(problems, Problem{Field: "month", Message: "must be a month, YYYY-MM"})
		}
		from = m
	}
	if len(problems) > 0 {
		return a.write(c, invalidParams(problems))
	}
	before := from.AddDate(0, 1, 0)
	d, err := a.Reports.ReportDashboard(c.UserContext(), from, before, dashboardRefs, user(c).Area)
	if err != nil {
		return a.write(c, err)
	}
	starts := make([]time.Time, trendMonths+1)
	for i := range starts {
		starts[i] = from.AddDate(0, i+1-trendMonths, 0)
	}
	trend, err := a.Reports.ReportTrend(c.UserContext(), starts, user(c).Area)
	if err != nil {
		return a.write(c, err)
	}
	trendOut := make([]fiber.Map, len(trend))
	for i, m := range trend {
		trendOut[i] = fiber.Map{"month": m.Month.In(a.loc()).Format("2006-01"), "visits": m.Visits, "needs": m.Needs}
	}
	since := now.AddDate(0, 0, -notVisitedDays)
	unvisited, children, err := a.Reports.ChildrenNotVisited(c.UserContext(), since, notVisitedLimit, user(c).Area)
	if err != nil {
		return a.write(c, err)
	}
	childrenOut := make([]fiber.Map, len(children))
	for i, ch := range children {
		childrenOut[i] = fiber.Map{"code": ch.Code, "name": ch.Name, "village": ch.Village, "county": ch.County,
			"last_visit": timeJSON(ch.LastVisit), "last_visit_local": localTime(ch.LastVisit, a.loc())}
	}
	villages := make([]villageView, len(d.Villages))
	var visits, needs int
	for i, v := range d.Villages {
		villages[i] = villageView(v)
		visits += v.Visits
		needs += v.Needs
	}
	return c.JSON(fiber.Map{
		"month":         from.Format("2006-01"),
		"current_month": current.Format("2006-01"),
		"time_zone":     a.loc().String(),
		"trend":         trendOut,
		"not_visited": fiber.Map{
			"days":     notVisitedDays,
			"since":    since.Format(time.DateOnly),
			"count":    unvisited,
			"children": childrenOut,
		},
		"from":     from.Format(time.DateOnly),
		"to":       before.AddDate(0, 0, -1).Format(time.DateOnly),
		"villages": villages,
		"totals":   fiber.Map{"visits": visits, "needs": needs},
		"open_urgent_needs": fiber.Map{
			"count": d.OpenUrgent,
			"refs":  d.OpenUrgentRefs,
		},
	})
}
