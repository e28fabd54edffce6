package kanneltest

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// These tests need no Kannel: they check the recommended configuration and
// the harness's own encoding and decoding.

// TestRecommendedConfig checks the settings operators are told to use.
func TestRecommendedConfig(t *testing.T) {
	path, err := recommendedPath()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := readConf(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"core":         {"sms-combine-concatenated-mo": "true"},
		"smsbox":       {"mo-recode": "true"},
		"sendsms-user": {"max-messages": "10", "concatenation": "true"},
		"sms-service": {
			"keyword":                 "default",
			"get-url":                 "https://gw.example.org/sms/kannel?from=%p&to=%P&text=%b&id=%I&coding=%c&charset=%C",
			"accept-x-kannel-headers": "true",
			"max-messages":            "10",
			"concatenation":           "true",
			"omit-empty":              "true",
		},
	}
	for name, settings := range want {
		gs := findGroups(groups, name)
		if len(gs) != 1 {
			t.Fatalf("%d %s groups, want 1", len(gs), name)
		}
		for k, v := range settings {
			if got, _ := gs[0].get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
	}
	if len(findGroups(groups, "smsc")) != 1 {
		t.Errorf("want one example smsc group")
	}
	smsbox := findGroups(groups, "smsbox")[0]
	retry, _ := smsbox.get("http-request-retry")
	delay, _ := smsbox.get("http-queue-delay")
	r, err1 := strconv.Atoi(retry)
	d, err2 := strconv.Atoi(delay)
	if err1 != nil || err2 != nil || r*d < 5*60 {
		t.Errorf("http-request-retry %q x http-queue-delay %q: want at least five minutes of retries", retry, delay)
	}
}

// TestConfRoundTrip checks that the configuration the harness writes
// reads back as it was.
func TestConfRoundTrip(t *testing.T) {
	in := []*group{{name: "core", settings: []setting{{"a", `x "y" \ z`}, {"b", ""}}}, {name: "smsbox", settings: []setting{{"c", "1"}}}}
	out := renderConf(in)
	path := filepath.Join(t.TempDir(), "k.conf")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := readConf(path)
	if err != nil {
		t.Fatal(err)
	}
	if renderConf(back) != out {
		t.Errorf("round trip:\n%s\nbecame\n%s", out, renderConf(back))
	}
	if _, err := parseConf(bufio.NewScanner(strings.NewReader("group = core\nfoo = \"/etc/include/x\"\n"))); err == nil {
		t.Error("a value with include in it must be refused: Kannel would take it as a directive")
	}
}

// TestPieces checks that every line is cut as fakesmsc can read it: full
// 255-byte pieces, then a last one of at least 2 bytes ending the line.
func TestPieces(t *testing.T) {
	for n := 0; n < 3*fakesmscPiece; n++ {
		line := strings.Repeat("x", n)
		ps, err := pieces(line)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ps {
			last := i == len(ps)-1
			if !last && len(p) != fakesmscPiece || last && (len(p) < 2 || !strings.HasSuffix(p, "\n")) {
				t.Fatalf("line of %d bytes: piece %d of %d is %d bytes", n, i+1, len(ps), len(p))
			}
		}
		if got := strings.TrimSuffix(strings.TrimSuffix(strings.Join(ps, ""), "\n"), "\r"); got != line {
			t.Fatalf("line of %d bytes: pieces join to %d bytes", n, len(got))
		}
	}
	if _, err := pieces("a\nb"); err == nil {
		t.Error("a line with a line break must be refused")
	}
}

// TestDecode feeds the decoder lines and access log entries as Kannel
// writes them.
func TestDecode(t *testing.T) {
	dir := t.TempDir()
	d := &decoder{accessLog: filepath.Join(dir, "access.log")}
	log := strings.Join([]string{
		"2026-01-01 00:00:00 Log begins",
		"2026-01-01 00:00:00 Receive SMS|0|+86138|10086|STATUS",
		"2026-01-01 00:00:01 Sent SMS|0|10086|+86138|1. Balance.2. Top up",
		"2026-01-01 00:00:02 Sent SMS|2|10086|+86138|72B66001",
		"",
	}, "\n")
	if err := os.WriteFile(d.accessLog, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"10086 +86138 text 1. Balance",
		"2. Top up",
		"10086 +86138 udh %05%00%03%07%02%02 data %60%01",
		"10086 +86138 udh %05%00%03%07%02%01 data r%B6",
		"10086 +86138 ucs-2 O%60Y%7D",
	}
	n, err := d.decode(lines)
	if err != nil || n != len(lines) {
		t.Fatalf("decoded %d of %d lines: %v", n, len(lines), err)
	}
	want := []struct {
		text   string
		coding Coding
		parts  int
	}{{"1. Balance\n2. Top up", Coding7Bit, 1}, {"状态", CodingUCS2, 2}, {"你好", CodingUCS2, 1}}
	if len(d.ready) != len(want) {
		t.Fatalf("%d messages, want %d", len(d.ready), len(want))
	}
	for i, w := range want {
		m := d.ready[i]
		if m.Text != w.text || m.Coding != w.coding || len(m.Parts) != w.parts || m.From != "10086" || m.To != "+86138" {
			t.Errorf("message %d: %+v, want %q %v in %d parts", i, m, w.text, w.coding, w.parts)
		}
	}

	// A text line whose access log entry has not been written waits.
	d2 := &decoder{accessLog: d.accessLog}
	d2.used = map[int]bool{1: true}
	if n, err := d2.decode([]string{"10086 +86138 text OK"}); n != 0 || err != nil {
		t.Errorf("decoded %d lines without their log entry: %v", n, err)
	}
}
