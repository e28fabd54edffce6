package textlen

// gsm7Default is the GSM 03.38 (3GPP TS 23.038 §6.2.1) default alphabet,
// indexed by septet value, written out in the standard's order so that it
// can be checked against the published table row by row. It is not ASCII:
// 0x00 is '@', 0x02 is '$', 0x24 is '¤', and there is no backtick.
// Entry 0x1B holds no character: that septet escapes to gsm7Extension.
var gsm7Default = [128]rune{
	// 0x00
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì',
	'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	// 0x10
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ',
	'Σ', 'Θ', 'Ξ', noChar, 'Æ', 'æ', 'ß', 'É',
	// 0x20
	' ', '!', '"', '#', '¤', '%', '&', '\'',
	'(', ')', '*', '+', ',', '-', '.', '/',
	// 0x30
	'0', '1', '2', '3', '4', '5', '6', '7',
	'8', '9', ':', ';', '<', '=', '>', '?',
	// 0x40
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G',
	'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	// 0x50
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W',
	'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	// 0x60
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g',
	'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	// 0x70
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
	'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsm7Extension is the default extension table (TS 23.038 §6.2.1.1): each
// character is sent as the escape septet 0x1B followed by its code, so it
// costs two septets. Unlisted codes hold noChar; the standard maps them
// back to the default table, which a sender never relies on.
var gsm7Extension = [128]rune{
	0x0A: '\f',
	0x14: '^',
	0x28: '{',
	0x29: '}',
	0x2F: '\\',
	0x3C: '[',
	0x3D: '~',
	0x3E: ']',
	0x40: '|',
	0x65: '€',
}

// noChar marks a table slot without a character. U+0000 is safe for that:
// NUL is in neither table ('@' occupies septet 0x00).
const noChar rune = 0

// costTableSize covers every character of both tables, the highest being
// '€' (U+20AC), so that a lookup is one array index and every CJK character
// and emoji is rejected by a single comparison.
const costTableSize = '€' + 1

// septetCost maps a rune below costTableSize to its GSM-7 cost in septets:
// 1 in the default alphabet, 2 in the extension table, 0 when GSM-7 cannot
// carry it. It is derived once from the two tables above so that they stay
// the single source of truth.
var septetCost = newSeptetCost()

func newSeptetCost() *[costTableSize]uint8 {
	var t [costTableSize]uint8
	for _, r := range gsm7Default {
		if r != noChar {
			t[r] = 1
		}
	}
	for _, r := range gsm7Extension {
		if r != noChar {
			t[r] = 2
		}
	}
	return &t
}

// septets returns the GSM-7 cost of r in septets, or 0 when r forces UCS-2.
func septets(r rune) int {
	if r >= 0 && r < costTableSize {
		return int(septetCost[r])
	}
	return 0
}

// utf16Units returns how many UTF-16 code units r takes: two for a character
// outside the Basic Multilingual Plane (a surrogate pair), which is why runes
// undercount emoji.
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}
