package phone_test

import (
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/nyaruka/phonenumbers"
)

func TestNormalize(t *testing.T) {
	n := phone.Normalizer{Region: "CN"}
	tests := []struct {
		in, want string
	}{
		{"+8613800138001", "+8613800138001"},
		{"008613800138001", "+8613800138001"},
		{"8613800138001", "+8613800138001"},
		{"13800138001", "+8613800138001"},
		{"138 0013 8001", "+8613800138001"},
		{"138-0013-8001", "+8613800138001"},
		{"+86 138-0013-8001", "+8613800138001"},
		{" 8613800138001", "+8613800138001"}, // an unencoded '+' arrives as a space
		{"１３８００１３８００１", "+8613800138001"},    // full-width digits from a Chinese keypad
		{"+254711000111", "+254711000111"},
	}
	for _, tt := range tests {
		got, err := n.Normalize(tt.in)
		if err != nil {
			t.Errorf("Normalize(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeRejects(t *testing.T) {
	n := phone.Normalizer{Region: "CN"}
	for _, in := range []string{"", "   ", "abc", "+861380013800", "12345", "+8612345678901", "1380013800113800138001138001380013800138001"} {
		if got, err := n.Normalize(in); !errors.Is(err, phone.ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+8613800138001", "+86*********01"},
		{"13800138001", "13*******01"},
		{"", ""},
		{"12", "12"},
		{"started", "started"}, // a lifecycle phase logged under "from" or "to"
	}
	for _, tt := range tests {
		if got := phone.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+8613800138001", "008613800138001", "13800138001", "１３８", "+", "86"} {
		f.Add(s)
	}
	n := phone.Normalizer{Region: "CN"}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := n.Normalize(s)
		if err != nil {
			return
		}
		again, err := n.Normalize(got)
		if err != nil || again != got {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
		if got[0] != '+' {
			t.Fatalf("Normalize(%q) = %q: not E.164", s, got)
		}
	})
}

func TestRedactAttr(t *testing.T) {
	tests := []struct {
		key, in, want string
	}{
		{"phone", "+8613800138001", "+86*********01"},
		{"from", "13800138001", "13*******01"},
		{"msg", "caller +86 138 0013 8001 hung up", "caller +86*********01 hung up"},
		{"err", "dial tcp 127.0.0.1:5432: refused", "dial tcp 127.0.0.1:5432: refused"},
		{"ref", "VABC234", "VABC234"},
	}
	for _, tt := range tests {
		got := phone.RedactAttr(nil, slog.String(tt.key, tt.in))
		if got.Value.String() != tt.want {
			t.Errorf("RedactAttr(%s=%q) = %q, want %q", tt.key, tt.in, got.Value.String(), tt.want)
		}
	}
	if got := (phone.Masked("+8613800138001")).LogValue().String(); got != "+86*********01" {
		t.Errorf("Masked.LogValue = %q", got)
	}
}

func TestCache(t *testing.T) {
	c := &phone.Cache{Normalizer: phone.Normalizer{Region: "CN"}, Size: 2}
	for i := 0; i < 3; i++ {
		for _, in := range []string{"13800138001", "008613800138002", "+8613800138003"} {
			got, err := c.Normalize(in)
			if err != nil || got[:3] != "+86" || got[len(got)-1] != in[len(in)-1] {
				t.Fatalf("Normalize(%q) = %q, %v", in, got, err)
			}
		}
	}
	if _, err := c.Normalize("12345"); !errors.Is(err, phone.ErrInvalid) {
		t.Fatalf("cached normaliser accepted junk: %v", err)
	}
}

// TestCacheKnownAgreesWithNormalize: a seeded cache answers every number
// as the parser would, for libphonenumber's example numbers of every
// region and kind in E.164, and for E.164-shaped numbers the parser
// refuses or rewrites, which seeding must leave to it.
func TestCacheKnownAgreesWithNormalize(t *testing.T) {
	n := phone.Normalizer{Region: "CN"}
	sample := []string{
		"+8613800138001", "+254711000111",
		"+390612345678",   // Italy keeps a national number's leading zero
		"+8612345678901",  // too long for China
		"+86013800138001", // a national prefix after the country code
		"+1234567",        // no such area code
		"+99912345678",    // no such country code
	}
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	kinds := []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE, phonenumbers.TOLL_FREE, phonenumbers.VOIP}
	for _, r := range regions {
		for _, k := range kinds {
			if num := phonenumbers.GetExampleNumberForType(r, k); num != nil {
				sample = append(sample, phonenumbers.Format(num, phonenumbers.E164))
			}
		}
	}
	wantRefused := 0
	for _, s := range slices.Compact(slices.Sorted(slices.Values(sample))) {
		if v, err := n.Normalize(s); err != nil || v != s {
			wantRefused++
		}
	}
	if len(sample) < 500 || wantRefused < 4 {
		t.Fatalf("a sample of %d numbers, %d the parser does not keep as they are: too few to tell", len(sample), wantRefused)
	}

	c := &phone.Cache{Normalizer: n}
	if refused := c.Known(sample...); refused != wantRefused {
		t.Errorf("Known left out %d numbers, want %d", refused, wantRefused)
	}
	for _, s := range sample {
		got, gotErr := c.Normalize(s)
		want, wantErr := n.Normalize(s)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("seeded Normalize(%q) = %q, %v; Normalizer says %q, %v", s, got, gotErr, want, wantErr)
		}
	}
}

// TestCacheKnownOutlivesJunk: seeded numbers cost no parse (no
// allocation) however many other numbers fill and clear the learned map,
// until a seeding without them replaces them.
func TestCacheKnownOutlivesJunk(t *testing.T) {
	const seeded, other = "+8613800138001", "+8613800138002"
	c := &phone.Cache{Normalizer: phone.Normalizer{Region: "CN"}, Size: 1}
	c.Known(seeded)
	// With room for one learned number, other stays learned only if
	// seeded never takes its place.
	dial := func() {
		for _, s := range []string{other, seeded} {
			if got, err := c.Normalize(s); got != s || err != nil {
				t.Fatalf("Normalize(%q) = %q, %v", s, got, err)
			}
		}
	}
	if allocs := testing.AllocsPerRun(50, dial); allocs != 0 {
		t.Errorf("%v allocations a dial with the number seeded: it was parsed", allocs)
	}
	c.Known("+8613800138003")
	if allocs := testing.AllocsPerRun(50, dial); allocs == 0 {
		t.Error("no allocation with the number no longer seeded: the old seeding was kept")
	}
}

// BenchmarkCacheNormalize is a registered caller's number as a carrier
// sends it on a first dial: parsed, as when the learned map does not
// hold it, and seeded (Known).
func BenchmarkCacheNormalize(b *testing.B) {
	const e164 = "+8613800138001"
	n := phone.Normalizer{Region: "CN"}
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := n.Normalize(e164); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("known", func(b *testing.B) {
		c := &phone.Cache{Normalizer: n}
		c.Known(e164)
		for b.Loop() {
			if _, err := c.Normalize(e164); err != nil {
				b.Fatal(err)
			}
		}
	})
}
