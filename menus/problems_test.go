package menus_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/barefoot-ussd/barefoot/menus"
)

// TestProblemsInChinese: a county officer reads the validator in Chinese.
// Each problem carries a stable code, and its Chinese wording names the
// same values as the English.
func TestProblemsInChinese(t *testing.T) {
	tests := []struct {
		name, old, new, node, field, code, zh string
	}{
		{"unknown target", "next: situation", "next: nowhere", "child", "next", "unknown_target", `下一步指向不存在的节点 "nowhere"`},
		{"missing translation", "text: {zh: 编号, en: ID}", "text: {zh: 编号}", "child", "text", "missing_translation", "缺少 en 文字"},
		{"input without next", "    next: situation\n", "", "child", "next", "required", "输入节点必须填写"},
		{"end with next", "    text: {zh: \"编号{ref}\", en: \"Ref {ref}\"}\n", "    text: {zh: \"编号{ref}\", en: \"Ref {ref}\"}\n    next: main\n", "done", "next", "unused", "结束节点不使用此项"},
		{"unreachable", "      - {label: {zh: 家访, en: Visit}, next: child}", "      - {label: {zh: 家访, en: Visit}, next: done}", "child", "", "unreachable", `从起始节点 "main" 无法到达`},
		{"form path", "start: main\n", "start: main\nsms_forms: [{keywords: [V], start: situation}]\n", "confirm", "action", "action_needs", "从短信格式 V 出发的路径 situation → confirm"},
		{"back key", "start: main\n", "start: main\nkeys: {back: \"2\"}\n", "", "keys.back", "key_option", `"2" 也是选项编号：确认节点 有 2 个选项`},
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
				if p.Node != tt.node || p.Code != tt.code {
					continue
				}
				if p.Field != tt.field {
					t.Errorf("field = %q, want %q", p.Field, tt.field)
				}
				if zh := p.In(menus.LangZH); !strings.Contains(zh, tt.zh) {
					t.Errorf("in Chinese: %q, want it to hold %q", zh, tt.zh)
				}
				if en := p.In(menus.LangEN); en != p.Message {
					t.Errorf("in English: %q, the message is %q", en, p.Message)
				}
				for k, v := range p.ParamsIn(menus.LangZH) {
					if strings.ContainsFunc(v, unicode.IsControl) {
						t.Errorf("param %s = %q holds control characters", k, v)
					}
				}
				return
			}
			t.Fatalf("no %s problem on node %q in %v", tt.code, tt.node, verr.Problems)
		})
	}
}

// TestEveryProblemCodeWorded: each code has wording in every language.
func TestEveryProblemCodeWorded(t *testing.T) {
	codes := menus.ProblemCodes()
	if len(codes) < 50 {
		t.Fatalf("%d codes", len(codes))
	}
	for _, c := range codes {
		p := menus.Problem{Code: c}
		if p.In(menus.LangZH) == p.In(menus.LangEN) {
			t.Errorf("%s: the same in Chinese and English", c)
		}
	}
}
