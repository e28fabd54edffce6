package sender_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/gateway/kannel"
	"github.com/barefoot-ussd/barefoot/gateway/sender"
	"github.com/barefoot-ussd/barefoot/gateway/sendertest"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
)

// A test number, not a real person's.
const testPhone = "+8613900000042"

// fakeKannel is a Kannel smsbox whose answers a test scripts per message
// text, counting the sends of each.
type fakeKannel struct {
	*sendertest.Carrier
	mu    sync.Mutex
	sends map[string]int
}

// newFakeKannel answers the n-th send (from 1) of a text with reply(text, n).
func newFakeKannel(tb testing.TB, reply func(text string, n int) sendertest.Reply) *fakeKannel {
	f := &fakeKannel{sends: map[string]int{}}
	f.Carrier = sendertest.NewCarrier(tb, func(r sendertest.Request) sendertest.Reply {
		text := r.Form.Get("text")
		f.mu.Lock()
		f.sends[text]++
		n := f.sends[text]
		f.mu.Unlock()
		return reply(text, n)
	})
	return f
}

func (f *fakeKannel) count(text string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends[text]
}

var (
	kannelAccepted = sendertest.Text(http.StatusAccepted, "0: Accepted for delivery")
	kannelBusy     = sendertest.Text(http.StatusServiceUnavailable, "Temporal failure, try again later.")
	kannelRefused  = sendertest.Text(http.StatusForbidden, "Authorization failed for sendsms")
)

func noBackoff(int) time.Duration { return 0 }

// newSender is a sender of test messages through f, retrying at once.
func newSender(db *storage.DB, f *fakeKannel, log *slog.Logger) *sender.Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &sender.Sender{
		DB: db,
		Carriers: map[string]sender.Client{
			kannel.CarrierName: kannel.Sender{BaseURL: f.URL, Username: "u", Password: "p", DLRURL: "http://127.0.0.1/dlr?id={id}&status=%d", Client: sendertest.Client()},
		},
		Backoff: noBackoff,
		Log:     log,
	}
}

func enqueue(tb testing.TB, db *storage.DB, carrier, body string) int64 {
	tb.Helper()
	id, _, err := db.Enqueue(tb.Context(), sms.Message{Carrier: carrier, Phone: testPhone, Body: body, Kind: sms.KindAlert})
	if err != nil {
		tb.Fatalf("Enqueue: %v", err)
	}
	return id
}

func message(tb testing.TB, db *storage.DB, id int64) sms.Message {
	tb.Helper()
	m, err := db.MessageByID(tb.Context(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func sendDue(tb testing.TB, s *sender.Sender, want int) {
	tb.Helper()
	n, err := s.SendDue(tb.Context())
	if err != nil || n != want {
		tb.Fatalf("SendDue = %d, %v; want %d", n, err, want)
	}
}

func TestRetryThenSent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(_ string, n int) sendertest.Reply {
		if n <= 2 {
			return kannelBusy
		}
		return kannelAccepted
	})
	s := newSender(db, f, nil)
	id := enqueue(t, db, kannel.CarrierName, "three tries")

	for attempt := 1; attempt <= 2; attempt++ {
		sendDue(t, s, 1)
		m := message(t, db, id)
		if m.Status != sms.Queued || m.Attempts != attempt || !strings.Contains(m.LastError, "HTTP 503") {
			t.Fatalf("after attempt %d: %s, attempts %d, last error %q", attempt, m.Status, m.Attempts, m.LastError)
		}
	}
	sendDue(t, s, 1)
	m := message(t, db, id)
	if m.Status != sms.Sent || m.Attempts != 3 || m.CarrierID != fmt.Sprint(id) || m.LastError != "" {
		t.Errorf("after attempt 3: %+v", m)
	}
	sendDue(t, s, 0)
	if n := f.count("three tries"); n != 3 {
		t.Errorf("carrier saw %d sends, want 3", n)
	}
}

func TestFinalErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(string, int) sendertest.Reply { return kannelRefused })
	s := newSender(db, f, nil)
	id := enqueue(t, db, kannel.CarrierName, "refused")

	sendDue(t, s, 1)
	m := message(t, db, id)
	if m.Status != sms.Failed || m.Attempts != 1 || !strings.Contains(m.LastError, "HTTP 403") {
		t.Errorf("after a final error: %+v", m)
	}
	sendDue(t, s, 0)
}

func TestMaxAttempts(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(string, int) sendertest.Reply { return kannelBusy })
	s := newSender(db, f, nil)
	s.MaxAttempts = 3
	id := enqueue(t, db, kannel.CarrierName, "always busy")

	for range 3 {
		sendDue(t, s, 1)
	}
	m := message(t, db, id)
	if m.Status != sms.Failed || m.Attempts != 3 || !strings.HasPrefix(m.LastError, "gave up after 3 attempts: kannel: HTTP 503") {
		t.Errorf("after 3 busy attempts: %s, attempts %d, %q", m.Status, m.Attempts, m.LastError)
	}
	sendDue(t, s, 0)
	if n := f.count("always busy"); n != 3 {
		t.Errorf("carrier saw %d sends, want 3", n)
	}
}

func TestAbandonedClaimsGiveUp(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(string, int) sendertest.Reply { return kannelAccepted })
	s := newSender(db, f, nil)
	s.MaxAttempts = 1
	id := enqueue(t, db, kannel.CarrierName, "poison")

	// A sender claimed it and died: its lease (zero here) ran out.
	if _, err := db.ClaimDue(t.Context(), 10, 0); err != nil {
		t.Fatal(err)
	}
	sendDue(t, s, 1)
	m := message(t, db, id)
	if m.Status != sms.Failed || m.Attempts != 2 || !strings.Contains(m.LastError, "without an outcome") {
		t.Errorf("%+v", m)
	}
	if n := f.count("poison"); n != 0 {
		t.Errorf("sent %d times past MaxAttempts", n)
	}
}

func TestUnconfiguredCarrier(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	s := newSender(db, newFakeKannel(t, nil), nil)
	id := enqueue(t, db, "infobip", "nobody to send it")

	sendDue(t, s, 1)
	m := message(t, db, id)
	if m.Status != sms.Failed || m.LastError != `no send client configured for carrier "infobip"` {
		t.Errorf("%+v", m)
	}
}

func TestBackoffDelaysRetry(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(string, int) sendertest.Reply { return kannelBusy })
	s := newSender(db, f, nil)
	var asked []int
	s.Backoff = func(attempt int) time.Duration {
		asked = append(asked, attempt)
		return time.Hour
	}
	enqueue(t, db, kannel.CarrierName, "later")

	sendDue(t, s, 1)
	sendDue(t, s, 0) // not due for an hour
	if len(asked) != 1 || asked[0] != 1 {
		t.Errorf("Backoff asked for %v, want [1]", asked)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{
		0: 30 * time.Second, 1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 4: 4 * time.Minute,
		5: 8 * time.Minute, 6: 16 * time.Minute, 7: 30 * time.Minute, 8: 30 * time.Minute, 1000: 30 * time.Minute,
	} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := sender.DefaultBackoff(attempt)
			if d > want || d < want*4/5 {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", attempt, d, want*4/5, want)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("DefaultBackoff(%d) took %d values in 200 draws: no jitter", attempt, len(seen))
		}
	}
}

// TestConcurrentSenders drains one outbox with two senders at once: every
// message is sent exactly once.
func TestConcurrentSenders(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(string, int) sendertest.Reply { return kannelAccepted })
	const total = 30
	ids := make([]int64, total)
	for i := range total {
		ids[i] = enqueue(t, db, kannel.CarrierName, fmt.Sprintf("message %02d", i))
	}

	var wg sync.WaitGroup
	var handled [2]int
	for i := range 2 {
		s := newSender(db, f, nil)
		s.Batch, s.Workers = 4, 3
		wg.Go(func() {
			for {
				n, err := s.SendDue(t.Context())
				if err != nil {
					t.Errorf("sender %d: %v", i, err)
					return
				}
				if n == 0 {
					return
				}
				handled[i] += n
			}
		})
	}
	wg.Wait()

	t.Logf("senders handled %d and %d messages", handled[0], handled[1])
	if handled[0]+handled[1] != total {
		t.Errorf("handled %d, want %d", handled[0]+handled[1], total)
	}
	for i, id := range ids {
		if n := f.count(fmt.Sprintf("message %02d", i)); n != 1 {
			t.Errorf("message %02d sent %d times", i, n)
		}
		if m := message(t, db, id); m.Status != sms.Sent || m.Attempts != 1 {
			t.Errorf("message %02d: %s after %d attempts", i, m.Status, m.Attempts)
		}
	}
}

// TestRunFinishesInFlightSend stops Run while a send is in flight: the send
// completes and is recorded, and Run returns.
func TestRunFinishesInFlightSend(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	inFlight, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f := newFakeKannel(t, func(string, int) sendertest.Reply {
		once.Do(func() { close(inFlight) })
		<-release
		return kannelAccepted
	})
	s := newSender(db, f, nil)
	s.Poll = 10 * time.Millisecond
	id := enqueue(t, db, kannel.CarrierName, "in flight")

	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	select {
	case <-inFlight:
	case <-time.After(10 * time.Second):
		t.Fatal("the send never started")
	}
	stop()
	select {
	case err := <-done:
		t.Fatalf("Run returned %v with a send in flight", err)
	case <-time.After(50 * time.Millisecond): // a bounded check that Run waits
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the send")
	}
	if m := message(t, db, id); m.Status != sms.Sent {
		t.Errorf("after a graceful stop: %s, want sent", m.Status)
	}
}

// TestRunDrains runs the loop until the outbox is empty, polling the
// store with a deadline rather than sleeping a fixed time.
func TestRunDrains(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(string, int) sendertest.Reply { return kannelAccepted })
	s := newSender(db, f, nil)
	s.Batch, s.Poll = 3, 5*time.Millisecond
	var ids []int64
	for i := range 10 {
		ids = append(ids, enqueue(t, db, kannel.CarrierName, fmt.Sprintf("run %d", i)))
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for message(t, db, id).Status != sms.Sent {
			if time.Now().After(deadline) {
				t.Fatalf("message %d not sent in time", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if err := (&sender.Sender{}).Run(t.Context()); err == nil {
		t.Error("Run without an outbox started")
	}
}

// TestLogsAndMetrics checks what a sender tells operators: outcomes by
// carrier, and log lines that hold neither a full number nor a body.
func TestLogsAndMetrics(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	f := newFakeKannel(t, func(text string, _ int) sendertest.Reply {
		switch text {
		case "busy body":
			return kannelBusy
		case "refused body":
			return kannelRefused
		}
		return kannelAccepted
	})
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	s := newSender(db, f, log)
	s.Metrics = sender.NewMetrics(reg)
	for _, body := range []string{"fine body 正文", "busy body", "refused body"} {
		enqueue(t, db, kannel.CarrierName, body)
	}
	enqueue(t, db, "nowhere", "stray body")
	sendDue(t, s, 4)

	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, secret := range []string{testPhone, strings.TrimPrefix(testPhone, "+"), "fine body", "busy body", "refused body", "stray body", "正文"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, phone.Mask(testPhone)) {
		t.Errorf("log does not name the masked number:\n%s", out)
	}

	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != "barefoot_sms_sends_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			var carrier, outcome string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "carrier":
					carrier = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			got[carrier+"/"+outcome] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"kannel/sent": 1, "kannel/retry": 1, "kannel/failed": 1, "unconfigured/failed": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counters %v, want %v", got, want)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestUnclassifiedErrors: a client that returns a plain error is retried,
// and its text is stored without the URL it may quote.
func TestUnclassifiedErrors(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	var calls atomic.Int32
	s := &sender.Sender{
		DB: db,
		Carriers: map[string]sender.Client{"raw": sender.ClientFunc(func(ctx context.Context, m sms.Message) (string, error) {
			calls.Add(1)
			_, err := sendertest.Client().Get("http://192.0.2.1/send?to=" + m.Phone + "&password=hunter2")
			return "", err
		})},
		Backoff: noBackoff,
		Log:     slog.New(slog.DiscardHandler),
	}
	id := enqueue(t, db, "raw", "x")
	sendDue(t, s, 1)
	m := message(t, db, id)
	if m.Status != sms.Queued || calls.Load() != 1 {
		t.Fatalf("after a plain error: %s after %d calls", m.Status, calls.Load())
	}
	for _, secret := range []string{"hunter2", testPhone, strings.TrimPrefix(testPhone, "+"), "192.0.2.1/send"} {
		if strings.Contains(m.LastError, secret) {
			t.Errorf("last error %q quotes %q", m.LastError, secret)
		}
	}
	if !strings.Contains(m.LastError, "not a loopback address") {
		t.Errorf("last error %q lost the cause", m.LastError)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err          error
		retry, final bool
	}{
		{nil, false, false},
		{sender.Retryf("x"), true, false},
		{sender.Finalf("x"), false, true},
		{fmt.Errorf("wrapped: %w", sender.Finalf("x")), false, true},
		{errors.New("plain"), true, false},
		{context.DeadlineExceeded, true, false},
		{sender.HTTPStatus("c", 429, ""), true, false},
		{sender.HTTPStatus("c", 500, ""), true, false},
		{sender.HTTPStatus("c", 503, ""), true, false},
		{sender.HTTPStatus("c", 400, ""), false, true},
		{sender.HTTPStatus("c", 401, ""), false, true},
		{sender.HTTPStatus("c", 404, ""), false, true},
	} {
		if sender.Retryable(tc.err) != tc.retry || sender.Final(tc.err) != tc.final {
			t.Errorf("%v: retryable %v final %v; want %v %v", tc.err, sender.Retryable(tc.err), sender.Final(tc.err), tc.retry, tc.final)
		}
	}
	if got := sender.Snippet("Invalid number +8613912345678\n and  more " + strings.Repeat("x", 200)); strings.Contains(got, "13912345678") || strings.Contains(got, "\n") || len(got) > 130 {
		t.Errorf("Snippet = %q", got)
	}
}

// BenchmarkSendDue drains batches of 100 queued messages through a fake
// Kannel on loopback, with the default batch and workers: the sender's
// own cost (claims and marks in Postgres, one HTTP round trip each).
func BenchmarkSendDue(b *testing.B) {
	db := storagetest.MustDB(b)
	f := newFakeKannel(b, func(string, int) sendertest.Reply { return kannelAccepted })
	s := newSender(db, f, nil)
	const perOp = 100
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := range perOp {
			enqueue(b, db, kannel.CarrierName, fmt.Sprintf("bench %d %d", i, j))
		}
		b.StartTimer()
		start := time.Now()
		for sent := 0; sent < perOp; {
			n, err := s.SendDue(b.Context())
			if err != nil || n == 0 {
				b.Fatalf("SendDue = %d, %v", n, err)
			}
			sent += n
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(b.N*perOp)/elapsed.Seconds(), "msgs/s")
}

// TestTemplatesOnlyCarrier: a carrier that sends only approved templates
// is never handed free text or a template its provider has not approved.
// Such a message waits, queued, with the reason shown and no attempt
// counted; recording the approval wakes it, and it goes out with the
// provider's template id and its parameters.
var registrar = access.User{Username: "registrar"}

func TestTemplatesOnlyCarrier(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	var got []sms.Message
	var mu sync.Mutex
	client := sender.ClientFunc(func(_ context.Context, m sms.Message) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m)
		return fmt.Sprintf("serial-%d", m.ID), nil
	})
	s := &sender.Sender{
		DB: db, Carriers: map[string]sender.Client{"tmpl": client}, TemplatesOnly: map[string]bool{"tmpl": true},
		Approvals: db, Backoff: noBackoff, Log: slog.New(slog.DiscardHandler),
	}
	rendered := templates.MustRender(templates.AlertUrgent, "zh", templates.P("child", "C0001"), templates.P("what", "保护问题"),
		templates.P("director", "+8613800138001"), templates.P("ref", "N7K2Q9"))
	templated, _, err := db.Enqueue(ctx, sms.Message{Carrier: "tmpl", Phone: testPhone, Kind: sms.KindAlert,
		Body: rendered.Body, Template: rendered.Template, Lang: rendered.Lang, Params: rendered.Params})
	if err != nil {
		t.Fatal(err)
	}
	free := enqueue(t, db, "tmpl", "free text")

	sendDue(t, s, 2)
	if len(got) != 0 {
		t.Fatalf("the carrier was handed %d messages before any approval", len(got))
	}
	for id, why := range map[int64]string{templated: "template alert_urgent (zh) is not approved at tmpl", free: "free text: tmpl sends only approved templates"} {
		m := message(t, db, id)
		if m.Status != sms.Queued || m.Attempts != 0 || m.LastError != why {
			t.Fatalf("held message %d: status %s, %d attempts, reason %q; want queued, 0, %q", id, m.Status, m.Attempts, m.LastError, why)
		}
	}
	sendDue(t, s, 0) // held: not due again before HoldFor

	if _, err := db.SetTemplateApproval(ctx, registrar, templates.Approval{Template: templates.AlertUrgent, Lang: "zh", Carrier: "tmpl", Status: templates.Pending}); err != nil {
		t.Fatal(err)
	}
	sendDue(t, s, 0)
	if _, err := db.SetTemplateApproval(ctx, registrar, templates.Approval{Template: templates.AlertUrgent, Lang: "zh", Carrier: "tmpl", Status: templates.Approved}); err == nil {
		t.Fatal("an approval without the provider's template id was recorded")
	}
	if _, err := db.SetTemplateApproval(ctx, registrar, templates.Approval{Template: templates.AlertUrgent, Lang: "zh", Carrier: "tmpl", Status: templates.Approved, ProviderID: "1234567"}); err != nil {
		t.Fatal(err)
	}
	sendDue(t, s, 1) // the templated one, woken; the free text still waits
	if len(got) != 1 || got[0].ID != templated || got[0].TemplateID != "1234567" || got[0].Template != templates.AlertUrgent ||
		len(got[0].Params) != 4 || got[0].Params[3].Value != "N7K2Q9" {
		t.Fatalf("sent %+v", got)
	}
	if m := message(t, db, templated); m.Status != sms.Sent || m.CarrierID != fmt.Sprintf("serial-%d", templated) {
		t.Fatalf("after the approval: %+v", m)
	}
	if m := message(t, db, free); m.Status != sms.Queued {
		t.Fatalf("free text after the approval: %s", m.Status)
	}
	raw, err := sqlx.Connect("postgres", storagetest.DSNFor(db.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var audited int
	if err := raw.GetContext(ctx, &audited, `SELECT count(*) FROM audit_log WHERE action = 'template.approval' AND actor = 'registrar'`); err != nil {
		t.Fatal(err)
	}
	if audited != 2 {
		t.Fatalf("%d approvals audited, want 2", audited)
	}
}

// TestElsewhere: a message only another process can send (it holds the
// carrier's connection) is put back at once, no attempt counted, however
// often this process claims it.
func TestElsewhere(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	calls := 0
	s := &sender.Sender{
		DB: db, Backoff: noBackoff, Log: slog.New(slog.DiscardHandler), MaxAttempts: 1,
		Carriers: map[string]sender.Client{"held": sender.ClientFunc(func(context.Context, sms.Message) (string, error) {
			calls++
			return "", sender.Elsewheref("held: another process holds the connection")
		})},
	}
	id := enqueue(t, db, "held", "an alert")
	sendDue(t, s, 1)
	sendDue(t, s, 0) // not claimable again at once
	m := message(t, db, id)
	if m.Status != sms.Queued || m.Attempts != 0 || m.LastError != "held: another process holds the connection" || calls != 1 {
		t.Fatalf("after a claim by a process without the connection: %s, %d attempts, %q, %d calls", m.Status, m.Attempts, m.LastError, calls)
	}
	time.Sleep(sender.ElsewhereDelay + 200*time.Millisecond)
	sendDue(t, s, 1) // a second claim, past MaxAttempts had the first counted
	if m := message(t, db, id); m.Status != sms.Queued || m.Attempts != 0 || calls != 2 {
		t.Fatalf("after two claims: %s, %d attempts, %d calls", m.Status, m.Attempts, calls)
	}
}

// TestDailyCap: a provider caps the messages one number gets in a day
// (China's calendar day). Past the cap a message is not handed to the
// provider to be refused: it waits until the next day, saying why, with
// no attempt counted; other numbers are not held back.
func TestDailyCap(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	sent := map[string]int{}
	var mu sync.Mutex
	s := &sender.Sender{
		DB: db, DailyCaps: map[string]int{"capped": 2}, Backoff: noBackoff, Log: slog.New(slog.DiscardHandler), Workers: 1,
		Carriers: map[string]sender.Client{"capped": sender.ClientFunc(func(_ context.Context, m sms.Message) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			sent[m.Phone]++
			return fmt.Sprintf("id-%d", m.ID), nil
		})},
	}
	const other = "+8613900000043"
	var ids []int64
	for i := range 3 {
		ids = append(ids, enqueue(t, db, "capped", fmt.Sprintf("alert %d", i)))
	}
	if _, _, err := db.Enqueue(ctx, sms.Message{Carrier: "capped", Phone: other, Body: "alert", Kind: sms.KindAlert}); err != nil {
		t.Fatal(err)
	}
	sendDue(t, s, 4)
	if sent[testPhone] != 2 || sent[other] != 1 {
		t.Fatalf("sent %v; want 2 to the capped number and 1 to the other", sent)
	}
	held := message(t, db, ids[2])
	if held.Status != sms.Queued || held.Attempts != 0 || held.LastError != "daily cap: 2 messages to this number through capped today" {
		t.Fatalf("the third message: %s, %d attempts, %q", held.Status, held.Attempts, held.LastError)
	}
	raw, err := sqlx.Connect("postgres", storagetest.DSNFor(db.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var due time.Time
	if err := raw.GetContext(ctx, &due, `SELECT next_attempt_at FROM messages WHERE id = $1`, ids[2]); err != nil {
		t.Fatal(err)
	}
	china := due.In(time.FixedZone("UTC+8", 8*60*60))
	if china.Hour() != 0 || china.Minute() != 0 || !due.After(time.Now()) || time.Until(due) > 24*time.Hour {
		t.Fatalf("held until %v, want the next midnight in China", china)
	}
}
