package menus_test

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

func TestFillForm(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	visit, ok := m.FormFor("走访")
	if !ok {
		t.Fatal("no form for 走访")
	}
	need, _ := m.FormFor("n")
	tests := []struct {
		name   string
		form   menus.Form
		lang   string
		fields []string
		kind   menus.ReportKind
		field  int
		msg    string
	}{
		{"visit", visit, "en", []string{"C0001", "1"}, menus.ReportVisit, 0, ""},
		{"visit urgent digits-only child", visit, "en", []string{"2", "4"}, menus.ReportVisit, 0, ""},
		{"need", need, "en", []string{"C0001", "6", "2"}, menus.ReportNeed, 0, ""},
		{"not their child", visit, "en", []string{"C0009", "1"}, "", 1, "C0009 is not one of your children."},
		{"bad situation", visit, "zh", []string{"C0001", "9"}, "", 2, "选项无效。"},
		{"missing urgency", need, "en", []string{"C0001", "6"}, "", 3, "missing"},
		{"too many", visit, "en", []string{"C0001", "1", "1"}, "", 3, "Too many fields."},
		{"nothing", need, "en", nil, "", 1, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, effects, p := m.FillForm(caller(tt.lang), tt.form, tt.fields, now, screen)
			if tt.kind != "" {
				r, ok := effects.Report()
				if p != nil || !ok || r.Kind != tt.kind {
					t.Fatalf("report %+v, problem %+v", r, p)
				}
				if got := m.Saved(s, "N234567").Screen; !strings.Contains(got, "N234567") {
					t.Fatalf("end screen %q", got)
				}
				return
			}
			if p == nil || p.Field != tt.field || !strings.Contains(p.Message, tt.msg) {
				t.Fatalf("problem %+v, want field %d with %q", p, tt.field, tt.msg)
			}
		})
	}
	if got := m.FormUsage(visit, "en"); got != "V <child ID> <situation 1-4>" {
		t.Fatalf("visit usage %q", got)
	}
	if got := m.FormUsage(need, "zh"); got != "N <儿童编号> <类别 1-7> <紧急程度 1-2>" {
		t.Fatalf("need usage %q", got)
	}
}

// TestMatchForm: a form's keyword is a whole first word, or glued to the
// first field as Chinese directors type it; the longest keyword wins, so
// no valid form reads as another.
func TestMatchForm(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	tests := []struct {
		words  []string
		start  string
		fields []string
	}{
		{[]string{"V", "C0001", "1"}, "visit_child", []string{"C0001", "1"}},
		{[]string{"走访C0001", "1"}, "visit_child", []string{"C0001", "1"}},
		{[]string{"VC0001", "1"}, "visit_child", []string{"C0001", "1"}},
		{[]string{"VISITC0001", "1"}, "visit_child", []string{"C0001", "1"}},
		{[]string{"VISIT", "C0001", "1"}, "visit_child", []string{"C0001", "1"}},
		{[]string{"需求C0005", "3", "1"}, "need_child", []string{"C0005", "3", "1"}},
		{[]string{"NEEDC0003", "1", "1"}, "need_child", []string{"C0003", "1", "1"}},
		{[]string{"NC0004", "2", "2"}, "need_child", []string{"C0004", "2", "2"}},
		{[]string{"STATUS"}, "", nil},
		{[]string{"菜单"}, "", nil},
		{nil, "", nil},
	}
	for _, tt := range tests {
		f, fields, ok := m.MatchForm(tt.words)
		if ok != (tt.start != "") || f.Start != tt.start || strings.Join(fields, " ") != strings.Join(tt.fields, " ") {
			t.Errorf("%q: form %q fields %q (%v), want %q %q", tt.words, f.Start, fields, ok, tt.start, tt.fields)
		}
	}
}

// TestLongNamesKeepOptions: a name as long as the registry allows is
// shortened on screen, never the options below it.
func TestLongNamesKeepOptions(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for _, name := range []string{strings.Repeat("王", menus.MaxNameLength), strings.Repeat("Wang ", menus.MaxNameLength/5)} {
		for _, lang := range []string{menus.LangZH, menus.LangEN} {
			c := caller(lang)
			c.Children[0].Name = name
			s := m.Start(c, now, textlen.USSDMax())
			for _, in := range []string{"1", c.Children[0].Code, "4"} {
				s, _, _ = m.Step(s, in, now)
			}
			if !strings.Contains(s.Screen, "1. "+map[string]string{"zh": "确认", "en": "Confirm"}[lang]) || !textlen.USSDMax().Fits(s.Screen) {
				t.Errorf("%s confirm screen with a long name: %q", lang, s.Screen)
			}
			if strings.Contains(name, "王") && !strings.Contains(s.Screen, "…") {
				t.Errorf("%s: the name was not shortened: %q", lang, s.Screen)
			}
		}
	}
}

// TestCancelDiscardsTheWalk: a cancelled walk has no answers left and
// says so in its effects.
func TestCancelDiscardsTheWalk(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s := m.Start(caller("en"), now, textlen.USSDMax())
	for _, in := range []string{"1", "C0001", "1"} {
		s, _, _ = m.Step(s, in, now)
	}
	if !s.Unfinished() {
		t.Fatalf("a walk at its confirm is unfinished: %+v", s)
	}
	s, effects, err := m.Step(s, "2", now)
	if err != nil || !effects.Discards() || s.Unfinished() || len(s.Answers) != 0 {
		t.Fatalf("cancel: %+v, %v, %v", s, effects, err)
	}
}

// TestAbandonedOrFinished: a walk the caller turns away from (a cancelled
// confirm, Home mid-walk) is discarded as abandoned; one that reaches an
// end is discarded as finished; Home before any answer discards nothing.
func TestAbandonedOrFinished(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	home := menus.DefaultHomeKey
	cases := []struct {
		name, tree        string
		inputs            []string
		discards, abandon bool
	}{
		{"cancelled confirm", "director.yaml", []string{"1", "C0001", "1", "2"}, true, true},
		{"home mid-walk", "director.yaml", []string{"1", "C0001", home}, true, true},
		{"home before any answer", "director.yaml", []string{"1", home}, false, false},
		{"confirmed, to be saved", "director.yaml", []string{"1", "C0001", "1", "1"}, false, false},
		{"an end reached", "guardian.yaml", []string{"1", "1"}, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := MustMachine(t, c.tree)
			s := m.Start(callerFor(m, "en"), now, textlen.USSDMax())
			var effects menus.Effects
			for _, in := range c.inputs {
				var err error
				if s, effects, err = m.Step(s, in, now); err != nil {
					t.Fatal(err)
				}
			}
			if effects.Discards() != c.discards || effects.Abandons() != c.abandon {
				t.Fatalf("after %v at %s: effects %#v discard %v, abandon %v; want %v, %v",
					c.inputs, s.Node, effects, effects.Discards(), effects.Abandons(), c.discards, c.abandon)
			}
		})
	}
}

// TestBudgetSaysWhyItHalved: an English screen that shows a child's name
// is measured as UCS-2, and the problem says that is why.
func TestBudgetSaysWhyItHalved(t *testing.T) {
	src, err := fs.ReadFile(fixtures.Menus(), "director.yaml")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Replace(string(src), `en: "Visit to {child.name} ({child.code}): {situation}"`, `en: "Visit to {child.name} ({child.code}): {situation}. Please check the answers before you confirm."`, 1)
	_, err = menus.Check([]byte(long), menus.FormatYAML, menus.Options{Region: "CN", Budget: screen})
	if err == nil || !strings.Contains(err.Error(), `node "visit_confirm"`) || !strings.Contains(err.Error(), "UCS-2 because {child.name} may be Chinese") {
		t.Fatalf("Check = %v", err)
	}
}
