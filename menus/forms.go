package menus

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// SMS forms are the menu tree's walks written on one line: "V C0001 1" is
// the visit walk from the node after "Record a home visit", its inputs in
// order. A form is not a second definition of a report: it is fed to the
// same state machine, node by node, with the same validators and choice
// numbers, so editing a tree changes both channels at once.

// Form names a walk that an SMS can fill in one message.
type Form struct {
	// Keywords open the form, any case: e.g. V, VISIT, 走访.
	Keywords []string `yaml:"keywords" json:"keywords"`
	// Start is the first node whose input the form's fields fill.
	Start string `yaml:"start" json:"start"`
}

// FormProblem is what is wrong with a filled-in form: the field (1-based
// position and answer key) and a message, in the caller's language.
type FormProblem struct {
	Field   int
	Key     string
	Message string
}

// FormFor returns the form a keyword opens.
func (m *Machine) FormFor(keyword string) (Form, bool) {
	k := strings.ToUpper(keyword)
	for _, f := range m.tree.Forms {
		for _, kw := range f.Keywords {
			if strings.ToUpper(kw) == k {
				return f, true
			}
		}
	}
	return Form{}, false
}

// MatchForm finds the form an SMS's words fill, and the fields after its
// keyword. The keyword is the first word, or the start of it: directors
// typing Chinese leave no space before the child code ("走访C0001 1",
// "VC0001 1"). A whole-word keyword wins, then the longest keyword the
// word starts with, so "VISITC0001" is VISIT and C0001, never V and
// ISITC0001. Words are upper-cased already (see the SMS word splitter).
func (m *Machine) MatchForm(words []string) (Form, []string, bool) {
	if len(words) == 0 {
		return Form{}, nil, false
	}
	if f, ok := m.FormFor(words[0]); ok {
		return f, words[1:], true
	}
	var (
		best   Form
		bestKw string
	)
	for _, f := range m.tree.Forms {
		for _, kw := range f.Keywords {
			k := strings.ToUpper(kw)
			if len(k) > len(bestKw) && len(words[0]) > len(k) && strings.HasPrefix(words[0], k) {
				best, bestKw = f, k
			}
		}
	}
	if bestKw == "" {
		return Form{}, nil, false
	}
	fields := append([]string{words[0][len(bestKw):]}, words[1:]...)
	return best, fields, true
}

// FillForm walks the form's nodes with fields as inputs and confirms the
// walk. On success it returns the snapshot at the confirm's next node
// and the confirm's effects (the caller saves the report and calls
// Saved); otherwise a problem naming the first field that is wrong or
// missing.
func (m *Machine) FillForm(c Caller, f Form, fields []string, now time.Time, budget textlen.Budget) (Snapshot, Effects, *FormProblem) {
	s := m.Start(c, now, budget)
	s.Node = f.Start
	for i := 0; ; i++ {
		n := m.nodes[s.Node]
		if n.Kind == KindConfirm {
			if i < len(fields) {
				return s, nil, &FormProblem{Field: i + 1, Message: m.label("form_extra", s.Lang)}
			}
			next, effects, err := m.Step(s, "1", now)
			if _, ok := effects.Report(); err != nil || !ok {
				return s, nil, &FormProblem{Field: i + 1, Message: m.label("invalid_option", s.Lang)}
			}
			return next, effects, nil
		}
		if n.Kind != KindInput && n.Kind != KindChoice {
			return s, nil, &FormProblem{Field: i + 1, Message: m.label("invalid_option", s.Lang)}
		}
		if i >= len(fields) {
			return s, nil, &FormProblem{Field: i + 1, Key: n.SaveAs, Message: m.label("form_missing", s.Lang)}
		}
		next, _, err := m.Step(s, fields[i], now)
		if err != nil {
			return s, nil, &FormProblem{Field: i + 1, Key: n.SaveAs, Message: err.Error()}
		}
		if next.Node == s.Node || next.Notice != "" {
			msg := m.label("invalid_option", s.Lang)
			if next.Notice != "" {
				msg = expand(m.label(next.Notice, s.Lang), func(k string) string { return next.NoticeArgs[k] })
				if n.Error != nil {
					msg = n.Error[s.Lang]
				}
			}
			return s, nil, &FormProblem{Field: i + 1, Key: n.SaveAs, Message: msg}
		}
		s = next
	}
}

// FormUsage writes a form's expected format for a reply, e.g.
// "V <child ID> <situation 1-4>", following each node's default next.
func (m *Machine) FormUsage(f Form, lang string) string {
	parts := []string{f.Keywords[0]}
	seen := map[string]bool{}
	for id := f.Start; id != "" && !seen[id]; {
		seen[id] = true
		n := m.nodes[id]
		if n == nil || n.Kind == KindConfirm {
			break
		}
		name := fieldNames[n.SaveAs][lang]
		if name == "" {
			name = n.SaveAs
		}
		switch n.Kind {
		case KindChoice:
			parts = append(parts, "<"+name+" 1-"+strconv.Itoa(len(n.Choices))+">")
			id = n.Next
			if id == "" && len(n.Choices) > 0 {
				id = n.Choices[0].Next
			}
		case KindInput:
			parts = append(parts, "<"+name+">")
			id = n.Next
		default:
			id = ""
		}
	}
	return strings.Join(parts, " ")
}

// fieldNames name the answers forms usually ask for; any other answer is
// named by its key.
var fieldNames = map[string]Text{
	"child":     {LangZH: "儿童编号", LangEN: "child ID"},
	"situation": {LangZH: "情况", LangEN: "situation"},
	"category":  {LangZH: "类别", LangEN: "category"},
	"urgency":   {LangZH: "紧急程度", LangEN: "urgency"},
}

// FieldName names an answer key in lang, for error replies.
func FieldName(key, lang string) string {
	if n := fieldNames[key][lang]; n != "" {
		return n
	}
	return key
}

// forms checks each form starts at a node that takes input and that
// keywords are single words, unique and not the gateway's own commands.
func (v *validator) forms() {
	seen := map[string]bool{}
	for i, f := range v.t.Forms {
		field := fmt.Sprintf("sms_forms[%d]", i+1)
		if len(f.Keywords) == 0 {
			v.add("", field+".keywords", "a form needs at least one keyword")
		}
		for _, k := range f.Keywords {
			u := strings.ToUpper(strings.TrimSpace(k))
			if u == "" || strings.ContainsAny(u, " \t") {
				v.add("", field+".keywords", "keyword %q must be one word", k)
			}
			if reservedKeywords[u] {
				v.add("", field+".keywords", "keyword %q is reserved", k)
			}
			if seen[u] {
				v.add("", field+".keywords", "keyword %q is used twice", k)
			}
			seen[u] = true
		}
		n, ok := v.byID[f.Start]
		if !ok {
			v.add("", field+".start", "unknown node %q", f.Start)
			continue
		}
		if n.Kind != KindInput && n.Kind != KindChoice {
			v.add("", field+".start", "a form starts at an input or choice node, not %s", article(n.Kind))
		}
	}
}

// reservedKeywords are the gateway's own SMS commands.
var reservedKeywords = map[string]bool{"HELP": true, "帮助": true, "STATUS": true, "状态": true, "查询": true, "MENU": true, "菜单": true, "STOP": true, "退出": true}
