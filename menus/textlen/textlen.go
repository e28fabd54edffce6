// Package textlen measures, truncates and splits text the way a carrier
// counts it, so that a USSD screen or an SMS reply never exceeds what the
// network accepts.
//
// Carriers count neither bytes nor runes. Text that fits the GSM 03.38
// alphabets travels as 7-bit septets, and the extension-table characters
// (^ { } \ [ ] ~ | € and form feed) cost two. A single character outside
// those alphabets (any Chinese character, a smart quote, a backtick, an
// emoji) switches the whole message to UCS-2, counted in UTF-16 code units,
// which roughly halves its capacity; characters outside the Basic
// Multilingual Plane cost two units. Every function here therefore decides
// the encoding from the text it is about to send, including any suffix it
// appends.
//
// Invalid UTF-8 is counted as the carrier would receive it after the usual
// repair: each invalid byte is one U+FFFD, which needs UCS-2 and costs one
// unit. Functions that return parts of their input return the original
// bytes untouched.
package textlen

import (
	"strconv"
	"unicode/utf8"
)

// Encoding is how a message travels on the air.
type Encoding int

const (
	// GSM7 is the GSM 03.38 default alphabet plus its extension table,
	// counted in 7-bit septets.
	GSM7 Encoding = iota
	// UCS2 is counted in UTF-16 code units.
	UCS2
)

// String returns the name carriers use for the encoding.
func (e Encoding) String() string {
	switch e {
	case GSM7:
		return "GSM-7"
	case UCS2:
		return "UCS-2"
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

// Measure returns the encoding s needs and its length in that encoding's
// units: septets for GSM-7, where extension-table characters count 2, and
// UTF-16 code units for UCS-2, where a character outside the BMP counts 2.
// It never allocates.
func Measure(s string) (Encoding, int) {
	// Most screens are plain ASCII; a byte loop over the cost table keeps
	// them off the rune decoder.
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return measureRunes(s[i:], n, i)
		}
		cost := septetCost[c]
		if cost == 0 {
			// Every byte so far was ASCII, hence one UTF-16 unit each.
			return UCS2, i + units(s[i:])
		}
		n += int(cost)
	}
	return GSM7, n
}

// measureRunes continues Measure over s, given the septets and UTF-16 units
// of the GSM-7 text before it.
func measureRunes(s string, septetsSoFar, unitsSoFar int) (Encoding, int) {
	for i, r := range s {
		c := septets(r)
		if c == 0 {
			return UCS2, unitsSoFar + units(s[i:])
		}
		septetsSoFar += c
		unitsSoFar += utf16Units(r)
	}
	return GSM7, septetsSoFar
}

// units counts the UTF-16 code units of s.
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Units(r)
	}
	return n
}

// cost returns what r costs in encoding e, in that encoding's units.
func cost(r rune, e Encoding) int {
	if e == GSM7 {
		return septets(r)
	}
	return utf16Units(r)
}

// run packs units into parts of a fixed size the way an SMS sender does: a
// character that does not fit whole in the current part starts the next
// one, so an escape never parts from its extension code and a surrogate
// pair is never split.
type run struct {
	size  int // units per part
	parts int // parts started so far; an empty run still occupies one
	fill  int // units in the current part
	total int // units in all parts
}

func newRun(size int) run { return run{size: size, parts: 1} }

// add appends a character of c units and reports whether it started a part.
func (r *run) add(c int) bool {
	started := false
	if r.fill+c > r.size && r.fill > 0 {
		r.parts++
		r.fill = 0
		started = true
	}
	r.fill += c
	r.total += c
	return started
}

// tally follows a text through both encodings at once. A prefix's
// encoding depends on what is appended to it (a Chinese suffix, or a "…",
// turns GSM-7 text into UCS-2), so a cut has to know both lengths.
type tally struct {
	gsm     bool // no character outside GSM-7 yet
	septets run
	units   run
}

func newTally(p Profile) tally {
	return tally{
		gsm:     true,
		septets: newRun(p.part(GSM7)),
		units:   newRun(p.part(UCS2)),
	}
}

func (t *tally) add(r rune) {
	if t.gsm {
		if c := septets(r); c > 0 {
			t.septets.add(c)
		} else {
			t.gsm = false
		}
	}
	t.units.add(utf16Units(r))
}

func (t *tally) addString(s string) {
	for _, r := range s {
		t.add(r)
	}
}

// current returns the encoding the text so far needs and its run in it.
func (t *tally) current() (Encoding, run) {
	if t.gsm {
		return GSM7, t.septets
	}
	return UCS2, t.units
}

// longestPrefix returns the length in bytes of the longest proper prefix p
// of s, cut at a character boundary, for which p+suffix is within limits,
// and whether there is one. within must be monotone: once a run is beyond
// it, adding characters keeps it beyond. Neither encoding's run is monotone
// in the other's, so p+suffix is measured in the encoding it actually needs
// and the walk stops only when the prefix alone is hopeless in both.
func longestPrefix(p Profile, s, suffix string, within func(Encoding, run) bool) (int, bool) {
	n, found := 0, false
	t := newTally(p)
	t.addString(p.Signature) // counted, and never cut
	for i, r := range s {
		withSuffix := t
		withSuffix.addString(suffix)
		if within(withSuffix.current()) {
			n, found = i, true
		}
		t.add(r)
		if !(t.gsm && within(GSM7, t.septets)) && !within(UCS2, t.units) {
			break
		}
	}
	return n, found
}
