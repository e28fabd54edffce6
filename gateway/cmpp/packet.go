package cmpp

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Version is the protocol version spoken on a connection: the CONNECT's
// Version byte. 2.0 and 3.0 differ in field widths (terminal ids of 21 or
// 32 bytes, one-byte or four-byte results), nothing else this package uses.
type Version byte

// Versions.
const (
	V20 Version = 0x20
	V30 Version = 0x30
)

func (v Version) String() string { return fmt.Sprintf("%d.%d", v>>4, v&0x0f) }

// v3 reports whether v has CMPP 3.0's field widths.
func (v Version) v3() bool { return v >= V30 }

// termLen is the width of a terminal id field: 21 bytes in 2.0, 32 in 3.0.
func (v Version) termLen() int {
	if v.v3() {
		return 32
	}
	return 21
}

// CommandID is a packet's Command_Id; a response is its request's id with
// the top bit set.
type CommandID uint32

// Commands this package speaks.
const (
	CmdConnect        CommandID = 0x00000001
	CmdConnectResp    CommandID = 0x80000001
	CmdTerminate      CommandID = 0x00000002
	CmdTerminateResp  CommandID = 0x80000002
	CmdSubmit         CommandID = 0x00000004
	CmdSubmitResp     CommandID = 0x80000004
	CmdDeliver        CommandID = 0x00000005
	CmdDeliverResp    CommandID = 0x80000005
	CmdActiveTest     CommandID = 0x00000008
	CmdActiveTestResp CommandID = 0x80000008
)

// HeaderLen is the header's length: Total_Length, Command_Id and
// Sequence_Id, each a big-endian uint32.
const HeaderLen = 12

// MaxPacket bounds a packet read off the wire: the largest the protocol
// allows is a 3.0 SUBMIT of 3,491 bytes (a hundred destinations); anything
// larger is a broken stream, not a message.
const MaxPacket = 4096

// Errors of the codec.
var (
	ErrShort   = errors.New("cmpp: packet too short")
	ErrLength  = errors.New("cmpp: bad Total_Length")
	ErrCommand = errors.New("cmpp: unknown Command_Id")
)

// Packet is one CMPP message body; Encode and Decode add and read the
// header.
type Packet interface {
	Command() CommandID
	encode(w *writer, v Version)
	decode(r *reader, v Version)
}

// Connect is CMPP_CONNECT, the SP's login.
type Connect struct {
	SourceAddr    string // the SP id, 6 characters
	Authenticator [16]byte
	Version       Version
	Timestamp     uint32 // MMDDHHMMSS as a number
}

// ConnectResp is CMPP_CONNECT_RESP: Status 0 is a successful login.
type ConnectResp struct {
	Status        uint32 // one byte in 2.0
	Authenticator [16]byte
	Version       Version
}

// Submit is CMPP_SUBMIT, one message segment to send.
type Submit struct {
	MsgID              uint64
	PkTotal, PkNumber  byte
	RegisteredDelivery byte
	MsgLevel           byte
	ServiceID          string
	FeeUserType        byte
	FeeTerminalID      string
	FeeTerminalType    byte // 3.0 only
	TPPid, TPUdhi      byte
	MsgFmt             byte
	MsgSrc             string
	FeeType, FeeCode   string
	ValidTime, AtTime  string
	SrcID              string
	DestTerminalIDs    []string
	DestTerminalType   byte // 3.0 only
	Content            []byte
	LinkID             string // 3.0 only; Reserve in 2.0
}

// SubmitResp is CMPP_SUBMIT_RESP: Result 0 accepts the segment as MsgID.
type SubmitResp struct {
	MsgID  uint64
	Result uint32 // one byte in 2.0
}

// Deliver is CMPP_DELIVER: a message from a phone (RegisteredDelivery 0)
// or a status report of one we sent (1), whose Content is a Report.
type Deliver struct {
	MsgID              uint64
	DestID             string
	ServiceID          string
	TPPid, TPUdhi      byte
	MsgFmt             byte
	SrcTerminalID      string
	SrcTerminalType    byte // 3.0 only
	RegisteredDelivery byte
	Content            []byte
	LinkID             string // 3.0 only; Reserved in 2.0
}

// DeliverResp is CMPP_DELIVER_RESP: Result 0 takes the message, anything
// else asks the ISMG to deliver it again.
type DeliverResp struct {
	MsgID  uint64
	Result uint32 // one byte in 2.0
}

// ActiveTest, Terminate and their responses are the keep-alive and the
// orderly close.
type (
	ActiveTest     struct{}
	ActiveTestResp struct{ Reserved byte }
	Terminate      struct{}
	TerminateResp  struct{}
)

// Report is the Content of a status report DELIVER.
type Report struct {
	MsgID          uint64 // the Msg_Id SUBMIT_RESP gave the message
	Stat           string // DELIVRD, EXPIRED, UNDELIV, ...
	SubmitTime     string // YYMMDDHHMM
	DoneTime       string
	DestTerminalID string
	SMSCSequence   uint32
}

func (Connect) Command() CommandID        { return CmdConnect }
func (ConnectResp) Command() CommandID    { return CmdConnectResp }
func (Submit) Command() CommandID         { return CmdSubmit }
func (SubmitResp) Command() CommandID     { return CmdSubmitResp }
func (Deliver) Command() CommandID        { return CmdDeliver }
func (DeliverResp) Command() CommandID    { return CmdDeliverResp }
func (ActiveTest) Command() CommandID     { return CmdActiveTest }
func (ActiveTestResp) Command() CommandID { return CmdActiveTestResp }
func (Terminate) Command() CommandID      { return CmdTerminate }
func (TerminateResp) Command() CommandID  { return CmdTerminateResp }

func (p *Connect) encode(w *writer, _ Version) {
	w.str(p.SourceAddr, 6)
	w.raw(p.Authenticator[:])
	w.u8(byte(p.Version))
	w.u32(p.Timestamp)
}

func (p *Connect) decode(r *reader, _ Version) {
	p.SourceAddr = r.str(6)
	copy(p.Authenticator[:], r.raw(16))
	p.Version = Version(r.u8())
	p.Timestamp = r.u32()
}

func (p *ConnectResp) encode(w *writer, v Version) {
	w.result(p.Status, v)
	w.raw(p.Authenticator[:])
	w.u8(byte(p.Version))
}

func (p *ConnectResp) decode(r *reader, v Version) {
	p.Status = r.result(v)
	copy(p.Authenticator[:], r.raw(16))
	p.Version = Version(r.u8())
}

func (p *Submit) encode(w *writer, v Version) {
	w.u64(p.MsgID)
	w.u8(p.PkTotal)
	w.u8(p.PkNumber)
	w.u8(p.RegisteredDelivery)
	w.u8(p.MsgLevel)
	w.str(p.ServiceID, 10)
	w.u8(p.FeeUserType)
	w.str(p.FeeTerminalID, v.termLen())
	if v.v3() {
		w.u8(p.FeeTerminalType)
	}
	w.u8(p.TPPid)
	w.u8(p.TPUdhi)
	w.u8(p.MsgFmt)
	w.str(p.MsgSrc, 6)
	w.str(p.FeeType, 2)
	w.str(p.FeeCode, 6)
	w.str(p.ValidTime, 17)
	w.str(p.AtTime, 17)
	w.str(p.SrcID, 21)
	w.u8(byte(len(p.DestTerminalIDs)))
	for _, d := range p.DestTerminalIDs {
		w.str(d, v.termLen())
	}
	if v.v3() {
		w.u8(p.DestTerminalType)
	}
	w.u8(byte(len(p.Content)))
	w.raw(p.Content)
	if v.v3() {
		w.str(p.LinkID, 20)
	} else {
		w.str(p.LinkID, 8)
	}
}

func (p *Submit) decode(r *reader, v Version) {
	p.MsgID = r.u64()
	p.PkTotal = r.u8()
	p.PkNumber = r.u8()
	p.RegisteredDelivery = r.u8()
	p.MsgLevel = r.u8()
	p.ServiceID = r.str(10)
	p.FeeUserType = r.u8()
	p.FeeTerminalID = r.str(v.termLen())
	if v.v3() {
		p.FeeTerminalType = r.u8()
	}
	p.TPPid = r.u8()
	p.TPUdhi = r.u8()
	p.MsgFmt = r.u8()
	p.MsgSrc = r.str(6)
	p.FeeType = r.str(2)
	p.FeeCode = r.str(6)
	p.ValidTime = r.str(17)
	p.AtTime = r.str(17)
	p.SrcID = r.str(21)
	n := int(r.u8())
	p.DestTerminalIDs = nil
	for range n {
		p.DestTerminalIDs = append(p.DestTerminalIDs, r.str(v.termLen()))
	}
	if v.v3() {
		p.DestTerminalType = r.u8()
	}
	p.Content = r.raw(int(r.u8()))
	if v.v3() {
		p.LinkID = r.str(20)
	} else {
		p.LinkID = r.str(8)
	}
}

func (p *SubmitResp) encode(w *writer, v Version) { w.u64(p.MsgID); w.result(p.Result, v) }
func (p *SubmitResp) decode(r *reader, v Version) { p.MsgID = r.u64(); p.Result = r.result(v) }

func (p *Deliver) encode(w *writer, v Version) {
	w.u64(p.MsgID)
	w.str(p.DestID, 21)
	w.str(p.ServiceID, 10)
	w.u8(p.TPPid)
	w.u8(p.TPUdhi)
	w.u8(p.MsgFmt)
	w.str(p.SrcTerminalID, v.termLen())
	if v.v3() {
		w.u8(p.SrcTerminalType)
	}
	w.u8(p.RegisteredDelivery)
	w.u8(byte(len(p.Content)))
	w.raw(p.Content)
	if v.v3() {
		w.str(p.LinkID, 20)
	} else {
		w.str(p.LinkID, 8)
	}
}

func (p *Deliver) decode(r *reader, v Version) {
	p.MsgID = r.u64()
	p.DestID = r.str(21)
	p.ServiceID = r.str(10)
	p.TPPid = r.u8()
	p.TPUdhi = r.u8()
	p.MsgFmt = r.u8()
	p.SrcTerminalID = r.str(v.termLen())
	if v.v3() {
		p.SrcTerminalType = r.u8()
	}
	p.RegisteredDelivery = r.u8()
	p.Content = r.raw(int(r.u8()))
	if v.v3() {
		p.LinkID = r.str(20)
	} else {
		p.LinkID = r.str(8)
	}
}

func (p *DeliverResp) encode(w *writer, v Version) { w.u64(p.MsgID); w.result(p.Result, v) }
func (p *DeliverResp) decode(r *reader, v Version) { p.MsgID = r.u64(); p.Result = r.result(v) }

func (*ActiveTest) encode(*writer, Version)           {}
func (*ActiveTest) decode(*reader, Version)           {}
func (p *ActiveTestResp) encode(w *writer, _ Version) { w.u8(p.Reserved) }

// decode reads the reserved byte when there is one: some ISMGs send an
// ACTIVE_TEST_RESP with no body.
func (p *ActiveTestResp) decode(r *reader, _ Version) {
	if r.left() > 0 {
		p.Reserved = r.u8()
	}
}
func (*Terminate) encode(*writer, Version)     {}
func (*Terminate) decode(*reader, Version)     {}
func (*TerminateResp) encode(*writer, Version) {}
func (*TerminateResp) decode(*reader, Version) {}

// EncodeReport writes a status report's Content: 71 bytes in 3.0, 60 in
// 2.0, whose terminal id is shorter.
func EncodeReport(v Version, p Report) []byte {
	w := &writer{}
	w.u64(p.MsgID)
	w.str(p.Stat, 7)
	w.str(p.SubmitTime, 10)
	w.str(p.DoneTime, 10)
	w.str(p.DestTerminalID, v.termLen())
	w.u32(p.SMSCSequence)
	return w.b.Bytes()
}

// DecodeReport reads a status report's Content. Some ISMGs send 2.0's
// 21-byte terminal id on 3.0 connections: a 60-byte report is read that
// way whatever the version.
func DecodeReport(v Version, b []byte) (Report, error) {
	if len(b) == 60 {
		v = V20
	}
	r := &reader{b: b}
	p := Report{MsgID: r.u64(), Stat: r.str(7), SubmitTime: r.str(10), DoneTime: r.str(10), DestTerminalID: r.str(v.termLen()), SMSCSequence: r.u32()}
	if r.err != nil {
		return Report{}, fmt.Errorf("cmpp: status report: %w", r.err)
	}
	return p, nil
}

// Encode returns p as a packet with its header.
func Encode(v Version, seq uint32, p Packet) []byte {
	w := &writer{}
	w.u32(0) // Total_Length, set below
	w.u32(uint32(p.Command()))
	w.u32(seq)
	p.encode(w, v)
	b := w.b.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

// Decode reads a whole packet, header included, as ReadPacket returns it.
func Decode(v Version, b []byte) (seq uint32, p Packet, err error) {
	if len(b) < HeaderLen {
		return 0, nil, ErrShort
	}
	if binary.BigEndian.Uint32(b) != uint32(len(b)) {
		return 0, nil, ErrLength
	}
	cmd := CommandID(binary.BigEndian.Uint32(b[4:]))
	seq = binary.BigEndian.Uint32(b[8:])
	switch cmd {
	case CmdConnect:
		p = &Connect{}
	case CmdConnectResp:
		p = &ConnectResp{}
	case CmdSubmit:
		p = &Submit{}
	case CmdSubmitResp:
		p = &SubmitResp{}
	case CmdDeliver:
		p = &Deliver{}
	case CmdDeliverResp:
		p = &DeliverResp{}
	case CmdActiveTest:
		p = &ActiveTest{}
	case CmdActiveTestResp:
		p = &ActiveTestResp{}
	case CmdTerminate:
		p = &Terminate{}
	case CmdTerminateResp:
		p = &TerminateResp{}
	default:
		return seq, nil, fmt.Errorf("%w 0x%08x", ErrCommand, uint32(cmd))
	}
	r := &reader{b: b[HeaderLen:]}
	p.decode(r, v)
	if r.err != nil {
		return seq, nil, fmt.Errorf("cmpp: 0x%08x: %w", uint32(cmd), r.err)
	}
	return seq, p, nil
}

// ReadPacket reads one packet, header included, refusing lengths no packet
// has.
func ReadPacket(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n < HeaderLen || n > MaxPacket {
		return nil, fmt.Errorf("%w: %d", ErrLength, n)
	}
	b := make([]byte, n)
	copy(b, h[:])
	if _, err := io.ReadFull(r, b[4:]); err != nil {
		return nil, err
	}
	return b, nil
}

// china is the time zone of the ISMG's clock: China has one zone and no
// daylight saving, so a fixed offset needs no tzdata.
var china = time.FixedZone("CST", 8*3600)

// Timestamp is t as CONNECT's Timestamp wants it, MMDDHHMMSS in China's
// time, as the number the packet carries and the ten digits the
// authenticator hashes.
func Timestamp(t time.Time) (uint32, string) {
	s := t.In(china).Format("0102150405")
	var n uint32
	for _, c := range s {
		n = n*10 + uint32(c-'0')
	}
	return n, s
}

// Authenticator is CONNECT's AuthenticatorSource: MD5 of the SP id, nine
// zero bytes, the shared secret and the timestamp's ten digits.
func Authenticator(spID, secret, timestamp string) [16]byte {
	var b bytes.Buffer
	b.WriteString(spID)
	b.Write(make([]byte, 9))
	b.WriteString(secret)
	b.WriteString(timestamp)
	return md5.Sum(b.Bytes())
}

// writer appends big-endian fields.
type writer struct{ b bytes.Buffer }

func (w *writer) u8(v byte)    { w.b.WriteByte(v) }
func (w *writer) u32(v uint32) { w.b.Write(binary.BigEndian.AppendUint32(nil, v)) }
func (w *writer) u64(v uint64) { w.b.Write(binary.BigEndian.AppendUint64(nil, v)) }
func (w *writer) raw(b []byte) { w.b.Write(b) }
func (w *writer) result(v uint32, ver Version) {
	if ver.v3() {
		w.u32(v)
	} else {
		w.u8(byte(v))
	}
}

// str writes s into a fixed field of n bytes, padded with NULs (cut if
// longer; callers check lengths first).
func (w *writer) str(s string, n int) {
	b := make([]byte, n)
	copy(b, s)
	w.b.Write(b)
}

// reader reads big-endian fields; the first overrun is kept in err and
// later reads return zeroes.
type reader struct {
	b   []byte
	err error
}

func (r *reader) left() int { return len(r.b) }

func (r *reader) raw(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = ErrShort
		return nil
	}
	out := bytes.Clone(r.b[:n])
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte {
	if b := r.raw(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.raw(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.raw(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) result(v Version) uint32 {
	if v.v3() {
		return r.u32()
	}
	return uint32(r.u8())
}

// str reads a fixed field of n bytes up to its first NUL.
func (r *reader) str(n int) string {
	b := r.raw(n)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
