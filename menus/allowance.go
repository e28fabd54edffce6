package menus

import (
	"strconv"
	"strings"
)

// The allowance status a family hears is the same words on every channel:
// the USSD guardian menu shows AllowanceText, and the SMS STATUS reply is
// built from it. It is short on purpose: it must fit one USSD screen in
// UCS-2 (a child's name is Chinese), and two SMS segments.

var schemeNames = map[string]Text{
	"living":     {LangZH: "生活补贴", LangEN: "living allowance"},
	"orphan":     {LangZH: "孤儿补贴", LangEN: "orphan allowance"},
	"disability": {LangZH: "残疾补贴", LangEN: "disability allowance"},
	"other":      {LangZH: "补贴", LangEN: "allowance"},
}

var allowanceTexts = map[string]Text{
	AllowanceApplied:   {LangZH: "{name}的{scheme}正在审核。", LangEN: "{name}: {scheme} applied for, under review."},
	AllowanceApproved:  {LangZH: "{name}的{scheme}已批准，每月{amount}元{next}。", LangEN: "{name}: {scheme} approved, {amount} yuan a month{next}."},
	AllowancePaid:      {LangZH: "{name}的{scheme}已发放，每月{amount}元{next}。", LangEN: "{name}: {scheme} paid, {amount} yuan a month{next}."},
	AllowanceSuspended: {LangZH: "{name}的{scheme}已暂停，请联系县民政办公室。", LangEN: "{name}: {scheme} suspended. Please contact the county office."},
	AllowanceRejected:  {LangZH: "{name}的{scheme}未获批准，请联系县民政办公室。", LangEN: "{name}: {scheme} not approved. Please contact the county office."},
}

var nextPayment = Text{LangZH: "，下次发放{date}", LangEN: ", next {date}"}

// AllowanceWording is the wording of an allowance status in lang, with
// {name}, {scheme}, {amount} and {next} to fill; "" for an unknown status
// or language. It is what the SMS templates of allowance replies are made
// of, so that a template reads exactly as the reply it stands for.
func AllowanceWording(status, lang string) string { return allowanceTexts[status][lang] }

// NextPaymentWording is the wording {next} stands for when a next payment
// is known, with {date} to fill.
func NextPaymentWording(lang string) string { return nextPayment[lang] }

// SchemeName names an allowance scheme in lang.
func SchemeName(scheme, lang string) string {
	if n := schemeNames[scheme][lang]; n != "" {
		return n
	}
	return schemeNames["other"][lang]
}

// AllowanceStatuses are the statuses an allowance can be in.
var AllowanceStatuses = []string{AllowanceApplied, AllowanceApproved, AllowancePaid, AllowanceSuspended, AllowanceRejected}

// AllowanceText is one allowance's status in lang.
func AllowanceText(a Allowance, lang string) string {
	if lang != LangZH && lang != LangEN {
		lang = LangZH
	}
	scheme := schemeNames[a.Scheme][lang]
	if scheme == "" {
		scheme = schemeNames["other"][lang]
	}
	tmpl, ok := allowanceTexts[a.Status][lang]
	if !ok {
		tmpl = allowanceTexts[AllowanceApplied][lang]
	}
	next := ""
	if !a.NextPayment.IsZero() {
		next = strings.Replace(nextPayment[lang], "{date}", a.NextPayment.Format("2006-01-02"), 1)
	}
	return expand(tmpl, func(k string) string {
		switch k {
		case "name":
			return a.ChildName
		case "scheme":
			return scheme
		case "amount":
			return strconv.Itoa(a.MonthlyYuan)
		case "next":
			return next
		}
		return ""
	})
}

// AllowancesOf returns the caller's allowances of one child, as text lines.
func AllowancesOf(c Caller, code, lang string) []string {
	var out []string
	for _, a := range c.Allowances {
		if a.ChildCode == code {
			out = append(out, AllowanceText(a, lang))
		}
	}
	return out
}

// categoryNames name need categories and visit situations in alerts, which
// go to supervisors outside any menu.
var categoryNames = map[string]Text{
	"registration": {LangZH: "出生或户口登记", LangEN: "birth/residence papers"},
	"school":       {LangZH: "入学", LangEN: "school enrolment"},
	"health":       {LangZH: "疫苗或健康", LangEN: "vaccination or health"},
	"medical":      {LangZH: "医疗救助", LangEN: "medical aid"},
	"allowance":    {LangZH: "生活补贴", LangEN: "living allowance"},
	"protection":   {LangZH: "保护问题", LangEN: "protection concern"},
	"other":        {LangZH: "其他", LangEN: "other"},
	"urgent":       {LangZH: "家访发现紧急情况", LangEN: "urgent concern on a home visit"},
}

// IsAlert reports whether a report raises an alert to the county's
// supervisors: an urgent visit or an urgent need.
func IsAlert(r Report) bool { return r.Urgency == UrgencyUrgent }

// AlertSubject names what an urgent report is about, in lang, for the
// alert a supervisor gets: the need's category or the visit's situation.
func AlertSubject(r Report, lang string) string {
	what := r.Category
	if r.Kind == ReportVisit {
		what = r.Situation
	}
	if name := categoryNames[what][lang]; name != "" {
		return name
	}
	return what
}
