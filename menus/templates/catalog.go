package templates

import "github.com/barefoot-ussd/barefoot/menus"

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
	catalog[AlertUrgent] = Template{
		Key: AlertUrgent, About: "Alert to a county supervisor about an urgent visit or need; no child name.",
		Vars: []Var{{"child", KindCode}, {"what", KindWord}, {"director", KindPhone}, {"ref", KindRef}},
		Text: map[string]string{
			LangZH: "紧急：儿童{child}，{what}。报告人{director}，编号{ref}。",
			LangEN: "URGENT: child {child}, {what}. Reported by {director}, ref {ref}.",
		},
	}
	catalog[MenuScreen] = Template{
		Key: MenuScreen, About: "A screen of a menu walked by SMS, or a one-line report's answer.", Screen: true,
		Vars: []Var{{"screen", KindText}},
		Text: map[string]string{LangZH: "{screen}", LangEN: "{screen}", LangBilingual: "{screen}"},
	}
}
