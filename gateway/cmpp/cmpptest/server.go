// Package cmpptest is an ISMG for tests: a CMPP server on a loopback port
// that checks logins with the real authenticator, accepts SUBMITs and
// counts them, sends status reports and messages from phones, answers and
// sends ACTIVE_TEST, and misbehaves on request (refuses logins, drops the
// connection mid-window, answers late, ignores heartbeats).
package cmpptest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/cmpp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Options are the server's account and faults; Server.Set changes them
// while it runs.
type Options struct {
	SPID, Secret string
	// RefuseLogin, when not 0, is the status every login is answered with.
	RefuseLogin uint32
	// Reports sends a status report after each SUBMIT accepted, with
	// ReportStat (DELIVRD when empty).
	Reports    bool
	ReportStat string
	// DropAt closes the connection at the DropAt-th SUBMIT the server
	// reads (once), after answering it unless DropBeforeResponse; the
	// SUBMITs behind it are never read.
	DropAt             int
	DropBeforeResponse bool
	// Delay holds back each SUBMIT_RESP.
	Delay time.Duration
	// IgnoreActiveTests leaves the SP's ACTIVE_TESTs unanswered.
	IgnoreActiveTests bool
	// IdleTimeout drops a connection that sent nothing for this long, as
	// ISMGs do; never when zero.
	IdleTimeout time.Duration
}

// Submit is one SUBMIT the server read.
type Submit struct {
	cmpp.Submit
	Version cmpp.Version
	// Acked is set when its SUBMIT_RESP was written, with MsgID.
	Acked bool
	MsgID uint64
}

// Message is the text of the SUBMITs of one message, parts joined.
type Message struct {
	Dest  string
	Text  string
	Acked bool // every part was answered
}

// Server is a running ISMG.
type Server struct {
	Addr string
	ln   net.Listener

	mu          sync.Mutex
	opts        Options
	conns       []*srvConn // logged in, oldest first
	logins      int
	refused     int
	submits     []Submit
	submitsRead int
	dropped     bool
	activeTests int
	terminates  int
	idleDrops   int
	nextID      uint64
	reports     []uint32 // DELIVER_RESP results of status reports
	wg          sync.WaitGroup
}

// New starts a server that stops when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("cmpptest: listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, opts: opts, nextID: 0x1234_5678_0000_0000}
	s.wg.Go(s.accept)
	tb.Cleanup(s.Close)
	return s
}

// Close stops listening and closes every connection.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.Drop()
	s.wg.Wait()
}

// Set changes the options.
func (s *Server) Set(f func(*Options)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.opts)
}

// Drop closes every connection at once, as a network failure would.
func (s *Server) Drop() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.nc.Close()
	}
}

func (s *Server) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.serve(nc) })
	}
}

type srvConn struct {
	s       *Server
	nc      net.Conn
	v       cmpp.Version
	wmu     sync.Mutex
	seq     uint32
	mu      sync.Mutex
	pending map[uint32]chan cmpp.Packet
}

func (c *srvConn) write(seq uint32, p cmpp.Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(cmpp.Encode(c.v, seq, p))
	return err
}

// serve logs a connection in and answers it until it closes.
func (s *Server) serve(nc net.Conn) {
	defer nc.Close()
	c := &srvConn{s: s, nc: nc, v: cmpp.V30, pending: map[uint32]chan cmpp.Packet{}}
	r := bufio.NewReader(nc)
	if !s.login(c, r) {
		return
	}
	defer s.forget(c)
	for {
		s.mu.Lock()
		idle := s.opts.IdleTimeout
		s.mu.Unlock()
		if idle > 0 {
			_ = nc.SetReadDeadline(time.Now().Add(idle))
		}
		b, err := cmpp.ReadPacket(r)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				s.mu.Lock()
				s.idleDrops++
				s.mu.Unlock()
			}
			return
		}
		seq, p, err := cmpp.Decode(c.v, b)
		if err != nil {
			continue
		}
		switch p := p.(type) {
		case *cmpp.Submit:
			if !s.submit(c, seq, p, r) {
				return
			}
		case *cmpp.ActiveTest:
			s.mu.Lock()
			s.activeTests++
			ignore := s.opts.IgnoreActiveTests
			s.mu.Unlock()
			if !ignore {
				_ = c.write(seq, &cmpp.ActiveTestResp{})
			}
		case *cmpp.Terminate:
			s.mu.Lock()
			s.terminates++
			s.mu.Unlock()
			_ = c.write(seq, &cmpp.TerminateResp{})
			return
		case *cmpp.DeliverResp, *cmpp.ActiveTestResp, *cmpp.TerminateResp:
			c.mu.Lock()
			ch := c.pending[seq]
			c.mu.Unlock()
			if ch != nil {
				select {
				case ch <- p:
				default: // answered twice
				}
			}
		}
	}
}

// login checks CONNECT as an ISMG does: the SP id, the version, and the
// authenticator recomputed from the secret and the timestamp sent.
func (s *Server) login(c *srvConn, r *bufio.Reader) bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := cmpp.ReadPacket(r)
	_ = c.nc.SetReadDeadline(time.Time{})
	if err != nil {
		return false
	}
	seq, p, err := cmpp.Decode(cmpp.V30, b)
	req, ok := p.(*cmpp.Connect)
	if err != nil || !ok {
		return false
	}
	if req.Version < cmpp.V30 {
		c.v = cmpp.V20
	}
	s.mu.Lock()
	opts := s.opts
	s.mu.Unlock()
	status := opts.RefuseLogin
	switch {
	case status != 0:
	case req.SourceAddr != opts.SPID:
		status = 2
	case req.Authenticator != cmpp.Authenticator(opts.SPID, opts.Secret, fmt.Sprintf("%010d", req.Timestamp)):
		status = 3
	case req.Version > cmpp.V30:
		status = 4
	}
	_ = c.write(seq, &cmpp.ConnectResp{Status: status, Version: cmpp.V30})
	s.mu.Lock()
	defer s.mu.Unlock()
	if status != 0 {
		s.refused++
		return false
	}
	s.logins++
	s.conns = append(s.conns, c)
	return true
}

func (s *Server) forget(c *srvConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.conns {
		if x == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
}

// submit records a SUBMIT and answers it, or drops the connection when
// told to; false when the connection is to end.
func (s *Server) submit(c *srvConn, seq uint32, p *cmpp.Submit, r *bufio.Reader) bool {
	s.mu.Lock()
	s.submitsRead++
	drop := !s.dropped && s.opts.DropAt > 0 && s.submitsRead >= s.opts.DropAt
	if drop {
		s.dropped = true
	}
	opts := s.opts
	i := len(s.submits)
	s.submits = append(s.submits, Submit{Submit: *p, Version: c.v})
	s.mu.Unlock()
	if drop && opts.DropBeforeResponse {
		s.hangUp(c, r)
		return false
	}
	if opts.Delay > 0 {
		time.Sleep(opts.Delay)
	}
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	if err := c.write(seq, &cmpp.SubmitResp{MsgID: id}); err != nil {
		return false
	}
	s.mu.Lock()
	s.submits[i].Acked, s.submits[i].MsgID = true, id
	s.mu.Unlock()
	if drop {
		s.hangUp(c, r)
		return false
	}
	if opts.Reports {
		stat := opts.ReportStat
		if stat == "" {
			stat = "DELIVRD"
		}
		dest := ""
		if len(p.DestTerminalIDs) > 0 {
			dest = p.DestTerminalIDs[0]
		}
		go s.report(c, Report(c.v, id, stat, dest))
	}
	return true
}

// report sends a status report, and again, as an ISMG does, while the
// SP answers it with an error (a report that beat the send's record) or
// not at all, on whichever connection is the newest, for up to 15 s.
func (s *Server) report(c *srvConn, d cmpp.Deliver) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := c.push(ctx, d)
		cancel()
		if err == nil {
			s.mu.Lock()
			s.reports = append(s.reports, res[0])
			s.mu.Unlock()
			if res[0] == 0 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
		if cur, err := s.current(); err == nil {
			c = cur
		}
	}
}

// hangUp ends a connection the way a failing ISMG does, without losing
// what it already wrote: FIN first, then whatever the SP still sends is
// read and thrown away until it closes its end, so that no reset
// destroys answers in flight.
func (s *Server) hangUp(c *srvConn, r *bufio.Reader) {
	s.forget(c)
	if tc, ok := c.nc.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = r.WriteTo(discard{})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// push sends DELIVERs and waits for every DELIVER_RESP, in order.
func (c *srvConn) push(ctx context.Context, ds ...cmpp.Deliver) ([]uint32, error) {
	chans := make([]chan cmpp.Packet, len(ds))
	for i := range ds {
		c.mu.Lock()
		c.seq++
		seq := c.seq
		chans[i] = make(chan cmpp.Packet, 1)
		c.pending[seq] = chans[i]
		c.mu.Unlock()
		if err := c.write(seq, &ds[i]); err != nil {
			return nil, err
		}
	}
	out := make([]uint32, len(ds))
	for i, ch := range chans {
		select {
		case p := <-ch:
			out[i] = p.(*cmpp.DeliverResp).Result
		case <-ctx.Done():
			return nil, fmt.Errorf("cmpptest: no DELIVER_RESP: %w", ctx.Err())
		}
	}
	return out, nil
}

// current is the connection logged in last.
func (s *Server) current() (*srvConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		return nil, errors.New("cmpptest: no SP connected")
	}
	return s.conns[len(s.conns)-1], nil
}

// Push sends DELIVERs (messages from phones, or reports) on the newest
// connection, all at once, and returns their DELIVER_RESP results: the
// parts of a long message are answered only once all have arrived.
func (s *Server) Push(ctx context.Context, ds ...cmpp.Deliver) ([]uint32, error) {
	c, err := s.current()
	if err != nil {
		return nil, err
	}
	return c.push(ctx, ds...)
}

// ActiveTest sends ACTIVE_TEST on the newest connection and waits for the
// answer.
func (s *Server) ActiveTest(ctx context.Context) error {
	c, err := s.current()
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.seq++
	seq := c.seq
	ch := make(chan cmpp.Packet, 1)
	c.pending[seq] = ch
	c.mu.Unlock()
	if err := c.write(seq, &cmpp.ActiveTest{}); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Counts.

// Logins is the number of successful logins; Refused of refused ones.
func (s *Server) Logins() int  { s.mu.Lock(); defer s.mu.Unlock(); return s.logins }
func (s *Server) Refused() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refused }

// Connected is the number of connections logged in now.
func (s *Server) Connected() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.conns) }

// ActiveTests counts the SP's ACTIVE_TESTs; Terminates its TERMINATEs;
// IdleDrops the connections dropped for silence.
func (s *Server) ActiveTests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.activeTests }
func (s *Server) Terminates() int  { s.mu.Lock(); defer s.mu.Unlock(); return s.terminates }
func (s *Server) IdleDrops() int   { s.mu.Lock(); defer s.mu.Unlock(); return s.idleDrops }

// ReportResults are the DELIVER_RESP results of the status reports sent.
func (s *Server) ReportResults() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.reports...)
}

// Submits are the SUBMITs read, in order.
func (s *Server) Submits() []Submit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submit(nil), s.submits...)
}

// Messages joins the SUBMITs read into messages: a part with a
// concatenation header joins the others of its destination and
// reference, in order; each time a message's parts are submitted again
// it counts again.
func (s *Server) Messages() []Message {
	type key struct {
		dest  string
		ref   uint16
		total byte
	}
	var out []Message
	open := map[key]map[byte]Submit{}
	for _, sub := range s.Submits() {
		dest := strings.Join(sub.DestTerminalIDs, ",")
		content := sub.Content
		if sub.TPUdhi == 1 {
			h, body, ok := cmpp.SplitUDH(content)
			if ok && h.Total > 1 {
				k := key{dest, h.Ref, h.Total}
				if open[k] == nil || open[k][h.Seq].Content != nil {
					open[k] = map[byte]Submit{} // a new round of this message
				}
				sub.Content = body
				open[k][h.Seq] = sub
				if len(open[k]) == int(h.Total) {
					seqs := make([]int, 0, h.Total)
					for q := range open[k] {
						seqs = append(seqs, int(q))
					}
					sort.Ints(seqs)
					m := Message{Dest: dest, Acked: true}
					for _, q := range seqs {
						part := open[k][byte(q)]
						t, _ := cmpp.DecodeText(part.MsgFmt, part.Content)
						m.Text += t
						m.Acked = m.Acked && part.Acked
					}
					out = append(out, m)
					delete(open, k)
				}
				continue
			}
			content = body
		}
		t, _ := cmpp.DecodeText(sub.MsgFmt, content)
		out = append(out, Message{Dest: dest, Text: t, Acked: sub.Acked})
	}
	return out
}

// Report is a status report DELIVER of the message the ISMG knows as
// msgID.
func Report(v cmpp.Version, msgID uint64, stat, dest string) cmpp.Deliver {
	return cmpp.Deliver{
		MsgID: msgID + 1<<32, DestID: "10690001", RegisteredDelivery: 1, SrcTerminalID: dest,
		Content: cmpp.EncodeReport(v, cmpp.Report{MsgID: msgID, Stat: stat, SubmitTime: "2612011200", DoneTime: "2612011201", DestTerminalID: dest}),
	}
}

// MO is a message from phone from, text encoded in msgFmt (UCS-2, GBK or
// ASCII), in parts parts (1 for a single message) with the 8-bit
// reference ref, or the 16-bit one when ref > 255. The parts' Msg_Ids
// count up from msgID. Parts are cut by byte, or by UTF-16 unit in UCS-2:
// GBK text in parts must be all two-byte characters.
func MO(from, to, text string, msgFmt byte, parts int, ref uint16, msgID uint64) []cmpp.Deliver {
	var content []byte
	switch msgFmt {
	case cmpp.FmtGBK:
		b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
		if err != nil {
			panic(err)
		}
		content = b
	case cmpp.FmtUCS2:
		for _, r := range text {
			if r > 0xffff {
				panic("cmpptest: MO text outside the BMP")
			}
			content = append(content, byte(r>>8), byte(r))
		}
	default:
		content = []byte(text)
	}
	if parts <= 1 {
		return []cmpp.Deliver{{MsgID: msgID, DestID: to, ServiceID: "BFT", MsgFmt: msgFmt, SrcTerminalID: from, Content: content}}
	}
	unit := 1
	if msgFmt == cmpp.FmtUCS2 || msgFmt == cmpp.FmtGBK {
		unit = 2
	}
	per := (len(content)/unit + parts - 1) / parts * unit
	var out []cmpp.Deliver
	for i := range parts {
		lo, hi := min(i*per, len(content)), min((i+1)*per, len(content))
		var h []byte
		if ref > 255 {
			h = []byte{0x06, 0x08, 0x04, byte(ref >> 8), byte(ref), byte(parts), byte(i + 1)}
		} else {
			h = []byte{0x05, 0x00, 0x03, byte(ref), byte(parts), byte(i + 1)}
		}
		out = append(out, cmpp.Deliver{
			MsgID: msgID + uint64(i), DestID: to, ServiceID: "BFT", TPUdhi: 1, MsgFmt: msgFmt, SrcTerminalID: from,
			Content: append(h, content[lo:hi]...),
		})
	}
	return out
}
