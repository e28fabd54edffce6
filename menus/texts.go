package menus

// builtinLabels holds the wording the engine itself adds to screens. A tree
// may override any of them under `labels:`; these defaults keep a tree short
// and every screen translated.
var builtinLabels = map[string]Text{
	"confirm":        {LangEN: "Confirm", LangZH: "确认"},
	"cancel":         {LangEN: "Cancel", LangZH: "取消"},
	"invalid_option": {LangEN: "Invalid choice.", LangZH: "选项无效。"},
	"invalid_number": {LangEN: "Please enter a number.", LangZH: "请输入数字。"},
	"number_range":   {LangEN: "Please enter a number from {min} to {max}.", LangZH: "请输入{min}到{max}之间的数字。"},
	"invalid_date":   {LangEN: "Please enter a date as YYYY-MM-DD.", LangZH: "请按年-月-日输入日期，如2026-01-31。"},
	"date_range":     {LangEN: "That date is out of range.", LangZH: "日期超出范围。"},
	"invalid_phone":  {LangEN: "That is not a valid phone number.", LangZH: "电话号码无效。"},
	"unknown_child":  {LangEN: "{input} is not one of your children.", LangZH: "{input}不是您负责的儿童。"},
	"invalid_text":   {LangEN: "Please type a reply.", LangZH: "请输入内容。"},
	"text_length":    {LangEN: "Please use {min} to {max} characters.", LangZH: "请输入{min}到{max}个字。"},
	"save_failed":    {LangEN: "Could not save just now. Press 1 to try again.", LangZH: "暂时无法保存，请按1重试。"},
	"more":           {LangEN: "More", LangZH: "更多"},
	"form_missing":   {LangEN: "missing", LangZH: "缺少此项"},
	"form_extra":     {LangEN: "Too many fields.", LangZH: "内容过多。"},
	"no_allowance":   {LangEN: "No allowance is on record. Please contact the county office.", LangZH: "暂无补贴记录，请联系县民政办公室。"},
	"back":           {LangEN: "Back", LangZH: "返回"},
	"resume_offer":   {LangEN: "You have an unfinished report.", LangZH: "您有未完成的报告。"},
	"resume_yes":     {LangEN: "Continue", LangZH: "继续填写"},
	"resume_no":      {LangEN: "Start again", LangZH: "重新开始"},
	"child_gone":     {LangEN: "{child} is no longer one of your children, so this report was not saved. Please contact the county office.", LangZH: "{child}已不是您负责的儿童，本报告未保存。请联系县民政办公室。"},
	"unknown_need":   {LangEN: "{input} is not an open need of your children.", LangZH: "{input}不是您负责儿童的未办结需求。"},
	"no_follow_ups":  {LangEN: "No follow-ups are due. Thank you.", LangZH: "暂无到期的跟进。谢谢！"},
	"need_gone":      {LangEN: "Need {ref} is not open any more, so nothing was changed.", LangZH: "需求{ref}已不在办理中，未作更改。"},
	"already_saved":  {LangEN: "This report was already saved as ref {ref}. Nothing more was saved.", LangZH: "该报告已保存，编号{ref}，未重复保存。"},
}

// Messages the gateway shows outside any tree, in both languages because the
// caller's language is not known yet when most of them are needed.
const (
	MsgUnknownCaller  = "unknown_caller"
	MsgUnknownService = "unknown_service"
	MsgSessionError   = "session_error"
	MsgBusy           = "busy"
	MsgBadRequest     = "bad_request"
	// SMS replies.
	MsgRegister     = "register"
	MsgNoAllowance  = "no_allowance"
	MsgHelpDirector = "help_director"
	MsgHelpFamily   = "help_family"
	MsgNotSaved     = "not_saved"
	MsgStatusSecret = "status_secret"
	MsgStopped      = "stopped"
	MsgTreeChanged  = "tree_changed"
	MsgNothingOpen  = "nothing_open"
)

var messages = map[string]Text{
	MsgUnknownCaller:  {LangEN: "This number is not registered. Please contact the county office.", LangZH: "您的号码未登记，请联系县民政办公室。"},
	MsgUnknownService: {LangEN: "This service code is not in use.", LangZH: "此服务号码未开通。"},
	MsgSessionError:   {LangEN: "Session ended. Please dial again.", LangZH: "会话已结束，请重新拨打。"},
	MsgBusy:           {LangEN: "Service busy. Please dial again shortly.", LangZH: "服务繁忙，请稍后重拨。"},
	MsgBadRequest:     {LangEN: "Invalid request.", LangZH: "请求无效。"},
	// Says nothing about any child or number: the sender may not be who
	// they claim.
	MsgRegister:     {LangEN: "To check an allowance, ask the county office to register this number as a guardian.", LangZH: "查询补贴请先到县民政办公室登记本手机号。"},
	MsgNoAllowance:  {LangEN: "no allowance on record. Please contact the county office.", LangZH: "暂无补贴记录，请联系县民政办公室。"},
	MsgHelpDirector: {LangEN: "Reports: V <child ID> <situation> (visit), N <child ID> <category> <urgency> (need). MENU for the menu.", LangZH: "走访：V 儿童编号 情况；需求：N 儿童编号 类别 紧急程度。发送\"菜单\"使用菜单。"},
	MsgHelpFamily:   {LangEN: "Send STATUS to check your child's allowance.", LangZH: "发送\"状态\"查询孩子的补贴。"},
	MsgNotSaved:     {LangEN: "Could not save just now. Please send it again later.", LangZH: "暂时无法保存，请稍后重发。"},
	MsgTreeChanged:  {LangEN: "The menu was just updated. Please dial again.", LangZH: "菜单刚刚更新，请重新拨打。"},
	MsgStopped:      {LangEN: "Menu ended. Send MENU to start again.", LangZH: "菜单已结束。发送\"菜单\"重新开始。"},
	MsgNothingOpen:  {LangEN: "No menu is open. Send MENU to start one.", LangZH: "没有进行中的菜单。发送\"菜单\"开始。"},
	MsgStatusSecret: {LangEN: "Send: STATUS <child code> <last 4 digits of your ID number>. Not registered? Contact the county office.", LangZH: "请发送：状态 儿童编号 身份证后四位。未登记请联系县民政办公室。"},
}

// Message returns a gateway message in one language, or in Chinese then
// English when lang is empty (the caller is not known yet).
func Message(key, lang string) string {
	t := messages[key]
	if lang == "" {
		return t[LangZH] + "\n" + t[LangEN]
	}
	if s, ok := t[lang]; ok {
		return s
	}
	return t[LangZH]
}
