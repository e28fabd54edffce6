package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Jobs: work due at a time, kept in Postgres (the jobs table) and run by
// every gateway process's RunJobs loop. A job is claimed with FOR UPDATE
// SKIP LOCKED and marked done in the transaction that does its work, so it
// runs once however many processes share the database, and a process that
// dies mid-job leaves it to the next run rather than half done. Time is
// always passed in, never read from the clock here, so that tests drive a
// simulated clock through days of escalations in milliseconds.

// Job is one piece of scheduled work, as its handler sees it.
type Job struct {
	ID       int64
	Kind     string
	Key      string
	Due      time.Time
	Payload  json.RawMessage
	Attempts int
	// db is the store the job runs on, for handlers that queue SMS
	// (enqueueTx) or read the deployment's settings.
	db *DB
}

// JobFunc does a job inside tx, at the (possibly simulated) time now. It
// returns nil when done, a *RetryAt to run the job again later (quiet
// hours), or an error to try again after a backoff.
type JobFunc func(ctx context.Context, tx *sqlx.Tx, j Job, now time.Time) error

// RetryAt asks for a job to run again at When, without counting an
// attempt: not a failure, only not yet.
type RetryAt struct {
	When   time.Time
	Reason string
}

func (r *RetryAt) Error() string {
	return fmt.Sprintf("not before %s: %s", r.When.Format(time.RFC3339), r.Reason)
}

// jobKinds are the handlers by kind, registered by the files that schedule
// each kind (registerJob), so a kind and its handler live side by side.
var (
	jobKindsMu sync.RWMutex
	jobKinds   = map[string]JobFunc{}
)

func registerJob(kind string, fn JobFunc) {
	jobKindsMu.Lock()
	defer jobKindsMu.Unlock()
	if _, dup := jobKinds[kind]; dup {
		panic("storage: job kind " + kind + " registered twice")
	}
	jobKinds[kind] = fn
}

func jobHandler(kind string) JobFunc {
	jobKindsMu.RLock()
	defer jobKindsMu.RUnlock()
	return jobKinds[kind]
}

// maxJobAttempts is how often a failing job is tried before it is marked
// failed; with jobBackoff doubling from a minute, the last try is about 17
// hours after the first.
const maxJobAttempts = 10

func jobBackoff(attempts int) time.Duration {
	if attempts > 10 {
		attempts = 10
	}
	return time.Minute << (attempts - 1)
}

// scheduleTx schedules a job of kind and key due at due, in tx. A job of
// the same kind and key that exists already, pending or ended, is left as
// it is: scheduling is idempotent, so a retried report cannot schedule
// its escalation twice.
func scheduleTx(ctx context.Context, tx *sqlx.Tx, kind, key string, due time.Time, payload any) error {
	body, err := jobPayload(payload)
	if err != nil {
		return fmt.Errorf("schedule %s %s: %w", kind, key, err)
	}
	const q = `INSERT INTO jobs (kind, key, due_at, payload) VALUES ($1, $2, $3, $4)
ON CONFLICT (kind, key) DO NOTHING`
	if _, err := tx.ExecContext(ctx, q, kind, key, due, body); err != nil {
		return fmt.Errorf("schedule %s %s: %w", kind, key, err)
	}
	return nil
}

// rescheduleTx is scheduleTx that moves an existing job to due and makes
// it pending again (a follow-up pushed back by a new report).
func rescheduleTx(ctx context.Context, tx *sqlx.Tx, kind, key string, due time.Time, payload any) error {
	body, err := jobPayload(payload)
	if err != nil {
		return fmt.Errorf("reschedule %s %s: %w", kind, key, err)
	}
	const q = `INSERT INTO jobs (kind, key, due_at, payload) VALUES ($1, $2, $3, $4)
ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload,
    attempts = 0, last_error = '', outcome = NULL, ended_at = NULL`
	if _, err := tx.ExecContext(ctx, q, kind, key, due, body); err != nil {
		return fmt.Errorf("reschedule %s %s: %w", kind, key, err)
	}
	return nil
}

// cancelJobTx cancels a pending job; one that ran or does not exist is
// left alone. It reports whether a job was cancelled.
func cancelJobTx(ctx context.Context, tx *sqlx.Tx, kind, key string, now time.Time) (bool, error) {
	const q = `UPDATE jobs SET outcome = 'cancelled', ended_at = $3 WHERE kind = $1 AND key = $2 AND outcome IS NULL`
	res, err := tx.ExecContext(ctx, q, kind, key, now)
	if err != nil {
		return false, fmt.Errorf("cancel %s %s: %w", kind, key, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// jobPayload is payload as JSON text: a string, since []byte arguments go
// to the server in binary, which jsonb does not read.
func jobPayload(payload any) (string, error) {
	if payload == nil {
		return "{}", nil
	}
	b, err := json.Marshal(payload)
	return string(b), err
}

// RunDueJobs runs the jobs due at now, at most limit of them, each in its
// own transaction, and returns how many it handled (done, put off or
// failed). Jobs another
// process is running are skipped, not waited for. A job of a kind this
// process does not know is left for one that does.
func (db *DB) RunDueJobs(ctx context.Context, now time.Time, limit int) (int, error) {
	ran := 0
	for ran < limit {
		did, err := db.runOneJob(ctx, now)
		if err != nil {
			return ran, err
		}
		if !did {
			return ran, nil
		}
		ran++
	}
	return ran, nil
}

// errNoJob says no due job was left to claim.
var errNoJob = errors.New("no due job")

// runOneJob claims the earliest due job and runs it. It is false when none
// was due.
func (db *DB) runOneJob(ctx context.Context, now time.Time) (bool, error) {
	var j Job
	var failure error
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		const claim = `SELECT id, kind, key, due_at, payload, attempts FROM jobs
WHERE outcome IS NULL AND due_at <= $1 AND kind = ANY($2)
ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`
		row := tx.QueryRowxContext(ctx, claim, now, pq.Array(knownKinds()))
		var payload []byte
		if err := row.Scan(&j.ID, &j.Kind, &j.Key, &j.Due, &payload, &j.Attempts); errors.Is(err, sql.ErrNoRows) {
			return errNoJob
		} else if err != nil {
			return fmt.Errorf("claim a due job: %w", err)
		}
		j.Payload = payload
		j.db = db
		// The job's work runs under a savepoint: when it fails, its
		// writes are undone but the claim and the failure are recorded in
		// this same transaction, still holding the row.
		if _, err := tx.ExecContext(ctx, `SAVEPOINT job`); err != nil {
			return fmt.Errorf("job %s %s: %w", j.Kind, j.Key, err)
		}
		failure = jobHandler(j.Kind)(ctx, tx, j, now)
		if failure == nil {
			_, err := tx.ExecContext(ctx, `UPDATE jobs SET outcome = 'done', ended_at = $2, attempts = attempts + 1, last_error = '' WHERE id = $1`, j.ID, now)
			return err
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT job`); err != nil {
			return fmt.Errorf("job %s %s: %w", j.Kind, j.Key, err)
		}
		var later *RetryAt
		if errors.As(failure, &later) && later.When.After(now) {
			_, err := tx.ExecContext(ctx, `UPDATE jobs SET due_at = $2, last_error = $3 WHERE id = $1`, j.ID, later.When, later.Reason)
			return err
		}
		attempts := j.Attempts + 1
		if attempts >= maxJobAttempts {
			_, err := tx.ExecContext(ctx, `UPDATE jobs SET outcome = 'failed', ended_at = $2, attempts = $3, last_error = $4 WHERE id = $1`,
				j.ID, now, attempts, failure.Error())
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET due_at = $2, attempts = $3, last_error = $4 WHERE id = $1`,
			j.ID, now.Add(jobBackoff(attempts)), attempts, failure.Error())
		return err
	})
	if errors.Is(err, errNoJob) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

func knownKinds() []string {
	jobKindsMu.RLock()
	defer jobKindsMu.RUnlock()
	kinds := make([]string, 0, len(jobKinds))
	for k := range jobKinds {
		kinds = append(kinds, k)
	}
	return kinds
}

// jobBatch bounds one run of RunJobs, so a backlog (a gateway that was down
// for a day) is worked off in slices between which shutdown is noticed.
const jobBatch = 100

// RunJobs runs due jobs every interval, by the clock now, until ctx is
// done. Errors are logged and retried at the next tick: a database that
// restarts delays jobs, never loses them.
func (db *DB) RunJobs(ctx context.Context, now func() time.Time, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := db.RunDueJobs(ctx, now(), jobBatch)
			if err != nil && ctx.Err() == nil {
				log.Error("scheduled jobs", "err", err)
			}
			if err != nil || n < jobBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
