// Package sendertest gives tests of outbound SMS a fake carrier API on
// loopback and an HTTP client that cannot reach anything else, so that no
// test ever sends a real message or leaks one off the machine; and, for
// delivery report handlers, a Fiber app that maps errors as the gateway
// does and a way to put a sent message in the store.
package sendertest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/wiretest"
	"github.com/barefoot-ussd/barefoot/menus/sms"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/gofiber/fiber/v2"
)

// Transport returns a transport that dials only loopback IP addresses
// (127.0.0.0/8 and ::1). Anything else, host names included, is refused
// before any lookup, and proxies from the environment are ignored.
func Transport() *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return nil, fmt.Errorf("sendertest: refusing to dial %q: %w", address, err)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("sendertest: refusing to dial %s: not a loopback address", address)
			}
			return dialer.DialContext(ctx, network, address)
		},
		ForceAttemptHTTP2:   false,
		MaxIdleConnsPerHost: 16,
	}
}

// Client returns an http.Client over Transport with a 10 s timeout.
func Client() *http.Client {
	return &http.Client{Transport: Transport(), Timeout: 10 * time.Second}
}

// Request is one request a fake carrier received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	// Form holds the query and, for a form POST, the body's fields.
	Form url.Values
	Body string
}

// Reply is what a fake carrier answers.
type Reply struct {
	Status      int
	ContentType string
	Body        string
}

// JSON is a Reply with a JSON body.
func JSON(status int, body string) Reply {
	return Reply{Status: status, ContentType: "application/json", Body: body}
}

// Text is a Reply with a plain text body.
func Text(status int, body string) Reply {
	return Reply{Status: status, ContentType: "text/plain; charset=utf-8", Body: body}
}

// Carrier is a fake carrier API listening on loopback.
type Carrier struct {
	URL     string
	respond func(Request) Reply

	mu   sync.Mutex
	reqs []Request
}

// NewCarrier starts a fake carrier that answers every request with
// respond, which may be called concurrently. It stops when the test ends.
func NewCarrier(tb testing.TB, respond func(Request) Reply) *Carrier {
	tb.Helper()
	c := &Carrier{respond: respond}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	tb.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

func (c *Carrier) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := r.URL.Query()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		fields, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for k, v := range fields {
			form[k] = append(form[k], v...)
		}
	}
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: form, Body: string(body)}
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()

	rep := c.respond(req)
	if rep.ContentType != "" {
		w.Header().Set("Content-Type", rep.ContentType)
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

// Requests returns the requests received so far, in order of arrival.
func (c *Carrier) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.reqs...)
}

// Last returns the last request received, failing the test if there was
// none.
func (c *Carrier) Last(tb testing.TB) Request {
	tb.Helper()
	reqs := c.Requests()
	if len(reqs) == 0 {
		tb.Fatal("sendertest: the carrier received no request")
	}
	return reqs[len(reqs)-1]
}

// App returns a Fiber app serving h at method and path, whose error
// handler maps errors as the gateway's does: a *wire.Error to its status,
// anything else to 500.
func App(method, path string, h fiber.Handler) *fiber.App {
	return wiretest.App(method, path, h)
}

// Do sends req to app and returns the status and body.
func Do(tb testing.TB, app *fiber.App, req *http.Request) (int, string) {
	tb.Helper()
	resp, err := app.Test(req, 5000)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// PostForm is a form POST to path, for Do.
func PostForm(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// MustSent stores m as an outbound message the carrier accepted under
// carrierID, as the sender leaves it, and returns its id. "{id}" in
// carrierID is replaced by the message's id, which is Kannel's carrier id.
// It claims every message due, so call it before queueing messages a test
// means to send.
func MustSent(tb testing.TB, db *storage.DB, m sms.Message, carrierID string) int64 {
	tb.Helper()
	ctx := tb.Context()
	if m.Kind == "" {
		m.Kind = sms.KindAlert
	}
	id, _, err := db.Enqueue(ctx, m)
	if err != nil {
		tb.Fatalf("sendertest: enqueue: %v", err)
	}
	claimed, err := db.ClaimDue(ctx, 1000, time.Hour)
	if err != nil {
		tb.Fatalf("sendertest: claim: %v", err)
	}
	for _, c := range claimed {
		if c.ID == id {
			if err := db.MarkSent(ctx, id, strings.ReplaceAll(carrierID, "{id}", strconv.FormatInt(id, 10))); err != nil {
				tb.Fatalf("sendertest: mark sent: %v", err)
			}
			return id
		}
	}
	tb.Fatalf("sendertest: message %d was not due", id)
	return 0
}

// Status returns the stored status of a message.
func Status(tb testing.TB, db *storage.DB, id int64) string {
	tb.Helper()
	m, err := db.MessageByID(tb.Context(), id)
	if err != nil {
		tb.Fatalf("sendertest: %v", err)
	}
	return m.Status
}

// Outcome is how a send must end: with the carrier's id ID, or, when
// Reason is set, failed with an error whose text holds Reason and that is
// retryable or final as Retry says.
type Outcome struct {
	ID     string
	Retry  bool
	Reason string
}

// SendCase is one answer of a fake carrier and the outcome a send must
// have with it.
type SendCase struct {
	Name  string
	Reply Reply
	Outcome
}

// RunSends sends m, in parallel, through the client that client builds for
// each case's own fake carrier, and checks how each send ends. A failure
// may quote neither m's phone number nor its body, nor any of secrets.
func RunSends(t *testing.T, client func(url string) sender.Client, m sms.Message, secrets []string, cases ...SendCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			carrier := NewCarrier(t, func(Request) Reply { return tc.Reply })
			id, err := client(carrier.URL).Send(t.Context(), m)
			if tc.Reason == "" {
				if err != nil || id != tc.ID {
					t.Fatalf("Send = %q, %v; want %q", id, err, tc.ID)
				}
				return
			}
			if err == nil {
				t.Fatalf("Send = %q, nil; want an error", id)
			}
			CheckFailed(t, err, tc.Outcome, m, secrets...)
		})
	}
}

// CheckFailed checks that err, from sending m, is the failure want says,
// and that its text, stored and logged, quotes neither m's phone number
// (with or without its +) nor its body, nor any of secrets.
func CheckFailed(tb testing.TB, err error, want Outcome, m sms.Message, secrets ...string) {
	tb.Helper()
	if sender.Retryable(err) != want.Retry || sender.Final(err) == want.Retry {
		tb.Errorf("%v: retryable %v, final %v; want retryable %v", err, sender.Retryable(err), sender.Final(err), want.Retry)
	}
	msg := err.Error()
	if !strings.Contains(msg, want.Reason) {
		tb.Errorf("reason %q does not say %q", msg, want.Reason)
	}
	for _, secret := range append([]string{m.Phone, strings.TrimPrefix(m.Phone, "+"), m.Body}, secrets...) {
		if secret != "" && strings.Contains(msg, secret) {
			tb.Errorf("reason %q quotes %q", msg, secret)
		}
	}
}
