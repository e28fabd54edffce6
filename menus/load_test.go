package menus_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/menus"
	"go.yaml.in/yaml/v3"
)

// base is a small valid tree; each case below breaks it in one way.
const base = `
name: t
languages: [zh, en]
service_codes: ["*1#"]
start: main
nodes:
  - id: main
    kind: menu
    text: {zh: 主菜单, en: Main}
    options:
      - {label: {zh: 家访, en: Visit}, next: child}
  - id: child
    kind: input
    validate: child
    save_as: child
    text: {zh: 编号, en: ID}
    next: situation
  - id: situation
    kind: choice
    save_as: situation
    text: {zh: "{child.name}", en: "{child.name}"}
    choices:
      - {value: well, label: {zh: 好, en: Well}}
    next: confirm
  - id: confirm
    kind: confirm
    action: save_visit
    text: {zh: "确认{situation}", en: "Confirm {situation}"}
    next: done
    cancel: main
  - id: done
    kind: end
    text: {zh: "编号{ref}", en: "Ref {ref}"}
`

func TestParseValid(t *testing.T) {
	if _, err := menus.Parse([]byte(base), menus.FormatYAML); err != nil {
		t.Fatal(err)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string // textual edit of base
		node      string // node the problem must name ("" for the tree)
		wantInMsg string
	}{
		{"unknown target", "next: situation", "next: nowhere", "child", `unknown target node "nowhere"`},
		{"unknown start", "start: main", "start: gone", "", `unknown node "gone"`},
		{"unreachable node", "      - {label: {zh: 家访, en: Visit}, next: child}", "      - {label: {zh: 家访, en: Visit}, next: done}", "child", "unreachable"},
		{"missing translation", "text: {zh: 编号, en: ID}", "text: {zh: 编号}", "child", "missing en translation"},
		{"empty translation", "text: {zh: 主菜单, en: Main}", "text: {zh: 主菜单, en: \"  \"}", "main", "missing en translation"},
		{"missing label translation", "{value: well, label: {zh: 好, en: Well}}", "{value: well, label: {zh: 好}}", "situation", "missing en translation"},
		{"undeclared language", "text: {zh: 编号, en: ID}", "text: {zh: 编号, en: ID, fr: Num}", "child", `"fr"`},
		{"duplicate id", "  - id: done\n", "  - id: confirm\n", "confirm", "duplicate node id"},
		{"unknown action", "action: save_visit", "action: send_money", "confirm", `unknown action "send_money"`},
		{"missing action", "    action: save_visit\n", "", "confirm", "needs an action"},
		{"unknown validator", "validate: child", "validate: colour", "child", `unknown validator "colour"`},
		{"unknown kind", "kind: end", "kind: finish", "done", `unknown kind "finish"`},
		{"choice without save_as", "    save_as: situation\n", "", "situation", "must store its answer"},
		{"duplicate choice value", "      - {value: well, label: {zh: 好, en: Well}}\n", "      - {value: well, label: {zh: 好, en: Well}}\n      - {value: well, label: {zh: 好, en: Well}}\n", "situation", `value "well" used twice`},
		{"placeholder of nothing", "Confirm {situation}", "Confirm {mood}", "confirm", "{mood}"},
		{"action answer missing", "save_as: situation", "save_as: mood", "confirm", `needs the answer "situation"`},
		{"bad service code", `"*1#"`, `"123"`, "", "not a USSD code"},
		{"unsupported language", "languages: [zh, en]", "languages: [zh, en, xx]", "", `unsupported language "xx"`},
		{"bidi override", "text: {zh: 主菜单, en: Main}", "text: {zh: 主菜单, en: \"Ma\u202ein\"}", "main", "bidirectional"},
		{"end with next", "    text: {zh: \"编号{ref}\", en: \"Ref {ref}\"}\n", "    text: {zh: \"编号{ref}\", en: \"Ref {ref}\"}\n    next: main\n", "done", "not used by an end node"},
		{"bad date bound", "validate: child", "validate: date\n    max_date: tomorrow", "child", `"tomorrow"`},
		{"form that skips the child", "start: main\n", "start: main\nsms_forms: [{keywords: [V], start: situation}]\n", "confirm", `needs the answer "child", which the path situation → confirm from SMS form V never gives`},
		{"placeholder a form path skips", "start: main\n", "start: main\nsms_forms: [{keywords: [V], start: situation}]\n", "situation", "{child.name}, which the path situation from SMS form V never gives"},
		{"same labels", "      - {value: well, label: {zh: 好, en: Well}}\n", "      - {value: well, label: {zh: 好, en: Well}}\n      - {value: fine, label: {zh: 好, en: Fine}}\n", "situation", `zh label "好" is also option 1's`},
		{"preset of a value no choice has", "    action: save_visit\n", "    action: save_visit\n    set: {situation: great}\n", "confirm", `situation is preset to "great", which is not a value of node "situation"`},
		{"preset child", "    action: save_visit\n", "    action: save_visit\n    set: {child: C0001}\n", "confirm", "the child cannot be preset"},
		{"back key that is an option number", "start: main\n", "start: main\nkeys: {back: \"2\"}\n", "", `"2" is also an option number: a confirm node has 2 options`},
		{"label on a menu", "    text: {zh: 主菜单, en: Main}\n", "    text: {zh: 主菜单, en: Main}\n    label: {zh: 菜单, en: Menu}\n", "main", "only inputs and choices name an answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(base, tt.old, tt.new, 1)
			if src == base {
				t.Fatalf("edit %q did not apply", tt.old)
			}
			_, err := menus.Parse([]byte(src), menus.FormatYAML)
			var verr *menus.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse = %v, want a ValidationError", err)
			}
			for _, p := range verr.Problems {
				if p.Node == tt.node && strings.Contains(p.Message, tt.wantInMsg) {
					return
				}
			}
			t.Fatalf("no problem on node %q containing %q in %v", tt.node, tt.wantInMsg, verr.Problems)
		})
	}
}

func TestParseRejectsUnknownFieldsAndFormats(t *testing.T) {
	if _, err := menus.Parse([]byte(strings.Replace(base, "start: main", "start: main\nstrat: main", 1)), menus.FormatYAML); err == nil || !strings.Contains(err.Error(), "strat") {
		t.Fatalf("unknown yaml field: %v", err)
	}
	if _, err := menus.Parse([]byte(`{"name":"t","colour":"red"}`), menus.FormatJSON); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown json field: %v", err)
	}
	if _, err := menus.Parse([]byte(`{"name":"t"} {}`), menus.FormatJSON); err == nil {
		t.Fatal("trailing json accepted")
	}
	if _, err := menus.Parse([]byte(base), "toml"); err == nil {
		t.Fatal("unknown format accepted")
	}
}

// TestJSONEqualsYAML checks both formats describe the same tree, by writing
// each fixture tree as JSON and parsing it back.
func TestJSONEqualsYAML(t *testing.T) {
	files, err := fs.Glob(fixtures.Menus(), "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture trees: %v", err)
	}
	for _, f := range files {
		data, _ := fs.ReadFile(fixtures.Menus(), f)
		fromYAML, err := menus.Parse(data, menus.FormatYAML)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		js, err := json.Marshal(fromYAML)
		if err != nil {
			t.Fatal(err)
		}
		fromJSON, err := menus.Parse(js, menus.FormatJSON)
		if err != nil {
			t.Fatalf("%s as json: %v", f, err)
		}
		if !reflect.DeepEqual(fromYAML, fromJSON) {
			t.Fatalf("%s: json and yaml differ", f)
		}
		back, err := yaml.Marshal(fromJSON)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := menus.Parse(back, menus.FormatYAML); err != nil {
			t.Fatalf("%s: re-encoded yaml: %v", f, err)
		}
	}
}

// FuzzParse: no input makes the loader panic, and a tree it accepts
// compiles, survives a JSON round trip unchanged, and renders its start
// screen.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base), false)
	if data, err := fs.ReadFile(fixtures.Menus(), "director.yaml"); err == nil {
		f.Add(data, false)
	}
	f.Add([]byte(`{"name":"t","languages":["en"],"start":"a","nodes":[{"id":"a","kind":"end","text":{"en":"hi"}}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		format := menus.FormatYAML
		if asJSON {
			format = menus.FormatJSON
		}
		tree, err := menus.Parse(data, format)
		if err != nil {
			return
		}
		js, err := json.Marshal(tree)
		if err != nil {
			t.Fatalf("accepted tree does not marshal: %v", err)
		}
		again, err := menus.Parse(js, menus.FormatJSON)
		if err != nil || !reflect.DeepEqual(tree, again) {
			t.Fatalf("JSON round trip changed the tree: %v", err)
		}
		m, err := menus.Compile(tree, 1, menus.Options{Region: "CN"})
		if err != nil {
			var verr *menus.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("compile of a valid tree failed oddly: %v", err)
			}
			return // over the screen budget: a validation error, as it should be
		}
		if s := m.Start(menus.Caller{Language: tree.Languages[0]}, now, screen); s.Screen == "" {
			t.Fatal("empty start screen")
		}
	})
}

// TestDecodeErrorsInTheOfficersTerms: YAML mistakes are reported at the
// line that breaks the tree and in YAML's words, never Go's types.
func TestDecodeErrorsInTheOfficersTerms(t *testing.T) {
	src, err := fs.ReadFile(fixtures.Menus(), "director.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	lines[47] = "   " + strings.TrimLeft(lines[47], " ") // a bad indent on line 48
	_, err = menus.Parse([]byte(strings.Join(lines, "\n")), menus.FormatYAML)
	if err == nil || !strings.Contains(err.Error(), "line 48") {
		t.Errorf("bad indent on line 48: %v", err)
	}
	option := strings.Replace(string(src), "        next: visit_child\n", "        next: visit_child\n        number: 1\n", 1)
	_, err = menus.Parse([]byte(option), menus.FormatYAML)
	if err == nil || !strings.Contains(err.Error(), "number is not a field of an option") || strings.Contains(err.Error(), "menus.") {
		t.Errorf("unknown option field: %v", err)
	}
}

// TestPerPathChecksOnTheFixtures: a form that starts after the category
// screen cannot save a need without its category, and a shared screen
// that shows an answer only one branch asks must make it conditional.
func TestPerPathChecksOnTheFixtures(t *testing.T) {
	director, err := fs.ReadFile(fixtures.Menus(), "director.yaml")
	if err != nil {
		t.Fatal(err)
	}
	late := strings.Replace(string(director), "    start: need_child\n", "    start: need_child\n  - keywords: [U]\n    start: need_urgency\n", 1)
	want := []string{`node "need_confirm": action: save_need needs the answer "category", which the path need_urgency → need_confirm from SMS form U never gives`}
	checkProblems(t, late, want)

	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "<!-- school-tree -->\n```yaml\n")
	school, _, _ := strings.Cut(rest, "```")
	if _, err := menus.Parse([]byte(school), menus.FormatYAML); err != nil {
		t.Fatalf("FORMAT.md's school tree: %v", err)
	}
	unconditional := strings.Replace(school, "[[ Reason: {reason}.]]", " Reason: {reason}.", 1)
	checkProblems(t, unconditional, []string{`node "saved": text: en text shows {reason}, which the path child → enrolled → in_school → saved from the start node never gives`})
}

func checkProblems(t *testing.T, src string, want []string) {
	t.Helper()
	_, err := menus.Parse([]byte(src), menus.FormatYAML)
	var verr *menus.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Parse = %v, want problems %q", err, want)
	}
	for _, w := range want {
		found := false
		for _, p := range verr.Problems {
			found = found || strings.Contains(p.String(), w)
		}
		if !found {
			t.Errorf("no problem %q in %v", w, verr.Problems)
		}
	}
}
