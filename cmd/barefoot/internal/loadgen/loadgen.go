// Package loadgen drives a running Barefoot gateway over its real carrier
// endpoints with many simulated phones at once, each walking whole scripted
// sessions and checking every screen, and measures what it saw: hops and
// sessions a second, latency per hop, and errors by kind.
//
// It is a client of the gateway, as a carrier is, and knows none of its
// packages; the command that wraps it seeds the phones it uses.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one run.
type Config struct {
	// URL is the gateway's base URL; it must be a loopback address.
	URL string
	// Flow is one of Flows, or "mix" for a weighted draw per session
	// (Mix, or DefaultMix when empty).
	Flow string
	Mix  string
	// Sessions stops the run after this many measured sessions; Duration
	// stops starting sessions after this long. At least one is set; with
	// both, whichever comes first. A session under way when the run stops
	// is walked to its end.
	Sessions int
	Duration time.Duration
	// Warmup runs the load this long before measuring; what happens in
	// it is not counted.
	Warmup time.Duration
	// Concurrency is how many phones walk at once.
	Concurrency int
	// Directors is how many synthetic directors (DirectorPhone(0) on) the
	// gateway knows. Phone i uses directors i, i+Concurrency, ... in
	// turn, so no two phones ever share a director's session or
	// resumable walk.
	Directors int
	// Timeout bounds each hop.
	Timeout time.Duration
	// Progress, when set, gets a line a second while the run goes on.
	Progress io.Writer
	// Seed makes the children each phone picks repeatable.
	Seed uint64
}

// Error kinds, as summaries name them.
const (
	ErrStatus    = "http_status"  // an HTTP status other than 200
	ErrScreen    = "wrong_screen" // a screen without the expected text, or CON/END wrong
	ErrTransport = "transport"    // the request failed: refused, reset, closed
	ErrTimeout   = "timeout"      // no answer within Config.Timeout
	// ErrHeldBack is an SMS answered with an empty body: the gateway
	// processed the message and held its reply back under its reply
	// limits (BAREFOOT_SMS_REPLY_LIMIT, BAREFOOT_SMS_DAILY_REPLIES).
	ErrHeldBack = "held_back"
)

// ErrorKinds lists the kinds in the order summaries show them.
var ErrorKinds = []string{ErrStatus, ErrScreen, ErrTransport, ErrTimeout, ErrHeldBack}

func (c *Config) check() ([]weighted, *url.URL, error) {
	u, err := checkTarget(c.URL)
	if err != nil {
		return nil, nil, err
	}
	ws, err := parseFlows(c.Flow, c.Mix)
	if err != nil {
		return nil, nil, fmt.Errorf("loadgen: %w", err)
	}
	switch {
	case c.Sessions < 0 || c.Duration < 0 || c.Warmup < 0:
		return nil, nil, errors.New("loadgen: sessions, duration and warm-up cannot be negative")
	case c.Sessions == 0 && c.Duration == 0:
		return nil, nil, errors.New("loadgen: bound the run with a number of sessions, a duration, or both")
	case c.Concurrency < 1:
		return nil, nil, errors.New("loadgen: concurrency must be at least 1")
	case c.Timeout <= 0:
		return nil, nil, errors.New("loadgen: the hop timeout must be positive")
	case needsDirectors(ws) && c.Directors < c.Concurrency:
		return nil, nil, fmt.Errorf("loadgen: %d directors for %d phones: each phone needs directors of its own (seed more, or lower the concurrency)", c.Directors, c.Concurrency)
	case c.Directors > MaxDirectors:
		return nil, nil, fmt.Errorf("loadgen: at most %d directors", MaxDirectors)
	}
	return ws, u, nil
}

// Run drives the gateway as cfg says and returns what it measured. A
// cancelled ctx ends the run early: the hops it cut short are not
// counted, and the result says it was interrupted.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	ws, base, err := cfg.check()
	if err != nil {
		return nil, err
	}
	r := &runner{
		cfg:     cfg,
		flows:   ws,
		ussdURL: base.String() + "/ussd/africastalking",
		smsURL:  base.String() + "/sms/kannel",
		stats:   newStats(),
		runID:   strconv.FormatInt(time.Now().UnixNano()%1e10, 36),
	}
	measuring := cfg.Warmup == 0
	if measuring {
		r.epoch.Store(1)
	}
	started := time.Now()
	r.measureStart.Store(started.UnixNano())

	var wg sync.WaitGroup
	for i := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.phone(ctx, i)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var warmEnd, deadline <-chan time.Time
	if !measuring {
		t := time.NewTimer(cfg.Warmup)
		defer t.Stop()
		warmEnd = t.C
	} else if cfg.Duration > 0 {
		t := time.NewTimer(cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	for {
		select {
		case <-done:
			end := time.Now()
			return r.result(base.String(), time.Duration(end.UnixNano()-r.measureStart.Load()), ctx.Err() != nil), nil
		case <-warmEnd:
			warmEnd = nil
			r.stats.reset()
			r.measureStart.Store(time.Now().UnixNano())
			r.epoch.Store(1)
			if cfg.Duration > 0 {
				t := time.NewTimer(cfg.Duration)
				defer t.Stop()
				deadline = t.C
			}
		case <-deadline:
			deadline = nil
			r.stopping.Store(true)
		case now := <-tick.C:
			if cfg.Progress != nil {
				r.progress(now.Sub(started))
			}
		}
	}
}

type runner struct {
	cfg     Config
	flows   []weighted
	ussdURL string
	smsURL  string
	stats   *stats
	// runID keeps session ids of two runs apart.
	runID string
	// epoch is 0 during the warm-up and 1 once measuring: a session
	// counts only in the epoch it started in.
	epoch        atomic.Int64
	measureStart atomic.Int64
	// claimed counts measured sessions started, against Config.Sessions.
	claimed  atomic.Int64
	stopping atomic.Bool
	dials    atomic.Int64
}

// phone is one simulated phone: it walks sessions one after another
// until the run stops, on one keep-alive connection.
func (r *runner) phone(ctx context.Context, i int) {
	client := newClient(&r.dials)
	defer client.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)))
	// Phone i's directors are i, i+C, i+2C, ... below Directors.
	mine := 0
	if r.cfg.Directors > i {
		mine = (r.cfg.Directors - i + r.cfg.Concurrency - 1) / r.cfg.Concurrency
	}
	for n := 0; ; n++ {
		if ctx.Err() != nil || r.stopping.Load() {
			return
		}
		epoch := r.epoch.Load()
		if epoch == 1 && r.cfg.Sessions > 0 && r.claimed.Add(1) > int64(r.cfg.Sessions) {
			return
		}
		w := r.draw(rng)
		s := &session{
			flow:  w,
			id:    fmt.Sprintf("LG%s-%d-%d", r.runID, i, n),
			child: rng.IntN(len(children)),
			epoch: epoch,
		}
		g := guardians[n%len(guardians)]
		if w.guardian {
			s.phone = g.phone
		} else {
			s.phone = DirectorPhone(i + r.cfg.Concurrency*(n%mine))
		}
		s.steps = w.steps(s.child, g)
		r.walk(ctx, client, s)
	}
}

func (r *runner) draw(rng *rand.Rand) flow {
	if len(r.flows) == 1 {
		return r.flows[0].flow
	}
	x := rng.IntN(r.flows[len(r.flows)-1].cum)
	for _, w := range r.flows {
		if x < w.cum {
			return w.flow
		}
	}
	return r.flows[len(r.flows)-1].flow
}

// session is one simulated session under way.
type session struct {
	flow  flow
	id    string
	phone string
	child int
	steps []step
	epoch int64
}

// walk plays a session's steps, stopping at the first hop that fails.
func (r *runner) walk(ctx context.Context, client *http.Client, s *session) {
	counted := func() bool { return r.epoch.Load() == s.epoch }
	if counted() {
		r.stats.started(s.flow.name)
	}
	var inputs []string
	offered := false
	for k := 0; k < len(s.steps); k++ {
		st := s.steps[k]
		if k > 0 || st.input != "" {
			inputs = append(inputs, st.input)
		}
		t0 := time.Now()
		body, kind, detail := r.hop(ctx, client, s, st.input, strings.Join(inputs, "*"))
		took := time.Since(t0)
		if ctx.Err() != nil {
			return // interrupted: neither a success nor an error
		}
		if kind == "" && k == 0 && !offered && !s.flow.sms && strings.Contains(body, resumeOffer) {
			// A walk this director left unfinished (a browse) is offered
			// first, as to any caller: start again, then walk on. The
			// offer is a hop of its own; the next answer is this step's.
			if counted() {
				r.stats.offer(took)
			}
			inputs, offered = []string{"2"}, true
			k--
			continue
		}
		if kind == "" {
			kind, detail = checkScreen(s.flow.sms, st, body)
		}
		if !counted() {
			if kind != "" {
				return
			}
			continue
		}
		r.stats.hop(s.flow.name, k, st.input, took, kind)
		if kind != "" {
			r.stats.failed(s.flow.name, k, kind, fmt.Sprintf("%s step %d (%q) as %s: %s", s.flow.name, k+1, st.input, maskPhone(s.phone), detail))
			return
		}
	}
	if counted() {
		r.stats.completed(s.flow.name, s.flow.saves)
	}
}

// hop sends one callback and returns the body, or the kind of failure
// and what went wrong.
func (r *runner) hop(ctx context.Context, client *http.Client, s *session, input, text string) (string, string, string) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	var req *http.Request
	var err error
	if s.flow.sms {
		q := url.Values{"from": {s.phone}, "to": {smsTo}, "text": {input}, "id": {s.id}}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, r.smsURL+"?"+q.Encode(), nil)
	} else {
		code := directorCode
		if s.flow.guardian {
			code = guardianCode
		}
		form := url.Values{"sessionId": {s.id}, "serviceCode": {code}, "phoneNumber": {s.phone}, "networkCode": {"46000"}, "text": {text}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, r.ussdURL, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return "", ErrTransport, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", failureKind(err), err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", failureKind(err), "reading the answer: " + err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), ErrStatus, fmt.Sprintf("status %d: %s", resp.StatusCode, clip(string(b)))
	}
	return string(b), "", ""
}

func failureKind(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ErrTimeout
	}
	return ErrTransport
}

// checkScreen compares an answer with the step's expectation.
func checkScreen(sms bool, st step, body string) (string, string) {
	if sms {
		if body == "" {
			return ErrHeldBack, "empty reply: the gateway held it back (reply limits)"
		}
		if !strings.Contains(body, st.want) {
			return ErrScreen, fmt.Sprintf("want %q in %q", st.want, clip(body))
		}
		return "", ""
	}
	prefix := "CON "
	if st.end {
		prefix = "END "
	}
	if !strings.HasPrefix(body, prefix) || !strings.Contains(body, st.want) {
		return ErrScreen, fmt.Sprintf("want %q%q in %q", prefix, st.want, clip(body))
	}
	return "", ""
}

func clip(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80]) + "…"
	}
	return s
}

// maskPhone keeps the last two digits, as the gateway's logs do.
func maskPhone(p string) string {
	if len(p) < 6 {
		return p
	}
	return p[:3] + strings.Repeat("*", len(p)-5) + p[len(p)-2:]
}

func (r *runner) progress(since time.Duration) {
	p := r.stats.interval()
	phase := "warm-up"
	if r.epoch.Load() == 1 {
		phase = "measuring"
	}
	fmt.Fprintf(r.cfg.Progress, "loadgen %4.0fs %-9s %7d hops/s %6d sessions/s  p50 %6.2f ms  p99 %7.2f ms  errors %d\n",
		since.Seconds(), phase, p.hops, p.sessions, ms(p.p50), ms(p.p99), p.errors)
}
