package cmpp_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/cmpp"
)

func TestDecodeText(t *testing.T) {
	tests := []struct {
		name    string
		fmt     byte
		b       []byte
		want    string
		wantErr bool
	}{
		{"UCS-2", cmpp.FmtUCS2, []byte{0x72, 0xb6, 0x60, 0x01}, "状态", false},
		{"UTF-16 surrogate pair", cmpp.FmtUCS2, []byte{0xd8, 0x3d, 0xde, 0x00}, "😀", false},
		{"GBK", cmpp.FmtGBK, []byte{0xd7, 0xb4, 0xcc, 0xac}, "状态", false},
		{"ASCII", cmpp.FmtASCII, []byte("STATUS"), "STATUS", false},
		{"ASCII with a NUL", cmpp.FmtASCII, []byte("STA\x00TUS"), "STATUS", false},
		{"Latin-1 passed as ASCII", cmpp.FmtASCII, []byte{'c', 'a', 'f', 0xe9}, "café", false},
		{"UCS-2 of odd length", cmpp.FmtUCS2, []byte{0x72, 0xb6, 0x60}, "", true},
		{"binary", cmpp.FmtBinary, []byte{1, 2}, "", true},
	}
	for _, tt := range tests {
		got, err := cmpp.DecodeText(tt.fmt, tt.b)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := cmpp.DecodeText(cmpp.FmtBinary, nil); !errors.Is(err, cmpp.ErrNotText) {
		t.Errorf("binary: %v, want ErrNotText", err)
	}
}

// TestEncodeText checks the segment sizes of PROTOCOLS §7.2: 160 ASCII or
// 70 UCS-2 characters whole, 153 and 67 per part, each part led by
// 05 00 03 ref total seq, a surrogate pair never cut.
func TestEncodeText(t *testing.T) {
	zh := func(n int) string { return strings.Repeat("状", n) }
	tests := []struct {
		name  string
		text  string
		fmt   byte
		sizes []int // characters (UTF-16 units) per part
	}{
		{"short ASCII", "STATUS", cmpp.FmtASCII, []int{6}},
		{"160 ASCII in one", strings.Repeat("a", 160), cmpp.FmtASCII, []int{160}},
		{"161 ASCII in two", strings.Repeat("a", 161), cmpp.FmtASCII, []int{153, 8}},
		{"70 Chinese in one", zh(70), cmpp.FmtUCS2, []int{70}},
		{"71 Chinese in two", zh(71), cmpp.FmtUCS2, []int{67, 4}},
		{"201 Chinese in three", zh(201), cmpp.FmtUCS2, []int{67, 67, 67}},
		{"202 Chinese in four", zh(202), cmpp.FmtUCS2, []int{67, 67, 67, 1}},
		{"an ASCII text with one Chinese character", strings.Repeat("a", 69) + "状", cmpp.FmtUCS2, []int{70}},
		{"a pair at the cut moves to the next part", zh(66) + "😀" + zh(10), cmpp.FmtUCS2, []int{66, 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, parts, err := cmpp.EncodeText(tt.text, 0x2a)
			if err != nil || f != tt.fmt {
				t.Fatalf("fmt %d, %v", f, err)
			}
			if len(parts) != len(tt.sizes) {
				t.Fatalf("%d parts, want %d", len(parts), len(tt.sizes))
			}
			var joined string
			for i, p := range parts {
				body := p
				if len(parts) > 1 {
					want := []byte{0x05, 0x00, 0x03, 0x2a, byte(len(parts)), byte(i + 1)}
					if !bytes.Equal(p[:6], want) {
						t.Errorf("part %d header % x, want % x", i+1, p[:6], want)
					}
					h, b, ok := cmpp.SplitUDH(p)
					if !ok || h.Seq != byte(i+1) || h.Total != byte(len(parts)) || h.Ref != 0x2a {
						t.Errorf("part %d: SplitUDH %+v %v", i+1, h, ok)
					}
					body = b
				}
				if len(p) > 160 || (f == cmpp.FmtUCS2 && len(p) > 140) {
					t.Errorf("part %d is %d bytes", i+1, len(p))
				}
				n := len(body)
				if f == cmpp.FmtUCS2 {
					n /= 2
				}
				if n != tt.sizes[i] {
					t.Errorf("part %d holds %d characters, want %d", i+1, n, tt.sizes[i])
				}
				s, err := cmpp.DecodeText(f, body)
				if err != nil || strings.ContainsRune(s, '\uFFFD') {
					t.Errorf("part %d decodes to %q, %v", i+1, s, err)
				}
				joined += s
			}
			if joined != tt.text {
				t.Errorf("parts join to %q", joined)
			}
		})
	}
}

func TestSplitUDH(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want cmpp.UDH
		body string
		ok   bool
	}{
		{"8-bit reference", []byte{5, 0, 3, 0xa7, 3, 2, 'h', 'i'}, cmpp.UDH{Ref: 0xa7, Total: 3, Seq: 2}, "hi", true},
		{"16-bit reference", []byte{6, 8, 4, 0x12, 0x34, 3, 3, 'h', 'i'}, cmpp.UDH{Ref: 0x1234, Total: 3, Seq: 3}, "hi", true},
		{"another element skipped", []byte{8, 0x24, 1, 0, 0, 3, 1, 2, 1, 'h'}, cmpp.UDH{Ref: 1, Total: 2, Seq: 1}, "h", true},
		{"header overruns", []byte{9, 0, 3, 1}, cmpp.UDH{}, "", false},
		{"seq past total", []byte{5, 0, 3, 1, 2, 3, 'h'}, cmpp.UDH{}, "h", false},
		{"no concatenation element", []byte{3, 0x24, 1, 0, 'h'}, cmpp.UDH{}, "h", false},
	}
	for _, tt := range tests {
		h, body, ok := cmpp.SplitUDH(tt.b)
		if ok != tt.ok || h != tt.want || (tt.body != "" && string(body) != tt.body) {
			t.Errorf("%s: %+v %q %v; want %+v %q %v", tt.name, h, body, ok, tt.want, tt.body, tt.ok)
		}
	}
}
