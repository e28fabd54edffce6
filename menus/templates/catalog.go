package templates

import (
	"strconv"
	"strings"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// catalog is every template the gateway sends. The fixed replies share
// their wording with the gateway's messages (menus.Message), so a change
// of wording is made once; it then needs the provider's approval again.
var catalog = map[string]Template{}

func init() {
	fixed := []struct{ key, about string }{
		{Register, "Reply to a number that is not registered (when STATUS needs no secret)."},
		{StatusSecret, "Reply to a STATUS without a valid child code and secret, and to unregistered numbers where one is required."},
		{HelpDirector, "Reply to HELP, or to a message the gateway cannot read, from a director."},
		{HelpFamily, "Reply to HELP, or to a message the gateway cannot read, from a guardian."},
		{NotSaved, "Reply to a one-line report that could not be saved just now."},
		{Stopped, "Reply to STOP during an SMS menu."},
		{NothingOpen, "Reply to STOP with no SMS menu open."},
		{NoAllowance, "Reply to STATUS from a guardian whose children have no allowance on record."},
		{Busy, "Reply when the registry cannot be reached."},
	}
	for _, f := range fixed {
		catalog[f.key] = Template{Key: f.key, About: f.about, Text: map[string]string{
			LangZH: menus.Message(f.key, menus.LangZH), LangEN: menus.Message(f.key, menus.LangEN), LangBilingual: menus.Message(f.key, ""),
		}}
	}
	catalog[AllowanceStatus] = Template{
		Key: AllowanceStatus, About: "Reply to STATUS from a guardian: each child's allowance, one line each.",
		Vars: []Var{{"status", KindText}},
		Text: map[string]string{LangZH: "{status}", LangEN: "{status}"},
	}
	for _, status := range menus.AllowanceStatuses {
		for _, next := range []bool{false, true} {
			wording := map[string]string{}
			for _, lang := range []string{LangZH, LangEN} {
				wording[lang] = menus.AllowanceWording(status, lang)
			}
			if !strings.Contains(wording[LangZH], "{next}") && next {
				continue // no payment date in this status's wording
			}
			vars := []Var{{"name", KindName}, {"scheme", KindWord}}
			if strings.Contains(wording[LangZH], "{amount}") {
				vars = append(vars, Var{"amount", KindAmount})
			}
			about := "Reply to STATUS from a guardian with one allowance, " + status
			for lang, w := range wording {
				fill := ""
				if next {
					fill = menus.NextPaymentWording(lang)
				}
				wording[lang] = strings.Replace(w, "{next}", fill, 1)
			}
			if next {
				vars = append(vars, Var{"date", KindDate})
				about += ", with the next payment's date"
			}
			key := AllowanceKey(status, next)
			catalog[key] = Template{Key: key, About: about + ".", Vars: vars, Text: wording}
		}
	}
	catalog[AlertUrgent] = Template{
		Key: AlertUrgent, About: "Alert to a county supervisor about an urgent visit or need; no child name.",
		Vars: []Var{{"child", KindCode}, {"what", KindWord}, {"director", KindPhone}, {"ref", KindRef}},
		Text: map[string]string{
			LangZH: "紧急：儿童{child}，{what}。报告人{director}，编号{ref}。",
			LangEN: "URGENT: child {child}, {what}. Reported by {director}, ref {ref}.",
		},
	}
	// Cases: the supervisors of an area are told a case's code and what it
	// is about, never the child (an SMS is read by whoever holds the
	// phone), and acknowledge it by sending the code back.
	catalog[CaseOpened] = Template{
		Key: CaseOpened, About: "To the supervisors of the area a new case opens at: its code and category; no child name.",
		Vars: []Var{{"case", KindCode}, {"what", KindWord}},
		Text: map[string]string{
			LangZH: "新个案{case}：{what}。请跟进，并回复“收到 {case}”确认。",
			LangEN: "New case {case}: {what}. Please follow up and reply OK {case} to acknowledge.",
		},
	}
	catalog[CaseEscalated] = Template{
		Key: CaseEscalated, About: "To the supervisors of the next level up when a case was not acknowledged in time; no child name.",
		Vars: []Var{{"case", KindCode}, {"what", KindWord}},
		Text: map[string]string{
			LangZH: "个案{case}（{what}）逾期未确认，现转您处理。请回复“收到 {case}”确认。",
			LangEN: "Case {case} ({what}) was not acknowledged in time and now comes to you. Reply OK {case} to acknowledge.",
		},
	}
	catalog[CaseUnanswered] = Template{
		Key: CaseUnanswered, About: "Reminder to the supervisors at the top of a case's chain that nobody has acknowledged it; no child name.",
		Vars: []Var{{"case", KindCode}, {"what", KindWord}},
		Text: map[string]string{
			LangZH: "提醒：个案{case}（{what}）仍无人确认。请跟进，并回复“收到 {case}”确认。",
			LangEN: "Reminder: case {case} ({what}) is still not acknowledged. Please follow up and reply OK {case}.",
		},
	}
	catalog[CaseAcked] = Template{
		Key: CaseAcked, About: "Reply to a supervisor who acknowledged a case by SMS.",
		Vars: []Var{{"case", KindCode}},
		Text: map[string]string{LangZH: "个案{case}已确认，谢谢。", LangEN: "Case {case} acknowledged. Thank you."},
	}
	catalog[CaseAckedBefore] = Template{
		Key: CaseAckedBefore, About: "Reply to a supervisor acknowledging a case that was acknowledged, referred or resolved before.",
		Vars: []Var{{"case", KindCode}},
		Text: map[string]string{LangZH: "个案{case}此前已确认。", LangEN: "Case {case} was acknowledged before."},
	}
	catalog[CaseAckHowTo] = Template{
		Key: CaseAckHowTo, About: "Reply to a supervisor who sent OK without a case number, or HELP: how to acknowledge a case.",
		Text: map[string]string{
			LangZH: "确认个案请回复“收到”加个案编号，例如：收到 348643",
			LangEN: "To acknowledge a case, reply OK and its number, for example: OK 348643",
		},
	}
	catalog[CaseAckRefused] = Template{
		Key: CaseAckRefused, About: "Reply to an acknowledgement of a case that does not exist or is not the sender's to acknowledge: the same either way.",
		Text: map[string]string{
			LangZH:        "没有等待您确认的该编号个案，请核对编号。",
			LangEN:        "No case with that number awaits your acknowledgement. Please check the number.",
			LangBilingual: "没有等待您确认的该编号个案，请核对编号。\nNo case with that number awaits your acknowledgement. Please check the number.",
		},
	}
	catalog[FollowUp] = Template{
		Key: FollowUp, About: "Reminder to a director of a need still open when its follow-up falls due; the child's code, no name.",
		Vars: []Var{{"child", KindCode}, {"what", KindWord}, {"ref", KindRef}},
		Text: map[string]string{
			LangZH: "跟进提醒：儿童{child}的{what}需求（编号{ref}）仍未办结。已办结请回复：办结 {ref}；已转介请回复：转介 {ref}",
			LangEN: "Follow-up: child {child}, {what}, ref {ref}, is still open. Reply DONE {ref} when resolved, REFER {ref} when referred.",
		},
	}
	catalog[VisitReminder] = Template{
		Key: VisitReminder, About: "Monthly reminder to a director who has reported no home visit this month.",
		Vars: []Var{{"month", KindWord}},
		Text: map[string]string{
			LangZH: "提醒：您{month}月还没有上报家访。请通过菜单或短信上报：走访 儿童编号 情况",
			LangEN: "Reminder: no home visit reported for {month} yet. Please report one by the menu or by SMS: V <child ID> <situation>",
		},
	}
	catalog[MenuScreen] = Template{
		Key: MenuScreen, About: "A screen of a menu walked by SMS, or a one-line report's answer.", Screen: true,
		Vars: []Var{{"screen", KindText}},
		Text: map[string]string{LangZH: "{screen}", LangEN: "{screen}", LangBilingual: "{screen}"},
	}
}

// AllowanceKey is the key of the template of one allowance in a status,
// with or without the next payment's date.
func AllowanceKey(status string, next bool) string {
	if next {
		return "allowance_" + status + "_next"
	}
	return "allowance_" + status
}

// AllowanceReply renders the STATUS reply about one allowance from the
// template of its status: fixed wording, typed variables, which a provider
// that vets variables will approve where it would not free text.
func AllowanceReply(a menus.Allowance, lang string) (Message, error) {
	if lang != LangEN {
		lang = LangZH
	}
	status := a.Status
	if menus.AllowanceWording(status, lang) == "" {
		status = menus.AllowanceApplied
	}
	next := !a.NextPayment.IsZero() && strings.Contains(menus.AllowanceWording(status, lang), "{next}")
	params := []sms.Param{P("name", a.ChildName), P("scheme", menus.SchemeName(a.Scheme, lang))}
	if strings.Contains(menus.AllowanceWording(status, lang), "{amount}") {
		params = append(params, P("amount", strconv.Itoa(a.MonthlyYuan)))
	}
	if next {
		params = append(params, P("date", a.NextPayment.Format("2006-01-02")))
	}
	return Render(AllowanceKey(status, next), lang, params...)
}
