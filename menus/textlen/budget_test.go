package textlen_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

func TestBudgetLimit(t *testing.T) {
	b := textlen.USSDMax()
	tests := []struct {
		e    textlen.Encoding
		want int
	}{
		{textlen.GSM7, 182},
		{textlen.UCS2, 80},
		{textlen.Encoding(9), 0},
	}
	for _, tt := range tests {
		if got := b.Limit(tt.e); got != tt.want {
			t.Errorf("USSDMax().Limit(%v) = %d, want %d", tt.e, got, tt.want)
		}
	}
}

func TestBudgetFitsRoom(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name string
		s    string
		room int
	}{
		{"empty", "", 182},
		{"182 ascii", r("a", 182), 0},
		{"183 ascii", r("a", 183), -1},
		{"91 braces", r("{", 91), 0},
		{"92 braces", r("{", 92), -2},
		{"181 ascii and a euro", r("a", 181) + "€", -1},
		{"80 chinese", r("中", 80), 0},
		{"81 chinese", r("中", 81), -1},
		{"181 ascii and a chinese char", r("a", 181) + "中", -102},
		{"79 ascii and a chinese char", r("a", 79) + "中", 0},
		{"78 chinese and an emoji", r("中", 78) + "😀", 0},
		{"79 chinese and an emoji", r("中", 79) + "😀", -1},
	}
	b := textlen.USSDMax()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.Room(tt.s); got != tt.room {
				t.Errorf("Room = %d, want %d", got, tt.room)
			}
			if got, want := b.Fits(tt.s), tt.room >= 0; got != want {
				t.Errorf("Fits = %v, want %v", got, want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name   string
		b      textlen.Budget
		s      string
		suffix string
		want   string
	}{
		{"fits unchanged", textlen.USSDMax(), "Hello", "...", "Hello"},
		{"exactly full", textlen.USSDMax(), r("a", 182), "...", r("a", 182)},
		{"ascii with dots", textlen.Budget{GSM7: 10, UCS2: 5}, "Hello world, this", "...", "Hello w..."},
		{"ellipsis turns the screen UCS-2", textlen.Budget{GSM7: 10, UCS2: 5}, "Hello world", "…", "Hell…"},
		{"ussd ascii", textlen.USSDMax(), r("a", 200), "...", r("a", 179) + "..."},
		{"ussd ascii with ellipsis", textlen.USSDMax(), r("a", 200), "…", r("a", 79) + "…"},
		{"ussd chinese", textlen.USSDMax(), r("中", 100), "…", r("中", 79) + "…"},
		{"ussd chinese with dots", textlen.USSDMax(), r("中", 100), "...", r("中", 77) + "..."},
		{"cutting the chinese char turns it GSM-7", textlen.Budget{GSM7: 10, UCS2: 5}, "abcdefghij中", "", "abcdefghij"},
		{"extension escape kept whole", textlen.Budget{GSM7: 5, UCS2: 5}, "ab{{{", "", "ab{"},
		{"emoji kept whole", textlen.Budget{GSM7: 5, UCS2: 5}, "中中中中😀中", "", "中中中中"},
		{"suffix alone too long", textlen.Budget{GSM7: 2, UCS2: 1}, "abcdef", "...", "ab"},
		{"only the suffix fits", textlen.Budget{GSM7: 3, UCS2: 1}, "abcdef", "...", "..."},
		{"zero budget", textlen.Budget{}, "abc", "...", ""},
		{"negative budget", textlen.Budget{GSM7: -1, UCS2: -1}, "abc", "...", ""},
		{"invalid byte kept as is", textlen.Budget{GSM7: 3, UCS2: 3}, "ab\xffcd", "", "ab\xff"},
		// The suffix alone is over the GSM-7 budget, but in UCS-2, which the
		// Chinese prefix forces anyway, it fits.
		{"suffix fits only after chinese", textlen.Budget{GSM7: 2, UCS2: 10}, r("中", 12), "...", r("中", 7) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.b.Truncate(tt.s, tt.suffix)
			if got != tt.want {
				t.Errorf("Truncate(%q, %q) = %q, want %q", tt.s, tt.suffix, got, tt.want)
			}
			checkTruncate(t, tt.b, tt.s, tt.suffix, got)
		})
	}
}

// checkTruncate holds Truncate's result against its contract and against a
// brute-force search over every cut.
func checkTruncate(t *testing.T, b textlen.Budget, s, suffix, got string) {
	t.Helper()
	if b.GSM7 >= 0 && b.UCS2 >= 0 && !b.Fits(got) {
		e, n := textlen.Measure(got)
		t.Errorf("Truncate(%q, %q) = %q: %d %v units, over %+v", s, suffix, got, n, e, b)
	}
	if utf8.ValidString(s) && utf8.ValidString(suffix) && !utf8.ValidString(got) {
		t.Errorf("Truncate(%q, %q) = %q: invalid UTF-8", s, suffix, got)
	}
	if want := longestFitting(s, suffix, b.Fits); got != want {
		t.Errorf("Truncate(%q, %q) = %q, brute force gives %q", s, suffix, got, want)
	}
}

// longestFitting is the slow, obvious reading of "the longest prefix that
// fits, with suffix when cut": try every cut from the longest down.
func longestFitting(s, suffix string, fits func(string) bool) string {
	if fits(s) {
		return s
	}
	var cuts []int
	for i := range s {
		cuts = append(cuts, i)
	}
	for _, sfx := range []string{suffix, ""} {
		for i := len(cuts) - 1; i >= 0; i-- {
			if p := s[:cuts[i]] + sfx; fits(p) {
				return p
			}
		}
	}
	return ""
}
