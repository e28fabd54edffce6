package menus_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus"
)

// inputTree is a one-input tree per validator, so each validator is tested
// through the same Step a caller goes through.
func inputTree(t *testing.T, node string) *menus.Machine {
	t.Helper()
	src := `
name: v
languages: [en, zh]
start: ask
nodes:
  - id: ask
    kind: input
    save_as: x
    text: {en: "Enter", zh: "输入"}
    next: done
` + node + `
  - id: done
    kind: end
    text: {en: "Got {x}", zh: "收到{x}"}
`
	tree, err := menus.Parse([]byte(src), menus.FormatYAML)
	if err != nil {
		t.Fatal(err)
	}
	m, err := menus.Compile(tree, 1, menus.Options{Region: "CN"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidators(t *testing.T) {
	tests := []struct {
		name   string
		node   string // extra fields of the input node
		input  string
		stored string // "" when the input must be refused
		notice string // text the refusal shows
	}{
		{"number ok", "    validate: number", "42", "42", ""},
		{"number full-width", "    validate: number", "４２", "42", ""},
		{"number leading zeros", "    validate: number", "007", "7", ""},
		{"number letters", "    validate: number", "4a", "", "Please enter a number."},
		{"number negative", "    validate: number", "-3", "", "Please enter a number."},
		{"number empty", "    validate: number", "", "", "Please enter a number."},
		{"number too long", "    validate: number", "12345678901", "", "Please enter a number."},
		{"number below min", "    validate: number\n    min: 1\n    max: 18", "0", "", "from 1 to 18"},
		{"number above max", "    validate: number\n    min: 1\n    max: 18", "19", "", "from 1 to 18"},
		{"number at max", "    validate: number\n    min: 1\n    max: 18", "18", "18", ""},
		{"date iso", "    validate: date", "2026-01-31", "2026-01-31", ""},
		{"date compact", "    validate: date", "20260131", "2026-01-31", ""},
		{"date slashes", "    validate: date", "2026/1/31", "2026-01-31", ""},
		{"date impossible", "    validate: date", "2026-02-30", "", "YYYY-MM-DD"},
		{"date words", "    validate: date", "yesterday", "", "YYYY-MM-DD"},
		{"date future refused", "    validate: date\n    max_date: today", "2026-11-29", "", "out of range"},
		{"date today allowed", "    validate: date\n    max_date: today", "2026-11-28", "2026-11-28", ""},
		{"date before min", "    validate: date\n    min_date: \"2000-01-01\"", "1999-12-31", "", "out of range"},
		{"phone bare mobile", "    validate: phone", "13900139001", "+8613900139001", ""},
		{"phone 0086", "    validate: phone", "0086 139 0013 9001", "+8613900139001", ""},
		{"phone short", "    validate: phone", "12345", "", "not a valid phone number"},
		{"child own", "    validate: child", "C0001", "C0001", ""},
		{"child lower case", "    validate: child", "c0002", "C0002", ""},
		{"child digits only", "    validate: child", "2", "C0002", ""},
		{"child not theirs", "    validate: child", "C0009", "", "C0009 is not one of your children."},
		{"child garbage", "    validate: child", "hello", "", "is not one of your children"},
		{"text ok", "    validate: text", "needs shoes", "needs shoes", ""},
		{"text trims and strips controls", "    validate: text", "  a\x00b\u202e  ", "ab", ""},
		{"text too long", "    validate: text\n    max: 5", "abcdef", "", "1 to 5 characters"},
		{"text blank", "    validate: text", "   ", "", "Please type a reply."},
		{"custom error", "    validate: number\n    error: {en: \"Digits only!\", zh: \"只能输入数字！\"}", "x", "", "Digits only!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := inputTree(t, tt.node)
			s := m.Start(caller("en"), now, screen)
			next, _, err := m.Step(s, tt.input, now)
			if err != nil {
				t.Fatal(err)
			}
			if tt.stored != "" {
				if got := next.Answers["x"]; got != tt.stored || !next.Ended {
					t.Fatalf("stored %q (ended %v), want %q; screen %q", got, next.Ended, tt.stored, next.Screen)
				}
				return
			}
			if next.Node != "ask" || next.Ended {
				t.Fatalf("input %q accepted: node %s, answers %v", tt.input, next.Node, next.Answers)
			}
			if _, ok := next.Answers["x"]; ok {
				t.Fatalf("refused input stored: %v", next.Answers)
			}
			if !strings.Contains(next.Screen, tt.notice) || !strings.HasSuffix(next.Screen, "Enter") {
				t.Fatalf("screen %q, want the notice %q then the prompt again", next.Screen, tt.notice)
			}
		})
	}
}

func TestChildCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"C0001", "C0001", true},
		{"c1", "C0001", true},
		{" 12 ", "C0012", true},
		{"Ｃ０００１", "C0001", true},
		{"D123456", "D123456", true},
		{"", "", false},
		{"C", "", false},
		{"CC01", "", false},
		{"C00000000001", "", false},
		{"1*2", "", false},
	}
	for _, tt := range tests {
		got, ok := menus.ChildCode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ChildCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzChildCode: whatever a keypad sends, an accepted code is canonical
// (a letter and 4-9 digits) and canonicalising it again changes nothing.
func FuzzChildCode(f *testing.F) {
	for _, s := range []string{"C0001", "c1", "Ｃ０００１", "12", "", "C", "1*2", "D123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, ok := menus.ChildCode(in)
		if !ok {
			return
		}
		if !childCodeRE.MatchString(code) {
			t.Fatalf("ChildCode(%q) = %q: not canonical", in, code)
		}
		if again, ok := menus.ChildCode(code); !ok || again != code {
			t.Fatalf("ChildCode not idempotent: %q -> %q -> %q", in, code, again)
		}
	})
}

var childCodeRE = regexp.MustCompile(`^[A-Z][0-9]{4,9}$`)
