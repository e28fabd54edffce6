package cmpp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// Defaults of Config's zero fields.
const (
	DefaultWindow    = 16
	DefaultHeartbeat = 30 * time.Second
	DefaultRetry     = time.Second
	// maxRetry caps the pause between reconnections.
	maxRetry = time.Minute
	// missedHeartbeats unanswered ACTIVE_TESTs in a row drop the
	// connection: the ISMG, or the path to it, is gone.
	missedHeartbeats = 3
	// loginTimeout bounds the dial and the CONNECT_RESP; writeTimeout a
	// write; terminateTimeout the wait for TERMINATE_RESP at shutdown.
	loginTimeout     = 10 * time.Second
	writeTimeout     = 10 * time.Second
	terminateTimeout = 2 * time.Second
	// receiveTimeout bounds the handling of one inbound message, the
	// gateway's own hop budget included.
	receiveTimeout = 15 * time.Second
	// reassembly is how long the parts of a long message wait for the
	// rest; then what arrived is taken as the message.
	reassembly = 2 * time.Minute
	// workers handle inbound messages and reports of one connection at
	// once, off the reading loop, which must keep reading SUBMIT_RESPs.
	workers = 4
	// partialTTL is how long the parts of a partly sent message are
	// remembered, so that a retry sends only the rest.
	partialTTL = 24 * time.Hour
)

// DELIVER_RESP results.
const (
	resultOK           = 0
	resultFlowControl  = 8
	resultOtherFailure = 9
)

// Config is a connection to one ISMG.
type Config struct {
	Addr      string // host:port
	SPID      string // Source_Addr, 6 characters
	Secret    string // shared secret; never logged
	ServiceID string
	SrcID     string // the 106... number, with any extension
	Version   Version
	// Window bounds the SUBMITs awaiting their SUBMIT_RESP.
	Window int
	// Heartbeat is the idle time after which an ACTIVE_TEST is sent, and
	// how long its answer may take.
	Heartbeat time.Duration
	// Retry is the first pause before reconnecting; it doubles to a
	// minute. A process without the lock tries again every five Retries.
	Retry time.Duration
	// Locker lets one process of several hold the connection; nil for a
	// process alone.
	Locker gateway.Locker
	// Deliveries takes status reports.
	Deliveries gateway.Deliveries
	Log        *slog.Logger
	// Now is the clock, for CONNECT's timestamp.
	Now func() time.Time
}

// Client is the SP end of a CMPP connection: Run keeps it up, and Send
// submits through it.
type Client struct {
	cfg    Config
	window chan struct{}

	mu  sync.Mutex
	cur *conn // logged in, or nil
	// partial holds the Msg_Ids of the parts the ISMG accepted of messages
	// not wholly accepted, by our message id.
	partial map[int64]partialSend
}

type partialSend struct {
	body string
	ids  []string // by part; "" until accepted
	at   time.Time
}

// NewClient returns a client of cfg, defaults filled in.
func NewClient(cfg Config) *Client {
	if cfg.Version == 0 {
		cfg.Version = V30
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg, window: make(chan struct{}, cfg.Window), partial: map[int64]partialSend{}}
}

// Connected reports whether this process holds a logged-in connection.
func (c *Client) Connected() bool { return c.current() != nil }

func (c *Client) current() *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

func (c *Client) setCurrent(cn *conn) {
	c.mu.Lock()
	c.cur = cn
	c.mu.Unlock()
}

// LoginError is a CONNECT_RESP that refused the login.
type LoginError struct{ Status uint32 }

func (e *LoginError) Error() string {
	why := map[uint32]string{
		1: "bad message structure",
		2: "bad source address: check BAREFOOT_CMPP_SP_ID",
		3: "authentication failed: check BAREFOOT_CMPP_SECRET (and the clock, which the authenticator hashes)",
		4: "version too high: set BAREFOOT_CMPP_VERSION=2.0",
	}[e.Status]
	if why == "" {
		why = "other error"
	}
	return fmt.Sprintf("cmpp: login refused: status %d: %s", e.Status, why)
}

// errNotHeld is the sender's answer while this process has no connection.
var errNotHeld = sender.Elsewheref("cmpp: not connected: another process holds the connection, or it is being re-established")

// Run keeps the connection up until ctx is done, then ends it with
// TERMINATE. With a Locker, it first takes the lock that makes this
// process the one that holds the connection, and waits while another
// does. A lost connection is made again after a pause that doubles up to
// a minute, with jitter, so that several SPs cut off together do not
// return together. Inbound messages go to receive; status reports to
// Deliveries.
func (c *Client) Run(ctx context.Context, receive gateway.Receive) error {
	log := c.cfg.Log.With("carrier", CarrierName)
	attempt, waiting := 0, false
	for ctx.Err() == nil {
		held, release := ctx, func() {}
		if c.cfg.Locker != nil {
			h, r, err := c.cfg.Locker.HoldLock(ctx, "cmpp:"+c.cfg.Addr+":"+c.cfg.SPID)
			switch {
			case errors.Is(err, menus.ErrConflict):
				if !waiting {
					log.Info("another process holds the CMPP connection; waiting for it")
					waiting = true
				}
				sleep(ctx, jitter(5*c.cfg.Retry))
				continue
			case err != nil:
				attempt++
				log.Error("cmpp: lock not taken", "err", err)
				sleep(ctx, c.backoff(attempt))
				continue
			}
			held, release, waiting = h, r, false
		}
		loggedIn, err := c.session(held, receive, log)
		release()
		if ctx.Err() != nil {
			break
		}
		if loggedIn {
			attempt = 0
		}
		attempt++
		d := c.backoff(attempt)
		log.Warn("cmpp connection lost; reconnecting", "err", err, "in", d.String())
		sleep(ctx, d)
	}
	return nil
}

// backoff is the pause before reconnection attempt n (from 1): Retry
// doubling to a minute, less up to half at random.
func (c *Client) backoff(n int) time.Duration {
	d := maxRetry
	if n < 16 {
		d = min(c.cfg.Retry<<(n-1), maxRetry)
	}
	return jitter(d)
}

func jitter(d time.Duration) time.Duration { return d - rand.N(d/2+1) }

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// session is one connection: login, then serve until ctx is done (ended
// with TERMINATE) or the connection fails.
func (c *Client) session(ctx context.Context, receive gateway.Receive, log *slog.Logger) (loggedIn bool, err error) {
	d := net.Dialer{Timeout: loginTimeout}
	nc, err := d.DialContext(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return false, fmt.Errorf("cmpp: dial: %w", err)
	}
	cn := &conn{nc: nc, v: c.cfg.Version, r: bufio.NewReader(nc), pending: map[uint32]chan Packet{}, done: make(chan struct{}), window: c.window}
	defer cn.close(errors.New("cmpp: connection closed"))
	if err := c.login(cn); err != nil {
		return false, err
	}
	log.Info("cmpp connected", "addr", c.cfg.Addr, "version", c.cfg.Version.String())

	s := &session{Client: c, cn: cn, receive: receive, log: log, jobs: make(chan job, 4*c.cfg.Window), parts: map[partsKey]*parts{}, recorded: map[partsKey]recorded{}, stopping: make(chan struct{})}
	s.heard.Store(time.Now().UnixNano())
	var work, beat sync.WaitGroup
	for range workers {
		work.Go(s.work)
	}
	beat.Go(s.heartbeat)
	readErr := make(chan error, 1)
	go func() { readErr <- s.read() }()
	c.setCurrent(cn)
	defer c.setCurrent(nil)

	readDone := false
	select {
	case err = <-readErr:
		readDone = true
		cn.close(err)
	case <-cn.done:
		err = cn.failure()
	case <-ctx.Done():
		// Stop taking sends, finish the messages being handled so their
		// DELIVER_RESPs go out, and say goodbye.
		c.setCurrent(nil)
		close(s.stopping)
		s.drain()
		tctx, cancel := context.WithTimeout(context.Background(), terminateTimeout)
		if _, terr := cn.request(tctx, &Terminate{}); terr != nil {
			log.Warn("cmpp: no TERMINATE_RESP", "err", terr)
		}
		cancel()
		cn.close(errors.New("cmpp: terminated"))
		err = ctx.Err()
	}
	// Nothing queues jobs once the reader and the heartbeat have stopped.
	if !readDone {
		<-readErr
	}
	beat.Wait()
	close(s.jobs)
	work.Wait()
	return true, err
}

// login sends CONNECT and reads CONNECT_RESP.
func (c *Client) login(cn *conn) error {
	ts, digits := Timestamp(c.cfg.Now())
	req := &Connect{SourceAddr: c.cfg.SPID, Authenticator: Authenticator(c.cfg.SPID, c.cfg.Secret, digits), Version: c.cfg.Version, Timestamp: ts}
	_ = cn.nc.SetDeadline(time.Now().Add(loginTimeout))
	defer func() { _ = cn.nc.SetDeadline(time.Time{}) }()
	seq := cn.nextSeq()
	if _, err := cn.nc.Write(Encode(c.cfg.Version, seq, req)); err != nil {
		return fmt.Errorf("cmpp: login: %w", err)
	}
	b, err := ReadPacket(cn.r)
	if err != nil {
		return fmt.Errorf("cmpp: login: %w", err)
	}
	_, p, err := Decode(c.cfg.Version, b)
	if err != nil {
		return fmt.Errorf("cmpp: login: %w", err)
	}
	resp, ok := p.(*ConnectResp)
	if !ok {
		return fmt.Errorf("cmpp: login: answered with 0x%08x, not CONNECT_RESP", uint32(p.Command()))
	}
	if resp.Status != 0 {
		return &LoginError{Status: resp.Status}
	}
	return nil
}

// conn is one TCP connection and the requests awaiting their responses.
type conn struct {
	nc     net.Conn
	r      *bufio.Reader
	v      Version
	window chan struct{}
	seq    atomic.Uint32
	wmu    sync.Mutex

	mu      sync.Mutex
	pending map[uint32]chan Packet
	err     error
	done    chan struct{}
}

func (cn *conn) nextSeq() uint32 { return cn.seq.Add(1) }

func (cn *conn) write(seq uint32, p Packet) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	_ = cn.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := cn.nc.Write(Encode(cn.v, seq, p)); err != nil {
		cn.close(fmt.Errorf("cmpp: write: %w", err))
		return err
	}
	return nil
}

// close ends the connection once, with err as the reason its waiters see.
func (cn *conn) close(err error) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.err != nil {
		return
	}
	cn.err = err
	_ = cn.nc.Close()
	close(cn.done)
}

func (cn *conn) failure() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// errNoResponse is a request whose response did not come.
var errNoResponse = errors.New("no response")

// request sends p and waits for its response. SUBMITs take a place in the
// window first.
func (cn *conn) request(ctx context.Context, p Packet) (Packet, error) {
	if p.Command() == CmdSubmit {
		select {
		case cn.window <- struct{}{}:
			defer func() { <-cn.window }()
		case <-ctx.Done():
			return nil, fmt.Errorf("window full: %w", ctx.Err())
		case <-cn.done:
			return nil, cn.failure()
		}
	}
	seq := cn.nextSeq()
	ch := make(chan Packet, 1)
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return nil, cn.err
	}
	cn.pending[seq] = ch
	cn.mu.Unlock()
	defer func() {
		cn.mu.Lock()
		delete(cn.pending, seq)
		cn.mu.Unlock()
	}()
	if err := cn.write(seq, p); err != nil {
		return nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-cn.done:
		return nil, fmt.Errorf("%w: %w", errNoResponse, cn.failure())
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errNoResponse, ctx.Err())
	}
}

// answer hands a response to the request waiting for it, if any.
func (cn *conn) answer(seq uint32, p Packet) {
	cn.mu.Lock()
	ch := cn.pending[seq]
	cn.mu.Unlock()
	if ch != nil {
		select {
		case ch <- p:
		default:
		}
	}
}

// session is what serves one logged-in connection.
type session struct {
	*Client
	cn      *conn
	receive gateway.Receive
	log     *slog.Logger
	jobs    chan job

	heard    atomic.Int64 // unix nanoseconds of the last packet read
	stopping chan struct{}
	inFlight sync.WaitGroup

	pmu      sync.Mutex
	parts    map[partsKey]*parts
	recorded map[partsKey]recorded
}

// job is an inbound message or report, with the DELIVERs it came in,
// answered once it has been handled.
type job struct {
	msg    *sms.Message
	report *Report
	acks   []ack
	// key and ids name the parts of a long message, remembered once it
	// is recorded.
	key *partsKey
	ids map[byte]uint64
}

type ack struct {
	seq   uint32
	msgID uint64
	part  byte // of a long message
}

type partsKey struct {
	from  string
	ref   uint16
	total byte
}

type parts struct {
	texts map[byte]string
	ids   map[byte]uint64
	acks  []ack
	to    string
	first time.Time
}

// recorded are the parts of a long message recorded lately, so that a
// part the ISMG delivers again (its DELIVER_RESP was lost) is answered
// at once rather than start a message that never completes.
type recorded struct {
	ids map[byte]uint64
	at  time.Time
}

// read reads packets until the connection fails or the ISMG ends it.
func (s *session) read() error {
	for {
		b, err := ReadPacket(s.cn.r)
		if err != nil {
			return fmt.Errorf("cmpp: read: %w", err)
		}
		s.heard.Store(time.Now().UnixNano())
		seq, p, err := Decode(s.cn.v, b)
		if err != nil {
			s.log.Warn("cmpp: packet skipped", "err", err)
			continue
		}
		switch p := p.(type) {
		case *SubmitResp, *ActiveTestResp, *TerminateResp:
			s.cn.answer(seq, p)
		case *ActiveTest:
			_ = s.cn.write(seq, &ActiveTestResp{})
		case *Terminate:
			_ = s.cn.write(seq, &TerminateResp{})
			return errors.New("cmpp: the ISMG ended the connection")
		case *Deliver:
			s.deliver(seq, p)
		default:
			s.log.Warn("cmpp: unexpected packet", "command", fmt.Sprintf("0x%08x", uint32(p.Command())))
		}
	}
}

// deliver sorts a DELIVER into a report, a whole message, or a part of a
// long one that waits for the rest.
func (s *session) deliver(seq uint32, d *Deliver) {
	a := ack{seq: seq, msgID: d.MsgID}
	if d.RegisteredDelivery == 1 {
		r, err := DecodeReport(s.cn.v, d.Content)
		if err != nil {
			s.log.Warn("cmpp: status report unreadable; acknowledged", "err", err)
			s.respond([]ack{a}, resultOK)
			return
		}
		s.queue(job{report: &r, acks: []ack{a}})
		return
	}
	from := terminalPhone(d.SrcTerminalID)
	content := d.Content
	if d.TPUdhi == 1 {
		h, body, ok := SplitUDH(content)
		content = body
		if ok && h.Total > 1 {
			s.part(a, from, d, h, body)
			return
		}
	}
	text, err := DecodeText(d.MsgFmt, content)
	if err != nil {
		// No redelivery will make it text.
		s.log.Warn("cmpp: inbound message is not text; acknowledged and dropped", "err", err)
		s.respond([]ack{a}, resultOK)
		return
	}
	s.queue(job{msg: s.message(from, d.DestID, d.MsgID, text), acks: []ack{a}})
}

// part keeps one part of a long message; the last to arrive completes it.
// The parts are acknowledged only once the whole message is handled, so
// that a connection lost meanwhile has the ISMG deliver them again.
func (s *session) part(a ack, from string, d *Deliver, h UDH, body []byte) {
	text, err := DecodeText(d.MsgFmt, body)
	if err != nil {
		s.log.Warn("cmpp: part of a long message is not text; acknowledged and dropped", "err", err)
		s.respond([]ack{a}, resultOK)
		return
	}
	k := partsKey{from: from, ref: h.Ref, total: h.Total}
	a.part = h.Seq
	s.pmu.Lock()
	if r, ok := s.recorded[k]; ok && r.ids[h.Seq] == d.MsgID {
		s.pmu.Unlock()
		s.respond([]ack{a}, resultOK)
		return
	}
	p := s.parts[k]
	if p == nil {
		p = &parts{texts: map[byte]string{}, ids: map[byte]uint64{}, to: d.DestID, first: time.Now()}
		s.parts[k] = p
	}
	p.texts[h.Seq] = text // a part delivered twice is kept once
	p.ids[h.Seq] = d.MsgID
	p.acks = append(p.acks, a)
	complete := len(p.texts) == int(h.Total)
	if complete {
		delete(s.parts, k)
	}
	s.pmu.Unlock()
	if complete {
		s.queue(s.joined(k, p))
	}
}

// joined is the message of the parts that arrived, in order. Its carrier
// id is the first part's Msg_Id, so that a message delivered again is
// recognised.
func (s *session) joined(k partsKey, p *parts) job {
	var b strings.Builder
	first := byte(0)
	for i := 1; i <= int(k.total); i++ {
		if t, ok := p.texts[byte(i)]; ok {
			b.WriteString(t)
			if first == 0 {
				first = byte(i)
			}
		}
	}
	return job{msg: s.message(k.from, p.to, p.ids[first], b.String()), acks: p.acks, key: &k, ids: p.ids}
}

// recordedParts remembers the parts of a long message recorded, and
// answers any of them delivered again meanwhile.
func (s *session) recordedParts(k partsKey, ids map[byte]uint64) {
	s.pmu.Lock()
	s.recorded[k] = recorded{ids: ids, at: time.Now()}
	var again []ack
	if p := s.parts[k]; p != nil {
		var keep []ack
		for _, a := range p.acks {
			if ids[a.part] == a.msgID {
				again = append(again, a)
				delete(p.texts, a.part)
				delete(p.ids, a.part)
			} else {
				keep = append(keep, a)
			}
		}
		p.acks = keep
		if len(p.acks) == 0 {
			delete(s.parts, k)
		}
	}
	s.pmu.Unlock()
	s.respond(again, resultOK)
}

// expire hands on the long messages whose parts stopped coming: what
// arrived is better than nothing for the person who sent it.
func (s *session) expire() {
	s.pmu.Lock()
	var due []job
	for k, p := range s.parts {
		if time.Since(p.first) > reassembly {
			delete(s.parts, k)
			due = append(due, s.joined(k, p))
		}
	}
	for k, r := range s.recorded {
		if time.Since(r.at) > reassembly {
			delete(s.recorded, k)
		}
	}
	s.pmu.Unlock()
	for _, j := range due {
		s.log.Warn("cmpp: long message incomplete; taken as it is", "parts", len(j.acks))
		s.queue(j)
	}
}

func (s *session) message(from, to string, msgID uint64, text string) *sms.Message {
	return &sms.Message{Carrier: CarrierName, CarrierID: strconv.FormatUint(msgID, 10), Phone: from, To: to, Body: text, ReceivedAt: time.Now().UTC()}
}

// queue hands a job to the workers; when they are that far behind, the
// ISMG is asked to deliver it later (flow control) rather than stall the
// reading of SUBMIT_RESPs.
func (s *session) queue(j job) {
	select {
	case <-s.stopping:
		s.respond(j.acks, resultFlowControl)
		return
	default:
	}
	s.inFlight.Add(1)
	select {
	case s.jobs <- j:
	default:
		s.inFlight.Done()
		s.respond(j.acks, resultFlowControl)
	}
}

// drain waits for the jobs queued to be handled, within a bound.
func (s *session) drain() {
	done := make(chan struct{})
	go func() { s.inFlight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(receiveTimeout):
	}
}

func (s *session) work() {
	for j := range s.jobs {
		s.handle(j)
		s.inFlight.Done()
	}
}

// handle records a message or a report, and answers its DELIVERs: 0 once
// it is recorded, 9 otherwise, which has the ISMG deliver it again.
func (s *session) handle(j job) {
	ctx, cancel := context.WithTimeout(context.Background(), receiveTimeout)
	defer cancel()
	result := uint32(resultOK)
	switch {
	case j.report != nil:
		status := sms.Failed
		if j.report.Stat == "DELIVRD" {
			status = sms.Delivered
		}
		if s.cfg.Deliveries != nil {
			if _, err := s.cfg.Deliveries.UpdateDelivery(ctx, CarrierName, strconv.FormatUint(j.report.MsgID, 10), status); err != nil {
				// A report that beat its send's record, or a store down.
				s.log.Warn("cmpp: status report not recorded; the ISMG will send it again", "err", err)
				result = resultOtherFailure
			}
		}
	case j.msg != nil:
		if err := s.receive(ctx, *j.msg); err != nil {
			result = resultOtherFailure
		} else if j.key != nil {
			defer s.recordedParts(*j.key, j.ids)
		}
	}
	s.respond(j.acks, result)
}

func (s *session) respond(acks []ack, result uint32) {
	for _, a := range acks {
		_ = s.cn.write(a.seq, &DeliverResp{MsgID: a.msgID, Result: result})
	}
}

// heartbeat sends ACTIVE_TEST when the connection has been quiet for a
// Heartbeat, and drops it when missedHeartbeats go unanswered in a row.
// It also hands on long messages whose parts stopped coming.
func (s *session) heartbeat() {
	hb := s.cfg.Heartbeat
	t := time.NewTicker(hb)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-s.cn.done:
			return
		case <-s.stopping:
			return
		case <-t.C:
		}
		s.expire()
		if time.Since(time.Unix(0, s.heard.Load())) < hb {
			missed = 0
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), hb)
		_, err := s.cn.request(ctx, &ActiveTest{})
		cancel()
		if err == nil {
			missed = 0
			continue
		}
		missed++
		if missed >= missedHeartbeats {
			s.cn.close(fmt.Errorf("cmpp: %d ACTIVE_TESTs unanswered", missed))
			return
		}
	}
}

// terminalPhone makes a terminal id a number the gateway can normalise:
// "8613900139001" gains its "+"; a national number is left for the
// gateway's region.
func terminalPhone(id string) string {
	id = strings.TrimSpace(id)
	if len(id) == 13 && strings.HasPrefix(id, "86") {
		return "+" + id
	}
	return id
}

// destTerminal is the Dest_terminal_Id of an E.164 number: the national
// number of a mainland China phone; CMPP reaches no other.
func destTerminal(e164 string) (string, error) {
	n, ok := strings.CutPrefix(e164, "+86")
	if !ok || len(n) < 5 || len(n) > 20 {
		return "", sender.Finalf("cmpp: %s is not a mainland China number", phone.Mask(e164))
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return "", sender.Finalf("cmpp: %s is not a phone number", phone.Mask(e164))
		}
	}
	return n, nil
}
