package textlen

// Budget is the most a carrier accepts on one USSD screen, per encoding, in
// that encoding's units (septets for GSM-7, UTF-16 code units for UCS-2).
// Real aggregators accept less than the protocol allows and differ per
// network, so budgets are configuration; USSDMax is only the ceiling.
type Budget struct {
	GSM7 int
	UCS2 int
}

// USSDMax returns the protocol limit of a USSD string: 160 octets (GSM
// 04.80), which is 182 packed GSM-7 septets or 80 UCS-2 units. It is a
// function rather than a variable so that no caller can change the limit
// for everyone else.
func USSDMax() Budget {
	return Budget{GSM7: 182, UCS2: 80}
}

// Limit returns the budget for encoding e, or 0 for an unknown encoding.
func (b Budget) Limit(e Encoding) int {
	switch e {
	case GSM7:
		return b.GSM7
	case UCS2:
		return b.UCS2
	}
	return 0
}

// Fits reports whether s fits the budget in the encoding it needs.
func (b Budget) Fits(s string) bool {
	return b.Room(s) >= 0
}

// Room returns how many units are left after s in the encoding s needs;
// it is negative when s is over budget.
func (b Budget) Room(s string) int {
	e, n := Measure(s)
	return b.Limit(e) - n
}

// Truncate returns s when it fits b. Otherwise it returns the longest
// prefix of s, cut at a character boundary, that fits b with suffix (such
// as "..." or "…") appended, and appends it. The result is measured in the
// encoding it needs as a whole: cutting away the only Chinese character can
// turn it GSM-7, and a "…" suffix (not in GSM-7) turns GSM-7 text into
// UCS-2, which roughly halves the room; prefer "..." for Latin screens.
//
// Cutting at characters means a UTF-8 sequence, a surrogate pair or an
// extension-table escape is never split. When no prefix fits together with
// the suffix (the suffix alone is over budget), Truncate returns the longest
// prefix that fits without it. With a negative budget nothing fits, not even
// the empty string, which Truncate then returns.
func (b Budget) Truncate(s, suffix string) string {
	if b.Fits(s) {
		return s
	}
	within := func(e Encoding, r run) bool { return r.total <= b.Limit(e) }
	if n, ok := longestPrefix(Standard, s, suffix, within); ok {
		return s[:n] + suffix
	}
	n, _ := longestPrefix(Standard, s, "", within)
	return s[:n]
}
