package textlen_test

import (
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// TestProfile: a provider's signature counts toward every message and,
// being Chinese, makes it UCS-2; a carrier that counts 65/62 UCS-2 units
// splits sooner than the standard 70/67.
func TestProfile(t *testing.T) {
	signed := textlen.Profile{SingleGSM7: 160, PartGSM7: 153, SingleUCS2: 70, PartUCS2: 67, Signature: "【赤脚儿童】"} // 6 units
	mobile := textlen.Profile{SingleGSM7: 160, PartGSM7: 153, SingleUCS2: 65, PartUCS2: 62}
	zh := func(n int) string { return strings.Repeat("补", n) }
	tests := []struct {
		name     string
		p        textlen.Profile
		text     string
		enc      textlen.Encoding
		segments int
	}{
		{"standard, 70 Chinese", textlen.Standard, zh(70), textlen.UCS2, 1},
		{"signed, 64 Chinese fit one", signed, zh(64), textlen.UCS2, 1},
		{"signed, 65 Chinese need two", signed, zh(65), textlen.UCS2, 2},
		{"signed ASCII is UCS-2", signed, "STATUS ok", textlen.UCS2, 1},
		{"signed, 100 ASCII need two (UCS-2)", signed, strings.Repeat("a", 100), textlen.UCS2, 2},
		{"65/62, 65 Chinese fit one", mobile, zh(65), textlen.UCS2, 1},
		{"65/62, 66 Chinese need two", mobile, zh(66), textlen.UCS2, 2},
		{"65/62, 125 Chinese need three", mobile, zh(125), textlen.UCS2, 3},
		{"67/70 standard, 125 Chinese need two", textlen.Standard, zh(125), textlen.UCS2, 2},
	}
	for _, tt := range tests {
		got := tt.p.SMS(tt.text)
		if got.Encoding != tt.enc || got.Segments != tt.segments {
			t.Errorf("%s: %v in %d segments, want %v in %d", tt.name, got.Encoding, got.Segments, tt.enc, tt.segments)
		}
	}
}

// TestProfileFit: a text cut to fit leaves room for the signature, which
// is not part of the result.
func TestProfileFit(t *testing.T) {
	signed := textlen.Profile{SingleGSM7: 160, PartGSM7: 153, SingleUCS2: 70, PartUCS2: 67, Signature: "【赤脚儿童】"}
	long := strings.Repeat("补", 200)
	fit := signed.Fit(long, "…", 2)
	if strings.Contains(fit, "【") || !strings.HasSuffix(fit, "…") || signed.SMS(fit).Segments != 2 || signed.SMS(fit+"补").Segments != 3 {
		t.Fatalf("Fit = %d characters, %d segments", len([]rune(fit)), signed.SMS(fit).Segments)
	}
	if n := len([]rune(fit)); n != 2*67-6 {
		t.Fatalf("Fit kept %d characters, want %d (two parts of 67 less the signature's 6)", n, 2*67-6)
	}
	if b := signed.Budget(2); b.UCS2 != 2*67-6 || b.GSM7 != b.UCS2 {
		t.Fatalf("Budget(2) = %+v", b)
	}
	if b := textlen.Standard.Budget(2); b.UCS2 != 134 || b.GSM7 != 306 {
		t.Fatalf("standard Budget(2) = %+v", b)
	}
}
