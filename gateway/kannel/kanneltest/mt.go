package kanneltest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// Coding is an SMS's data coding, as Kannel numbers it in %c, the coding
// parameter of sendsms and X-Kannel-Coding.
type Coding int

// The codings.
const (
	Coding7Bit Coding = 0 // GSM 7-bit; Kannel holds the text as UTF-8
	Coding8Bit Coding = 1 // binary
	CodingUCS2 Coding = 2 // UCS-2, held as UTF-16BE
)

// String names the coding.
func (c Coding) String() string {
	switch c {
	case Coding7Bit:
		return "7-bit"
	case Coding8Bit:
		return "8-bit"
	case CodingUCS2:
		return "UCS-2"
	}
	return "coding " + strconv.Itoa(int(c))
}

// Message is an SMS that reached the phone (an MT), its parts joined.
type Message struct {
	From string // the sender, as the service's short code
	To   string // the phone
	// Coding is the message's data coding.
	Coding Coding
	// Text is Data decoded according to Coding: UTF-16BE for UCS-2, as it
	// is for 7-bit (Kannel hands 7-bit text to its SMSC drivers as UTF-8,
	// characters GSM cannot show already replaced by '?') and for 8-bit.
	Text string
	// Data is the message's bytes, all parts joined, without UDHs.
	Data []byte
	// Parts are the SMS the phone received, in sequence order: one for a
	// message that was not split.
	Parts []Part
}

// Part is one SMS as fakesmsc received it.
type Part struct {
	// Line is the line fakesmsc printed, "sender receiver type data" (see
	// gw/smsc/smsc_fake.c). A 7-bit text with line breaks comes as several
	// lines, joined here with the line break.
	Line string
	UDH  []byte // the user data header, if any
	Data []byte // the part's bytes
}

// MT waits up to timeout for the next message Kannel delivers to a phone
// and returns it. It fails the test if none comes.
func (k *Kannel) MT(tb testing.TB, timeout time.Duration) Message {
	tb.Helper()
	return k.WaitMT(tb, 1, timeout)[0]
}

// WaitMT waits up to timeout for the next n messages Kannel delivers to
// phones, in the order they were completed (a concatenated message when
// its last part arrives), and returns them. It fails the test if fewer
// come.
func (k *Kannel) WaitMT(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	msgs, err := k.fake.wait(n, timeout)
	if err != nil {
		tb.Fatalf("kanneltest: %v", err)
	}
	return msgs
}

// NoMT fails the test if a message reaches a phone within d.
func (k *Kannel) NoMT(tb testing.TB, d time.Duration) {
	tb.Helper()
	msgs, err := k.fake.wait(1, d)
	if err == nil {
		tb.Fatalf("kanneltest: want no MT, got %+v", msgs[0])
	}
	if !errors.Is(err, errTimeout) {
		tb.Fatalf("kanneltest: %v", err)
	}
}

var errTimeout = errors.New("timed out")

// wait returns the next n messages, waiting up to timeout for them.
func (f *fakeSMSC) wait(n int, timeout time.Duration) ([]Message, error) {
	d := &f.dec
	d.mu.Lock()
	defer d.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		lines, changed, eof := f.lines, f.changed, f.eof
		f.mu.Unlock()

		used, err := d.decode(lines)
		if used > 0 {
			f.mu.Lock()
			f.lines = f.lines[used:]
			f.mu.Unlock()
		}
		if err != nil {
			return nil, err
		}
		if len(d.ready) >= n {
			out := d.ready[:n:n]
			d.ready = d.ready[n:]
			return out, nil
		}
		if eof {
			return nil, fmt.Errorf("fakesmsc exited: %s", f.tail())
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d MT messages in %v (%d undecoded lines): %w", len(d.ready), n, timeout, len(lines)-used, errTimeout)
		}
		if err := f.poke(); err != nil {
			return nil, err
		}
		select {
		case <-changed:
		case <-time.After(pollInterval):
		}
	}
}

// decoder turns the lines fakesmsc received into messages. A line carries
// the coding of a message sent whole ("text", "data" or "ucs-2") but not
// that of a part with a UDH ("udh ... data ..."), and a 7-bit text with a
// line break arrives as several lines. bearerbox's access log has both:
// one "Sent SMS" entry per message, split or not, with its coding and its
// bytes (hex for 8-bit and UCS-2, 7-bit text with unprintable bytes as
// '.'), so a message is matched to its entry by content.
type decoder struct {
	mu        sync.Mutex // one waiting MT caller at a time
	accessLog string
	used      map[int]bool            // access log entries matched already
	pending   map[string]map[int]Part // parts of concatenated messages, by message and sequence
	ready     []Message
}

// accessLogFormat is bearerbox's access-log-format for the decoder: the
// event, coding, sender, receiver and bytes (last: they may hold '|').
const accessLogFormat = "%l|%c|%p|%P|%b"

// logEntry is a "Sent SMS" entry of the access log.
type logEntry struct {
	index    int
	coding   Coding
	from, to string
	data     string
}

// timestamp starts every access log line.
var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d `)

// sent reads the "Sent SMS" entries of the access log not matched yet.
func (d *decoder) sent() ([]logEntry, error) {
	b, err := os.ReadFile(d.accessLog)
	if err != nil {
		return nil, fmt.Errorf("read bearerbox's access log: %w", err)
	}
	var out []logEntry
	index := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(timestamp.ReplaceAllString(line, ""), "|", 5)
		if len(f) != 5 || f[0] != "Sent SMS" {
			continue
		}
		index++
		if d.used[index] {
			continue
		}
		c, err := strconv.Atoi(f[1])
		if err != nil {
			return nil, fmt.Errorf("access log line %q: coding: %w", line, err)
		}
		out = append(out, logEntry{index: index, coding: Coding(c), from: f[2], to: f[3], data: f[4]})
	}
	return out, nil
}

// use marks an access log entry as matched.
func (d *decoder) use(e logEntry) {
	if d.used == nil {
		d.used = map[int]bool{}
	}
	d.used[e.index] = true
}

// line is a received line, parsed.
type line struct {
	raw      string
	from, to string
	kind     string // text, data, ucs-2 or udh
	udh      []byte
	data     []byte
}

// parseLine reads a line in the format of smsc_fake.c's sms_to_client.
func parseLine(raw string) (line, error) {
	l := line{raw: raw}
	var rest string
	var ok bool
	if l.from, rest, ok = strings.Cut(raw, " "); !ok {
		return l, fmt.Errorf("fakesmsc line %q: no receiver", raw)
	}
	if l.to, rest, ok = strings.Cut(rest, " "); !ok {
		return l, fmt.Errorf("fakesmsc line %q: no type", raw)
	}
	l.kind, rest, _ = strings.Cut(rest, " ")
	var err error
	switch l.kind {
	case "text":
		l.data = []byte(rest)
	case "data", "ucs-2":
		l.data, err = urlDecode(rest)
	case "udh":
		udh, data, ok := strings.Cut(rest, " data ")
		if !ok {
			return l, fmt.Errorf("fakesmsc line %q: udh without data", raw)
		}
		if l.udh, err = urlDecode(udh); err == nil {
			l.data, err = urlDecode(data)
		}
	default:
		return l, fmt.Errorf("fakesmsc line %q: unknown type %q", raw, l.kind)
	}
	if err != nil {
		return l, fmt.Errorf("fakesmsc line %q: %w", raw, err)
	}
	return l, nil
}

// urlDecode undoes Kannel's octstr_url_encode ('+' for a space).
func urlDecode(s string) ([]byte, error) {
	u, err := url.QueryUnescape(s)
	return []byte(u), err
}

// decode turns as many of lines as it can into messages, in order, and
// returns how many it used. It stops, without error, where it needs a
// line or an access log entry that has not arrived yet.
func (d *decoder) decode(lines []string) (int, error) {
	i := 0
	for i < len(lines) {
		l, err := parseLine(lines[i])
		if err != nil {
			return i, err
		}
		var n int
		switch {
		case l.kind == "text" && l.udh == nil:
			n, err = d.text(l, lines[i+1:])
		case l.kind == "udh":
			n, err = d.part(l)
		default:
			coding := Coding8Bit
			if l.kind == "ucs-2" {
				coding = CodingUCS2
			}
			d.ready = append(d.ready, message(l.from, l.to, coding, []Part{{Line: l.raw, Data: l.data}}))
			n = 1
		}
		if err != nil || n == 0 {
			return i, err
		}
		i += n
	}
	return i, nil
}

// text decodes a 7-bit message sent whole: its first line l and, when the
// text has line breaks, as many of the next lines as its access log entry
// says. It returns the number of lines used, 0 to wait for more.
func (d *decoder) text(l line, next []string) (int, error) {
	entries, err := d.sent()
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if e.from != l.from || e.to != l.to || (e.coding != Coding7Bit && e.coding != -1) {
			continue
		}
		raw, text, n, ok := joinLines(l.raw, string(l.data), next, e.data)
		switch {
		case n == 0:
			return 0, nil // a line of this message is still to come
		case ok:
			d.use(e)
			d.ready = append(d.ready, message(l.from, l.to, Coding7Bit, []Part{{Line: raw, Data: []byte(text)}}))
			return n, nil
		}
	}
	return 0, nil // its access log entry is still to come
}

// joinLines extends text with the following lines, joined by the line
// break they were split at, while the result is a beginning of logged (the
// access log's form of the whole text). It returns the joined line and
// text, how many lines were used (0: another line is needed), and whether
// the text is the whole of logged.
func joinLines(raw, text string, next []string, logged string) (string, string, int, bool) {
	used := 1
	for {
		if printable(text) == logged {
			return raw, text, used, true
		}
		if !strings.HasPrefix(logged, printable(text)) {
			return "", "", -1, false
		}
		if used > len(next) {
			return "", "", 0, false
		}
		following := next[used-1]
		joined := false
		for _, sep := range []string{"\n", "\r\n"} {
			if strings.HasPrefix(logged, printable(text+sep+following)) {
				raw, text = raw+sep+following, text+sep+following
				joined = true
				break
			}
		}
		if !joined {
			return "", "", -1, false
		}
		used++
	}
}

// printable is the access log's form of 7-bit text (octstr_convert_printable):
// every byte that is not printable ASCII becomes '.'.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '.'
		}
	}
	return string(b)
}

// part collects a line with a UDH. It returns 1 when the line is used, 0
// when the line completes a message whose access log entry is still to
// come.
func (d *decoder) part(l line) (int, error) {
	p := Part{Line: l.raw, UDH: l.udh, Data: l.data}
	ref, total, seq, ok := concatInfo(l.udh)
	if !ok || total <= 1 {
		return d.whole(l.from, l.to, []Part{p})
	}
	if seq < 1 || seq > total {
		return 0, fmt.Errorf("fakesmsc line %q: part %d of %d", l.raw, seq, total)
	}
	key := fmt.Sprintf("%s %s %d %d", l.from, l.to, ref, total)
	parts := d.pending[key]
	if _, dup := parts[seq]; len(parts) == total-1 && !dup {
		all := make([]Part, total)
		for s, q := range parts {
			all[s-1] = q
		}
		all[seq-1] = p
		n, err := d.whole(l.from, l.to, all)
		if n == 1 {
			delete(d.pending, key)
		}
		return n, err
	}
	if d.pending == nil {
		d.pending = map[string]map[int]Part{}
	}
	if parts == nil {
		parts = map[int]Part{}
		d.pending[key] = parts
	}
	parts[seq] = p
	return 1, nil
}

// whole decodes a message of parts with UDHs, its coding taken from its
// access log entry. It returns 1 when done, 0 when the entry is still to
// come.
func (d *decoder) whole(from, to string, parts []Part) (int, error) {
	var data []byte
	for _, p := range parts {
		data = append(data, p.Data...)
	}
	entries, err := d.sent()
	if err != nil {
		return 0, err
	}
	asHex := strings.ToUpper(hex.EncodeToString(data))
	asText := printable(string(data))
	for _, e := range entries {
		if e.from != from || e.to != to {
			continue
		}
		binary := e.coding == Coding8Bit || e.coding == CodingUCS2
		if binary && e.data == asHex || !binary && e.data == asText {
			coding := e.coding
			if !binary {
				coding = Coding7Bit
			}
			d.use(e)
			d.ready = append(d.ready, message(from, to, coding, parts))
			return 1, nil
		}
	}
	return 0, nil
}

// concatInfo reads the concatenation element of a UDH: 8-bit (IEI 0) or
// 16-bit (IEI 8) reference, number of parts and this part's number.
func concatInfo(udh []byte) (ref, total, seq int, ok bool) {
	if len(udh) == 0 || int(udh[0]) > len(udh)-1 {
		return 0, 0, 0, false
	}
	ies := udh[1 : 1+int(udh[0])]
	for len(ies) >= 2 {
		iei, n := ies[0], int(ies[1])
		if len(ies) < 2+n {
			break
		}
		v := ies[2 : 2+n]
		switch {
		case iei == 0x00 && n == 3:
			return int(v[0]), int(v[1]), int(v[2]), true
		case iei == 0x08 && n == 4:
			return int(v[0])<<8 | int(v[1]), int(v[2]), int(v[3]), true
		}
		ies = ies[2+n:]
	}
	return 0, 0, 0, false
}

// message joins parts into a Message and decodes its text.
func message(from, to string, coding Coding, parts []Part) Message {
	var data []byte
	for _, p := range parts {
		data = append(data, p.Data...)
	}
	m := Message{From: from, To: to, Coding: coding, Data: data, Parts: parts}
	if coding == CodingUCS2 {
		m.Text = decodeUTF16BE(data)
	} else {
		m.Text = string(data)
	}
	return m
}

// decodeUTF16BE decodes UCS-2 as phones do, with surrogate pairs; an odd
// last byte becomes U+FFFD.
func decodeUTF16BE(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
	}
	s := string(utf16.Decode(u))
	if len(b)%2 == 1 {
		s += "\uFFFD"
	}
	return s
}
