// Package wiretest runs one carrier adapter on a bare Fiber app, with the
// gateway's mapping of refusals to statuses, so adapter tests drive it
// through real HTTP parsing without the rest of the gateway.
//
// A Harness replays the payloads recorded under fixtures/carriers and
// compares what comes of each with the outcome recorded beside it
// (zh.txt, zh.want): the status, what the adapter parsed, and its answer
// or refusal. `go test ./gateway/... -update` records the outcomes anew;
// the diff is reviewed like any change to the code.
package wiretest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/gateway"
	"github.com/barefoot-ussd/barefoot/gateway/conversation"
	"github.com/barefoot-ussd/barefoot/gateway/wire"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/gofiber/fiber/v2"
)

var update = flag.Bool("update", false, "record the outcomes (.want) of the carrier payloads under fixtures/carriers anew")

// App returns a Fiber app with h at method and path, whose error handler
// answers refusals (*wire.Error) with their status and anything else with
// 500, as the gateway does.
func App(method, path string, h fiber.Handler) *fiber.App {
	app := newApp()
	app.Add(method, path, h)
	return app
}

func newApp() *fiber.App {
	return fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadBufferSize:        gateway.ReadBufferSize,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			if e, ok := wire.AsError(err); ok {
				return c.Status(e.Status).SendString(e.Error())
			}
			return c.Status(http.StatusInternalServerError).SendString("internal error")
		},
	})
}

// SMSAdapter is what SMS needs of an inbound SMS adapter.
type SMSAdapter interface {
	Route() string
	Parse(c *fiber.Ctx) (sms.Message, error)
	Write(c *fiber.Ctx, reply string) error
}

// USSDAdapter is what USSD needs of a USSD adapter.
type USSDAdapter interface {
	Route() string
	Parse(c *fiber.Ctx) (conversation.Hop, error)
	Write(c *fiber.Ctx, h conversation.Hop, r conversation.Reply) error
}

// Harness is one adapter on a bare app, which keeps what the adapter
// parsed of each callback.
type Harness struct {
	// Path is where the adapter is mounted: /sms/<route> or /ussd/<route>.
	Path   string
	app    *fiber.App
	parsed chan any
}

// SMS mounts a at /sms/<route>, answering the messages it accepts with
// reply, as the gateway does with an inbound SMS adapter.
func SMS(tb testing.TB, a SMSAdapter, reply string) *Harness {
	return mount(tb, "/sms/"+a.Route(), a.Parse, func(c *fiber.Ctx, _ sms.Message) error { return a.Write(c, reply) })
}

// Screen is a reply for USSD harnesses: a menu in both scripts, with
// characters a carrier's format must escape.
var Screen = conversation.Reply{Text: "1. Record a visit <&>\n2. 上报需求"}

// USSD mounts a at /ussd/<route>, answering every hop it accepts with
// reply.
func USSD(tb testing.TB, a USSDAdapter, reply conversation.Reply) *Harness {
	return mount(tb, "/ussd/"+a.Route(), a.Parse, func(c *fiber.Ctx, h conversation.Hop) error { return a.Write(c, h, reply) })
}

// Mount serves, at path, a reader and a writer of another shape than an
// adapter's, such as a carrier's batch push (several messages a callback),
// which the harness keeps as parse returns them.
func Mount[T any](tb testing.TB, path string, parse func(*fiber.Ctx) (T, error), write func(*fiber.Ctx, T) error) *Harness {
	return mount(tb, path, parse, write)
}

// mount serves an adapter at path, for every method, so that the adapter
// itself answers the ones it does not take.
func mount[T any](tb testing.TB, path string, parse func(*fiber.Ctx) (T, error), write func(*fiber.Ctx, T) error) *Harness {
	// Buffered generously: a request that should have been refused fails
	// on its outcome rather than hang on the send.
	h := &Harness{Path: path, app: newApp(), parsed: make(chan any, 16)}
	h.app.All(path, func(c *fiber.Ctx) error {
		v, err := parse(c)
		if err != nil {
			return err
		}
		select {
		case h.parsed <- v:
		default:
			tb.Errorf("wiretest: more than %d callbacks parsed and not read", cap(h.parsed))
		}
		return write(c, v)
	})
	return h
}

// Outcome is what came of one callback.
type Outcome struct {
	Status int `json:"status"`
	// Parsed is what the adapter read, an sms.Message or a
	// conversation.Hop; nothing for a refused callback.
	Parsed any `json:"parsed,omitempty"`
	// ContentType is the answer's, for an accepted callback.
	ContentType string `json:"content_type,omitempty"`
	// Body is the answer, or the refusal.
	Body string `json:"body"`
}

// Refused is the outcome of a callback refused with status and body.
func Refused(status int, body string) Outcome {
	return Outcome{Status: status, Body: body}
}

// Text renders an outcome as stable, indented JSON, as .want files hold it.
func (o Outcome) Text(tb testing.TB) string {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // TwiML and screens stay readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(o); err != nil {
		tb.Fatalf("wiretest: %v", err)
	}
	return b.String()
}

// Do sends req and returns what came of it.
func (h *Harness) Do(tb testing.TB, req *http.Request) Outcome {
	tb.Helper()
	resp, err := h.app.Test(req, -1)
	if err != nil {
		tb.Fatalf("wiretest: %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("wiretest: %v", err)
	}
	out := Outcome{Status: resp.StatusCode, Body: string(body)}
	select {
	case out.Parsed = <-h.parsed:
		out.ContentType = resp.Header.Get(fiber.HeaderContentType)
	default:
	}
	return out
}

// Case is a callback built in code, such as one at a length limit, and
// what must come of it.
type Case struct {
	Name string
	// Requests carry the callback; every one must come out as Want.
	Requests []*http.Request
	Want     Outcome
}

// Run checks every case.
func (h *Harness) Run(t *testing.T, cases ...Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := c.Want.Text(t)
			for _, req := range c.Requests {
				if got := h.Do(t, req).Text(t); got != want {
					t.Errorf("%s %s came out\n%s\nwant\n%s", req.Method, req.URL, got, want)
				}
			}
		})
	}
}

// Carry turns a recorded payload into the requests that carry it to path,
// where the adapter is mounted.
type Carry func(tb testing.TB, path, file, payload string) []*http.Request

// Post carries a payload as the body of a POST, as JSON when its file ends
// .json and as a form otherwise. It is Replay's default.
func Post(_ testing.TB, path, file, payload string) []*http.Request {
	ct := fiber.MIMEApplicationForm
	if strings.HasSuffix(file, ".json") {
		ct = fiber.MIMEApplicationJSON
	}
	return []*http.Request{Request(http.MethodPost, path, ct, payload)}
}

// Request is a callback to target (a path and query) with body, whose
// Content-Type is contentType, or none when it is "".
func Request(method, target, contentType, body string) *http.Request {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set(fiber.HeaderContentType, contentType)
	}
	return req
}

// wantExt ends the file that holds a payload's recorded outcome.
const wantExt = ".want"

// Replay sends every payload recorded in fixtures/carriers/<dir> through
// the harness, in the requests carry makes of it (Post when nil), and
// compares what comes of each request with the outcome recorded beside
// the payload. With -update it records the outcome instead. An outcome
// whose payload is gone fails, or is removed with -update.
func (h *Harness) Replay(t *testing.T, dir string, carry Carry) {
	t.Helper()
	if carry == nil {
		carry = Post
	}
	entries, err := fs.ReadDir(fixtures.Carriers(), dir)
	if err != nil {
		t.Fatalf("wiretest: %v", err)
	}
	var files, wants []string
	payloads := map[string]string{} // by the name of their outcome's file
	for _, e := range entries {
		switch name := e.Name(); {
		case e.IsDir():
		case path.Ext(name) == wantExt:
			wants = append(wants, name)
		default:
			w := strings.TrimSuffix(name, path.Ext(name)) + wantExt
			if payloads[w] != "" {
				t.Fatalf("wiretest: %s and %s would share %s", payloads[w], name, w)
			}
			payloads[w] = name
			files = append(files, name)
		}
	}
	for _, w := range wants {
		if payloads[w] == "" {
			orphan(t, dir+"/"+w)
		}
	}
	for _, file := range files {
		w := strings.TrimSuffix(file, path.Ext(file)) + wantExt
		t.Run(file, func(t *testing.T) {
			payload := Fixture(t, dir+"/"+file)
			var got string
			for i, req := range carry(t, h.Path, file, payload) {
				out := h.Do(t, req).Text(t)
				if i > 0 && out != got {
					t.Errorf("%s %s came out\n%s\nbut the payload's first request\n%s", req.Method, req.URL, out, got)
				}
				got = out
			}
			if *update {
				record(t, dir+"/"+w, got)
				return
			}
			want, err := fs.ReadFile(fixtures.Carriers(), dir+"/"+w)
			if err != nil {
				t.Fatalf("no recorded outcome (%v); record it with go test -update", err)
			}
			if got != string(want) {
				t.Errorf("came out\n%s\nrecorded in %s\n%s", got, w, want)
			}
		})
	}
}

// Recorded returns the outcome recorded for a payload under
// fixtures/carriers ("generic/bad_event.json"), for tests that send it
// through the whole gateway. Parsed is the JSON as recorded.
func Recorded(tb testing.TB, payload string) Outcome {
	tb.Helper()
	w := strings.TrimSuffix(payload, path.Ext(payload)) + wantExt
	b, err := fs.ReadFile(fixtures.Carriers(), w)
	if err != nil {
		tb.Fatalf("wiretest: %v", err)
	}
	var o Outcome
	if err := json.Unmarshal(b, &o); err != nil {
		tb.Fatalf("wiretest: %s: %v", w, err)
	}
	return o
}

// Fixture returns a recorded carrier payload under fixtures/carriers.
// Editors add a final newline; no carrier sends one.
func Fixture(tb testing.TB, path string) string {
	tb.Helper()
	b, err := fs.ReadFile(fixtures.Carriers(), path)
	if err != nil {
		tb.Fatalf("wiretest: fixture: %v", err)
	}
	return string(bytes.TrimSuffix(b, []byte("\n")))
}

// record writes a recorded outcome into the source tree; the embedded
// copy the tests read is rebuilt on the next run.
func record(tb testing.TB, name, text string) {
	tb.Helper()
	if err := os.WriteFile(sourcePath(tb, name), []byte(text), 0o644); err != nil {
		tb.Fatalf("wiretest: %v", err)
	}
}

func orphan(tb testing.TB, name string) {
	tb.Helper()
	if !*update {
		tb.Errorf("wiretest: %s records the outcome of a payload that is gone; remove it with go test -update", name)
		return
	}
	if err := os.Remove(sourcePath(tb, name)); err != nil {
		tb.Fatalf("wiretest: %v", err)
	}
}

// sourcePath is name's path under fixtures/carriers in the module's source,
// found from the test's working directory, which is its package's.
func sourcePath(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("wiretest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "fixtures", "carriers", filepath.FromSlash(name))
		} else if !errors.Is(err, fs.ErrNotExist) {
			tb.Fatalf("wiretest: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("wiretest: no go.mod above the test's directory")
		}
		dir = parent
	}
}
