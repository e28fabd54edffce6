package menus_test

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// Carrier budgets the fixture trees must fit (Africa's Talking, the
// default for carriers that state none, and the protocol limit). Trees are
// compiled against the strictest, as the gateway does.
var budgets = []textlen.Budget{{GSM7: 156, UCS2: 76}, {GSM7: 160, UCS2: 76}, {GSM7: 182, UCS2: 80}}

var strictest = textlen.Budget{GSM7: 156, UCS2: 76}

// vocabulary is what random walks type: options, navigation keys, child
// codes (the caller's, another's, malformed), dates, numbers, junk,
// full-width digits and empty input.
var vocabulary = []string{
	"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "98", "0", "00", "",
	"C0001", "c2", "C0009", "3", "X", "１", "２０２６-01-31", "2026-13-45", "13800138000",
	"很长的一段中文文字输入很长的一段中文文字输入", "a*b", "-1", "999999999999",
}

func walkers(t testing.TB) map[string]*menus.Machine {
	t.Helper()
	files, err := fs.Glob(fixtures.Menus(), "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture trees: %v", err)
	}
	out := map[string]*menus.Machine{}
	for _, f := range files {
		data, _ := fs.ReadFile(fixtures.Menus(), f)
		tree, err := menus.Parse(data, menus.FormatYAML)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m, err := menus.Compile(tree, 1, menus.Options{Region: "CN", Budget: strictest})
		if err != nil {
			t.Fatalf("%s does not fit the strictest budget: %v", f, err)
		}
		out[f] = m
	}
	return out
}

// callerFor is a realistic caller of a tree's audience, with the longest
// names the demo registry has.
func callerFor(m *menus.Machine, lang string) menus.Caller {
	kids := []menus.ChildBrief{{Code: "C0001", Name: "王小明"}, {Code: "C0002", Name: "刘佳"}}
	if m.Tree().For() == menus.AudienceGuardian {
		return menus.Caller{Phone: "+8613900139001", GuardianID: 1, Language: lang, Children: kids, Allowances: []menus.Allowance{
			{ChildCode: "C0001", ChildName: "王小明", Scheme: "living", Status: menus.AllowanceApproved, MonthlyYuan: 500, NextPayment: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC)},
			{ChildCode: "C0002", ChildName: "刘佳", Scheme: "disability", Status: menus.AllowanceRejected},
		}}
	}
	return menus.Caller{Phone: "+8613800138002", DirectorID: 2, Language: lang, Children: kids}
}

// walk plays inputs through m and checks every invariant of a hop.
func walk(t testing.TB, m *menus.Machine, b textlen.Budget, lang string, inputs []string) {
	c := callerFor(m, lang)
	s := m.Start(c, now, b)
	check := func(step string, s menus.Snapshot) {
		if s.Screen == "" || !utf8.ValidString(s.Screen) {
			t.Fatalf("%s: empty or invalid screen %q", step, s.Screen)
		}
		if !b.Fits(s.Screen) {
			enc, n := textlen.Measure(s.Screen)
			t.Fatalf("%s: screen of %d %s characters over budget %+v:\n%s", step, n, enc, b, s.Screen)
		}
	}
	check("start", s)
	for i, in := range inputs {
		step := fmt.Sprintf("%s %s input %d %q after %v", m.Tree().Name, lang, i, in, inputs[:i])
		next, effects, err := m.Step(s, in, now)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if s.Ended {
			if next.Screen != s.Screen || !next.Ended {
				t.Fatalf("%s: an ended session changed", step)
			}
			continue
		}
		if report, ok := effects.Report(); ok {
			if _, ok := c.Child(report.ChildCode); !ok || report.DirectorID != c.DirectorID || report.Kind == "" {
				t.Fatalf("%s: bad report %+v", step, report)
			}
			next = m.Saved(next, "V234567")
		}
		check(step, next)
		s = next
	}
}

// TestRandomWalks walks thousands of random input sequences through every
// fixture tree, in both languages, on every carrier budget: every screen
// fits, every step either continues or ends cleanly, nothing panics, and
// reports only name the caller's own children.
func TestRandomWalks(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	for _, m := range walkers(t) {
		for _, lang := range m.Tree().Languages {
			for _, b := range budgets {
				for range 1000 {
					inputs := make([]string, 1+rng.IntN(14))
					for i := range inputs {
						inputs[i] = vocabulary[rng.IntN(len(vocabulary))]
					}
					walk(t, m, b, lang, inputs)
				}
			}
		}
	}
}

// FuzzWalk lets the fuzzer choose the inputs: go test -fuzz FuzzWalk ./menus
func FuzzWalk(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, uint8(0))
	f.Add([]byte{1, 14, 3, 0, 0}, uint8(1))
	f.Add([]byte{11, 11, 12, 13, 1, 1}, uint8(2))
	machines := walkers(f)
	var names []string
	for n := range machines {
		names = append(names, n)
	}
	slices.Sort(names) // the same which picks the same tree on every run
	f.Fuzz(func(t *testing.T, picks []byte, which uint8) {
		if len(picks) > 40 {
			picks = picks[:40]
		}
		m := machines[names[int(which)%len(names)]]
		inputs := make([]string, len(picks))
		for i, p := range picks {
			inputs[i] = vocabulary[int(p)%len(vocabulary)]
		}
		for _, lang := range m.Tree().Languages {
			walk(t, m, budgets[int(which)%len(budgets)], lang, inputs)
		}
	})
}
