package kanneltest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// fakesmsc speaks a line protocol with Kannel's fake SMSC (gw/smsc/
// smsc_fake.c): "sender receiver type [udh] data", one message a line, in
// both directions. Run without messages on its command line it reads lines
// to send from its standard input and logs every line it receives as
// "Got message N: <line>" on its standard error (test/fakesmsc.c).
//
// Two quirks of its input loop shape how the harness writes to it:
//
//   - It reads its input with fgets into a 256-byte buffer, but waits for
//     more with select on the file descriptor: input that stdio has buffered
//     beyond the first 255 bytes is not seen until more arrives. So a line is
//     written in pieces of at most 255 bytes, each one only once fakesmsc
//     has read everything before it (the pipe is empty); every piece but the
//     last is exactly 255 bytes, so that fgets returns it whole, and Kannel,
//     which splits on newlines, joins the pieces into one line again.
//   - It skips a piece shorter than 2 bytes, a lone "\n" included, and
//     reads what Kannel sent only when its input is readable or after a
//     second without input. So a line never ends in a 1-byte piece (it is
//     ended with "\r\n", which Kannel reads as "\n", when it would), and a
//     lone "\n" is written to wake it when a test waits for an MT.
const (
	fakesmscPiece = 255
	// drainTimeout bounds the wait for fakesmsc to read one piece.
	drainTimeout = 10 * time.Second
	// tailLines is how much of fakesmsc's output is kept for diagnostics.
	tailLines = 40
)

// gotMessage matches fakesmsc's log line for a line received from Kannel.
var gotMessage = regexp.MustCompile(`Got message \d+: <(.*)>$`)

// fakeSMSC is the running fakesmsc and what it has received.
type fakeSMSC struct {
	*proc
	stdin *os.File

	writeMu sync.Mutex // one line at a time on stdin
	moRef   byte       // reference of the next concatenated MO, under writeMu

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when lines arrive
	lines   []string      // received lines not yet taken by the decoder
	out     []string      // the last lines of its output
	eof     bool

	dec decoder // turns received lines into messages, in MT callers
}

// startFakeSMSC runs fakesmsc connected to the fake SMSC on port.
func startFakeSMSC(dir, path string, port int, accessLog string) (*fakeSMSC, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start fakesmsc: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("start fakesmsc: %w", err)
	}
	// -i 0: no pause between messages; -v 0: log at debug level, where
	// the received lines are.
	cmd := exec.Command(path, "-H", "127.0.0.1", "-r", strconv.Itoa(port), "-i", "0", "-v", "0")
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, outW
	p, err := runProc("fakesmsc", cmd, inR, outW)
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, err
	}
	f := &fakeSMSC{proc: p, stdin: inW, changed: make(chan struct{})}
	f.dec.accessLog = accessLog
	go f.read(outR)
	return f, nil
}

// read collects fakesmsc's output until it exits.
func (f *fakeSMSC) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimSuffix(line, "\n")
		if line != "" || err == nil {
			f.mu.Lock()
			if m := gotMessage.FindStringSubmatch(line); m != nil {
				f.lines = append(f.lines, m[1])
			}
			f.out = append(f.out, line)
			if len(f.out) > tailLines {
				f.out = f.out[len(f.out)-tailLines:]
			}
			f.broadcast()
			f.mu.Unlock()
		}
		if err != nil {
			f.mu.Lock()
			f.eof = true
			f.broadcast()
			f.mu.Unlock()
			return
		}
	}
}

// broadcast wakes whoever waits on changed; f.mu must be held.
func (f *fakeSMSC) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// tail returns fakesmsc's last output lines.
func (f *fakeSMSC) tail() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.out, "\n")
}

// MO sends text from the phone from to the number to through fakesmsc
// into Kannel, as a phone would:
//
//   - printable ASCII as GSM 7-bit text ("text"), and when longer than 160
//     characters as a concatenated message of 153-character parts with a
//     UDH ("udh-text"), which bearerbox joins again before smsbox sees it;
//   - anything else (any non-ASCII character, or a control character such
//     as a newline, which the line protocol cannot carry as text) as UCS-2
//     ("ucs2"), in one message whatever its length: fakesmsc has no way to
//     mark parts with a UDH as UCS-2 (its "udh" type is always 8-bit), so a
//     long UCS-2 text goes as the single message bearerbox would have made
//     of its parts.
//
// It returns once fakesmsc has read the message; Kannel delivers it to
// the sms-service's get-url shortly after.
func (k *Kannel) MO(tb testing.TB, from, to, text string) {
	tb.Helper()
	for _, n := range []string{from, to} {
		if n == "" || strings.ContainsAny(n, " \t\r\n") {
			tb.Fatalf("kanneltest: MO: number %q: must be non-empty without white space", n)
		}
	}
	f := k.fake
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	for _, line := range f.moLines(from, to, text) {
		if err := f.writeLine(line); err != nil {
			tb.Fatalf("kanneltest: MO: %v", err)
		}
	}
}

// moLines encodes an MO as fakesmsc lines (without line ends); see MO.
// f.writeMu must be held.
func (f *fakeSMSC) moLines(from, to, text string) []string {
	const single, part = 160, 153
	if !printableASCII(text) {
		var b []byte
		for _, u := range utf16.Encode([]rune(text)) {
			b = append(b, byte(u>>8), byte(u))
		}
		return []string{fmt.Sprintf("%s %s ucs2 %s", from, to, urlEncode(b))}
	}
	if len(text) <= single {
		return []string{fmt.Sprintf("%s %s text %s", from, to, text)}
	}
	f.moRef++
	n := (len(text) + part - 1) / part
	var lines []string
	for i := range n {
		chunk := text[i*part : min((i+1)*part, len(text))]
		udh := []byte{0x05, 0x00, 0x03, f.moRef, byte(n), byte(i + 1)}
		lines = append(lines, fmt.Sprintf("%s %s udh-text %s %s", from, to, urlEncode(udh), chunk))
	}
	return lines
}

// printableASCII reports whether s is only printable ASCII, which the
// protocol carries as text as it is.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// urlEncode encodes b as Kannel's octstr_url_decode reads it: unreserved
// characters as they are, every other byte as %XX.
func urlEncode(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

// writeLine writes one line to fakesmsc in pieces it reads whole, each
// once it has read the one before; f.writeMu must be held.
func (f *fakeSMSC) writeLine(line string) error {
	ps, err := pieces(line)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := f.waitDrained(); err != nil {
			return err
		}
		if _, err := f.stdin.WriteString(p); err != nil {
			return fmt.Errorf("write to fakesmsc: %w", err)
		}
	}
	return f.waitDrained()
}

// pieces cuts a line, with its line end, into what fakesmsc reads whole
// (see the comment on fakesmscPiece): pieces of exactly 255 bytes and a
// last one of 2 to 255 bytes that ends the line.
func pieces(line string) ([]string, error) {
	if strings.ContainsAny(line, "\r\n") {
		return nil, fmt.Errorf("line %q has a line break", line)
	}
	data := line + "\n"
	if len(data)%fakesmscPiece == 1 {
		// "\r\n" is read as "\n" and leaves a last piece of 2 bytes.
		data = line + "\r\n"
	}
	var out []string
	for len(data) > 0 {
		n := min(len(data), fakesmscPiece)
		out = append(out, data[:n])
		data = data[n:]
	}
	return out, nil
}

// waitDrained waits until fakesmsc has read everything written to it.
func (f *fakeSMSC) waitDrained() error {
	deadline := time.Now().Add(drainTimeout)
	for {
		n, err := pipeUnread(f.stdin)
		if err != nil {
			return fmt.Errorf("fakesmsc's input: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-f.done:
			return fmt.Errorf("fakesmsc exited: %v", f.err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fakesmsc has not read its input for %v", drainTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// poke has fakesmsc read what Kannel sent now rather than after its
// one-second input timeout. It does nothing if an MO is being written or
// fakesmsc has input to read already, which wakes it as well.
func (f *fakeSMSC) poke() error {
	if !f.writeMu.TryLock() {
		return nil
	}
	defer f.writeMu.Unlock()
	n, err := pipeUnread(f.stdin)
	if err != nil {
		return fmt.Errorf("fakesmsc's input: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := f.stdin.WriteString("\n"); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("write to fakesmsc: %w", err)
	}
	return nil
}
