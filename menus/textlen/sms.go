package textlen

// Message sizes from GSM 03.38 / 3GPP TS 23.038: a single SMS carries 140
// octets; a concatenated part gives 6 of them to the 8-bit-reference UDH,
// leaving 153 septets or 67 UCS-2 units.
const (
	smsSingleGSM7 = 160
	smsPartGSM7   = 153
	smsSingleUCS2 = 70
	smsPartUCS2   = 67
)

func smsSingle(e Encoding) int {
	if e == GSM7 {
		return smsSingleGSM7
	}
	return smsSingleUCS2
}

func smsPart(e Encoding) int {
	if e == GSM7 {
		return smsPartGSM7
	}
	return smsPartUCS2
}

// segments returns how many SMS a run of text in encoding e is sent as.
func segments(e Encoding, r run) int {
	if r.total <= smsSingle(e) {
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
func SMS(s string) SMSInfo {
	e, n := Measure(s)
	info := SMSInfo{Encoding: e, Units: n, Segments: 1}
	if n <= smsSingle(e) {
		return info
	}
	r := newRun(smsPart(e))
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
	if n <= smsSingle(e) {
		return []string{s}
	}
	parts := make([]string, 0, n/smsPart(e)+2)
	r := newRun(smsPart(e))
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
func FitSMS(s, suffix string, maxSegments int) string {
	if maxSegments < 1 {
		return ""
	}
	if SMS(s).Segments <= maxSegments {
		return s
	}
	within := func(e Encoding, r run) bool { return segments(e, r) <= maxSegments }
	if n, ok := longestPrefix(s, suffix, within); ok {
		return s[:n] + suffix
	}
	n, _ := longestPrefix(s, "", within)
	return s[:n]
}
