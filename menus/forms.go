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
// position, and the answer's name in the caller's language when the field
// is one the form asks) and a message, in the caller's language.
type FormProblem struct {
	Field   int
	Name    string
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
	// A form enters the tree at its start node: nothing of the main
	// menu's walk applies.
	s.Node, s.Answers = f.Start, nil
	m.preset(&s)
	for i := 0; ; i++ {
		n := m.nodes[s.Node]
		if n.Kind == KindConfirm {
			if i < len(fields) {
				return s, nil, &FormProblem{Field: i + 1, Message: m.label("form_extra", s.Lang)}
			}
			next, effects, err := m.Step(s, "1", now)
			_, saves := effects.Report()
			_, marks := effects.NeedStatus()
			if err != nil || !saves && !marks {
				return s, nil, &FormProblem{Field: i + 1, Message: m.label("invalid_option", s.Lang)}
			}
			return next, effects, nil
		}
		if n.Kind == KindEnd {
			// A branch that ends without a report ("the child is in
			// school: nothing to report"): its screen is the answer.
			if i < len(fields) {
				return s, nil, &FormProblem{Field: i + 1, Message: m.label("form_extra", s.Lang)}
			}
			return s, nil, nil
		}
		if n.Kind != KindInput && n.Kind != KindChoice {
			return s, nil, &FormProblem{Field: i + 1, Message: m.label("invalid_option", s.Lang)}
		}
		name := m.FieldName(n, s.Lang)
		if i >= len(fields) {
			return s, nil, &FormProblem{Field: i + 1, Name: name, Message: m.label("form_missing", s.Lang)}
		}
		next, _, err := m.Step(s, fields[i], now)
		if err != nil {
			return s, nil, &FormProblem{Field: i + 1, Name: name, Message: err.Error()}
		}
		if next.Node == s.Node || next.Notice != "" {
			msg := m.label("invalid_option", s.Lang)
			if next.Notice != "" {
				msg = expand(m.label(next.Notice, s.Lang), func(k string) string { return next.NoticeArgs[k] })
				if n.Error != nil {
					msg = n.Error[s.Lang]
				}
			}
			return s, nil, &FormProblem{Field: i + 1, Name: name, Message: msg}
		}
		s = next
	}
}

// FormUsage writes a form's expected format for a reply, e.g.
// "V <child ID> <situation 1-4>": the fields in walk order, each named in
// lang, with a field that only some branches ask in brackets
// ("S <child ID> <in school 1-2> [<reason 1-4>]").
func (m *Machine) FormUsage(f Form, lang string) string {
	parts := []string{f.Keywords[0]}
	for _, n := range m.formFields(f) {
		field := "<" + m.FieldName(n.node, lang)
		if n.node.Kind == KindChoice {
			field += " 1-" + strconv.Itoa(len(n.node.Choices))
		}
		field += ">"
		if !n.always {
			field = "[" + field + "]"
		}
		parts = append(parts, field)
	}
	return strings.Join(parts, " ")
}

// formField is a node a form's fields fill, and whether every way through
// the form asks it.
type formField struct {
	node   *Node
	always bool
}

// formFields lists the inputs and choices a form may ask, breadth first
// from its start, each marked whether every path from the start to a
// confirm or end passes it.
func (m *Machine) formFields(f Form) []formField {
	next := func(n *Node) []string {
		var out []string
		switch n.Kind {
		case KindInput:
			out = append(out, n.Next)
		case KindChoice:
			for _, o := range n.Choices {
				if o.Next != "" {
					out = append(out, o.Next)
				} else {
					out = append(out, n.Next)
				}
			}
		}
		return out
	}
	// reaches tells whether a confirm or end is reachable from the start
	// without passing skip.
	reaches := func(skip string) bool {
		seen := map[string]bool{f.Start: true}
		queue := []string{f.Start}
		for len(queue) > 0 {
			n := m.nodes[queue[0]]
			queue = queue[1:]
			if n == nil || n.ID == skip {
				continue
			}
			if n.Kind == KindConfirm || n.Kind == KindEnd {
				return true
			}
			for _, id := range next(n) {
				if !seen[id] {
					seen[id] = true
					queue = append(queue, id)
				}
			}
		}
		return false
	}
	var out []formField
	seen := map[string]bool{f.Start: true}
	queue := []string{f.Start}
	for len(queue) > 0 {
		n := m.nodes[queue[0]]
		queue = queue[1:]
		if n == nil || (n.Kind != KindInput && n.Kind != KindChoice) {
			continue
		}
		out = append(out, formField{node: n, always: !reaches(n.ID)})
		for _, id := range next(n) {
			if !seen[id] {
				seen[id] = true
				queue = append(queue, id)
			}
		}
	}
	return out
}

// fieldNames name the answers forms usually ask for.
var fieldNames = map[string]Text{
	"child":     {LangZH: "儿童编号", LangEN: "child ID"},
	"situation": {LangZH: "情况", LangEN: "situation"},
	"category":  {LangZH: "类别", LangEN: "category"},
	"urgency":   {LangZH: "紧急程度", LangEN: "urgency"},
}

// maxFieldName bounds a name taken from a prompt, which can be a sentence.
const maxFieldName = 16

// FieldName names the answer a node asks, in lang, for SMS form replies:
// the node's label, else the built-in name of a well-known answer, else
// its prompt (without placeholders, shortened). Never the answer's key,
// which means nothing to a director.
func (m *Machine) FieldName(n *Node, lang string) string {
	if l := strings.TrimSpace(n.Label[lang]); l != "" {
		return l
	}
	if l := fieldNames[n.SaveAs][lang]; l != "" {
		return l
	}
	prompt := strings.TrimSpace(expand(n.Text[lang], func(string) string { return "" }))
	prompt = strings.TrimRight(prompt, "?？:：。. ")
	return shorten(prompt, maxFieldName)
}

// forms checks each form starts at a node that takes input and that
// keywords are single words, unique and not the gateway's own commands.
func (v *validator) forms() {
	seen := map[string]bool{}
	for i, f := range v.t.Forms {
		field := fmt.Sprintf("sms_forms[%d]", i+1)
		if len(f.Keywords) == 0 {
			v.add("", field+".keywords", "form_no_keyword")
		}
		for _, k := range f.Keywords {
			u := strings.ToUpper(strings.TrimSpace(k))
			if u == "" || strings.ContainsAny(u, " \t") {
				v.add("", field+".keywords", "form_keyword_words", "value", k)
			}
			if reservedKeywords[u] {
				v.add("", field+".keywords", "form_keyword_reserved", "value", k)
			}
			if seen[u] {
				v.add("", field+".keywords", "form_keyword_twice", "value", k)
			}
			seen[u] = true
		}
		n, ok := v.byID[f.Start]
		if !ok {
			v.add("", field+".start", "unknown_node", "target", f.Start)
			continue
		}
		if n.Kind != KindInput && n.Kind != KindChoice {
			v.add("", field+".start", "form_start", "kind", string(n.Kind))
		}
	}
}

// reservedKeywords are the gateway's own SMS commands.
var reservedKeywords = map[string]bool{"HELP": true, "帮助": true, "STATUS": true, "状态": true, "查询": true, "MENU": true, "菜单": true, "STOP": true, "退出": true}
