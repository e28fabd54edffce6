package kanneltest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// These tests run the harness against a stand-in for the gateway and
// record what real Kannel does with the messages the gateway must handle:
// what the get-url receives, which replies reach the phone intact, what
// sendsms takes, which delivery reports the fake SMSC makes and how smsbox
// rides out an outage. Run with -v to see the raw values.

// wait bounds every wait for something Kannel does within milliseconds.
const wait = 10 * time.Second

// The messages the gateway must handle, and a long one: about 200
// characters of ordinary Chinese, with the full-width punctuation and
// quotes Chinese text is full of.
var (
	asciiMO  = "STATUS"
	statusMO = "状态"
	demandMO = "需求 C0001 6 2"
	longMO   = string([]rune(strings.Repeat("尊敬的客户，您好！您提交的需求单C0001已受理，工程师将在两个工作日内与您联系，请保持电话畅通。查询进度请回复“状态”。", 4))[:200])
	phone    = "+8613800138000"
	service  = "10086"
)

// recommendedGetURL is the recommended get-url with its host replaced by
// base, so that the tests call the stand-in with the same query.
func recommendedGetURL(t *testing.T, base string) string {
	t.Helper()
	path, err := recommendedPath()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := readConf(path)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := findGroups(groups, "sms-service")[0].get("get-url")
	const host = "https://gw.example.org"
	if !strings.HasPrefix(u, host) {
		t.Fatalf("recommended get-url %q does not start with %s", u, host)
	}
	return base + strings.TrimPrefix(u, host)
}

// call is one request the stand-in gateway received.
type call struct {
	at    time.Time
	path  string
	raw   string // the query as sent
	query url.Values
}

// answer is what the stand-in answers a get-url call with.
type answer struct {
	status int
	header map[string]string
	body   []byte
}

// gateway stands in for the gateway: /sms/kannel records each call and
// answers it as the current answering function says (an empty 200 unless
// set), /dlr records delivery reports.
type gateway struct {
	*httptest.Server
	calls chan call
	dlrs  chan call

	mu  sync.Mutex
	ans func(call) answer
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{calls: make(chan call, 100), dlrs: make(chan call, 100)}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.Close)
	return g
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := call{at: time.Now(), path: r.URL.Path, raw: r.URL.RawQuery, query: q}
	if r.URL.Path == "/dlr" {
		g.dlrs <- c
		io.WriteString(w, "ok")
		return
	}
	g.calls <- c
	g.mu.Lock()
	var a answer
	if g.ans != nil {
		a = g.ans(c)
	}
	g.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	if a.header["Content-Type"] == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(max(a.status, http.StatusOK))
	w.Write(a.body)
}

// answer has every call answered with a.
func (g *gateway) answer(a answer) {
	g.answerBy(func(call) answer { return a })
}

// answerBy has each call answered as f says.
func (g *gateway) answerBy(f func(call) answer) {
	g.mu.Lock()
	g.ans = f
	g.mu.Unlock()
}

// next returns the next call to ch.
func next(t *testing.T, ch <-chan call, what string) call {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
		return call{}
	}
}

// none fails if a call comes to ch within d.
func none(t *testing.T, ch <-chan call, d time.Duration, what string) {
	t.Helper()
	select {
	case c := <-ch:
		t.Fatalf("unexpected %s: %s", what, c.raw)
	case <-time.After(d):
	}
}

// utf16BE encodes s as UCS-2 is sent, big-endian with surrogate pairs.
func utf16BE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// latin1 reads b as ISO-8859-1.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// TestGetURLParameters records what the recommended get-url receives for
// each message, with mo-recode off and on: with %b, the message's bytes
// exactly, by its coding and charset. (%a, which an earlier version of the
// recommendation used, splits UCS-2 text at bytes that look like white
// space and mangles it without mo-recode.)
func TestGetURLParameters(t *testing.T) {
	t.Parallel()
	longASCII := strings.TrimSpace(strings.Repeat("STATUS C0001 ", 25))
	cases := []struct {
		name string
		text string
		// intactWithoutRecode: the text arrives whole without mo-recode.
		intactWithoutRecode bool
		// raw is the text parameter as Kannel writes it into the query,
		// with mo-recode off and on; empty for long texts.
		raw [2]string
	}{
		{"ascii", asciiMO, true, [2]string{"STATUS", "STATUS"}},
		{"chinese", statusMO, true, [2]string{"r%B6%60%01", "%E7%8A%B6%E6%80%81"}},
		{"chinese with ascii and spaces", demandMO, true,
			[2]string{"%97%00lB%00+%00C%000%000%000%001%00+%006%00+%002", "%E9%9C%80%E6%B1%82+C0001+6+2"}},
		{"long chinese", longMO, true, [2]string{}},
		// A 7-bit MO in two parts with a UDH, which bearerbox joins.
		{"long ascii", longASCII, true, [2]string{}},
	}
	for _, recode := range []bool{false, true} {
		t.Run(fmt.Sprintf("mo-recode=%v", recode), func(t *testing.T) {
			t.Parallel()
			gw := newGateway(t)
			k := Start(t, Config{GetURL: recommendedGetURL(t, gw.URL), MORecode: new(recode)})
			ids := map[string]bool{}
			for _, c := range cases {
				k.MO(t, phone, service, c.text)
				got := next(t, gw.calls, "get-url call")
				q := got.query
				t.Logf("%s: %s", c.name, got.raw)

				if q.Get("from") != phone || q.Get("to") != service {
					t.Errorf("%s: from=%q to=%q", c.name, q.Get("from"), q.Get("to"))
				}
				if id := q.Get("id"); len(id) != 36 || ids[id] {
					t.Errorf("%s: id %q: want a fresh UUID", c.name, id)
				} else {
					ids[id] = true
				}

				raw := c.raw[0]
				if recode {
					raw = c.raw[1]
				}
				if raw != "" && !strings.Contains(got.raw, "&text="+raw+"&") {
					t.Errorf("%s: query %s, want text=%s", c.name, got.raw, raw)
				}

				text := []byte(q.Get("text"))
				ucs2 := !printableASCII(c.text) && !recode
				wantText, wantCoding, wantCharset := []byte(c.text), "0", "UTF-8"
				if ucs2 {
					wantText, wantCoding, wantCharset = utf16BE(c.text), "2", "UTF-16BE"
				}
				if string(text) != string(wantText) {
					t.Errorf("%s: text\n got % x\nwant % x", c.name, text, wantText)
				}
				if q.Get("coding") != wantCoding || q.Get("charset") != wantCharset {
					t.Errorf("%s: coding=%q charset=%q, want %s and %s", c.name, q.Get("coding"), q.Get("charset"), wantCoding, wantCharset)
				}

				decoded := string(text)
				if ucs2 {
					decoded = decodeUTF16BE(text)
				}
				intact := decoded == c.text
				if want := recode || c.intactWithoutRecode; intact != want {
					t.Errorf("%s: text arrived intact: %v, want %v:\n got %q\nwant %q", c.name, intact, want, decoded, c.text)
				}
			}
		})
	}
}

// TestReplies records which HTTP responses to the get-url reach the
// phone intact: the reply to an MO is the response body.
func TestReplies(t *testing.T) {
	t.Parallel()
	gw := newGateway(t)
	k := Start(t, Config{GetURL: recommendedGetURL(t, gw.URL)})

	const zh = "状态：正常"
	longReply := string([]rune(strings.Repeat("您的需求单C0001已受理，工程师将在两个工作日内联系您。", 20))[:300])
	longASCII := strings.Repeat("0123456789", 40)
	utf8Plain := "text/plain; charset=utf-8"
	ucs2 := map[string]string{"Content-Type": utf8Plain, "X-Kannel-Coding": "2"}

	cases := []struct {
		name      string
		mo        string
		ans       answer
		want      string // the text the phone must show
		coding    Coding
		parts     int
		garbledTo string // set when the phone gets this instead of want
	}{
		{name: "ascii", mo: asciiMO, ans: answer{body: []byte("OK")}, want: "OK", coding: Coding7Bit, parts: 1},
		{name: "ascii menu with line breaks", mo: asciiMO, ans: answer{body: []byte("1. Balance\n2. Top up")}, want: "1. Balance\n2. Top up", coding: Coding7Bit, parts: 1},
		{name: "utf-8 chinese, no headers", mo: statusMO, ans: answer{body: []byte(zh)},
			want: zh, coding: Coding7Bit, parts: 1, garbledTo: strings.Repeat("?", utf8.RuneCountInString(zh))},
		{name: "utf-8 chinese, coding 2, charset utf-8", mo: statusMO, ans: answer{header: ucs2, body: []byte(zh)},
			want: zh, coding: CodingUCS2, parts: 1},
		{name: "utf-16be chinese, coding 2, charset utf-16be", mo: demandMO,
			ans:  answer{header: map[string]string{"Content-Type": "text/plain; charset=UTF-16BE", "X-Kannel-Coding": "2"}, body: utf16BE(zh)},
			want: zh, coding: CodingUCS2, parts: 1},
		// A text/* type without a charset is ISO-8859-1 to Kannel (RFC
		// 2616, gwlib/http.c), which it converts byte by byte.
		{name: "utf-16be chinese, coding 2, no charset", mo: demandMO,
			ans:  answer{header: map[string]string{"Content-Type": "text/plain", "X-Kannel-Coding": "2"}, body: utf16BE(zh)},
			want: zh, coding: CodingUCS2, parts: 1, garbledTo: latin1(utf16BE(zh))},
		{name: "utf-8 chinese, coding 2, no charset", mo: statusMO,
			ans:  answer{header: map[string]string{"Content-Type": "text/plain", "X-Kannel-Coding": "2"}, body: []byte(zh)},
			want: zh, coding: CodingUCS2, parts: 1, garbledTo: latin1([]byte(zh))},
		// Not text/*: no charset, no conversion.
		{name: "utf-16be chinese, coding 2, application/octet-stream", mo: statusMO,
			ans:  answer{header: map[string]string{"Content-Type": "application/octet-stream", "X-Kannel-Coding": "2"}, body: utf16BE(zh)},
			want: zh, coding: CodingUCS2, parts: 1},
		// What GSM 7-bit can show needs no header; what it cannot becomes '?'.
		{name: "utf-8 gsm text beyond ascii, no headers", mo: asciiMO, ans: answer{body: []byte("Prix: 5€ {ok} à Genève")},
			want: "Prix: 5€ {ok} à Genève", coding: Coding7Bit, parts: 1},
		{name: "utf-8 text beyond gsm, no headers", mo: asciiMO, ans: answer{body: []byte("à bientôt")},
			want: "à bientôt", coding: Coding7Bit, parts: 1, garbledTo: "à bient?t"},
		{name: "300 chinese characters, coding 2", mo: longMO, ans: answer{header: ucs2, body: []byte(longReply)},
			want: longReply, coding: CodingUCS2, parts: 5},
		{name: "400 ascii characters", mo: asciiMO, ans: answer{body: []byte(longASCII)},
			want: longASCII, coding: Coding7Bit, parts: 3},
	}
	for _, c := range cases {
		gw.answer(c.ans)
		k.MO(t, phone, service, c.mo)
		next(t, gw.calls, "get-url call")
		m := k.MT(t, wait)
		t.Logf("%s: %v, %d parts, %q; first part: %s", c.name, m.Coding, len(m.Parts), m.Text, m.Parts[0].Line)

		if m.From != service || m.To != phone {
			t.Errorf("%s: from %q to %q", c.name, m.From, m.To)
		}
		want := c.want
		if c.garbledTo != "" {
			want = c.garbledTo
		}
		if m.Text != want || m.Coding != c.coding || len(m.Parts) != c.parts {
			t.Errorf("%s: got %v in %d parts %q, want %v in %d parts %q", c.name, m.Coding, len(m.Parts), m.Text, c.coding, c.parts, want)
		}
		for i, p := range m.Parts {
			if c.parts > 1 && len(p.UDH) == 0 {
				t.Errorf("%s: part %d has no UDH", c.name, i+1)
			}
		}
	}

	t.Run("empty reply sends nothing", func(t *testing.T) {
		gw.answer(answer{})
		k.MO(t, phone, service, statusMO)
		next(t, gw.calls, "get-url call")
		k.NoMT(t, time.Second)
	})
}

// TestSendSMS records which sendsms parameters get Chinese to the phone.
func TestSendSMS(t *testing.T) {
	t.Parallel()
	k := Start(t, Config{})

	const zh = "您的需求单C0001已受理"
	long := string([]rune(strings.Repeat("您的需求单C0001已受理，工程师将在两个工作日内联系您。", 20))[:300])
	utf16 := string(utf16BE(zh))
	cases := []struct {
		name      string
		q         url.Values
		status    int
		answer    string
		want      string
		coding    Coding
		parts     int
		garbledTo string
	}{
		{name: "coding 2, charset utf-8, utf-8 text",
			q:      url.Values{"from": {service}, "to": {phone}, "coding": {"2"}, "charset": {"UTF-8"}, "text": {zh}},
			status: http.StatusAccepted, answer: "0: Accepted for delivery", want: zh, coding: CodingUCS2, parts: 1},
		{name: "coding 2, no charset, utf-16be text",
			q:      url.Values{"from": {service}, "to": {phone}, "coding": {"2"}, "text": {utf16}},
			status: http.StatusAccepted, answer: "0: Accepted for delivery", want: zh, coding: CodingUCS2, parts: 1},
		{name: "coding 2, charset utf-16be, utf-16be text",
			q:      url.Values{"from": {service}, "to": {phone}, "coding": {"2"}, "charset": {"UTF-16BE"}, "text": {utf16}},
			status: http.StatusAccepted, answer: "0: Accepted for delivery", want: zh, coding: CodingUCS2, parts: 1},
		{name: "coding 2, no charset, utf-8 text",
			q:      url.Values{"from": {service}, "to": {phone}, "coding": {"2"}, "text": {zh}},
			status: http.StatusAccepted, answer: "0: Accepted for delivery", want: zh, coding: CodingUCS2, parts: 1,
			garbledTo: decodeUTF16BE([]byte(zh))},
		{name: "no coding, utf-8 text",
			q:      url.Values{"from": {service}, "to": {phone}, "charset": {"UTF-8"}, "text": {zh}},
			status: http.StatusAccepted, answer: "0: Accepted for delivery", want: zh, coding: Coding7Bit, parts: 1,
			garbledTo: "?????C0001???"},
		{name: "300 characters, coding 2, charset utf-8",
			q:      url.Values{"from": {service}, "to": {phone}, "coding": {"2"}, "charset": {"UTF-8"}, "text": {long}},
			status: http.StatusAccepted, answer: "0: Accepted for delivery", want: long, coding: CodingUCS2, parts: 5},
		{name: "no sender",
			q:      url.Values{"to": {phone}, "coding": {"2"}, "charset": {"UTF-8"}, "text": {zh}},
			status: http.StatusBadRequest, answer: "Sender missing and no global set, rejected"},
	}
	for _, c := range cases {
		status, answer := k.SendSMS(t, c.q)
		t.Logf("%s: HTTP %d %q", c.name, status, answer)
		if status != c.status || answer != c.answer {
			t.Errorf("%s: HTTP %d %q, want %d %q", c.name, status, answer, c.status, c.answer)
		}
		if c.status != http.StatusAccepted {
			continue
		}
		m := k.MT(t, wait)
		t.Logf("%s: %v, %d parts, %q", c.name, m.Coding, len(m.Parts), m.Text)
		want := c.want
		if c.garbledTo != "" {
			want = c.garbledTo
		}
		if m.From != service || m.To != phone || m.Text != want || m.Coding != c.coding || len(m.Parts) != c.parts {
			t.Errorf("%s: got %s->%s %v in %d parts %q, want %v in %d parts %q", c.name, m.From, m.To, m.Coding, len(m.Parts), m.Text, c.coding, c.parts, want)
		}
	}
	// The rejected send must not have sent anything after all.
	k.NoMT(t, 200*time.Millisecond)

	t.Run("default sender", func(t *testing.T) {
		t.Parallel()
		k := Start(t, Config{DefaultSender: service})
		status, answer := k.SendSMS(t, url.Values{"to": {phone}, "text": {"OK"}})
		if status != http.StatusAccepted {
			t.Fatalf("HTTP %d %q", status, answer)
		}
		if m := k.MT(t, wait); m.From != service || m.Text != "OK" {
			t.Errorf("got %+v", m)
		}
	})
}

// TestDeliveryReports records the reports the fake SMSC makes for a sent
// message: which %d types, in which order, for one part and for five.
func TestDeliveryReports(t *testing.T) {
	t.Parallel()
	gw := newGateway(t)
	k := Start(t, Config{GetURL: recommendedGetURL(t, gw.URL)})
	dlrURL := func(id string) string {
		return gw.URL + "/dlr?id=" + id + "&type=%d&smsc=%i&reply=%A"
	}
	long := string([]rune(strings.Repeat("您的需求单C0001已受理，工程师将在两个工作日内联系您。", 20))[:300])

	cases := []struct {
		name  string
		mask  int
		text  string
		parts int
		want  []string // %d of the reports, in ascending order
	}{
		// The gateway's mask: delivered, undelivered, SMSC ack and nack.
		{name: "mask 27", mask: 27, text: "您好", parts: 1, want: []string{"1", "8"}},
		// Every type: the fake SMSC still makes only 8 and 1.
		{name: "mask 31", mask: 31, text: "您好", parts: 1, want: []string{"1", "8"}},
		{name: "mask 1", mask: DLRDelivered, text: "您好", parts: 1, want: []string{"1"}},
		{name: "mask 8", mask: DLRSMSCAck, text: "您好", parts: 1, want: []string{"8"}},
		{name: "mask 27, five parts", mask: 27, text: long, parts: 5, want: []string{"1", "8"}},
	}
	for i, c := range cases {
		id := strconv.Itoa(i + 1)
		status, answer := k.SendSMS(t, url.Values{
			"from": {service}, "to": {phone}, "coding": {"2"}, "charset": {"UTF-8"}, "text": {c.text},
			"dlr-mask": {strconv.Itoa(c.mask)}, "dlr-url": {dlrURL(id)},
		})
		if status != http.StatusAccepted {
			t.Fatalf("%s: HTTP %d %q", c.name, status, answer)
		}
		if m := k.MT(t, wait); len(m.Parts) != c.parts || m.Text != c.text {
			t.Fatalf("%s: got %d parts %q", c.name, len(m.Parts), m.Text)
		}
		got := reports(t, gw, id)
		t.Logf("%s: report types %v", c.name, got)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: report types %v, want %v", c.name, got, c.want)
		}
	}

	t.Run("reply asks for reports with X-Kannel headers", func(t *testing.T) {
		gw.answer(answer{header: map[string]string{
			"Content-Type": "text/plain; charset=utf-8", "X-Kannel-Coding": "2",
			"X-Kannel-DLR-Mask": "27", "X-Kannel-DLR-URL": dlrURL("reply"),
		}, body: []byte("您好")})
		k.MO(t, phone, service, statusMO)
		next(t, gw.calls, "get-url call")
		k.MT(t, wait)
		got := reports(t, gw, "reply")
		if strings.Join(got, ",") != "1,8" {
			t.Errorf("report types %v, want [1 8]", got)
		}
	})
}

// reports collects the delivery reports for message id until none has
// come for a while, and returns their types in ascending order: smsbox
// makes the calls in parallel, so they arrive in any order.
func reports(t *testing.T, gw *gateway, id string) []string {
	t.Helper()
	var got []string
	d := next(t, gw.dlrs, "delivery report")
	for {
		t.Logf("report %s", d.raw)
		if d.query.Get("id") != id {
			t.Errorf("report for message %q, want %q", d.query.Get("id"), id)
		}
		got = append(got, d.query.Get("type"))
		select {
		case d = <-gw.dlrs:
			continue
		case <-time.After(500 * time.Millisecond):
		}
		break
	}
	sort.Slice(got, func(i, j int) bool {
		a, _ := strconv.Atoi(got[i])
		b, _ := strconv.Atoi(got[j])
		return a < b
	})
	return got
}

// TestFaultGatewayOutage shows that with the recommended retry settings an
// incoming message reaches a gateway that was down when it arrived, once
// the gateway is back.
func TestFaultGatewayOutage(t *testing.T) {
	t.Parallel()
	const outage = 3 * time.Second
	delay := recommendedQueueDelay(t)

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		// A port nothing listens on, until the gateway comes back on it.
		ports, err := freePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
		k := Start(t, Config{GetURL: recommendedGetURL(t, "http://"+addr)})

		sent := time.Now()
		k.MO(t, phone, service, statusMO)
		time.Sleep(outage) // the outage itself, not a wait for readiness
		gw := &gateway{calls: make(chan call, 10), dlrs: make(chan call, 10)}
		gw.answer(answer{header: map[string]string{"X-Kannel-Coding": "2", "Content-Type": "text/plain; charset=utf-8"}, body: []byte("收到")})
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("gateway cannot come back on %s: %v", addr, err)
		}
		gw.Server = httptest.NewUnstartedServer(http.HandlerFunc(gw.serve))
		gw.Listener = l
		gw.Start()
		t.Cleanup(gw.Close)

		c := next(t, gw.calls, "get-url call after the outage")
		late := c.at.Sub(sent)
		t.Logf("down %v, http-queue-delay %v: delivered %v after the MO, 1 call seen", outage, delay, late.Round(time.Millisecond))
		if late < outage || late > outage+delay+2*time.Second {
			t.Errorf("delivered %v after the MO, want between %v and %v", late, outage, outage+delay+2*time.Second)
		}
		if m := k.MT(t, wait); m.Text != "收到" {
			t.Errorf("reply %q", m.Text)
		}
		none(t, gw.calls, 200*time.Millisecond, "get-url call")
	})

	t.Run("503", func(t *testing.T) {
		t.Parallel()
		gw := newGateway(t)
		k := Start(t, Config{GetURL: recommendedGetURL(t, gw.URL)})

		sent := time.Now()
		up := sent.Add(outage)
		gw.answerBy(func(c call) answer {
			if c.at.Before(up) {
				return answer{status: http.StatusServiceUnavailable, body: []byte("down")}
			}
			return answer{header: map[string]string{"X-Kannel-Coding": "2", "Content-Type": "text/plain; charset=utf-8"}, body: []byte("收到")}
		})
		k.MO(t, phone, service, statusMO)
		var calls []call
		for {
			c := next(t, gw.calls, "get-url call")
			calls = append(calls, c)
			if !c.at.Before(up) {
				break
			}
		}
		m := k.MT(t, wait)
		none(t, gw.calls, 200*time.Millisecond, "get-url call")

		var at []string
		for _, c := range calls {
			at = append(at, c.at.Sub(sent).Round(time.Millisecond).String())
		}
		late := calls[len(calls)-1].at.Sub(sent)
		t.Logf("503 for %v, http-queue-delay %v: %d calls, at %v after the MO", outage, delay, len(calls), at)
		if m.Text != "收到" {
			t.Errorf("reply %q", m.Text)
		}
		if want := int(outage/delay) + 2; len(calls) != want {
			t.Errorf("%d calls, want %d", len(calls), want)
		}
		if late < outage || late > outage+delay+2*time.Second {
			t.Errorf("delivered %v after the MO, want between %v and %v", late, outage, outage+delay+2*time.Second)
		}
		for i := 1; i < len(calls); i++ {
			if gap := calls[i].at.Sub(calls[i-1].at); gap < delay-500*time.Millisecond || gap > delay+2*time.Second {
				t.Errorf("retry %d came %v after the call before, want about %v", i, gap, delay)
			}
		}
	})
}

// TestRetryOn400 shows that smsbox retries any answer but 200 and 202,
// a 400 for a message the gateway refuses included, that Config's retry
// settings take effect, and that the phone gets nothing when they run out.
func TestRetryOn400(t *testing.T) {
	t.Parallel()
	gw := newGateway(t)
	k := Start(t, Config{GetURL: recommendedGetURL(t, gw.URL), HTTPRequestRetry: new(2), HTTPQueueDelay: time.Second})
	gw.answer(answer{status: http.StatusBadRequest, body: []byte("bad request")})
	k.MO(t, phone, service, asciiMO)
	first := next(t, gw.calls, "get-url call")
	for i := 1; i <= 2; i++ {
		c := next(t, gw.calls, "retried get-url call")
		t.Logf("retry %d after %v", i, c.at.Sub(first.at).Round(time.Millisecond))
	}
	none(t, gw.calls, 1500*time.Millisecond, "get-url call after the last retry")
	// Once retries run out smsbox sends reply-couldnotfetch, which the
	// recommended configuration leaves empty: nothing.
	k.NoMT(t, 500*time.Millisecond)
}

// recommendedQueueDelay is the recommended http-queue-delay.
func recommendedQueueDelay(t *testing.T) time.Duration {
	t.Helper()
	path, err := recommendedPath()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := readConf(path)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := findGroups(groups, "smsbox")[0].get("http-queue-delay")
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("http-queue-delay %q: %v", v, err)
	}
	return time.Duration(n) * time.Second
}
