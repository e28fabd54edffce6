package storage_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// Test numbers, not real people.
const (
	smsPhone  = "+8613900000001"
	smsPhone2 = "+8613900000002"
)

func inbound(carrierID, body string) sms.Message {
	return sms.Message{Carrier: "at", CarrierID: carrierID, Phone: smsPhone, To: "20880", Body: body}
}

func alert(key, body string) sms.Message {
	return sms.Message{Carrier: "at", Phone: smsPhone2, Body: body, Kind: sms.KindAlert, DedupeKey: key}
}

func mustEnqueue(tb testing.TB, db *storage.DB, m sms.Message) int64 {
	tb.Helper()
	id, _, err := db.Enqueue(tb.Context(), m)
	if err != nil {
		tb.Fatalf("Enqueue: %v", err)
	}
	return id
}

func mustMessage(tb testing.TB, db *storage.DB, id int64) sms.Message {
	tb.Helper()
	m, err := db.MessageByID(tb.Context(), id)
	if err != nil {
		tb.Fatalf("MessageByID(%d): %v", id, err)
	}
	return m
}

// mustClaimOne claims everything due and checks that it is just id.
func mustClaimOne(tb testing.TB, db *storage.DB, id int64) sms.Message {
	tb.Helper()
	got, err := db.ClaimDue(tb.Context(), 10, time.Hour)
	if err != nil {
		tb.Fatalf("ClaimDue: %v", err)
	}
	if len(got) != 1 || got[0].ID != id {
		tb.Fatalf("ClaimDue = %v, want just message %d", ids(got), id)
	}
	return got[0]
}

func ids(ms []sms.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// messageColumns are the columns menus.SMS does not carry.
type messageColumns struct {
	PhoneMasked string     `db:"phone_masked"`
	Encoding    string     `db:"encoding"`
	Segments    int        `db:"segments"`
	SentAt      *time.Time `db:"sent_at"`
	DeliveredAt *time.Time `db:"delivered_at"`
	DueIn       float64    `db:"due_in"` // seconds from now to next_attempt_at
}

func readColumns(tb testing.TB, db *storage.DB, id int64) messageColumns {
	tb.Helper()
	const q = `SELECT phone_masked, encoding, segments, sent_at, delivered_at,
       extract(epoch FROM next_attempt_at - now())::float8 AS due_in
FROM messages WHERE id = $1`
	var c messageColumns
	if err := storage.SQL(db).GetContext(tb.Context(), &c, q, id); err != nil {
		tb.Fatalf("read message %d: %v", id, err)
	}
	return c
}

func TestRecordInbound(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	id, reply, err := db.RecordInbound(ctx, inbound("ATXid_1", "STATUS C0001"))
	if err != nil || reply != nil {
		t.Fatalf("RecordInbound = %d, %v, %v", id, reply, err)
	}
	m := mustMessage(t, db, id)
	if m.Direction != sms.In || m.Kind != sms.KindInbound || m.Status != sms.Received ||
		m.Carrier != "at" || m.CarrierID != "ATXid_1" || m.Phone != smsPhone || m.Body != "STATUS C0001" {
		t.Errorf("stored %+v", m)
	}
	if m.ReceivedAt.IsZero() || !m.ReceivedAt.Equal(m.CreatedAt) {
		t.Errorf("ReceivedAt = %v, CreatedAt = %v", m.ReceivedAt, m.CreatedAt)
	}
	if c := readColumns(t, db, id); c.PhoneMasked != "+86*********01" || c.Encoding != "GSM-7" || c.Segments != 1 {
		t.Errorf("columns %+v", c)
	}

	// The carrier retries: the same row, nothing new, no reply yet.
	again, reply, err := db.RecordInbound(ctx, inbound("ATXid_1", "STATUS C0001"))
	if err != nil || again != id || reply != nil {
		t.Fatalf("retry = %d, %v, %v; want %d, nil, nil", again, reply, err, id)
	}

	// Once answered, a retry gets the stored reply.
	answer, err := db.Answer(ctx, id, sms.Message{Body: "C0001: paid", Status: sms.Queued})
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	again, reply, err = db.RecordInbound(ctx, inbound("ATXid_1", "STATUS C0001"))
	if err != nil || again != id || reply == nil {
		t.Fatalf("retry after answer = %d, %v, %v", again, reply, err)
	}
	if !reflect.DeepEqual(*reply, answer) {
		t.Errorf("retry reply = %+v\nwant %+v", *reply, answer)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != 1 {
		t.Errorf("%d inbound rows, want 1", n)
	}

	// Another carrier may use the same id for its own message.
	other := inbound("ATXid_1", "hi")
	other.Carrier = "twilio"
	if oid, _, err := db.RecordInbound(ctx, other); err != nil || oid == id {
		t.Errorf("same id on another carrier = %d, %v; want a new row", oid, err)
	}

	// A "retry" from another phone is not one.
	spoof := inbound("ATXid_1", "STATUS C0001")
	spoof.Phone = smsPhone2
	if _, reply, err := db.RecordInbound(ctx, spoof); !errors.Is(err, menus.ErrConflict) || reply != nil {
		t.Errorf("same id from another phone = %v, %v; want ErrConflict and no reply", reply, err)
	}

	// Without a carrier id nothing can be deduplicated.
	a, _, err1 := db.RecordInbound(ctx, inbound("", "hello"))
	b, _, err2 := db.RecordInbound(ctx, inbound("", "hello"))
	if err1 != nil || err2 != nil || a == b {
		t.Errorf("two messages without id = %d, %d (%v, %v); want two rows", a, b, err1, err2)
	}
}

func TestRecordInboundCleansAndMeasures(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	body := "查询\x00状态\xff" + strings.Repeat("好", 70)
	id, _, err := db.RecordInbound(ctx, inbound("id\x00\xfe", body))
	if err != nil {
		t.Fatalf("RecordInbound: %v", err)
	}
	m := mustMessage(t, db, id)
	wantBody := "查询状态\uFFFD" + strings.Repeat("好", 70)
	if m.Body != wantBody || m.CarrierID != "id\uFFFD" {
		t.Errorf("body %q, carrier id %q", m.Body, m.CarrierID)
	}
	if c := readColumns(t, db, id); c.Encoding != "UCS-2" || c.Segments != 2 {
		t.Errorf("encoding %s, %d segments; want UCS-2 in 2", c.Encoding, c.Segments)
	}

	for _, bad := range []sms.Message{
		{Carrier: "at", Phone: "13900000001", Body: "x"},
		{Carrier: "at", Phone: "+86 139 0000 0001", Body: "x"},
		{Carrier: "", Phone: smsPhone, Body: "x"},
	} {
		_, _, err := db.RecordInbound(ctx, bad)
		if err == nil {
			t.Errorf("RecordInbound(%+v) stored it", bad)
		} else if strings.Contains(err.Error(), "139") {
			t.Errorf("error quotes the phone: %v", err)
		}
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	id, _, err := db.RecordInbound(ctx, inbound("ATXid_2", "STATUS"))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := db.Answer(ctx, id, sms.Message{Body: "您的申请已批准", Status: sms.Queued})
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	if reply.Direction != sms.Out || reply.Kind != sms.KindReply || reply.ReplyTo != id ||
		reply.Status != sms.Queued || reply.Phone != smsPhone || reply.Carrier != "at" || reply.Body != "您的申请已批准" {
		t.Errorf("reply %+v", reply)
	}
	if in := mustMessage(t, db, id); in.Status != sms.Answered {
		t.Errorf("inbound status %s, want answered", in.Status)
	}
	if c := readColumns(t, db, reply.ID); c.Encoding != "UCS-2" || c.PhoneMasked != "+86*********01" {
		t.Errorf("reply columns %+v", c)
	}

	// A second answer, and concurrent ones, return the first unchanged.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			got, err := db.Answer(ctx, id, sms.Message{Body: fmt.Sprintf("other %d", i), Status: sms.Replied})
			switch {
			case err != nil:
				errs <- err
			case !reflect.DeepEqual(got, reply):
				errs <- fmt.Errorf("second answer = %+v, want the first", got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM messages WHERE reply_to = $1`, id); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}

	if _, err := db.Answer(ctx, 999999, sms.Message{Body: "x", Status: sms.Queued}); !errors.Is(err, menus.ErrNotFound) {
		t.Errorf("answer to an unknown message: %v, want ErrNotFound", err)
	}
	if _, err := db.Answer(ctx, reply.ID, sms.Message{Body: "x", Status: sms.Queued}); !errors.Is(err, menus.ErrNotFound) {
		t.Errorf("answer to an outbound message: %v, want ErrNotFound", err)
	}

	id2, _, _ := db.RecordInbound(ctx, inbound("ATXid_3", "STATUS"))
	for _, bad := range []sms.Message{
		{Body: "x", Status: sms.Sent},
		{Body: "x"},
		{Body: "x", Status: sms.Queued, Phone: smsPhone2},
		{Body: "x", Status: sms.Queued, Carrier: "twilio"},
	} {
		if _, err := db.Answer(ctx, id2, bad); err == nil {
			t.Errorf("Answer(%+v) accepted", bad)
		}
	}
	if in := mustMessage(t, db, id2); in.Status != sms.Received {
		t.Errorf("a refused answer left the inbound %s", in.Status)
	}

	// An inline reply is never sent by a sender.
	if _, err := db.Answer(ctx, id2, sms.Message{Body: "inline", Status: sms.Replied}); err != nil {
		t.Fatal(err)
	}
	due, err := db.ClaimDue(ctx, 10, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(due), []int64{reply.ID}) {
		t.Errorf("claimed %v, want only the queued reply %d", ids(due), reply.ID)
	}
}

func TestEnqueue(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	id, created, err := db.Enqueue(ctx, alert("need:N23456:sup:1", "Urgent need reported: N23456"))
	if err != nil || !created {
		t.Fatalf("Enqueue = %d, %v, %v", id, created, err)
	}
	m := mustMessage(t, db, id)
	if m.Direction != sms.Out || m.Kind != sms.KindAlert || m.Status != sms.Queued ||
		m.DedupeKey != "need:N23456:sup:1" || m.Attempts != 0 || m.CarrierID != "" {
		t.Errorf("stored %+v", m)
	}
	if c := readColumns(t, db, id); c.DueIn > 0 {
		t.Errorf("due in %.1fs, want now", c.DueIn)
	}

	// The same key again, even with other text, and concurrently: one row.
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			again, created, err := db.Enqueue(ctx, alert("need:N23456:sup:1", fmt.Sprintf("copy %d", i)))
			if err != nil || created || again != id {
				t.Errorf("enqueue again = %d, %v, %v; want %d, false", again, created, err, id)
			}
		})
	}
	wg.Wait()
	if n := MustCount(t, db, `SELECT count(*) FROM messages WHERE dedupe_key = $1`, "need:N23456:sup:1"); n != 1 {
		t.Errorf("%d rows for the key, want 1", n)
	}
	if got := mustMessage(t, db, id); got.Body != "Urgent need reported: N23456" {
		t.Errorf("body changed to %q", got.Body)
	}

	// Without a key, every enqueue is a message.
	a := mustEnqueue(t, db, alert("", "one"))
	b := mustEnqueue(t, db, alert("", "one"))
	if a == b {
		t.Error("two enqueues without a key gave one row")
	}

	for _, bad := range []sms.Message{
		{Carrier: "at", Phone: smsPhone, Body: "x", Kind: sms.KindInbound},
		{Carrier: "at", Phone: smsPhone, Body: "x"},
		{Carrier: "at", Phone: "+0123", Body: "x", Kind: sms.KindAlert},
	} {
		if _, _, err := db.Enqueue(ctx, bad); err == nil {
			t.Errorf("Enqueue(%+v) accepted", bad)
		}
	}
}

func TestClaimDueConcurrent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	const rows, claimers = 50, 3
	for i := range rows {
		mustEnqueue(t, db, alert("", fmt.Sprintf("m%d", i)))
	}

	// Three senders claim small batches until nothing is due; every row
	// must be claimed by exactly one of them.
	claimed := make([][]int64, claimers)
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			for {
				got, err := db.ClaimDue(ctx, 3, time.Hour)
				if err != nil {
					t.Errorf("claimer %d: %v", c, err)
					return
				}
				if len(got) == 0 {
					return
				}
				for _, m := range got {
					if m.Status != sms.Sending || m.Attempts != 1 {
						t.Errorf("claimed %d as %s attempt %d", m.ID, m.Status, m.Attempts)
					}
				}
				claimed[c] = append(claimed[c], ids(got)...)
			}
		})
	}
	wg.Wait()

	seen := map[int64]int{}
	for c, got := range claimed {
		t.Logf("claimer %d claimed %d rows", c, len(got))
		for _, id := range got {
			seen[id]++
		}
	}
	if len(seen) != rows {
		t.Errorf("%d distinct rows claimed, want %d", len(seen), rows)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %d claimed %d times", id, n)
		}
	}
	if n := MustCount(t, db, `SELECT count(*) FROM messages WHERE status = 'sending' AND attempts = 1`); n != rows {
		t.Errorf("%d rows sending with one attempt, want %d", n, rows)
	}
	if got, err := db.ClaimDue(ctx, 100, time.Hour); err != nil || len(got) != 0 {
		t.Errorf("claim within the lease = %v, %v; want none", ids(got), err)
	}
}

func TestClaimDueOrderAndLimit(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	var want []int64
	for i := range 5 {
		want = append(want, mustEnqueue(t, db, alert("", fmt.Sprintf("m%d", i))))
	}
	// Make the last one the most overdue.
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE messages SET next_attempt_at = now() - interval '1 hour' WHERE id = $1`, want[4]); err != nil {
		t.Fatal(err)
	}
	want = append([]int64{want[4]}, want[:4]...)
	// Not due: an inbound message, and one scheduled for later.
	if _, _, err := db.RecordInbound(ctx, inbound("x", "in")); err != nil {
		t.Fatal(err)
	}
	later := mustEnqueue(t, db, alert("", "later"))
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE messages SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`, later); err != nil {
		t.Fatal(err)
	}

	first, err := db.ClaimDue(ctx, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := db.ClaimDue(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(ids(first), ids(rest)...); !slices.Equal(got, want) {
		t.Errorf("claimed %v then %v, want %v", ids(first), ids(rest), want)
	}
	if c := readColumns(t, db, want[0]); c.DueIn < 50 || c.DueIn > 70 {
		t.Errorf("lease ends in %.1fs, want about 60", c.DueIn)
	}
	if got, err := db.ClaimDue(ctx, 0, time.Minute); err != nil || got != nil {
		t.Errorf("ClaimDue(0) = %v, %v", got, err)
	}
}

func TestClaimDueLeaseExpiry(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	id := mustEnqueue(t, db, alert("", "lost sender"))
	mustClaimOne(t, db, id)
	if got, _ := db.ClaimDue(ctx, 10, time.Hour); len(got) != 0 {
		t.Fatalf("claimed %v again within the lease", ids(got))
	}
	// The sender died; its lease runs out.
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE messages SET next_attempt_at = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	m := mustClaimOne(t, db, id)
	if m.Status != sms.Sending || m.Attempts != 2 {
		t.Errorf("reclaimed as %s attempt %d, want sending attempt 2", m.Status, m.Attempts)
	}
	// A zero lease is due again at once.
	id2 := mustEnqueue(t, db, alert("", "zero lease"))
	if got, err := db.ClaimDue(ctx, 10, 0); err != nil || !slices.Equal(ids(got), []int64{id2}) {
		t.Fatalf("ClaimDue = %v, %v", ids(got), err)
	}
	if got, err := db.ClaimDue(ctx, 10, 0); err != nil || !slices.Equal(ids(got), []int64{id2}) || got[0].Attempts != 2 {
		t.Errorf("after a zero lease: %v, %v", ids(got), err)
	}
}

func TestMarkOnlyFromSending(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	// Queued, not claimed: no mark applies.
	id := mustEnqueue(t, db, alert("", "a"))
	for name, err := range map[string]error{
		"sent":   db.MarkSent(ctx, id, "SM1"),
		"retry":  db.MarkRetry(ctx, id, "x", time.Time{}),
		"failed": db.MarkFailed(ctx, id, "x"),
	} {
		if !errors.Is(err, menus.ErrConflict) {
			t.Errorf("mark %s on a queued message: %v, want ErrConflict", name, err)
		}
	}
	if m := mustMessage(t, db, id); m.Status != sms.Queued || m.CarrierID != "" || m.LastError != "" {
		t.Errorf("queued message changed: %+v", m)
	}

	// Sent.
	mustClaimOne(t, db, id)
	if err := db.MarkSent(ctx, id, "ATXid_9"); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	if m := mustMessage(t, db, id); m.Status != sms.Sent || m.CarrierID != "ATXid_9" {
		t.Errorf("after MarkSent: %+v", m)
	}
	if c := readColumns(t, db, id); c.SentAt == nil {
		t.Error("sent_at not set")
	}
	if err := db.MarkFailed(ctx, id, "late"); !errors.Is(err, menus.ErrConflict) {
		t.Errorf("MarkFailed after sent: %v", err)
	}

	// Failed, then a late MarkSent changes nothing.
	id2 := mustEnqueue(t, db, alert("", "b"))
	mustClaimOne(t, db, id2)
	if err := db.MarkFailed(ctx, id2, "invalid phone number (403)"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	if err := db.MarkSent(ctx, id2, "late"); !errors.Is(err, menus.ErrConflict) {
		t.Errorf("late MarkSent: %v, want ErrConflict", err)
	}
	if m := mustMessage(t, db, id2); m.Status != sms.Failed || m.CarrierID != "" || m.LastError != "invalid phone number (403)" {
		t.Errorf("after a late MarkSent: %+v", m)
	}

	// Retry: back in the queue, due later, with a clean reason.
	id3 := mustEnqueue(t, db, alert("", "c"))
	mustClaimOne(t, db, id3)
	long := "carrier said \x00\xff" + strings.Repeat("é", 400)
	if err := db.MarkRetry(ctx, id3, long, time.Now().Add(10*time.Minute)); err != nil {
		t.Fatalf("MarkRetry: %v", err)
	}
	m := mustMessage(t, db, id3)
	if m.Status != sms.Queued || !strings.HasPrefix(m.LastError, "carrier said \uFFFDé") || len(m.LastError) > 500 {
		t.Errorf("after MarkRetry: status %s, last error %q (%d bytes)", m.Status, m.LastError, len(m.LastError))
	}
	if c := readColumns(t, db, id3); c.DueIn < 590 || c.DueIn > 610 {
		t.Errorf("due in %.1fs, want about 600", c.DueIn)
	}
	if got, _ := db.ClaimDue(ctx, 10, time.Hour); len(got) != 0 {
		t.Errorf("claimed %v before the retry was due", ids(got))
	}
	// The next successful attempt clears the last error.
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE messages SET next_attempt_at = now() WHERE id = $1`, id3); err != nil {
		t.Fatal(err)
	}
	mustClaimOne(t, db, id3)
	if err := db.MarkSent(ctx, id3, ""); err != nil {
		t.Fatal(err)
	}
	if m := mustMessage(t, db, id3); m.Status != sms.Sent || m.LastError != "" || m.CarrierID != "" || m.Attempts != 2 {
		t.Errorf("after a retry and MarkSent: %+v", m)
	}

	if err := db.MarkSent(ctx, 999999, "x"); !errors.Is(err, menus.ErrConflict) {
		t.Errorf("MarkSent on an unknown id: %v", err)
	}
}

func TestMarkSentDuplicateCarrierID(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	a, b := mustEnqueue(t, db, alert("", "a")), mustEnqueue(t, db, alert("", "b"))
	if got, err := db.ClaimDue(ctx, 10, time.Hour); err != nil || len(got) != 2 {
		t.Fatalf("ClaimDue = %v, %v", ids(got), err)
	}
	if err := db.MarkSent(ctx, a, "dup"); err != nil {
		t.Fatal(err)
	}
	// The carrier names b as it named a: b is sent all the same, so it must
	// not be sent again, but it cannot keep the id.
	if err := db.MarkSent(ctx, b, "dup"); err != nil {
		t.Fatalf("MarkSent with a duplicate carrier id: %v", err)
	}
	if m := mustMessage(t, db, b); m.Status != sms.Sent || m.CarrierID != "" || m.LastError == "" {
		t.Errorf("b = %+v", m)
	}
}

func TestUpdateDelivery(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	sent := func(body, carrierID string) int64 {
		t.Helper()
		id := mustEnqueue(t, db, alert("", body))
		mustClaimOne(t, db, id)
		if err := db.MarkSent(ctx, id, carrierID); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := sent("a", "ATXid_a")

	steps := []struct {
		status string
		want   string
	}{
		{sms.Sent, sms.Sent},
		{sms.Delivered, sms.Delivered},
		{sms.Sent, sms.Delivered},
		{sms.Failed, sms.Delivered},
		{sms.Delivered, sms.Delivered},
	}
	for i, s := range steps {
		found, err := db.UpdateDelivery(ctx, "at", "ATXid_a", s.status)
		if err != nil || !found {
			t.Fatalf("step %d %s: %v, %v", i, s.status, found, err)
		}
		if m := mustMessage(t, db, a); m.Status != s.want {
			t.Errorf("step %d %s: status %s, want %s", i, s.status, m.Status, s.want)
		}
	}
	if c := readColumns(t, db, a); c.DeliveredAt == nil {
		t.Error("delivered_at not set")
	}

	b := sent("b", "ATXid_b")
	for _, st := range []string{sms.Failed, sms.Delivered, sms.Sent} {
		if _, err := db.UpdateDelivery(ctx, "at", "ATXid_b", st); err != nil {
			t.Fatal(err)
		}
	}
	if m := mustMessage(t, db, b); m.Status != sms.Failed {
		t.Errorf("failed then delivered: %s, want failed", m.Status)
	}
	if c := readColumns(t, db, b); c.DeliveredAt != nil {
		t.Error("delivered_at set on a failed message")
	}

	for _, tc := range []struct{ carrier, id string }{{"at", "nope"}, {"twilio", "ATXid_a"}, {"at", ""}} {
		if found, err := db.UpdateDelivery(ctx, tc.carrier, tc.id, sms.Delivered); err != nil || found {
			t.Errorf("UpdateDelivery(%s, %q) = %v, %v; want false, nil", tc.carrier, tc.id, found, err)
		}
	}
	if _, err := db.UpdateDelivery(ctx, "at", "ATXid_a", sms.Queued); err == nil {
		t.Error("a delivery report to queued accepted")
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()

	in, _, err := db.RecordInbound(ctx, inbound("m1", "STATUS"))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := db.Answer(ctx, in, sms.Message{Body: "ok", Status: sms.Queued})
	if err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, db, alert("", "to someone else"))

	got, err := db.Messages(ctx, smsPhone)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []int64{in, reply.ID}) {
		t.Errorf("Messages = %v, want %v", ids(got), []int64{in, reply.ID})
	}
	if got, err := db.Messages(ctx, "+8613000000000"); err != nil || len(got) != 0 {
		t.Errorf("Messages of a stranger = %v, %v", got, err)
	}
	if _, err := db.MessageByID(ctx, 999999); !errors.Is(err, menus.ErrNotFound) {
		t.Errorf("MessageByID(unknown): %v", err)
	}
}

// TestKannelReportBeforeMarkSent: Kannel's reject can arrive while the
// message is still being sent; it is recorded, and the late MarkSent does
// not overwrite it.
func TestKannelReportBeforeMarkSent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustDB(t)
	id, _, err := db.Enqueue(ctx, sms.Message{Direction: sms.Out, Kind: sms.KindAlert, Carrier: "kannel", Phone: "+8613700137001", Body: "test"})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimDue(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 || len(claimed[0].DLRToken) < 32 {
		t.Fatalf("claimed %+v, %v; want one message with its delivery token", claimed, err)
	}
	token := claimed[0].DLRToken
	if found, err := db.UpdateDeliveryByID(ctx, "kannel", id, "0123456789abcdef0123456789abcdef", sms.Failed); err != nil || found {
		t.Fatalf("a report with a guessed token: found %v, %v", found, err)
	}
	found, err := db.UpdateDeliveryByID(ctx, "kannel", id, token, sms.Failed)
	if err != nil || !found {
		t.Fatalf("early report: found %v, %v", found, err)
	}
	_ = db.MarkSent(ctx, id, fmt.Sprint(id)) // too late: refused
	m, err := db.MessageByID(ctx, id)
	if err != nil || m.Status != sms.Failed {
		t.Fatalf("status after an early reject = %q, %v; want failed", m.Status, err)
	}
	// Another carrier's ids are never matched against ours.
	if found, _ := db.UpdateDelivery(ctx, "at", fmt.Sprint(id), sms.Delivered); found {
		t.Fatal("an Africa's Talking report matched our own id")
	}
	if found, _ := db.UpdateDeliveryByID(ctx, "at", id, token, sms.Delivered); found {
		t.Fatal("a report by id matched another carrier's message")
	}
}

// TestReportOnANeverSentMessage: a delivery report, even with the right
// token, does not move a message no sender has taken.
func TestReportOnANeverSentMessage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustDB(t)
	id, _, err := db.Enqueue(ctx, sms.Message{Direction: sms.Out, Kind: sms.KindAlert, Carrier: "kannel", Phone: "+8613700137001", Body: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	if err := storage.SQL(db).GetContext(ctx, &token, `SELECT dlr_token FROM messages WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if found, err := db.UpdateDeliveryByID(ctx, "kannel", id, token, sms.Delivered); err != nil || found {
		t.Fatalf("a report on a queued message: found %v, %v", found, err)
	}
	if m, _ := db.MessageByID(ctx, id); m.Status != sms.Queued {
		t.Fatalf("a queued message became %s", m.Status)
	}
}

// TestReportBeforeSendIsRetried: an Africa's Talking report for an id not
// recorded yet, while a send is in flight, asks to be retried (a conflict)
// rather than be dropped; with nothing in flight it is simply unknown.
func TestReportBeforeSendIsRetried(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustDB(t)
	if found, err := db.UpdateDelivery(ctx, "at", "ATXid_early", sms.Delivered); found || err != nil {
		t.Fatalf("nothing in flight: found %v, %v", found, err)
	}
	id, _, err := db.Enqueue(ctx, sms.Message{Direction: sms.Out, Kind: sms.KindReply, Carrier: "at", Phone: "+8613700137001", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimDue(ctx, 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateDelivery(ctx, "at", "ATXid_early", sms.Delivered); !errors.Is(err, menus.ErrConflict) {
		t.Fatalf("report during a send: %v, want a conflict", err)
	}
	if err := db.MarkSent(ctx, id, "ATXid_early"); err != nil {
		t.Fatal(err)
	}
	if found, err := db.UpdateDelivery(ctx, "at", "ATXid_early", sms.Delivered); !found || err != nil {
		t.Fatalf("the retried report: found %v, %v", found, err)
	}
}

// TestUnconfirmedAlertsAreSentAgain: an alert a carrier took but never
// confirmed delivered is queued again after the deadline, a bounded number
// of times, and then flagged, visibly; a delivered one is left alone.
func TestUnconfirmedAlertsAreSentAgain(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustDB(t)
	enqueue := func(phone string) int64 {
		id, _, err := db.Enqueue(ctx, sms.Message{Direction: sms.Out, Kind: sms.KindAlert, Carrier: "kannel", Phone: phone, Body: "urgent"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	silent, delivered := enqueue("+8613700137001"), enqueue("+8613700137002")
	send := func() {
		t.Helper()
		msgs, err := db.ClaimDue(ctx, 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if err := db.MarkSent(ctx, m.ID, fmt.Sprint(m.ID)); err != nil {
				t.Fatal(err)
			}
		}
		// An hour passes.
		if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE messages SET sent_at = sent_at - interval '1 hour'`); err != nil {
			t.Fatal(err)
		}
	}
	send()
	m, _ := db.MessageByID(ctx, delivered)
	if _, err := db.UpdateDeliveryByID(ctx, "kannel", delivered, m.DLRToken, sms.Delivered); err != nil {
		t.Fatal(err)
	}
	for round, want := range []struct{ resent, gaveUp int }{{1, 0}, {1, 0}, {0, 1}, {0, 0}} {
		resent, gaveUp, err := db.ResendUnconfirmedAlerts(ctx, 30*time.Minute, 2)
		if err != nil || resent != want.resent || gaveUp != want.gaveUp {
			t.Fatalf("round %d: resent %d, gave up %d, %v; want %+v", round+1, resent, gaveUp, err, want)
		}
		send()
	}
	got, _ := db.MessageByID(ctx, silent)
	if got.Status != sms.Sent || got.LastError != "sent 3 times; delivery never confirmed" {
		t.Fatalf("the silent alert: %+v", got)
	}
	if got, _ := db.MessageByID(ctx, delivered); got.Status != sms.Delivered {
		t.Fatalf("the delivered alert: %+v", got)
	}
}

// TestPurge: old message bodies and numbers, and old reports' raw
// answers, are forgotten; recent ones, unsent messages and the reports'
// structured fields stay.
func TestPurge(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)
	old, _, err := db.Enqueue(ctx, sms.Message{Direction: sms.Out, Kind: sms.KindReply, Carrier: "at", Phone: "+8613700137001", Body: "old words"})
	if err != nil {
		t.Fatal(err)
	}
	unsent, _, _ := db.Enqueue(ctx, sms.Message{Direction: sms.Out, Kind: sms.KindReply, Carrier: "at", Phone: "+8613700137002", Body: "still to send"})
	recent, _, _ := db.Enqueue(ctx, sms.Message{Direction: sms.Out, Kind: sms.KindReply, Carrier: "at", Phone: "+8613700137003", Body: "new words"})
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE messages SET status = 'failed' WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	ref, err := db.SaveReport(ctx, visitBy(reg, "purge-1"))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB := storage.SQL(db)
	if _, err := sqlDB.ExecContext(ctx, `UPDATE messages SET created_at = now() - interval '100 days' WHERE id IN ($1, $2)`, old, unsent); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.ExecContext(ctx, `UPDATE visits SET reported_at = now() - interval '100 days'`); err != nil {
		t.Fatal(err)
	}
	p, err := db.Purge(ctx, time.Now().Add(-90*24*time.Hour))
	if err != nil || p.Messages != 1 || p.Reports != 1 {
		t.Fatalf("Purge = %+v, %v; want one message and one report", p, err)
	}
	if m, _ := db.MessageByID(ctx, old); m.Body != "" || m.Phone != "" {
		t.Errorf("old message kept: %+v", m)
	}
	for _, id := range []int64{unsent, recent} {
		if m, _ := db.MessageByID(ctx, id); m.Body == "" || m.Phone == "" {
			t.Errorf("message %d forgotten: %+v", id, m)
		}
	}
	r, err := db.ReportByRef(ctx, ref)
	if err != nil || len(r.Answers) != 0 || r.ChildCode == "" || r.Situation == "" {
		t.Fatalf("purged report %+v, %v; want its fields without its answers", r, err)
	}
}

// TestSegmentsByCarrierProfile: an outbound message is counted as its
// carrier counts it: a provider's signature makes a 65-character Chinese
// text two segments where the standard count makes it one.
func TestSegmentsByCarrierProfile(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	db.SetSMSProfiles(map[string]textlen.Profile{"tencent": {SingleGSM7: 160, PartGSM7: 153, SingleUCS2: 70, PartUCS2: 67, Signature: "【赤脚儿童】"}})
	body := strings.Repeat("补", 65)
	for carrier, want := range map[string]int{"tencent": 2, "at": 1} {
		id, _, err := db.Enqueue(ctx, sms.Message{Carrier: carrier, Phone: "+8613900000042", Body: body, Kind: sms.KindAlert})
		if err != nil {
			t.Fatal(err)
		}
		if n := MustCount(t, db, `SELECT segments FROM messages WHERE id = $1`, id); n != want {
			t.Errorf("%s: %d segments, want %d", carrier, n, want)
		}
	}
}

// TestDeliveryReportRacingMarkSent: a report that arrives while its send
// is being recorded is either taken (the message moves) or refused for
// the carrier to send again, never answered as taken and lost. Each
// round races one report against the MarkSent of its message; the report
// is retried while refused, as a carrier does.
func TestDeliveryReportRacingMarkSent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	for i := range 60 {
		carrierID := fmt.Sprintf("RACE%d", i)
		id := mustEnqueue(t, db, alert("", fmt.Sprint("race ", i)))
		mustClaimOne(t, db, id)
		done := make(chan error, 1)
		go func() { done <- db.MarkSent(ctx, id, carrierID) }()
		var found bool
		var err error
		for tries := 0; tries < 1000; tries++ {
			found, err = db.UpdateDelivery(ctx, "at", carrierID, sms.Delivered)
			if !errors.Is(err, menus.ErrConflict) {
				break
			}
		}
		if merr := <-done; merr != nil {
			t.Fatal(merr)
		}
		if err != nil || !found {
			t.Fatalf("round %d: the report was answered %v, %v with its message sent", i, found, err)
		}
		if m := mustMessage(t, db, id); m.Status != sms.Delivered {
			t.Fatalf("round %d: the message is %s, not delivered", i, m.Status)
		}
	}
}

// TestOutboxBacklog: the outbox counts what waits by carrier and state (due,
// claimed by a sender, deferred to later), with the age of the oldest of
// each; what was sent, failed or came in is not waiting.
func TestOutboxBacklog(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	if got, err := db.OutboxBacklog(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty outbox: %+v, %v", got, err)
	}

	sending := mustEnqueue(t, db, alert("", "claimed"))
	mustClaimOne(t, db, sending)
	deferred := mustEnqueue(t, db, alert("", "retried later"))
	mustClaimOne(t, db, deferred)
	if err := db.MarkRetry(ctx, deferred, "carrier down", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sent := mustEnqueue(t, db, alert("", "sent"))
	mustClaimOne(t, db, sent)
	if err := db.MarkSent(ctx, sent, "c-1"); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, db, alert("", "due one"))
	mustEnqueue(t, db, alert("", "due two"))
	other := alert("", "due elsewhere")
	other.Carrier = "kannel"
	mustEnqueue(t, db, other)
	if _, _, err := db.RecordInbound(ctx, inbound("in-1", "hello")); err != nil {
		t.Fatal(err)
	}
	// The first due one has waited ten minutes.
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE messages SET created_at = now() - interval '10 minutes' WHERE body = 'due one'`); err != nil {
		t.Fatal(err)
	}

	got, err := db.OutboxBacklog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		carrier, state string
		messages       int
		minAge, maxAge time.Duration
	}{
		{"at", storage.OutboxDeferred, 1, 0, time.Minute},
		{"at", storage.OutboxDue, 2, 10 * time.Minute, 11 * time.Minute},
		{"at", storage.OutboxSending, 1, 0, time.Minute},
		{"kannel", storage.OutboxDue, 1, 0, time.Minute},
	}
	if len(got) != len(want) {
		t.Fatalf("backlog %+v, want %d rows", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Carrier != w.carrier || g.State != w.state || g.Messages != w.messages || g.Oldest < w.minAge || g.Oldest > w.maxAge {
			t.Errorf("row %d: %+v, want %s %s %d aged %v to %v", i, g, w.carrier, w.state, w.messages, w.minAge, w.maxAge)
		}
	}
}

// TestOutboxBacklogReadsTheDueIndex: the backlog's query can be answered
// from the sender's partial index, so its cost grows with the messages
// waiting rather than with every message ever sent.
func TestOutboxBacklogReadsTheDueIndex(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	tx, err := storage.SQL(db).BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// A test table is too small for the planner to bother with an index:
	// forbid the table scan and see whether the index serves.
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	var plan []string
	if err := tx.SelectContext(ctx, &plan, `EXPLAIN `+storage.BacklogQuery); err != nil {
		t.Fatal(err)
	}
	if joined := strings.Join(plan, "\n"); !strings.Contains(joined, "messages_due") {
		t.Fatalf("the backlog does not read messages_due:\n%s", joined)
	}
}
