package textlen_test

import (
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// maxFuzzLen keeps the brute-force checks, quadratic in the input, fast
// enough for the fuzzer to explore.
const maxFuzzLen = 1000

var fuzzSeeds = []string{
	"",
	"Hello, world!",
	strings.Repeat("a", 183),
	strings.Repeat("{", 92),
	strings.Repeat("中", 81),
	strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152),
	strings.Repeat("中", 66) + "😀" + strings.Repeat("中", 10),
	"abcdefghij中",
	"run `ls` now",
	"ab\xffcd\xe4\xb8",
	asciiScreen,
	chineseScreen,
}

func FuzzTruncate(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, i*997)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if len(s) > maxFuzzLen {
			t.Skip()
		}
		u := uint(n)
		budgets := []textlen.Budget{
			textlen.USSDMax(),
			{GSM7: int(u % 400), UCS2: int(u / 400 % 200)},
			{GSM7: int(u % 13), UCS2: int(u / 13 % 13)}, // small and often odd
		}
		for _, b := range budgets {
			for _, suffix := range []string{"", "...", "…", "😀", "{"} {
				checkTruncate(t, b, s, suffix, b.Truncate(s, suffix))
			}
		}
	})
}

func FuzzSplitSMS(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSplit(t, s, textlen.SplitSMS(s))
	})
}

func FuzzFitSMS(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, i%4)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if len(s) > maxFuzzLen {
			t.Skip()
		}
		max = int(uint(max) % 5)
		for _, suffix := range []string{"", "...", "…"} {
			checkFitSMS(t, s, suffix, max, textlen.FitSMS(s, suffix, max))
		}
	})
}
