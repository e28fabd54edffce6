package textlen

// Profile is how a carrier counts an SMS: the units of a single message
// and of each part of a long one, by encoding, and the signature (【签名】)
// the provider adds to every message in mainland China, which counts
// toward them and, being Chinese, makes every message UCS-2.
type Profile struct {
	SingleGSM7, PartGSM7 int
	SingleUCS2, PartUCS2 int
	Signature            string
}

// Standard is GSM 03.38 / 3GPP TS 23.038: a single SMS carries 140
// octets; a concatenated part gives 6 of them to the 8-bit-reference UDH,
// leaving 153 septets or 67 UCS-2 units. No signature.
var Standard = Profile{SingleGSM7: 160, PartGSM7: 153, SingleUCS2: 70, PartUCS2: 67}

func (p Profile) single(e Encoding) int {
	if e == GSM7 {
		return p.SingleGSM7
	}
	return p.SingleUCS2
}

func (p Profile) part(e Encoding) int {
	if e == GSM7 {
		return p.PartGSM7
	}
	return p.PartUCS2
}

// segments returns how many SMS a run of text in encoding e is sent as.
func (p Profile) segments(e Encoding, r run) int {
	if r.total <= p.single(e) {
		return 1
	}
	return r.parts
}

// SMSInfo describes what a text costs as an SMS.
type SMSInfo struct {
	Encoding Encoding
	Units    int // septets for GSM-7, UTF-16 code units for UCS-2
	Segments int // SMS parts a carrier sends and bills
}

// SMS returns the encoding, length and number of segments of s sent as an
// SMS: up to 160 septets (GSM-7) or 70 units (UCS-2) go as one message;
// longer text goes in parts of at most 153 septets or 67 units, and a
// character that does not fit whole in a part (an extension character's
// two septets, an emoji's surrogate pair) moves to the next, so the count
// can exceed a plain division. The empty string costs one segment: a
// carrier asked to send it still sends, and bills, one message.
func SMS(s string) SMSInfo { return Standard.SMS(s) }

// SMS is what s costs sent through a carrier of this profile, its
// signature included.
func (p Profile) SMS(s string) SMSInfo {
	s = p.Signature + s
	e, n := Measure(s)
	info := SMSInfo{Encoding: e, Units: n, Segments: 1}
	if n <= p.single(e) {
		return info
	}
	r := newRun(p.part(e))
	for _, c := range s {
		r.add(cost(c, e))
	}
	info.Segments = r.parts
	return info
}

// SplitSMS splits s into the text of each part a carrier would send, cut by
// the rules of SMS; the parts joined give s back, and there are exactly
// SMS(s).Segments of them. Every part is sent in the encoding of the whole
// message. The empty string gives one empty part, matching its one segment.
func SplitSMS(s string) []string {
	e, n := Measure(s)
	if n <= Standard.single(e) {
		return []string{s}
	}
	parts := make([]string, 0, n/Standard.part(e)+2)
	r := newRun(Standard.part(e))
	start := 0
	for i, c := range s {
		if r.add(cost(c, e)) {
			parts = append(parts, s[start:i])
			start = i
		}
	}
	return append(parts, s[start:])
}

// FitSMS returns s when it costs at most maxSegments segments. Otherwise it
// returns the longest prefix of s, cut at a character boundary, that costs
// at most maxSegments with suffix appended, and appends it; as with
// Budget.Truncate the encoding is that of the result, suffix included.
// When no prefix fits together with the suffix, FitSMS returns the longest
// prefix that fits without it. Since even the empty string costs one
// segment, maxSegments below 1 gives "".
func FitSMS(s, suffix string, maxSegments int) string { return Standard.Fit(s, suffix, maxSegments) }

// Fit is FitSMS for a carrier of this profile: the signature counts, and
// is not part of what is returned.
func (p Profile) Fit(s, suffix string, maxSegments int) string {
	if maxSegments < 1 {
		return ""
	}
	if p.SMS(s).Segments <= maxSegments {
		return s
	}
	within := func(e Encoding, r run) bool { return p.segments(e, r) <= maxSegments }
	if n, ok := longestPrefix(p, s, suffix, within); ok {
		return s[:n] + suffix
	}
	n, _ := longestPrefix(p, s, "", within)
	return s[:n]
}

// Budget is the room for a text of the given segments through a carrier
// of this profile: what an SMS menu screen may fill. A signature that
// needs UCS-2 makes every message UCS-2, whatever the text.
func (p Profile) Budget(segments int) Budget {
	room := func(e Encoding) int {
		if segments <= 1 {
			return p.single(e)
		}
		return segments * p.part(e)
	}
	sigEnc, sigUnits := Measure(p.Signature)
	if p.Signature == "" {
		sigUnits = 0
	}
	b := Budget{GSM7: room(GSM7) - sigUnits, UCS2: room(UCS2) - units(p.Signature)}
	if sigEnc == UCS2 && p.Signature != "" {
		b.GSM7 = b.UCS2
	}
	return b
}
