package cmpp

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Msg_Fmt values.
const (
	FmtASCII  byte = 0
	FmtBinary byte = 4
	FmtUCS2   byte = 8
	FmtGBK    byte = 15
)

// Segment sizes (PROTOCOLS §7.2): a single message holds 160 ASCII
// characters or 70 UTF-16 units; each part of a long one gives six bytes
// to its header, leaving 153 and 67.
const (
	asciiSingle = 160
	asciiPart   = 153
	ucs2Single  = 70
	ucs2Part    = 67
	// maxParts is what one concatenation header can count.
	maxParts = 255
)

// ErrNotText is a DELIVER whose Msg_Fmt carries no text (binary, SIM
// data).
var ErrNotText = errors.New("cmpp: message is not text")

// DecodeText reads a message's content by its Msg_Fmt: UCS-2 (read as
// UTF-16BE, so that handsets' surrogate pairs survive), GBK (read as
// GB18030, its superset), or ASCII. ASCII that is not (some ISMGs pass
// Latin-1 through) is read as Latin-1 rather than refused.
func DecodeText(msgFmt byte, b []byte) (string, error) {
	var s string
	switch msgFmt {
	case FmtUCS2:
		if len(b)%2 != 0 {
			return "", fmt.Errorf("cmpp: UCS-2 text of odd length %d", len(b))
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		s = string(utf16.Decode(u))
	case FmtGBK:
		out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return "", fmt.Errorf("cmpp: not GBK: %w", err)
		}
		s = string(out)
	case FmtASCII:
		if utf8.Valid(b) {
			s = string(b)
		} else {
			out, _ := charmap.ISO8859_1.NewDecoder().Bytes(b)
			s = string(out)
		}
	default:
		return "", fmt.Errorf("%w: Msg_Fmt %d", ErrNotText, msgFmt)
	}
	return strings.ReplaceAll(s, "\x00", ""), nil
}

// UDH is a concatenation header: part Seq of Total of message Ref.
type UDH struct {
	Ref        uint16
	Total, Seq byte
}

// SplitUDH takes the user data header off a TP_udhi content. It knows the
// two concatenation elements, 8-bit (00 03 ref total seq) and 16-bit
// references (08 04 ref ref total seq), and skips any other; ok is false
// when there is none of them, or when the header overruns the content.
func SplitUDH(b []byte) (h UDH, body []byte, ok bool) {
	if len(b) < 1 || int(b[0])+1 > len(b) {
		return UDH{}, b, false
	}
	ies, body := b[1:1+int(b[0])], b[1+int(b[0]):]
	for len(ies) >= 2 {
		id, n := ies[0], int(ies[1])
		if len(ies) < 2+n {
			return UDH{}, body, false
		}
		v := ies[2 : 2+n]
		switch {
		case id == 0x00 && n == 3:
			h, ok = UDH{Ref: uint16(v[0]), Total: v[1], Seq: v[2]}, true
		case id == 0x08 && n == 4:
			h, ok = UDH{Ref: uint16(v[0])<<8 | uint16(v[1]), Total: v[2], Seq: v[3]}, true
		}
		ies = ies[2+n:]
	}
	if ok && (h.Total == 0 || h.Seq == 0 || h.Seq > h.Total) {
		return UDH{}, body, false
	}
	return h, body, ok
}

// udh8 is a concatenation header with an 8-bit reference.
func udh8(ref, total, seq byte) []byte { return []byte{0x05, 0x00, 0x03, ref, total, seq} }

// EncodeText returns text as the contents of the segments that carry it,
// with the Msg_Fmt they share: ASCII when every character is, UCS-2
// (UTF-16BE) otherwise. A text longer than one message is cut into parts,
// each led by a concatenation header with reference ref; a surrogate pair
// is never cut.
func EncodeText(text string, ref byte) (msgFmt byte, parts [][]byte, err error) {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	var chunks [][]byte
	if ascii {
		msgFmt = FmtASCII
		if len(text) <= asciiSingle {
			return msgFmt, [][]byte{[]byte(text)}, nil
		}
		for s := text; len(s) > 0; {
			n := min(asciiPart, len(s))
			chunks = append(chunks, []byte(s[:n]))
			s = s[n:]
		}
	} else {
		msgFmt = FmtUCS2
		u := utf16.Encode([]rune(text))
		if len(u) <= ucs2Single {
			return msgFmt, [][]byte{ucs2(u)}, nil
		}
		for len(u) > 0 {
			n := min(ucs2Part, len(u))
			if n < len(u) && utf16.IsSurrogate(rune(u[n-1])) && u[n-1] < 0xdc00 {
				n-- // a high surrogate: keep the pair together
			}
			chunks = append(chunks, ucs2(u[:n]))
			u = u[n:]
		}
	}
	if len(chunks) > maxParts {
		return 0, nil, fmt.Errorf("cmpp: text needs %d parts, more than %d", len(chunks), maxParts)
	}
	parts = make([][]byte, len(chunks))
	for i, c := range chunks {
		parts[i] = append(udh8(ref, byte(len(chunks)), byte(i+1)), c...)
	}
	return msgFmt, parts, nil
}

func ucs2(u []uint16) []byte {
	b := make([]byte, 0, 2*len(u))
	for _, x := range u {
		b = append(b, byte(x>>8), byte(x))
	}
	return b
}
