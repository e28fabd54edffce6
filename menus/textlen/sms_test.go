package textlen_test

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

func TestSMS(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name  string
		s     string
		enc   textlen.Encoding
		units int
		parts []int // units in each part, as SplitSMS cuts them
	}{
		{"empty is still one message", "", textlen.GSM7, 0, []int{0}},
		{"short", "Visit saved.", textlen.GSM7, 12, []int{12}},
		{"160 ascii", r("a", 160), textlen.GSM7, 160, []int{160}},
		{"161 ascii", r("a", 161), textlen.GSM7, 161, []int{153, 8}},
		{"306 ascii", r("a", 306), textlen.GSM7, 306, []int{153, 153}},
		{"307 ascii", r("a", 307), textlen.GSM7, 307, []int{153, 153, 1}},
		{"80 braces", r("{", 80), textlen.GSM7, 160, []int{160}},
		{"81 braces never split an escape", r("{", 81), textlen.GSM7, 162, []int{152, 10}},
		{"extension char at 153 opens a part", r("a", 152) + "{" + r("a", 10), textlen.GSM7, 164, []int{152, 12}},
		{"euro straddle costs a third part", r("a", 152) + "€" + r("a", 152), textlen.GSM7, 306, []int{152, 153, 1}},
		{"70 chinese", r("中", 70), textlen.UCS2, 70, []int{70}},
		{"71 chinese", r("中", 71), textlen.UCS2, 71, []int{67, 4}},
		{"134 chinese", r("中", 134), textlen.UCS2, 134, []int{67, 67}},
		{"135 chinese", r("中", 135), textlen.UCS2, 135, []int{67, 67, 1}},
		{"35 emoji", r("😀", 35), textlen.UCS2, 70, []int{70}},
		{"surrogate pair at 67 opens a part", r("中", 66) + "😀" + r("中", 10), textlen.UCS2, 78, []int{66, 12}},
		{"one chinese char turns 159 ascii into three parts", r("a", 159) + "中", textlen.UCS2, 160, []int{67, 67, 26}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := textlen.SMS(tt.s)
			want := textlen.SMSInfo{Encoding: tt.enc, Units: tt.units, Segments: len(tt.parts)}
			if info != want {
				t.Errorf("SMS = %+v, want %+v", info, want)
			}
			parts := textlen.SplitSMS(tt.s)
			var got []int
			for _, p := range parts {
				got = append(got, unitsIn(p, tt.enc))
			}
			if !equalInts(got, tt.parts) {
				t.Errorf("SplitSMS part sizes = %v, want %v", got, tt.parts)
			}
			checkSplit(t, tt.s, parts)
		})
	}
}

// checkSplit holds SplitSMS's parts against the carrier's rules: they give
// the text back, there are as many as SMS counts, each fits its size, and
// each but the last is full (its next character would not have fitted).
func checkSplit(t *testing.T, s string, parts []string) {
	t.Helper()
	if got := strings.Join(parts, ""); got != s {
		t.Fatalf("SplitSMS(%q) parts join to %q", s, got)
	}
	info := textlen.SMS(s)
	if len(parts) != info.Segments {
		t.Fatalf("SplitSMS(%q) gives %d parts, SMS counts %d segments", s, len(parts), info.Segments)
	}
	single, size := 160, 153
	if info.Encoding == textlen.UCS2 {
		single, size = 70, 67
	}
	if len(parts) == 1 {
		if info.Units > single {
			t.Errorf("SplitSMS(%q): one part of %d units, over %d", s, info.Units, single)
		}
		return
	}
	for i, p := range parts {
		n := unitsIn(p, info.Encoding)
		if n == 0 || n > size {
			t.Errorf("SplitSMS(%q): part %d has %d units, want 1..%d", s, i, n, size)
		}
		if i+1 < len(parts) {
			next := []rune(parts[i+1])[0]
			if n+unitsIn(string(next), info.Encoding) <= size {
				t.Errorf("SplitSMS(%q): part %d (%d units) had room for %q", s, i, n, next)
			}
		}
	}
}

// unitsIn counts p in encoding e, independently of the package for UCS-2.
func unitsIn(p string, e textlen.Encoding) int {
	if e == textlen.UCS2 {
		return len(utf16.Encode([]rune(p)))
	}
	_, n := textlen.Measure(p)
	return n
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFitSMS(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name   string
		s      string
		suffix string
		max    int
		want   string
	}{
		{"fits unchanged", "Visit saved.", "...", 1, "Visit saved."},
		{"two ascii parts", r("a", 400), "...", 2, r("a", 303) + "..."},
		{"ellipsis turns it UCS-2", r("a", 400), "…", 2, r("a", 133) + "…"},
		{"one ascii message", r("a", 200), "...", 1, r("a", 157) + "..."},
		{"one chinese message", r("中", 200), "…", 1, r("中", 69) + "…"},
		{"chinese without suffix", r("中", 200), "", 1, r("中", 70)},
		{"cutting the chinese char turns it GSM-7", r("a", 150) + "中" + r("a", 10), "", 1, r("a", 150)},
		{"extension char not split across the limit", r("a", 159) + "{", "", 1, r("a", 159)},
		{"suffix alone too long", r("b", 300), r(".", 200), 1, r("b", 160)},
		{"no segments", r("a", 400), "...", 0, ""},
		{"no segments for empty text", "", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := textlen.FitSMS(tt.s, tt.suffix, tt.max)
			if got != tt.want {
				t.Errorf("FitSMS = %q (%d bytes), want %q (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			checkFitSMS(t, tt.s, tt.suffix, tt.max, got)
		})
	}
}

func checkFitSMS(t *testing.T, s, suffix string, max int, got string) {
	t.Helper()
	if max < 1 {
		if got != "" {
			t.Errorf("FitSMS(%q, %q, %d) = %q, want empty", s, suffix, max, got)
		}
		return
	}
	if n := textlen.SMS(got).Segments; n > max {
		t.Errorf("FitSMS(%q, %q, %d) = %q: %d segments", s, suffix, max, got, n)
	}
	fits := func(p string) bool { return textlen.SMS(p).Segments <= max }
	if want := longestFitting(s, suffix, fits); got != want {
		t.Errorf("FitSMS(%q, %q, %d) = %q, brute force gives %q", s, suffix, max, got, want)
	}
}
