// Package kanneltest runs a real Kannel (Debian's kannel and kannel-extras
// packages: bearerbox, smsbox and the fakesmsc test SMSC) on spare loopback
// ports for a test, so that the test can send SMS from a phone through
// Kannel (MO) and read what Kannel delivers back to the phone (MT).
//
//	srv := httptest.NewServer(gatewayHandler)
//	k := kanneltest.Start(t, kanneltest.Config{
//		GetURL: srv.URL + "/sms/kannel?from=%p&to=%P&text=%a&id=%I&coding=%c&charset=%C",
//	})
//	k.MO(t, "+8613800138000", "10086", "状态")     // the phone sends
//	reply := k.MT(t, 10*time.Second)              // the phone receives
//	// reply.Text, reply.Coding, reply.Parts ...
//
// The configuration is gateway/kannel/kannel.conf, the one recommended to
// operators, with only ports, passwords, file paths and the SMSC changed
// (the example SMPP link becomes Kannel's fake SMSC) and what Config asks
// for. Without the Kannel binaries Start skips the test; install them with
// `bash .ci/services --with-kannel`.
//
// Kannel's fake SMSC produces delivery reports for messages sent with a
// dlr-mask: type 8 (DLRSMSCAck) when the message has been handed to
// fakesmsc and type 1 (DLRDelivered) right after, as the mask asks; never
// 2, 4 or 16. smsbox calls the dlr-url for the two in parallel, so they
// arrive in either order, and a concatenated message gets one of each, not
// one per part. Send through SendSMS (or the gateway's sender at SendURL)
// with dlr-mask and dlr-url, or answer an MO with X-Kannel-DLR-Mask and
// X-Kannel-DLR-URL, and serve the dlr-url from the test.
package kanneltest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Delivery report types, Kannel's %d in a dlr-url and the bits of a
// dlr-mask.
const (
	DLRDelivered   = 1  // delivered to the phone
	DLRUndelivered = 2  // not delivered to the phone
	DLRBuffered    = 4  // queued at the SMSC
	DLRSMSCAck     = 8  // accepted by the SMSC
	DLRSMSCNack    = 16 // rejected by the SMSC
)

// startTimeout bounds the wait for Kannel to come up; bearerbox and smsbox
// start in well under a second on an idle machine.
const startTimeout = 30 * time.Second

// Config is what a test changes in the recommended configuration. The
// zero Config runs it as it is, with incoming messages dropped.
type Config struct {
	// GetURL is the default sms-service's get-url, with Kannel's escapes
	// (%p, %P, %a, %I, %c, %C, ...). Empty: the service answers every
	// incoming message with nothing, so none reaches a test server.
	GetURL string
	// MORecode is smsbox's mo-recode; nil keeps the recommended value.
	MORecode *bool
	// HTTPRequestRetry is smsbox's http-request-retry, how many more times
	// a failed get-url or dlr-url call is made; nil keeps the recommended
	// value.
	HTTPRequestRetry *int
	// HTTPQueueDelay is smsbox's http-queue-delay, the wait before each of
	// those retries, in whole seconds; zero keeps the recommended value.
	HTTPQueueDelay time.Duration
	// DefaultSender is the sendsms-user's default-sender, used when a
	// sendsms call has no from; empty sets none, as recommended.
	DefaultSender string
}

// Kannel is a running bearerbox, smsbox and fakesmsc.
type Kannel struct {
	dir       string
	adminURL  string
	adminPass string
	baseURL   string
	username  string
	password  string
	accessLog string
	procs     []*proc
	fake      *fakeSMSC
}

// Start runs Kannel for the test and stops it when the test ends; see the
// package documentation. It fails the test if Kannel does not come up.
func Start(tb testing.TB, cfg Config) *Kannel {
	tb.Helper()
	bins := findBinaries(tb)

	// TempDir first: its removal is then cleaned up after the processes
	// writing into it have been stopped.
	dir := tb.TempDir()
	ports, err := freePorts(4)
	if err != nil {
		tb.Fatalf("kanneltest: %v", err)
	}
	k := &Kannel{
		dir:       dir,
		adminPass: randomToken(),
		password:  randomToken(),
		accessLog: filepath.Join(dir, "access.log"),
	}
	adminPort, smsboxPort, fakePort, sendsmsPort := ports[0], ports[1], ports[2], ports[3]
	k.adminURL = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	k.baseURL = fmt.Sprintf("http://127.0.0.1:%d", sendsmsPort)

	conf, err := k.config(cfg, adminPort, smsboxPort, fakePort, sendsmsPort)
	if err != nil {
		tb.Fatalf("kanneltest: %v", err)
	}
	confPath := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		tb.Fatalf("kanneltest: write config: %v", err)
	}

	tb.Cleanup(func() { k.stop(tb) })
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	bb, err := startProc(dir, "bearerbox", bins.bearerbox, confPath)
	if err != nil {
		tb.Fatalf("kanneltest: %v", err)
	}
	k.procs = append(k.procs, bb)
	// smsbox retries its connection, but fakesmsc gives up at once if the
	// fake SMSC is not listening yet, so bearerbox must be up first.
	if err := k.waitStatus(ctx, func(*status) bool { return true }); err != nil {
		tb.Fatalf("kanneltest: bearerbox did not come up: %v", err)
	}
	sb, err := startProc(dir, "smsbox", bins.smsbox, confPath)
	if err != nil {
		tb.Fatalf("kanneltest: %v", err)
	}
	k.procs = append(k.procs, sb)
	if k.fake, err = startFakeSMSC(dir, bins.fakesmsc, fakePort, k.accessLog); err != nil {
		tb.Fatalf("kanneltest: %v", err)
	}
	k.procs = append(k.procs, k.fake.proc)

	if err := k.waitStatus(ctx, (*status).ready); err != nil {
		tb.Fatalf("kanneltest: Kannel did not come up: %v", err)
	}
	if err := k.waitSendsms(ctx); err != nil {
		tb.Fatalf("kanneltest: smsbox's sendsms did not come up: %v", err)
	}
	return k
}

// config derives the configuration from the recommended one.
func (k *Kannel) config(cfg Config, adminPort, smsboxPort, fakePort, sendsmsPort int) (string, error) {
	path, err := recommendedPath()
	if err != nil {
		return "", err
	}
	groups, err := readConf(path)
	if err != nil {
		return "", fmt.Errorf("read the recommended configuration: %w", err)
	}
	one := func(name string) (*group, error) {
		gs := findGroups(groups, name)
		if len(gs) != 1 {
			return nil, fmt.Errorf("%s: want one %s group, found %d", path, name, len(gs))
		}
		return gs[0], nil
	}
	core, err := one("core")
	if err != nil {
		return "", err
	}
	smsbox, err := one("smsbox")
	if err != nil {
		return "", err
	}
	user, err := one("sendsms-user")
	if err != nil {
		return "", err
	}
	service, err := one("sms-service")
	if err != nil {
		return "", err
	}
	port := strconv.Itoa

	core.set("admin-port", port(adminPort))
	core.set("admin-password", k.adminPass)
	core.set("smsbox-port", port(smsboxPort))
	core.set("log-file", filepath.Join(k.dir, "bearerbox.log"))
	// Debug level: a failing test prints the log's tail, and the requests
	// and messages in it are what tells why.
	core.set("log-level", "0")
	core.set("access-log", k.accessLog)
	// The format the MT decoder reads (see accessLog).
	core.set("access-log-format", accessLogFormat)
	if _, ok := core.get("store-location"); ok {
		core.set("store-location", filepath.Join(k.dir, "kannel.store"))
	}

	smsbox.set("bearerbox-port", port(smsboxPort))
	smsbox.set("sendsms-port", port(sendsmsPort))
	smsbox.set("log-file", filepath.Join(k.dir, "smsbox.log"))
	smsbox.set("log-level", "0")
	smsbox.set("access-log", filepath.Join(k.dir, "smsbox-access.log"))
	if cfg.MORecode != nil {
		smsbox.set("mo-recode", strconv.FormatBool(*cfg.MORecode))
	}
	if cfg.HTTPRequestRetry != nil {
		smsbox.set("http-request-retry", strconv.Itoa(*cfg.HTTPRequestRetry))
	}
	if d := cfg.HTTPQueueDelay; d != 0 {
		if d < time.Second || d%time.Second != 0 {
			return "", fmt.Errorf("HTTPQueueDelay %v: Kannel takes whole seconds", d)
		}
		smsbox.set("http-queue-delay", strconv.Itoa(int(d/time.Second)))
	}

	k.username, _ = user.get("username")
	if k.username == "" {
		return "", fmt.Errorf("%s: the sendsms-user has no username", path)
	}
	user.set("password", k.password)
	if cfg.DefaultSender != "" {
		user.set("default-sender", cfg.DefaultSender)
	}

	if cfg.GetURL != "" {
		service.set("get-url", cfg.GetURL)
	} else {
		// A service needs something to do: an empty text is an empty
		// reply, which omit-empty drops.
		service.settings = without(service.settings, "get-url")
		service.set("text", "")
		service.set("omit-empty", "true")
	}

	// The operator's SMSC links give way to one fake SMSC on loopback,
	// which fakesmsc connects to.
	var kept []*group
	for _, g := range groups {
		if g.name != "smsc" {
			kept = append(kept, g)
		}
	}
	kept = append(kept, &group{name: "smsc", settings: []setting{
		{"smsc", "fake"},
		{"smsc-id", "fake"},
		{"port", port(fakePort)},
		{"our-host", "127.0.0.1"},
		{"connect-allow-ip", "127.0.0.1"},
	}})
	return renderConf(kept), nil
}

// without drops the settings called name.
func without(s []setting, name string) []setting {
	out := s[:0]
	for _, x := range s {
		if x.name != name {
			out = append(out, x)
		}
	}
	return out
}

// BaseURL is smsbox's sendsms interface, as http://127.0.0.1:port: the
// gateway's Kannel sender's BaseURL.
func (k *Kannel) BaseURL() string { return k.baseURL }

// SendURL is the full URL of smsbox's sendsms interface.
func (k *Kannel) SendURL() string { return k.baseURL + "/cgi-bin/sendsms" }

// Username is the sendsms-user's name.
func (k *Kannel) Username() string { return k.username }

// Password is the sendsms-user's password, a fresh one for each Start.
func (k *Kannel) Password() string { return k.password }

// SendSMS calls cgi-bin/sendsms with q, adding the sendsms-user's
// credentials unless q has a username, and returns smsbox's HTTP status and
// answer, such as 202 "0: Accepted for delivery".
func (k *Kannel) SendSMS(tb testing.TB, q url.Values) (int, string) {
	tb.Helper()
	v := url.Values{}
	for key, vals := range q {
		v[key] = append([]string(nil), vals...)
	}
	if !v.Has("username") {
		v.Set("username", k.username)
		v.Set("password", k.password)
	}
	resp, err := http.Get(k.SendURL() + "?" + v.Encode())
	if err != nil {
		tb.Fatalf("kanneltest: sendsms: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("kanneltest: sendsms: read answer: %v", err)
	}
	return resp.StatusCode, string(body)
}

// status is what Start reads of bearerbox's status.xml.
type status struct {
	Boxes []struct {
		Type string `xml:"type"`
	} `xml:"boxes>box"`
	SMSCs []struct {
		ID     string `xml:"id"`
		Status string `xml:"status"`
	} `xml:"smscs>smsc"`
}

// ready reports whether smsbox is connected and fakesmsc is connected to
// the fake SMSC.
func (s *status) ready() bool {
	box := false
	for _, b := range s.Boxes {
		box = box || b.Type == "smsbox"
	}
	smsc := false
	for _, c := range s.SMSCs {
		smsc = smsc || (c.ID == "fake" && strings.HasPrefix(c.Status, "online"))
	}
	return box && smsc
}

// pollInterval is how often Start and the MT readers look again.
const pollInterval = 20 * time.Millisecond

// waitStatus polls bearerbox's status page until ok accepts it, a Kannel
// process exits, or ctx ends.
func (k *Kannel) waitStatus(ctx context.Context, ok func(*status) bool) error {
	url := k.adminURL + "/status.xml?password=" + url.QueryEscape(k.adminPass)
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		if err := k.exited(); err != nil {
			return err
		}
		st, err := getStatus(ctx, client, url)
		switch {
		case err != nil:
			last = err
		case ok(st):
			return nil
		default:
			last = errors.New("smsbox or fakesmsc not connected yet")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}

// getStatus fetches and parses status.xml.
func getStatus(ctx context.Context, client *http.Client, url string) (*status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status.xml: HTTP %d", resp.StatusCode)
	}
	var st status
	// bearerbox's XML declares no encoding and its version text may hold
	// anything; only the structure matters here.
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("status.xml: %w", err)
	}
	return &st, nil
}

// waitSendsms polls smsbox's HTTP port until it answers anything.
func (k *Kannel) waitSendsms(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	for {
		if err := k.exited(); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.baseURL+"/", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}

// exited reports a Kannel process that has ended.
func (k *Kannel) exited() error {
	for _, p := range k.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		default:
		}
	}
	return nil
}

// stop kills the processes and, for a failed test, logs the end of
// Kannel's logs, which usually tell why.
func (k *Kannel) stop(tb testing.TB) {
	for i := len(k.procs) - 1; i >= 0; i-- {
		if err := k.procs[i].kill(); err != nil {
			tb.Errorf("kanneltest: %v", err)
		}
	}
	if !tb.Failed() {
		return
	}
	for _, name := range []string{"bearerbox.log", "smsbox.log", "access.log", "bearerbox.out", "smsbox.out"} {
		if tail := tailFile(filepath.Join(k.dir, name), 40); tail != "" {
			tb.Logf("kanneltest: end of %s:\n%s", name, tail)
		}
	}
	if k.fake != nil {
		tb.Logf("kanneltest: end of fakesmsc's output:\n%s", k.fake.tail())
	}
}

// tailFile returns the last n lines of a file, or "" if it cannot be read.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// binaries are the paths of Kannel's programs.
type binaries struct{ bearerbox, smsbox, fakesmsc string }

// findBinaries looks Kannel's programs up in PATH and then where Debian
// installs them: /usr/sbin is not in every PATH, and fakesmsc, a test tool,
// is in no PATH at all. It skips the test if one is missing, unless
// BAREFOOT_REQUIRE_KANNEL is set (as CI sets it, having installed Kannel):
// then a missing Kannel fails, rather than let the tests pass unrun.
func findBinaries(tb testing.TB) binaries {
	tb.Helper()
	skip := tb.Skipf
	if os.Getenv("BAREFOOT_REQUIRE_KANNEL") != "" {
		skip = tb.Fatalf
	}
	if err := platformSupported(); err != nil {
		skip("kanneltest: %v", err)
	}
	find := func(name, debian string) string {
		tb.Helper()
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p, err := exec.LookPath(debian); err == nil {
			return p
		}
		skip("kanneltest: %s not found: Kannel is not installed (bash .ci/services --with-kannel installs it)", name)
		return ""
	}
	return binaries{
		bearerbox: find("bearerbox", "/usr/sbin/bearerbox"),
		smsbox:    find("smsbox", "/usr/sbin/smsbox"),
		fakesmsc:  find("fakesmsc", "/usr/lib/kannel/test/fakesmsc"),
	}
}

// freePorts returns n distinct loopback ports that were free a moment
// ago; all are held open together so none is handed out twice.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
