package cmpp_test

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/cmpp"
)

// TestAuthenticator checks AuthenticatorSource against a value worked out
// apart from the code (MD5 of "901234", nine NULs, "S3cret!" and
// "1201123045", by another MD5 implementation), and against the layout
// rebuilt here byte by byte.
func TestAuthenticator(t *testing.T) {
	const worked = "39847bf3675dd38a50e84e9236c9db1f"
	got := cmpp.Authenticator("901234", "S3cret!", "1201123045")
	if hex.EncodeToString(got[:]) != worked {
		t.Errorf("Authenticator = %x, want %s", got, worked)
	}
	layout := append(append(append([]byte("901234"), make([]byte, 9)...), "S3cret!"...), "1201123045"...)
	if md5.Sum(layout) != got {
		t.Errorf("Authenticator is not MD5 of the documented layout")
	}
	if other := cmpp.Authenticator("901234", "wrong", "1201123045"); other == got {
		t.Errorf("a different secret gave the same authenticator")
	}
}

// TestTimestamp: MMDDHHMMSS in China's time, whatever the clock's zone.
func TestTimestamp(t *testing.T) {
	n, s := cmpp.Timestamp(time.Date(2026, 12, 1, 4, 30, 45, 0, time.UTC))
	if s != "1201123045" || n != 1201123045 {
		t.Errorf("Timestamp = %d %q, want 1201123045", n, s)
	}
}

// TestRoundTrip encodes each packet in each version, checks its length
// against the specification's field widths, and decodes it back.
func TestRoundTrip(t *testing.T) {
	content := []byte("0123456789")
	submit := &cmpp.Submit{
		PkTotal: 1, PkNumber: 1, RegisteredDelivery: 1, MsgLevel: 1, ServiceID: "BFT", FeeUserType: 2, FeeType: "01", FeeCode: "000000",
		MsgFmt: cmpp.FmtUCS2, MsgSrc: "901234", SrcID: "1069000188", DestTerminalIDs: []string{"13900139001"}, Content: content,
	}
	deliver := &cmpp.Deliver{MsgID: 1<<63 + 5, DestID: "1069000188", ServiceID: "BFT", MsgFmt: cmpp.FmtGBK, SrcTerminalID: "13900139001", Content: content}
	var auth [16]byte
	copy(auth[:], "0123456789abcdef")
	tests := []struct {
		name   string
		v      cmpp.Version
		p      cmpp.Packet
		length int
	}{
		{"connect", cmpp.V30, &cmpp.Connect{SourceAddr: "901234", Authenticator: auth, Version: cmpp.V30, Timestamp: 1201123045}, 12 + 6 + 16 + 1 + 4},
		{"connect resp 3.0", cmpp.V30, &cmpp.ConnectResp{Status: 3, Authenticator: auth, Version: cmpp.V30}, 12 + 4 + 16 + 1},
		{"connect resp 2.0", cmpp.V20, &cmpp.ConnectResp{Status: 3, Authenticator: auth, Version: cmpp.V20}, 12 + 1 + 16 + 1},
		{"submit 3.0", cmpp.V30, submit, 12 + 129 + 32 + 1 + 1 + len(content) + 20},
		{"submit 2.0", cmpp.V20, submit, 12 + 117 + 21 + 1 + len(content) + 8},
		{"submit resp 3.0", cmpp.V30, &cmpp.SubmitResp{MsgID: 42, Result: 8}, 12 + 8 + 4},
		{"submit resp 2.0", cmpp.V20, &cmpp.SubmitResp{MsgID: 42, Result: 8}, 12 + 8 + 1},
		{"deliver 3.0", cmpp.V30, deliver, 12 + 77 + len(content) + 20},
		{"deliver 2.0", cmpp.V20, deliver, 12 + 65 + len(content) + 8},
		{"deliver resp 3.0", cmpp.V30, &cmpp.DeliverResp{MsgID: 42, Result: 9}, 12 + 8 + 4},
		{"deliver resp 2.0", cmpp.V20, &cmpp.DeliverResp{MsgID: 42, Result: 9}, 12 + 8 + 1},
		{"active test", cmpp.V30, &cmpp.ActiveTest{}, 12},
		{"active test resp", cmpp.V30, &cmpp.ActiveTestResp{}, 13},
		{"terminate", cmpp.V20, &cmpp.Terminate{}, 12},
		{"terminate resp", cmpp.V20, &cmpp.TerminateResp{}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.p
			b := cmpp.Encode(tt.v, 77, tt.p)
			if len(b) != tt.length {
				t.Errorf("length %d, want %d", len(b), tt.length)
			}
			if binary.BigEndian.Uint32(b) != uint32(len(b)) || binary.BigEndian.Uint32(b[4:]) != uint32(tt.p.Command()) || binary.BigEndian.Uint32(b[8:]) != 77 {
				t.Errorf("header % x", b[:12])
			}
			read, err := cmpp.ReadPacket(bytes.NewReader(append(b, 0xff)))
			if err != nil || !bytes.Equal(read, b) {
				t.Fatalf("ReadPacket = % x, %v", read, err)
			}
			seq, got, err := cmpp.Decode(tt.v, read)
			if err != nil || seq != 77 {
				t.Fatalf("Decode: seq %d, %v", seq, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestReport(t *testing.T) {
	r := cmpp.Report{MsgID: 1 << 40, Stat: "DELIVRD", SubmitTime: "2612011200", DoneTime: "2612011201", DestTerminalID: "13900139001", SMSCSequence: 9}
	for _, tt := range []struct {
		v      cmpp.Version
		length int
	}{{cmpp.V30, 71}, {cmpp.V20, 60}} {
		b := cmpp.EncodeReport(tt.v, r)
		if len(b) != tt.length {
			t.Errorf("%s report: %d bytes, want %d", tt.v, len(b), tt.length)
		}
		got, err := cmpp.DecodeReport(tt.v, b)
		if err != nil || got != r {
			t.Errorf("%s report: %+v, %v", tt.v, got, err)
		}
	}
	// A 2.0-shaped report on a 3.0 connection, as some ISMGs send.
	if got, err := cmpp.DecodeReport(cmpp.V30, cmpp.EncodeReport(cmpp.V20, r)); err != nil || got != r {
		t.Errorf("2.0 report read as 3.0: %+v, %v", got, err)
	}
	if _, err := cmpp.DecodeReport(cmpp.V30, []byte{1, 2, 3}); err == nil {
		t.Errorf("a truncated report was read")
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := cmpp.Encode(cmpp.V30, 1, &cmpp.SubmitResp{MsgID: 1})
	badLen := bytes.Clone(good)
	binary.BigEndian.PutUint32(badLen, 99)
	unknown := cmpp.Encode(cmpp.V30, 1, &cmpp.ActiveTest{})
	binary.BigEndian.PutUint32(unknown[4:], 0x77)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"shorter than a header", good[:8], cmpp.ErrShort},
		{"length field disagrees", badLen, cmpp.ErrLength},
		{"unknown command", unknown, cmpp.ErrCommand},
		{"body cut short", fixLen(good[:16]), cmpp.ErrShort},
	}
	for _, tt := range tests {
		if _, _, err := cmpp.Decode(cmpp.V30, tt.b); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	huge := binary.BigEndian.AppendUint32(nil, cmpp.MaxPacket+1)
	if _, err := cmpp.ReadPacket(bytes.NewReader(huge)); !errors.Is(err, cmpp.ErrLength) {
		t.Errorf("ReadPacket of a %d-byte length: %v", cmpp.MaxPacket+1, err)
	}
}

func fixLen(b []byte) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}
