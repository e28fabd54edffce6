package menus

import (
	"sort"
	"strconv"
	"strings"
)

// A validation problem is said in the language of whoever reads it: county
// officers read the console in Chinese, the command line and the logs in
// English. Each problem carries a stable code and its values, so that a
// client can also word it itself, and problemTexts words each code in
// every language; placeholders are {name}, with {q.name} for a quoted
// value, {a.kind} for a node kind with its English article and {kind} for
// the kind in the reader's language.
var problemTexts = map[string]map[string]string{
	"tree_name":             {LangEN: `must be lower-case letters, digits, '-' or '_', starting with a letter (got {q.value})`, LangZH: `须由小写字母、数字、“-”或“_”组成，并以字母开头（现为 {q.value}）`},
	"unknown_audience":      {LangEN: `unknown audience {q.value} (want director or guardian)`, LangZH: `未知的使用者 {q.value}（应为 director 主任 或 guardian 监护人）`},
	"no_language":           {LangEN: `at least one language is required`, LangZH: `至少需要一种语言`},
	"unsupported_language":  {LangEN: `unsupported language {q.lang} (supported: zh, en)`, LangZH: `不支持的语言 {q.lang}（支持 zh、en）`},
	"language_twice":        {LangEN: `language {q.lang} listed twice`, LangZH: `语言 {q.lang} 重复列出`},
	"service_code":          {LangEN: `{q.value} is not a USSD code such as *384*2015#`, LangZH: `{q.value} 不是 USSD 号码（例如 *384*2015#）`},
	"unknown_label":         {LangEN: `unknown label {q.value}`, LangZH: `未知的内置文字 {q.value}`},
	"node_id":               {LangEN: `must be lower-case letters, digits or '_', starting with a letter`, LangZH: `须由小写字母、数字或“_”组成，并以字母开头`},
	"duplicate_id":          {LangEN: `duplicate node id`, LangZH: `节点名称重复`},
	"answer_kinds":          {LangEN: `answer {q.answer} is also stored by node {q.other} of another kind`, LangZH: `答案 {q.answer} 也由另一类型的节点 {q.other} 保存`},
	"no_nodes":              {LangEN: `a tree needs at least one node`, LangZH: `菜单树至少需要一个节点`},
	"start_required":        {LangEN: `the start node is required`, LangZH: `必须指定起始节点`},
	"unknown_node":          {LangEN: `unknown node {q.target}`, LangZH: `没有名为 {q.target} 的节点`},
	"label_unused":          {LangEN: `only inputs and choices name an answer`, LangZH: `只有输入和选择节点可以为答案命名`},
	"menu_no_options":       {LangEN: `a menu needs at least one option`, LangZH: `菜单至少需要一个选项`},
	"option_no_target":      {LangEN: `a menu option needs a target`, LangZH: `菜单选项需要指定下一步`},
	"choice_no_options":     {LangEN: `a choice needs at least one option`, LangZH: `选择至少需要一个选项`},
	"choice_no_save":        {LangEN: `a choice must store its answer`, LangZH: `选择必须指定答案保存为`},
	"choice_no_value":       {LangEN: `a choice option needs a value`, LangZH: `选项需要一个值`},
	"choice_value_twice":    {LangEN: `value {q.value} used twice`, LangZH: `值 {q.value} 用了两次`},
	"choice_no_target":      {LangEN: `no target: set next on the option or on the node`, LangZH: `没有下一步：请在选项或节点上指定下一步`},
	"date_bound":            {LangEN: `{q.value} is not "today" or a date as YYYY-MM-DD`, LangZH: `{q.value} 不是 “today” 或 YYYY-MM-DD 格式的日期`},
	"no_validator":          {LangEN: `an input needs a validator (number, date, phone, child, need or text)`, LangZH: `输入节点需要指定检查方式（数字、日期、电话、儿童编号、需求或文字）`},
	"unknown_validator":     {LangEN: `unknown validator {q.value} (want number, date, phone, child, need or text)`, LangZH: `未知的检查方式 {q.value}（应为数字、日期、电话、儿童编号、需求或文字）`},
	"need_validator":        {LangEN: `the answer "need" comes from the need validator, which stores nothing else`, LangZH: `答案 “need” 只能来自需求检查，需求检查也只保存这个答案`},
	"need_status":           {LangEN: `status is referred or resolved, not {q.value}`, LangZH: `状态应为 referred（已转介）或 resolved（已解决），而不是 {q.value}`},
	"preset_need":           {LangEN: `the need cannot be preset: it comes from the need validator or a follow_ups node`, LangZH: `需求不能预设：只能来自需求检查或“我的跟进”节点`},
	"follow_ups_audience":   {LangEN: `follow-ups belong in a director tree, which files needs`, LangZH: `跟进规则只能用于主任使用的菜单树（它提交需求）`},
	"follow_up_category":    {LangEN: `no walk of the tree files a need of category {q.value}`, LangZH: `菜单树中没有提交 {q.value} 类需求的路径`},
	"follow_up_both":        {LangEN: `give after_days or on, not both`, LangZH: `after_days（天数）和 on（日期）只能填一个`},
	"follow_up_none":        {LangEN: `give after_days (a number of days) or on (dates such as 09-01)`, LangZH: `请填写 after_days（天数）或 on（日期，如 09-01）`},
	"follow_up_date":        {LangEN: `{q.value} is not a date of every year as MM-DD, such as 09-01`, LangZH: `{q.value} 不是每年都有的日期（MM-DD 格式，例如 09-01）`},
	"follow_up_days":        {LangEN: `want 1 to {max} days, got {value}`, LangZH: `天数应为 1 到 {max}，现为 {value}`},
	"min_over_max":          {LangEN: `min {min} is greater than max {max}`, LangZH: `最小值 {min} 大于最大值 {max}`},
	"input_no_save":         {LangEN: `an input must store its answer`, LangZH: `输入节点必须指定答案保存为`},
	"child_validator":       {LangEN: `the answer "child" must come from the child validator`, LangZH: `答案 “child” 只能来自儿童编号检查`},
	"confirm_audience":      {LangEN: `reports are filed from director trees only`, LangZH: `只有主任使用的菜单树可以提交报告`},
	"no_action":             {LangEN: `a confirm node needs an action (save_visit, save_need or set_need_status)`, LangZH: `确认节点需要指定操作（保存家访、保存需求或更新需求状态）`},
	"unknown_action":        {LangEN: `unknown action {q.value} (want save_visit, save_need or set_need_status)`, LangZH: `未知的操作 {q.value}（应为保存家访、保存需求或更新需求状态）`},
	"allowance_audience":    {LangEN: `an allowance node belongs in a guardian tree`, LangZH: `补贴查询节点只能用于监护人菜单树`},
	"language_one":          {LangEN: `a language node needs a tree with at least two languages`, LangZH: `语言选择节点需要菜单树至少有两种语言`},
	"kind_required":         {LangEN: `the node kind is required (menu, input, choice, confirm, language, allowance, follow_ups or end)`, LangZH: `必须指定节点类型`},
	"unknown_kind":          {LangEN: `unknown kind {q.value} (want menu, input, choice, confirm, language, allowance, follow_ups or end)`, LangZH: `未知的节点类型 {q.value}`},
	"preset_name":           {LangEN: `{q.answer} is not an answer name: lower-case letters, digits or '_'`, LangZH: `{q.answer} 不是答案名称：须由小写字母、数字或“_”组成`},
	"preset_child":          {LangEN: `the child cannot be preset: it comes from the child validator`, LangZH: `儿童不能预设：只能来自儿童编号检查`},
	"preset_empty":          {LangEN: `{answer} is preset to nothing`, LangZH: `{answer} 的预设值为空`},
	"preset_value":          {LangEN: `{answer} is preset to {q.value}, which is not a value of node {q.other}`, LangZH: `{answer} 预设为 {q.value}，但这不是节点 {q.other} 的选项值`},
	"preset_urgency":        {LangEN: `urgency is routine or urgent, not {q.value}`, LangZH: `紧急程度应为 routine（一般）或 urgent（紧急），而不是 {q.value}`},
	"same_label":            {LangEN: `{lang} label {q.value} is also option {other}'s: callers cannot tell them apart`, LangZH: `{lang} 选项文字 {q.value} 与第 {other} 个选项相同：来电者无法区分`},
	"key_digits":            {LangEN: `must be one to three digits, got {q.value}`, LangZH: `须为一到三位数字，现为 {q.value}`},
	"key_twice":             {LangEN: `{q.value} is also the {other} key`, LangZH: `{q.value} 也是 {other} 键`},
	"key_option":            {LangEN: `{q.value} is also an option number: {where} has {count} options`, LangZH: `{q.value} 也是选项编号：{where} 有 {count} 个选项`},
	"required":              {LangEN: `required for {a.kind} node`, LangZH: `{kind}节点必须填写`},
	"unknown_target":        {LangEN: `unknown target node {q.target}`, LangZH: `下一步指向不存在的节点 {q.target}`},
	"unused":                {LangEN: `not used by {a.kind} node`, LangZH: `{kind}节点不使用此项，请删除`},
	"missing_translation":   {LangEN: `missing {lang} translation`, LangZH: `缺少 {lang} 文字`},
	"undeclared_language":   {LangEN: `text in {q.lang}, which the tree does not declare`, LangZH: `有 {q.lang} 文字，但菜单树没有这种语言`},
	"hidden_characters":     {LangEN: `{lang} text holds invisible or bidirectional control characters`, LangZH: `{lang} 文字含有不可见或双向控制字符`},
	"placeholder_no_child":  {LangEN: `{lang} text names {{name}} but no node stores a child`, LangZH: `{lang} 文字用到 {{name}}，但没有节点保存儿童`},
	"placeholder_unknown":   {LangEN: `{lang} text names {{name}}, which no node stores`, LangZH: `{lang} 文字用到 {{name}}，但没有节点保存它`},
	"unreachable":           {LangEN: `unreachable from the start node {q.start}`, LangZH: `从起始节点 {q.start} 无法到达`},
	"action_needs":          {LangEN: `{action} needs the answer {q.answer}, which {why} never gives: ask it on that path or preset it with set`, LangZH: `{action} 需要答案 {q.answer}，但{why}没有给出：请在这条路径上询问，或用预设值给出`},
	"placeholder_path":      {LangEN: `{lang} text shows {{name}}, which {why} never gives: it would show empty; put it in a [[ ]] section, shown only when it has a value`, LangZH: `{lang} 文字显示 {{name}}，但{why}没有给出，会显示为空；请放入 [[ ]]，只在有值时显示`},
	"over_budget":           {LangEN: `{lang} {what} is {units} {encoding} characters, over the screen budget of {limit}{why}`, LangZH: `{lang} {what}有 {units} 个 {encoding} 字符，超出屏幕上限 {limit}{why}`},
	"long_name_hides":       {LangEN: `{lang} screen hides {q.value} when a name is {length} characters long`, LangZH: `名字长 {length} 个字符时，{lang} 屏幕会遮住 {q.value}`},
	"form_no_keyword":       {LangEN: `a form needs at least one keyword`, LangZH: `短信格式至少需要一个关键词`},
	"form_keyword_words":    {LangEN: `keyword {q.value} must be one word`, LangZH: `关键词 {q.value} 必须是一个词`},
	"form_keyword_reserved": {LangEN: `keyword {q.value} is reserved`, LangZH: `关键词 {q.value} 是系统保留词`},
	"form_keyword_twice":    {LangEN: `keyword {q.value} is used twice`, LangZH: `关键词 {q.value} 用了两次`},
	"form_start":            {LangEN: `a form starts at an input or choice node, not {a.kind}`, LangZH: `短信格式须从输入或选择节点开始，而不是{kind}节点`},
	"path_name":             {LangEN: `is {q.value}, the path names {q.other}`, LangZH: `为 {q.value}，但地址中是 {q.other}`},
}

// Fragments of problems that are themselves worded per language.
var problemParts = map[string]map[string]string{
	"path_from":           {LangEN: `the path {path} from {entry}`, LangZH: `从{entry}出发的路径 {path} `},
	"path_cancel":         {LangEN: `a path from {entry} after a cancel`, LangZH: `从{entry}出发、取消之后的路径`},
	"entry_start":         {LangEN: `the start node`, LangZH: `起始节点`},
	"entry_form":          {LangEN: `SMS form {form}`, LangZH: `短信格式 {form} `},
	"screen_prompt_first": {LangEN: `prompt with its first option`, LangZH: `提示和第一个选项`},
	"screen_page":         {LangEN: `page {page} (option {option})`, LangZH: `第 {page} 页（选项 {option}）`},
	"screen_prompt":       {LangEN: `prompt`, LangZH: `提示`},
	"screen_error":        {LangEN: `error message`, LangZH: `错误提示`},
	"screen_confirm":      {LangEN: `confirm screen`, LangZH: `确认屏幕`},
	"screen_save_failed":  {LangEN: `save-failed screen`, LangZH: `保存失败屏幕`},
	"screen_end":          {LangEN: `screen`, LangZH: `屏幕`},
	"screen_allowance":    {LangEN: `{status} allowance status`, LangZH: `补贴状态 {status} `},
	"ucs2_name":           {LangEN: ` (UCS-2 because {child.name} may be Chinese, which halves the room of a {lang} screen)`, LangZH: `（因为 {child.name} 可能是中文，按 UCS-2 计算，{lang} 屏幕的容量减半）`},
	"key_more":            {LangEN: `more`, LangZH: `下一页`},
	"key_back":            {LangEN: `back`, LangZH: `返回`},
	"key_home":            {LangEN: `home`, LangZH: `主菜单`},
	"confirm_node":        {LangEN: `a confirm node`, LangZH: `确认节点`},
	"node_named":          {LangEN: `node {q.node}`, LangZH: `节点 {q.node}`},
}

// KindWords names node kinds for people who are not programmers.
var KindWords = map[Kind]map[string]string{
	KindMenu:      {LangEN: "Menu", LangZH: "菜单"},
	KindInput:     {LangEN: "Input", LangZH: "输入"},
	KindChoice:    {LangEN: "Choice", LangZH: "选择"},
	KindConfirm:   {LangEN: "Confirm and save", LangZH: "确认提交"},
	KindEnd:       {LangEN: "End", LangZH: "结束"},
	KindLanguage:  {LangEN: "Language", LangZH: "语言选择"},
	KindAllowance: {LangEN: "Allowance", LangZH: "补贴查询"},
	KindFollowUps: {LangEN: "My follow-ups", LangZH: "我的跟进"},
}

// Part is a fragment of a problem worded per language: a path, a screen.
// Problems keep their parts by code, so that the whole can be said in any
// language.
func part(code string, params ...string) string {
	return "\x02" + strings.Join(append([]string{code}, params...), "\x01") + "\x03"
}

// In returns the problem in lang (English for a language without wording
// or a problem without a code).
func (p Problem) In(lang string) string {
	if p.Code == "" {
		return p.Message
	}
	return render(problemTexts[p.Code], p.Params, lang)
}

// newProblem words a problem in English, its stored message.
func newProblem(node, field, code string, params ...string) Problem {
	p := Problem{Node: node, Field: field, Code: code}
	if len(params) > 0 {
		p.Params = map[string]string{}
		for i := 0; i+1 < len(params); i += 2 {
			p.Params[params[i]] = params[i+1]
		}
	}
	if _, ok := problemTexts[code]; !ok {
		panic("menus: no wording for problem " + code) // caught by the tests
	}
	p.Message = p.In(LangEN)
	return p
}

func render(texts map[string]string, params map[string]string, lang string) string {
	s, ok := texts[lang]
	if !ok {
		s = texts[LangEN]
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			break
		}
		name := s[i+1 : i+j]
		b.WriteString(s[:i])
		s = s[i+j+1:]
		// {{name}} is a literal placeholder of a tree's text.
		if strings.HasPrefix(name, "{") {
			b.WriteString("{" + params[name[1:]] + "}")
			s = strings.TrimPrefix(s, "}")
			continue
		}
		switch {
		case strings.HasPrefix(name, "q."):
			b.WriteString(strconv.Quote(say(params[name[2:]], lang)))
		case name == "a.kind":
			b.WriteString(article(Kind(params["kind"])))
		case name == "kind":
			if w := KindWords[Kind(params["kind"])][lang]; w != "" {
				b.WriteString(w)
			} else {
				b.WriteString(params["kind"])
			}
		case name == "child.name":
			b.WriteString("{child.name}")
		default:
			if v, ok := params[name]; ok {
				b.WriteString(say(v, lang))
			} else {
				b.WriteString("{" + name + "}")
			}
		}
	}
	return b.String()
}

// say words the parts within a value, innermost first.
func say(v, lang string) string {
	for {
		j := strings.IndexByte(v, 3)
		if j < 0 {
			return v
		}
		i := strings.LastIndexByte(v[:j], 2)
		if i < 0 {
			return v
		}
		fields := strings.Split(v[i+1:j], "\x01")
		params := map[string]string{}
		for k := 1; k+1 < len(fields); k += 2 {
			params[fields[k]] = fields[k+1]
		}
		v = v[:i] + render(problemParts[fields[0]], params, lang) + v[j+1:]
	}
}

// ProblemCodes lists every code a problem may carry, sorted; a client
// that words problems itself checks it knows them all.
func ProblemCodes() []string {
	out := make([]string, 0, len(problemTexts))
	for k := range problemTexts {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// ParamsIn returns the problem's values as said in lang.
func (p Problem) ParamsIn(lang string) map[string]string {
	if len(p.Params) == 0 {
		return nil
	}
	out := make(map[string]string, len(p.Params))
	for k, v := range p.Params {
		out[k] = say(v, lang)
	}
	return out
}

// NameProblem is a tree whose name is not the one it is saved under.
func NameProblem(name, want string) Problem {
	return newProblem("", "name", "path_name", "value", name, "other", want)
}
