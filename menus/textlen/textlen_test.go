package textlen_test

import (
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// The GSM 03.38 tables transcribed again, independently of the package, so
// that a slip in either copy shows up as a failure.
const (
	defaultAlphabet = "@£$¥èéùìòÇ\nØø\rÅå" +
		"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" + // 0x1B, the escape, is not a character
		" !\"#¤%&'()*+,-./" +
		"0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNO" +
		"PQRSTUVWXYZÄÖÑÜ§" +
		"¿abcdefghijklmno" +
		"pqrstuvwxyzäöñüà"
	extensionTable = "\f^{}\\[~]|€"
)

func TestEncodingString(t *testing.T) {
	tests := []struct {
		e    textlen.Encoding
		want string
	}{
		{textlen.GSM7, "GSM-7"},
		{textlen.UCS2, "UCS-2"},
		{textlen.Encoding(7), "Encoding(7)"},
	}
	for _, tt := range tests {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("Encoding(%d).String() = %q, want %q", int(tt.e), got, tt.want)
		}
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name string
		s    string
		enc  textlen.Encoding
		n    int
	}{
		{"empty", "", textlen.GSM7, 0},
		{"ascii", "Hello, world!", textlen.GSM7, 13},
		{"menu", "1. Report a visit\n2. My reports\r\n", textlen.GSM7, 33},
		{"braces cost two each", "{}", textlen.GSM7, 4},
		{"every extension char", extensionTable, textlen.GSM7, 20},
		{"euro", "€", textlen.GSM7, 2},
		{"price in euro", "Cost: 5€", textlen.GSM7, 9},
		{"default-table latin", "£¥è", textlen.GSM7, 3},
		{"dollar and at", "$5 @ home", textlen.GSM7, 9},
		{"greek capitals", "ΔΦΓΛΩΠΨΣΘΞ", textlen.GSM7, 10},
		{"newlines", "a\nb\rc", textlen.GSM7, 5},
		{"chinese", "儿童", textlen.UCS2, 2},
		{"emoji is a surrogate pair", "😀", textlen.UCS2, 2},
		{"english with one chinese char", "Child: 儿", textlen.UCS2, 8},
		{"mixed counts runes not septets", "Reply {1} for 儿童", textlen.UCS2, 16},
		{"emoji among chinese", "😀中a", textlen.UCS2, 4},
		{"backtick", "`", textlen.UCS2, 1},
		{"backtick in ascii", "run `ls`", textlen.UCS2, 8},
		{"smart quotes", "“yes”", textlen.UCS2, 5},
		{"ellipsis", "wait…", textlen.UCS2, 5},
		{"full-width digits", "Ｃ０００１", textlen.UCS2, 5},
		{"tab", "a\tb", textlen.UCS2, 3},
		{"invalid byte", "\xff", textlen.UCS2, 1},
		{"invalid byte among ascii", "a\xffb", textlen.UCS2, 3},
		{"truncated sequence is two bytes, two units", "\xe4\xb8", textlen.UCS2, 2},
		{"encoded surrogate is invalid", "\xed\xa0\x80", textlen.UCS2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, n := textlen.Measure(tt.s)
			if enc != tt.enc || n != tt.n {
				t.Errorf("Measure(%q) = %v, %d; want %v, %d", tt.s, enc, n, tt.enc, tt.n)
			}
		})
	}
}

// TestMeasureAlphabets checks every character of both GSM tables, each on
// its own and after a non-ASCII character so that both the ASCII fast path
// and the rune path see it.
func TestMeasureAlphabets(t *testing.T) {
	if n := len([]rune(defaultAlphabet)); n != 127 {
		t.Fatalf("test table has %d characters, want 127", n)
	}
	for _, tt := range []struct {
		table string
		cost  int
	}{{defaultAlphabet, 1}, {extensionTable, 2}} {
		for _, r := range tt.table {
			for _, s := range []string{string(r), "é" + string(r)} {
				want := tt.cost + len([]rune(s)) - 1
				if enc, n := textlen.Measure(s); enc != textlen.GSM7 || n != want {
					t.Errorf("Measure(%q) = %v, %d; want GSM-7, %d", s, enc, n, want)
				}
			}
		}
	}
}

func TestMeasureOutsideGSM7(t *testing.T) {
	// Look-alikes of table characters and the controls that are not in it.
	for _, r := range "`\x00\x1b\x7f\t\v\u00a0\u0300çÀêαβπẹ“”‘’…–—·•¢ÿıŁ中儿ＣＡ０￥！？，。" {
		s := "a" + string(r)
		if enc, n := textlen.Measure(s); enc != textlen.UCS2 || n != 2 {
			t.Errorf("Measure(%q) = %v, %d; want UCS-2, 2", s, enc, n)
		}
	}
}

// TestMeasureASCII walks every ASCII byte through the fast path.
func TestMeasureASCII(t *testing.T) {
	for b := range 128 {
		s := string(rune(b))
		wantEnc, want := textlen.GSM7, 1
		switch {
		case strings.ContainsRune(extensionTable, rune(b)):
			want = 2
		case !strings.ContainsRune(defaultAlphabet, rune(b)):
			wantEnc = textlen.UCS2
		}
		if enc, n := textlen.Measure(s); enc != wantEnc || n != want {
			t.Errorf("Measure(%q) = %v, %d; want %v, %d", s, enc, n, wantEnc, want)
		}
	}
}

func TestMeasureAllocs(t *testing.T) {
	for _, s := range []string{asciiScreen, chineseScreen} {
		if n := testing.AllocsPerRun(100, func() { textlen.Measure(s) }); n != 0 {
			t.Errorf("Measure(%q) allocates %v times, want 0", s, n)
		}
	}
}
