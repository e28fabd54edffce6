package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/jmoiron/sqlx"
)

// The messages table is both the inbox of SMS received and the outbox of SMS
// to send. Inbound rows deduplicate carrier retries on the carrier's message
// id and keep the reply they were given; outbound rows are claimed by
// senders, marked with the outcome of each attempt, and then moved forward
// by delivery reports.
//
// Errors here never quote a phone number or a message body: they end up in
// logs.

// maxReason bounds last_error: a carrier's reason, not a transcript.
const maxReason = 500

// e164 is the messages_phone_e164 check, applied before the insert so that a
// refusal is a clear error rather than a constraint violation whose detail
// would carry the row, body included.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// msgCols are the columns every message query reads, for messageRow.
// A forgotten message has no phone (NULL): it reads as "".
const msgCols = `id, direction, carrier, carrier_id, COALESCE(phone, '') AS phone, body, status, kind, reply_to, dedupe_key, attempts, last_error, created_at, dlr_token,
    template, template_lang, params`

// messageRow is one row of messages.
type messageRow struct {
	ID        int64          `db:"id"`
	Direction string         `db:"direction"`
	Carrier   string         `db:"carrier"`
	CarrierID sql.NullString `db:"carrier_id"`
	Phone     string         `db:"phone"`
	Body      string         `db:"body"`
	Status    string         `db:"status"`
	Kind      string         `db:"kind"`
	ReplyTo   sql.NullInt64  `db:"reply_to"`
	DedupeKey sql.NullString `db:"dedupe_key"`
	Attempts  int            `db:"attempts"`
	LastError sql.NullString `db:"last_error"`
	CreatedAt time.Time      `db:"created_at"`
	DLRToken  string         `db:"dlr_token"`
	Template  string         `db:"template"`
	Lang      string         `db:"template_lang"`
	Params    []byte         `db:"params"`
}

func (r messageRow) toSMS() sms.Message {
	m := sms.Message{
		ID:        r.ID,
		Direction: r.Direction,
		Carrier:   r.Carrier,
		CarrierID: r.CarrierID.String,
		DLRToken:  r.DLRToken,
		Phone:     r.Phone,
		Body:      r.Body,
		Status:    r.Status,
		Kind:      r.Kind,
		ReplyTo:   r.ReplyTo.Int64,
		DedupeKey: r.DedupeKey.String,
		Attempts:  r.Attempts,
		LastError: r.LastError.String,
		CreatedAt: r.CreatedAt,
		Template:  r.Template,
		Lang:      r.Lang,
	}
	if len(r.Params) > 0 {
		// Written by paramsJSON from []sms.Param: it decodes.
		_ = json.Unmarshal(r.Params, &m.Params)
	}
	if r.Direction == sms.In {
		m.ReceivedAt = r.CreatedAt
	}
	return m
}

func toSMSes(rows []messageRow) []sms.Message {
	out := make([]sms.Message, len(rows))
	for i, r := range rows {
		out[i] = r.toSMS()
	}
	return out
}

// messageParams is a message cleaned and measured for an insert.
type messageParams struct {
	carrier   string
	carrierID sql.NullString
	phone     string
	masked    string
	body      string
	encoding  string
	segments  int
	kind      string
	replyTo   sql.NullInt64
	dedupeKey sql.NullString
	template  string
	lang      string
	params    sql.NullString
}

func messageParamsOf(m sms.Message) (messageParams, error) {
	p := messageParams{
		carrier:   clean(m.Carrier),
		carrierID: nullString(clean(m.CarrierID)),
		phone:     m.Phone,
		body:      clean(m.Body),
		kind:      m.Kind,
		dedupeKey: nullString(clean(m.DedupeKey)),
		template:  clean(m.Template),
		lang:      clean(m.Lang),
	}
	if len(m.Params) > 0 {
		ps := make([]sms.Param, len(m.Params))
		for i, x := range m.Params {
			ps[i] = sms.Param{Name: clean(x.Name), Value: clean(x.Value)}
		}
		js, err := json.Marshal(ps)
		if err != nil {
			return messageParams{}, fmt.Errorf("encode template parameters: %w", err)
		}
		p.params = nullString(string(js))
	}
	if p.carrier == "" {
		return messageParams{}, errors.New("no carrier")
	}
	if !e164.MatchString(p.phone) {
		return messageParams{}, errors.New("phone is not an E.164 number")
	}
	p.masked = phone.Mask(p.phone)
	info := textlen.SMS(p.body)
	p.encoding, p.segments = info.Encoding.String(), info.Segments
	if m.ReplyTo != 0 {
		p.replyTo = sql.NullInt64{Int64: m.ReplyTo, Valid: true}
	}
	return p, nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// reason makes a failure reason storable: cleaned and cut, on a character
// boundary, to maxReason bytes.
func reason(s string) string {
	s = clean(s)
	if len(s) <= maxReason {
		return s
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// RecordInbound stores an SMS received from a carrier, with status received,
// and returns its id.
//
// Carriers retry a callback until they get a 200, so recording is idempotent
// on (carrier, CarrierID) when CarrierID is set: a retry stores nothing and
// returns the first row's id and, when that message was answered, the reply
// it was given, so that the gateway answers the retry exactly as it answered
// the first time. A retry whose phone differs from the first is an error
// wrapping menus.ErrConflict: answering it with the first reply would send
// one person's reply to another. Without a CarrierID every call stores a row.
//
// Body, carrier and id are stored with invalid UTF-8 replaced by U+FFFD and
// NUL bytes removed; the phone must be E.164.
func (db *DB) RecordInbound(ctx context.Context, m sms.Message) (int64, *sms.Message, error) {
	p, err := messageParamsOf(m)
	if err != nil {
		return 0, nil, fmt.Errorf("record inbound sms: %w", err)
	}
	// The conflict target names the partial unique index by its columns and
	// predicate, which is how ON CONFLICT infers a partial index.
	const insert = `
INSERT INTO messages (direction, carrier, carrier_id, phone, phone_masked, body, encoding, segments, status, kind)
VALUES ('in', $1, $2, $3, $4, $5, $6, $7, 'received', 'inbound')
ON CONFLICT (direction, carrier, carrier_id) WHERE carrier_id IS NOT NULL DO NOTHING
RETURNING id`
	var id int64
	err = db.db.GetContext(ctx, &id, insert, p.carrier, p.carrierID, p.phone, p.masked, p.body, p.encoding, p.segments)
	if err == nil {
		return id, nil, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("record inbound sms: %w", err)
	}

	// A retry: ON CONFLICT waited for the first insert to commit, and these
	// new statements see its row.
	const first = `SELECT id, COALESCE(phone, '') AS phone, status FROM messages WHERE direction = 'in' AND carrier = $1 AND carrier_id = $2`
	var prev struct {
		ID     int64  `db:"id"`
		Phone  string `db:"phone"`
		Status string `db:"status"`
	}
	if err := db.db.GetContext(ctx, &prev, first, p.carrier, p.carrierID); err != nil {
		return 0, nil, fmt.Errorf("record inbound sms: first of a retry: %w", err)
	}
	if prev.Phone == "" {
		// A forgotten stranger's message, delivered again: it was
		// answered; it gets nothing more, and nothing more is kept.
		return prev.ID, &sms.Message{}, nil
	}
	if prev.Phone != p.phone {
		return 0, nil, fmt.Errorf("record inbound sms: carrier id already names a message from another phone: %w", menus.ErrConflict)
	}
	reply, ok, err := replyOf(ctx, db.db, prev.ID)
	if err != nil {
		return 0, nil, fmt.Errorf("record inbound sms: %w", err)
	}
	if !ok {
		if prev.Status == sms.Answered {
			// Processed and answered with nothing (MarkAnswered): the
			// retry gets nothing either.
			return prev.ID, &sms.Message{}, nil
		}
		return prev.ID, nil, nil
	}
	return prev.ID, &reply, nil
}

// MarkAnswered records that an inbound message was processed and given no
// reply (there was nothing to say, or the reply was held back by a
// limit), so that a carrier's retry of it is answered with nothing and not
// processed again.
func (db *DB) MarkAnswered(ctx context.Context, inboundID int64) error {
	const q = `UPDATE messages SET status = 'answered', updated_at = now() WHERE id = $1 AND direction = 'in'`
	res, err := db.db.ExecContext(ctx, q, inboundID)
	if err != nil {
		return fmt.Errorf("mark message %d answered: %w", inboundID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("mark message %d answered: %w", inboundID, menus.ErrNotFound)
	}
	return nil
}

// replyOf returns the first reply stored for an inbound message.
func replyOf(ctx context.Context, q sqlx.QueryerContext, inboundID int64) (sms.Message, bool, error) {
	const sel = `SELECT ` + msgCols + ` FROM messages WHERE reply_to = $1 AND direction = 'out' AND kind = 'reply' ORDER BY id LIMIT 1`
	var row messageRow
	err := sqlx.GetContext(ctx, q, &row, sel, inboundID)
	if errors.Is(err, sql.ErrNoRows) {
		return sms.Message{}, false, nil
	}
	if err != nil {
		return sms.Message{}, false, fmt.Errorf("reply of message %d: %w", inboundID, err)
	}
	return row.toSMS(), true, nil
}

// Answer stores the reply to an inbound message and marks the inbound
// answered, in one transaction, and returns the reply as stored.
//
// reply.Status says how the reply leaves: menus.SMSQueued for one a sender
// will send through the carrier's API, menus.SMSReplied for one given
// inline in the carrier's HTTP response (TwiML, Kannel), which is never
// sent again. Any other status is an error. The reply goes to the inbound
// message's phone through its carrier; reply.Phone and reply.Carrier may be
// left empty, and must match when set.
//
// Answering is idempotent per inbound message: the inbound row is locked,
// and when it already has a reply that reply is returned unchanged, whatever
// the second reply said. A reply is deduplicated by the message it answers,
// so reply.DedupeKey is not used. An unknown inbound id is an error wrapping
// menus.ErrNotFound.
func (db *DB) Answer(ctx context.Context, inboundID int64, reply sms.Message) (sms.Message, error) {
	if reply.Status != sms.Queued && reply.Status != sms.Replied {
		return sms.Message{}, fmt.Errorf("answer message %d: reply status %q is neither queued nor replied", inboundID, clean(reply.Status))
	}
	var out sms.Message
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		const lock = `SELECT carrier, phone FROM messages WHERE id = $1 AND direction = 'in' FOR UPDATE`
		var in struct {
			Carrier string `db:"carrier"`
			Phone   string `db:"phone"`
		}
		err := tx.GetContext(ctx, &in, lock, inboundID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("inbound message %d: %w", inboundID, menus.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock inbound message %d: %w", inboundID, err)
		}
		prev, ok, err := replyOf(ctx, tx, inboundID)
		if err != nil {
			return err
		}
		if ok {
			out = prev
			return nil
		}

		switch {
		case reply.Phone != "" && reply.Phone != in.Phone:
			return errors.New("reply is addressed to another phone than the message it answers")
		case reply.Carrier != "" && clean(reply.Carrier) != in.Carrier:
			return errors.New("reply names another carrier than the message it answers")
		}
		reply.Phone, reply.Carrier = in.Phone, in.Carrier
		reply.Kind, reply.ReplyTo, reply.DedupeKey = sms.KindReply, inboundID, ""
		p, err := messageParamsOf(reply)
		if err != nil {
			return err
		}
		db.measure(&p)
		id, _, err := insertOutbound(ctx, tx, p, reply.Status)
		if err != nil {
			return err
		}
		const answered = `UPDATE messages SET status = 'answered', updated_at = now() WHERE id = $1`
		if _, err := tx.ExecContext(ctx, answered, inboundID); err != nil {
			return fmt.Errorf("mark message %d answered: %w", inboundID, err)
		}
		out, err = messageByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return sms.Message{}, fmt.Errorf("answer message %d: %w", inboundID, err)
	}
	return out, nil
}

// Enqueue stores an outbound message (kind alert or reply) with status
// queued, due now, and returns its id.
//
// With a DedupeKey the message is exactly-once: a second enqueue with the
// same key stores nothing and returns the first message's id with created
// false, even if its phone or body differ. The key names what the message
// is about (say "alert:need:N2345:+86..."), not its text.
func (db *DB) Enqueue(ctx context.Context, m sms.Message) (id int64, created bool, err error) {
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		id, created, err = db.enqueueTx(ctx, tx, m)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("enqueue sms: %w", err)
	}
	return id, created, nil
}

// enqueueTx is Enqueue inside a transaction the caller owns, so that a
// report and the alerts it raises commit together. The transaction must be
// READ COMMITTED (the default), so that after a dedupe conflict the row that
// won is visible to the next statement.
func (db *DB) enqueueTx(ctx context.Context, tx *sqlx.Tx, m sms.Message) (int64, bool, error) {
	if m.Kind != sms.KindAlert && m.Kind != sms.KindReply && m.Kind != sms.KindReminder {
		return 0, false, fmt.Errorf("outbound kind %q is not an alert, a reply or a reminder", clean(m.Kind))
	}
	p, err := messageParamsOf(m)
	if err != nil {
		return 0, false, err
	}
	// An outbound row gets its carrier id when the carrier accepts it.
	p.carrierID = sql.NullString{}
	db.measure(&p)
	return insertOutbound(ctx, tx, p, sms.Queued)
}

// insertOutbound inserts an outbound message with the given status, or, when
// its dedupe key is taken, returns the id holding the key.
func insertOutbound(ctx context.Context, tx *sqlx.Tx, p messageParams, status string) (int64, bool, error) {
	const insert = `
INSERT INTO messages (direction, carrier, phone, phone_masked, body, encoding, segments, status, kind, reply_to, dedupe_key,
                      template, template_lang, params)
VALUES ('out', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb)
ON CONFLICT ON CONSTRAINT messages_dedupe_key DO NOTHING
RETURNING id`
	var id int64
	err := tx.GetContext(ctx, &id, insert,
		p.carrier, p.phone, p.masked, p.body, p.encoding, p.segments, status, p.kind, p.replyTo, p.dedupeKey,
		p.template, p.lang, p.params)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("insert outbound sms: %w", err)
	}
	const byKey = `SELECT id FROM messages WHERE dedupe_key = $1`
	if err := tx.GetContext(ctx, &id, byKey, p.dedupeKey); err != nil {
		return 0, false, fmt.Errorf("outbound sms by dedupe key: %w", err)
	}
	return id, false, nil
}

// ClaimDue claims up to limit outbound messages that are due, oldest due
// first, for one sender: each is set to sending, its attempts counted, and
// its next attempt pushed lease into the future, and the claimed messages
// are returned with their new attempt count.
//
// Due means queued, or sending with its lease expired, and next_attempt_at
// reached. Rows another sender is claiming at the same moment are skipped
// (FOR UPDATE SKIP LOCKED), so concurrent senders, in one process or many,
// never claim the same row twice within a lease.
//
// The lease is what makes a crash safe: a sender that dies after claiming
// leaves its rows in sending, and they are claimed again once the lease
// expires. That makes delivery at-least-once: a sender that died after the
// carrier accepted a message but before MarkSent committed leaves it to be
// sent again. A live sender must therefore settle each message well within
// the lease; the sender package bounds every send to fit.
func (db *DB) ClaimDue(ctx context.Context, limit int, lease time.Duration) ([]sms.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	// The CTE is materialised, so the locking subquery runs once and the
	// LIMIT holds; a rescanned or inlined subquery could lock more rows than
	// it returns. A row that another sender claimed and committed after this
	// statement's snapshot is re-checked when locked, finds next_attempt_at
	// in the future, and drops out.
	const q = `
WITH due AS MATERIALIZED (
    SELECT id, next_attempt_at
    FROM messages
    WHERE direction = 'out' AND status IN ('queued', 'sending') AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE messages m
    SET status = 'sending', attempts = m.attempts + 1,
        next_attempt_at = now() + make_interval(secs => $2::float8), updated_at = now()
    FROM due
    WHERE m.id = due.id
    RETURNING m.id, m.direction, m.carrier, m.carrier_id, m.phone, m.body, m.status, m.kind, m.reply_to,
              m.dedupe_key, m.attempts, m.last_error, m.created_at, m.dlr_token, m.template, m.template_lang, m.params,
              due.next_attempt_at AS due_at
)
SELECT ` + msgCols + ` FROM claimed ORDER BY due_at, id`
	var rows []messageRow
	if err := db.db.SelectContext(ctx, &rows, q, limit, max(lease, 0).Seconds()); err != nil {
		return nil, fmt.Errorf("claim due sms: %w", err)
	}
	return toSMSes(rows), nil
}

// errNotSending is wrapped when a mark finds its message no longer in
// sending: another sender reclaimed it after a lease expired, or it was
// settled already.
func errNotSending(id int64) error {
	return fmt.Errorf("sms %d is not being sent: %w", id, menus.ErrConflict)
}

// MarkSent records that the carrier accepted a claimed message, under the
// carrier's id for it (empty when the carrier gave none), which delivery
// reports will name. Only a message in sending changes; otherwise nothing
// is written and the error wraps menus.ErrConflict.
func (db *DB) MarkSent(ctx context.Context, id int64, carrierID string) error {
	const q = `
UPDATE messages SET status = 'sent', carrier_id = $2, sent_at = now(), updated_at = now(), last_error = $3
WHERE id = $1 AND direction = 'out' AND status = 'sending'`
	res, err := db.db.ExecContext(ctx, q, id, nullString(clean(carrierID)), sql.NullString{})
	if isUnique(err, "messages_carrier_id") {
		// The carrier named another message of ours the same way. Sending
		// again would not help: the message is sent, but its delivery
		// reports cannot be told apart, so it is kept without the id.
		res, err = db.db.ExecContext(ctx, q, id, sql.NullString{},
			nullString("carrier returned an id another message already has; delivery reports will not be matched"))
	}
	return marked(res, err, id, "sent")
}

// MarkRetry puts a claimed message back in the queue, due at at (now when
// at is zero), with the reason the attempt failed. Only a message in sending
// changes; otherwise the error wraps menus.ErrConflict.
func (db *DB) MarkRetry(ctx context.Context, id int64, why string, at time.Time) error {
	const q = `
UPDATE messages SET status = 'queued', last_error = $2, next_attempt_at = COALESCE($3, now()), updated_at = now()
WHERE id = $1 AND direction = 'out' AND status = 'sending'`
	var due sql.NullTime
	if !at.IsZero() {
		due = sql.NullTime{Time: at, Valid: true}
	}
	res, err := db.db.ExecContext(ctx, q, id, reason(why), due)
	return marked(res, err, id, "for retry")
}

// SetSMSProfiles sets how each carrier counts an outbound SMS (its
// provider's signature included), for the segments messages are stored
// with; carriers not named count the standard way.
func (db *DB) SetSMSProfiles(profiles map[string]textlen.Profile) { db.profiles = profiles }

// measure counts an outbound message as its carrier will.
func (db *DB) measure(p *messageParams) {
	if prof, ok := db.profiles[p.carrier]; ok {
		info := prof.SMS(p.body)
		p.encoding, p.segments = info.Encoding.String(), info.Segments
	}
}

// SentSince counts the messages sent to phone through carrier since a
// time, for a provider's per-number daily cap.
func (db *DB) SentSince(ctx context.Context, carrier, phone string, since time.Time) (int, error) {
	const q = `
SELECT count(*) FROM messages
WHERE direction = 'out' AND carrier = $1 AND phone = $2 AND status IN ('sent', 'delivered') AND sent_at >= $3`
	var n int
	if err := db.db.GetContext(ctx, &n, q, carrier, phone, since); err != nil {
		return 0, fmt.Errorf("messages sent to a number: %w", err)
	}
	return n, nil
}

// MarkHeld puts a claimed message back in the queue without counting the
// attempt: it was not sent because something outside the carrier's control
// holds it (its template is not approved yet), and it is looked at again
// at at. why is what the console shows meanwhile.
func (db *DB) MarkHeld(ctx context.Context, id int64, why string, at time.Time) error {
	const q = `
UPDATE messages SET status = 'queued', attempts = greatest(attempts - 1, 0), last_error = $2,
    next_attempt_at = $3, updated_at = now()
WHERE id = $1 AND direction = 'out' AND status = 'sending'`
	res, err := db.db.ExecContext(ctx, q, id, reason(why), at)
	return marked(res, err, id, "held")
}

// MarkFailed records that a claimed message will never be sent, and why.
// Only a message in sending changes; otherwise the error wraps
// menus.ErrConflict.
func (db *DB) MarkFailed(ctx context.Context, id int64, why string) error {
	const q = `
UPDATE messages SET status = 'failed', last_error = $2, updated_at = now()
WHERE id = $1 AND direction = 'out' AND status = 'sending'`
	res, err := db.db.ExecContext(ctx, q, id, reason(why))
	return marked(res, err, id, "failed")
}

func marked(res sql.Result, err error, id int64, as string) error {
	if err != nil {
		return fmt.Errorf("mark sms %d %s: %w", id, as, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("mark sms %d %s: %w", id, as, err)
	}
	if n == 0 {
		return fmt.Errorf("mark sms %d %s: %w", id, as, errNotSending(id))
	}
	return nil
}

// deliveryRank orders outbound statuses: a status only ever moves to a
// higher rank. Delivered and failed share the top rank, so whichever a
// carrier reports first is final. A reply given inline counts as sent.
var deliveryRank = map[string]int{
	sms.Queued:    1,
	sms.Sending:   2,
	sms.Sent:      3,
	sms.Replied:   3,
	sms.Delivered: 4,
	sms.Failed:    4,
}

// UpdateDelivery applies a delivery report: the outbound message the
// carrier knows as carrierID moves to status (sent, delivered or failed) if
// that is forward of where it is. Reports arrive late, twice and out of
// order, so a report that would move a message back, or away from
// delivered or failed, changes nothing. delivered_at is set on delivery.
//
// It returns whether the carrier id names a message of ours, changed or
// not: an unknown id is (false, nil), which a handler answers with 200 so
// that the carrier stops retrying.
func (db *DB) UpdateDelivery(ctx context.Context, carrier, carrierID, status string) (bool, error) {
	switch status {
	case sms.Sent, sms.Delivered, sms.Failed:
	default:
		return false, fmt.Errorf("update delivery: status %q is not a delivery status", clean(status))
	}
	carrier, carrierID = clean(carrier), clean(carrierID)
	if carrierID == "" {
		return false, nil
	}
	apply := func() (bool, error) {
		found := false
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			const lock = `SELECT id, status FROM messages WHERE direction = 'out' AND carrier = $1 AND carrier_id = $2 FOR UPDATE`
			var cur struct {
				ID     int64  `db:"id"`
				Status string `db:"status"`
			}
			err := tx.GetContext(ctx, &cur, lock, carrier, carrierID)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			found = true
			return moveForward(ctx, tx, cur.ID, cur.Status, status)
		})
		if err != nil {
			return false, fmt.Errorf("update delivery: %w", err)
		}
		return found, nil
	}
	found, err := apply()
	if err != nil || found {
		return found, err
	}
	// A report can beat the sender's MarkSent (the carrier answered,
	// the id is not recorded yet). While a send of this carrier is in
	// flight, ask the carrier to come back rather than lose it.
	const qSending = `SELECT EXISTS (SELECT 1 FROM messages WHERE direction = 'out' AND carrier = $1 AND status = 'sending')`
	var sending bool
	if err := db.db.GetContext(ctx, &sending, qSending, carrier); err != nil {
		return false, fmt.Errorf("update delivery: %w", err)
	}
	if sending {
		return false, fmt.Errorf("update delivery: %s message not recorded yet, a send is in flight: %w", carrier, menus.ErrConflict)
	}
	// No send in flight now, but the one this report is about may have
	// been recorded between the lookup and that check: look once more,
	// or the report would be answered as taken and lost.
	return apply()
}

// States of an outbound message waiting to be sent, as OutboxBacklog
// reports them.
const (
	// OutboxDue: queued and due, or claimed by a sender whose lease
	// expired: waiting for a sender now.
	OutboxDue = "due"
	// OutboxSending: claimed by a sender, its lease running.
	OutboxSending = "sending"
	// OutboxDeferred: queued for later: a retry backing off, or a message
	// held for quiet hours or a daily cap.
	OutboxDeferred = "deferred"
)

// Backlog is what waits in the outbox for one carrier in one state.
type Backlog struct {
	Carrier, State string
	Messages       int
	// Oldest is how long the oldest of them has been in the outbox, by
	// the database's clock.
	Oldest time.Duration
}

// OutboxBacklog counts the outbound messages not yet sent, by carrier and
// state, with the age of the oldest of each. It reads the sender's own
// partial index (messages_due), so its cost grows with the messages
// waiting, not with the table.
func (db *DB) OutboxBacklog(ctx context.Context) ([]Backlog, error) {
	var rows []struct {
		Carrier  string  `db:"carrier"`
		State    string  `db:"state"`
		Messages int     `db:"messages"`
		Oldest   float64 `db:"oldest"`
	}
	if err := db.db.SelectContext(ctx, &rows, qBacklog); err != nil {
		return nil, fmt.Errorf("outbox backlog: %w", err)
	}
	out := make([]Backlog, len(rows))
	for i, r := range rows {
		out[i] = Backlog{Carrier: r.Carrier, State: r.State, Messages: r.Messages, Oldest: time.Duration(max(r.Oldest, 0) * float64(time.Second))}
	}
	return out, nil
}

// qBacklog's WHERE is messages_due's predicate, so that the waiting rows
// are found through that index rather than by reading the table.
const qBacklog = `
SELECT carrier,
       CASE WHEN next_attempt_at <= now() THEN '` + OutboxDue + `' WHEN status = 'sending' THEN '` + OutboxSending + `'
            ELSE '` + OutboxDeferred + `' END AS state,
       count(*) AS messages,
       extract(epoch FROM now() - min(created_at))::float8 AS oldest
FROM messages
WHERE direction = 'out' AND status IN ('queued', 'sending')
GROUP BY 1, 2
ORDER BY 1, 2`

// MessageByID returns one message. An unknown id is an error wrapping
// menus.ErrNotFound.
func (db *DB) MessageByID(ctx context.Context, id int64) (sms.Message, error) {
	m, err := messageByID(ctx, db.db, id)
	if err != nil {
		return sms.Message{}, err
	}
	return m, nil
}

func messageByID(ctx context.Context, q sqlx.QueryerContext, id int64) (sms.Message, error) {
	const sel = `SELECT ` + msgCols + ` FROM messages WHERE id = $1`
	var row messageRow
	err := sqlx.GetContext(ctx, q, &row, sel, id)
	if errors.Is(err, sql.ErrNoRows) {
		return sms.Message{}, fmt.Errorf("sms %d: %w", id, menus.ErrNotFound)
	}
	if err != nil {
		return sms.Message{}, fmt.Errorf("sms %d: %w", id, err)
	}
	return row.toSMS(), nil
}

// Messages returns every message to or from an E.164 phone, oldest first.
func (db *DB) Messages(ctx context.Context, phone string) ([]sms.Message, error) {
	const q = `SELECT ` + msgCols + ` FROM messages WHERE phone = $1 ORDER BY created_at, id`
	var rows []messageRow
	if err := db.db.SelectContext(ctx, &rows, q, phone); err != nil {
		return nil, fmt.Errorf("messages of a phone: %w", err)
	}
	return toSMSes(rows), nil
}

// moveForward sets a message's delivery status unless it already is as
// far or further: reports arrive late, twice and out of order.
func moveForward(ctx context.Context, tx *sqlx.Tx, id int64, from, to string) error {
	if deliveryRank[to] <= deliveryRank[from] {
		return nil
	}
	const q = `
UPDATE messages
SET status = $2, updated_at = now(), sent_at = COALESCE(sent_at, now()),
    delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END
WHERE id = $1`
	_, err := tx.ExecContext(ctx, q, id, to)
	return err
}

// UpdateDeliveryByID is UpdateDelivery for carriers whose reports name
// our own message id (Kannel, whose dlr-url carries it). The report must
// carry the message's token too: our ids are sequential, and anyone could
// otherwise name an alert. It needs no carrier id, so a report that beats
// the sender's MarkSent (an SMSC reject within milliseconds) is kept, and
// the late MarkSent cannot overwrite it; but only a message a sender has
// taken (sending or later) moves: a report on a message never handed to
// the carrier is false, and changes nothing. An unknown id, a wrong token
// or such a message is (false, nil).
func (db *DB) UpdateDeliveryByID(ctx context.Context, carrier string, id int64, token, status string) (bool, error) {
	switch status {
	case sms.Sent, sms.Delivered, sms.Failed:
	default:
		return false, fmt.Errorf("update delivery: status %q is not a delivery status", clean(status))
	}
	found := false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		const lock = `SELECT status FROM messages WHERE direction = 'out' AND carrier = $1 AND id = $2 AND dlr_token = $3 FOR UPDATE`
		var cur string
		err := tx.GetContext(ctx, &cur, lock, clean(carrier), id, clean(token))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur == sms.Queued {
			return nil
		}
		found = true
		return moveForward(ctx, tx, id, cur, status)
	})
	if err != nil {
		return false, fmt.Errorf("update delivery: %w", err)
	}
	return found, nil
}

// ResendUnconfirmedAlerts queues again every alert that a carrier took
// (sent) more than after ago without confirming its delivery, up to
// resends times each: an urgent alert that may not have reached the
// supervisor is worth a duplicate. An alert past its resends keeps its
// status and is flagged in last_error, once, and counted in gaveUp, for
// the caller to log and count: it is not known to have failed, only never
// known to have arrived.
func (db *DB) ResendUnconfirmedAlerts(ctx context.Context, after time.Duration, resends int) (resent, gaveUp int, err error) {
	const requeue = `
UPDATE messages
SET status = 'queued', resends = resends + 1, next_attempt_at = now(), updated_at = now(),
    last_error = 'delivery not confirmed within ' || $1::text || '; sending again'
WHERE direction = 'out' AND kind = 'alert' AND status = 'sent'
  AND sent_at < now() - make_interval(secs => $2::float8) AND resends < $3`
	const flag = `
UPDATE messages
SET last_error = 'sent ' || (resends + 1)::text || ' times; delivery never confirmed', updated_at = now()
WHERE direction = 'out' AND kind = 'alert' AND status = 'sent'
  AND sent_at < now() - make_interval(secs => $1::float8) AND resends >= $2
  AND last_error IS DISTINCT FROM 'sent ' || (resends + 1)::text || ' times; delivery never confirmed'`
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, requeue, after.String(), after.Seconds(), resends)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		resent = int(n)
		res, err = tx.ExecContext(ctx, flag, after.Seconds(), resends)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		gaveUp = int(n)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("resend unconfirmed alerts: %w", err)
	}
	return resent, gaveUp, nil
}

// ForgetMessage empties an inbound message and its inline reply of their
// text and number, once they are answered: what a number that is not in
// the registry sent is kept no longer than it takes to answer it. A reply
// still to be sent through a carrier's API keeps its number until Purge.
func (db *DB) ForgetMessage(ctx context.Context, inboundID int64) error {
	const q = `
UPDATE messages SET phone = NULL, body = '', params = NULL, forgotten_at = now(), updated_at = now()
WHERE id = $1 OR (reply_to = $1 AND status = 'replied')`
	if _, err := db.db.ExecContext(ctx, q, inboundID); err != nil {
		return fmt.Errorf("forget message %d: %w", inboundID, err)
	}
	return nil
}

// Purged counts what Purge forgot.
type Purged struct {
	Messages, Reports int
}

// Purge forgets what is older than before and no longer needed: message
// bodies and numbers (of messages no sender still has to send), and the
// raw answers of reports, whose structured fields (child, kind,
// situation or category, urgency, dates) stay for statistics. The audit
// log is kept whole: it is the record of who did what.
func (db *DB) Purge(ctx context.Context, before time.Time) (Purged, error) {
	var p Purged
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		const msgs = `
UPDATE messages SET phone = NULL, body = '', params = NULL, forgotten_at = now(), updated_at = now()
WHERE created_at < $1 AND forgotten_at IS NULL AND status NOT IN ('queued', 'sending')`
		res, err := tx.ExecContext(ctx, msgs, before)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		p.Messages = int(n)
		for _, table := range []string{"visits", "needs"} {
			q := `UPDATE ` + table + ` SET answers = '{}'::jsonb WHERE reported_at < $1 AND answers <> '{}'::jsonb`
			res, err := tx.ExecContext(ctx, q, before)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			p.Reports += int(n)
		}
		return nil
	})
	if err != nil {
		return Purged{}, fmt.Errorf("purge: %w", err)
	}
	return p, nil
}
