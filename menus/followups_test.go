package menus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

var beijing = time.FixedZone("CST", 8*3600)

func TestFollowUpDue(t *testing.T) {
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, beijing) }
	tests := []struct {
		name     string
		rule     menus.FollowUpRule
		reported time.Time
		want     time.Time
	}{
		{"days, morning of the day", menus.FollowUpRule{AfterDays: 14}, at(2026, 11, 2, 16), at(2026, 11, 16, 9)},
		{"days across a month", menus.FollowUpRule{AfterDays: 7}, at(2026, 11, 28, 10), at(2026, 12, 5, 9)},
		// 23:30 UTC is the next morning in Beijing: the local day counts.
		{"days from the local day", menus.FollowUpRule{AfterDays: 7}, time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC), at(2026, 12, 5, 9)},
		{"term, later this year", menus.FollowUpRule{On: []string{"09-01", "03-01"}}, at(2026, 6, 10, 10), at(2026, 9, 1, 9)},
		{"term, next year", menus.FollowUpRule{On: []string{"09-01", "03-01"}}, at(2026, 11, 28, 10), at(2027, 3, 1, 9)},
		{"term, reported on the day: the next one", menus.FollowUpRule{On: []string{"09-01", "03-01"}}, at(2026, 9, 1, 8), at(2027, 3, 1, 9)},
		{"no rule", menus.FollowUpRule{}, at(2026, 9, 1, 8), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.Due(tt.reported, beijing); !got.Equal(tt.want) {
				t.Fatalf("due %s, want %s", got, tt.want)
			}
		})
	}
}

// followUpTree is a need walk with the given follow_ups section.
func followUpTree(followUps string) string {
	return `
name: f
languages: [en]
start: cat
` + followUps + `
nodes:
  - id: cat
    kind: choice
    save_as: category
    text: {en: "What?"}
    choices:
      - {value: school, label: {en: School}}
      - {value: medical, label: {en: Medical}}
    next: child
  - id: child
    kind: input
    validate: child
    save_as: child
    text: {en: "Child?"}
    next: ok
  - id: ok
    kind: confirm
    action: save_need
    set: {urgency: routine}
    text: {en: "Save?"}
    next: done
    cancel: cat
  - id: done
    kind: end
    text: {en: "Ref {ref}"}
`
}

func TestValidateFollowUps(t *testing.T) {
	tests := []struct {
		name, section, want string
	}{
		{"days and dates", "follow_ups:\n  school: {on: [\"09-01\", \"03-01\"]}\n  medical: {after_days: 7}", ""},
		{"unknown category", "follow_ups:\n  housing: {after_days: 7}", `follow_ups.housing: no walk of the tree files a need of category "housing"`},
		{"both", "follow_ups:\n  medical: {after_days: 7, on: [\"09-01\"]}", "not both"},
		{"neither", "follow_ups:\n  medical: {}", "give after_days"},
		{"too far", "follow_ups:\n  medical: {after_days: 400}", "want 1 to 366 days"},
		{"negative", "follow_ups:\n  medical: {after_days: -1}", "want 1 to 366 days"},
		{"not a date", "follow_ups:\n  school: {on: [\"9/1\"]}", `"9/1" is not a date of every year`},
		{"not every year", "follow_ups:\n  school: {on: [\"02-29\"]}", `"02-29" is not a date of every year`},
		{"misspelt field", "follow_ups:\n  school: {after: 3}", "after is not a field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := menus.Parse([]byte(followUpTree(tt.section)), menus.FormatYAML)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestNeedCarriesItsFollowUp: a need of a category the tree follows up
// carries the rule to the store; one of another category none.
func TestNeedCarriesItsFollowUp(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	need, _ := m.FormFor("N")
	for _, tt := range []struct {
		category string // the option number in the demo tree
		want     string
	}{{"1", "14d"}, {"2", "09-01,03-01"}, {"4", "7d"}, {"6", ""}} {
		_, effects, p := m.FillForm(caller("en"), need, []string{"C0001", tt.category, "1"}, now, screen)
		r, ok := effects.Report()
		if p != nil || !ok {
			t.Fatalf("category %s: %+v", tt.category, p)
		}
		got := ""
		if r.FollowUp != nil {
			got = r.FollowUp.String()
		}
		if got != tt.want {
			t.Errorf("need of %s follows up %q, want %q", r.Category, got, tt.want)
		}
	}
}

// directorWithNeeds is the test caller with two open needs: one whose
// follow-up is due, one not yet; and a resolved one.
func directorWithNeeds(lang string) menus.Caller {
	c := caller(lang)
	c.Needs = []menus.NeedBrief{
		{Ref: "N2345AB", ChildCode: "C0001", Category: "medical", Status: "open", Due: true},
		{Ref: "N3456CD", ChildCode: "C0002", Category: "school", Status: "open"},
		{Ref: "N4567EF", ChildCode: "C0002", Category: "health", Status: "resolved"},
	}
	return c
}

// TestMyFollowUps walks "My follow-ups": only the due need is listed, by
// child code, category and reference, never a name; choosing it and a
// status confirms a status change of that need by the caller.
func TestMyFollowUps(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	s := m.Start(directorWithNeeds("en"), now, screen)
	steps := []struct {
		in, screen, not string
	}{
		{"4", "1. C0001 medical aid N2345AB", "N3456CD"},
		{"1", "Need N2345AB is now:\n1. Referred\n2. Resolved", ""},
		{"2", "Mark need N2345AB: Resolved\n1. Confirm", ""},
	}
	for _, st := range steps {
		next, effects, err := m.Step(s, st.in, now)
		if err != nil || len(effects) != 0 {
			t.Fatalf("input %s: %v, effects %v", st.in, err, effects)
		}
		if !strings.Contains(next.Screen, st.screen) || st.not != "" && strings.Contains(next.Screen, st.not) {
			t.Fatalf("after %s: screen %q, want %q", st.in, next.Screen, st.screen)
		}
		if strings.Contains(next.Screen, "王小明") {
			t.Fatalf("a child's name on the follow-up list: %q", next.Screen)
		}
		s = next
	}
	next, effects, err := m.Step(s, "1", now)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := effects.NeedStatus()
	if want := (menus.SetNeedStatus{Ref: "N2345AB", Status: "resolved", DirectorID: 2}); !ok || got != want {
		t.Fatalf("effect %+v, want %+v", got, want)
	}
	if _, saves := effects.Report(); saves {
		t.Fatal("a status change also saves a report")
	}
	if end := m.Saved(next, "N2345AB"); !end.Ended || end.Screen != "Need N2345AB: Resolved. Thank you." {
		t.Fatalf("end screen %q", end.Screen)
	}

	// Nothing due: the screen says so and the walk ends.
	c := caller("zh")
	c.Needs = []menus.NeedBrief{{Ref: "N3456CD", ChildCode: "C0002", Category: "school", Status: "open"}}
	s, _, _ = m.Step(m.Start(c, now, screen), "4", now)
	if !s.Ended || s.Screen != "暂无到期的跟进。谢谢！" {
		t.Fatalf("no follow-ups: %q, ended %v", s.Screen, s.Ended)
	}
}

// TestNeedStatusForms: DONE and REFER by SMS, in any case, full-width or
// glued, for a need of the caller's own child; another's reference, an
// unknown one and a resolved one all get the same answer.
func TestNeedStatusForms(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	tests := []struct {
		name   string
		words  []string
		ref    string // "" when refused
		status string
	}{
		{"done", []string{"DONE", "N2345AB"}, "N2345AB", "resolved"},
		{"done lower case", []string{"DONE", "n2345ab"}, "N2345AB", "resolved"},
		{"办结 glued", []string{"办结N3456CD"}, "N3456CD", "resolved"},
		{"转介 full-width", []string{"转介", "Ｎ３４５６ＣＤ"}, "N3456CD", "referred"},
		{"refer", []string{"REFER", "N2345AB"}, "N2345AB", "referred"},
		{"another director's child", []string{"DONE", "N9999ZZ"}, "", ""},
		{"resolved already", []string{"DONE", "N4567EF"}, "", ""},
		{"not a ref", []string{"DONE", "hello"}, "", ""},
	}
	var refusals []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, fields, ok := m.MatchForm(tt.words)
			if !ok {
				t.Fatalf("no form matches %q", tt.words)
			}
			_, effects, p := m.FillForm(directorWithNeeds("en"), f, fields, now, screen)
			if tt.ref == "" {
				if p == nil || p.Field != 1 || !strings.Contains(p.Message, "is not an open need of your children") {
					t.Fatalf("problem %+v", p)
				}
				refusals = append(refusals, strings.Replace(p.Message, strings.ToUpper(fields[0]), "REF", 1))
				return
			}
			got, ok := effects.NeedStatus()
			if p != nil || !ok || got.Ref != tt.ref || got.Status != tt.status {
				t.Fatalf("effect %+v, problem %+v", got, p)
			}
		})
	}
	for _, r := range refusals[1:] {
		if r != refusals[0] {
			t.Fatalf("refusals differ: %q", refusals)
		}
	}
}

// TestWantsNeeds: a walk reads the caller's needs only on its way to
// them: the main menu's follow-ups option, the list itself, a need
// reference; recording a visit from the main menu does not.
func TestWantsNeeds(t *testing.T) {
	m := MustMachine(t, "director.yaml")
	start := m.Start(directorWithNeeds("en"), now, screen)
	list, _, err := m.Step(start, "4", now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		at    menus.Snapshot
		input string
		want  bool
	}{
		{"main menu, record a visit", start, "1", false},
		{"main menu, report a need", start, "2", false},
		{"main menu, more", start, "98", false},
		{"main menu, not a number", start, "x", false},
		{"main menu, my follow-ups", start, "4", true},
		{"the follow-up list", list, "1", true},
	}
	for _, tt := range tests {
		if got := m.WantsNeeds(tt.at, tt.input); got != tt.want {
			t.Errorf("%s: WantsNeeds = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestParseFollowUpRule: a rule reads back as String writes it, and
// anything else is refused.
func TestParseFollowUpRule(t *testing.T) {
	for _, r := range []menus.FollowUpRule{{AfterDays: 14}, {On: []string{"09-01", "03-01"}}} {
		got, ok := menus.ParseFollowUpRule(r.String())
		if !ok || got.String() != r.String() {
			t.Errorf("%s read back as %+v, %v", r, got, ok)
		}
	}
	for _, bad := range []string{"", "0d", "400d", "xd", "9/1", "09-01,", "13-01"} {
		if r, ok := menus.ParseFollowUpRule(bad); ok {
			t.Errorf("%q read as %+v", bad, r)
		}
	}
}
