package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/jmoiron/sqlx"
)

// effectsTable is where test jobs write, in the job's transaction: a row
// per run, so a job run twice shows twice and a rolled-back run not at all.
func effectsTable(t *testing.T, db *storage.DB) {
	t.Helper()
	if _, err := storage.SQL(db).Exec(`CREATE TABLE IF NOT EXISTS job_effects (key text NOT NULL, at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

func effects(t *testing.T, db *storage.DB) map[string]int {
	t.Helper()
	var keys []string
	if err := storage.SQL(db).Select(&keys, `SELECT key FROM job_effects`); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, k := range keys {
		out[k]++
	}
	return out
}

func recordEffect(ctx context.Context, tx *sqlx.Tx, j storage.Job, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO job_effects (key, at) VALUES ($1, $2)`, j.Key, now)
	return err
}

func init() {
	storage.RegisterJob("test-record", recordEffect)
	storage.RegisterJob("test-fail", func(ctx context.Context, tx *sqlx.Tx, j storage.Job, now time.Time) error {
		if err := recordEffect(ctx, tx, j, now); err != nil {
			return err
		}
		return errors.New("carrier down")
	})
	storage.RegisterJob("test-later", func(ctx context.Context, tx *sqlx.Tx, j storage.Job, now time.Time) error {
		if now.Hour() >= 21 {
			return &storage.RetryAt{When: time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, now.Location()), Reason: "quiet hours"}
		}
		return recordEffect(ctx, tx, j, now)
	})
}

type jobRow struct {
	DueAt     time.Time `db:"due_at"`
	Attempts  int       `db:"attempts"`
	LastError string    `db:"last_error"`
	Outcome   *string   `db:"outcome"`
}

func job(t *testing.T, db *storage.DB, key string) jobRow {
	t.Helper()
	var r jobRow
	if err := storage.SQL(db).Get(&r, `SELECT due_at, attempts, last_error, outcome FROM jobs WHERE key = $1`, key); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestJobsRunWhenDueAndOnce: a job runs at its time, not before, and once;
// scheduling it again changes nothing; a cancelled job never runs.
func TestJobsRunWhenDueAndOnce(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	effectsTable(t, db)
	ctx := t.Context()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, k := range []string{"a", "b"} {
		if err := storage.ScheduleJob(db, "test-record", k, t0.Add(4*time.Hour), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := storage.ScheduleJob(db, "test-record", "a", t0, nil); err != nil { // again, earlier: ignored
		t.Fatal(err)
	}
	if ok, err := storage.CancelJob(db, "test-record", "b", t0); err != nil || !ok {
		t.Fatalf("cancel = %v, %v", ok, err)
	}
	steps := []struct {
		at   time.Time
		want int
	}{{t0, 0}, {t0.Add(4*time.Hour - time.Second), 0}, {t0.Add(4 * time.Hour), 1}, {t0.Add(5 * time.Hour), 0}}
	for _, s := range steps {
		if n, err := db.RunDueJobs(ctx, s.at, 10); err != nil || n != s.want {
			t.Fatalf("at %s: ran %d, %v; want %d", s.at, n, err, s.want)
		}
	}
	if got := effects(t, db); got["a"] != 1 || got["b"] != 0 {
		t.Fatalf("effects %v", got)
	}
	if ok, _ := storage.CancelJob(db, "test-record", "a", t0); ok {
		t.Error("a job that ran was cancelled")
	}
	// Rescheduled, a job that ran is pending again and runs again.
	if err := storage.RescheduleJob(db, "test-record", "a", t0.Add(6*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := db.RunDueJobs(ctx, t0.Add(6*time.Hour), 10); err != nil || n != 1 || effects(t, db)["a"] != 2 {
		t.Fatalf("rescheduled job: ran %d, %v, effects %v", n, err, effects(t, db))
	}
}

// TestJobsFailAndPutOff: a failing job's writes are undone and it is tried
// again after a backoff, counted; a job put off (quiet hours) moves to
// its new time without counting an attempt.
func TestJobsFailAndPutOff(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	effectsTable(t, db)
	ctx := t.Context()
	evening := time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC)
	if err := storage.ScheduleJob(db, "test-fail", "f", evening, nil); err != nil {
		t.Fatal(err)
	}
	if err := storage.ScheduleJob(db, "test-later", "q", evening, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := db.RunDueJobs(ctx, evening, 10); err != nil || n != 2 {
		t.Fatalf("ran %d, %v", n, err)
	}
	if got := effects(t, db); len(got) != 0 {
		t.Fatalf("effects of failed or put-off jobs kept: %v", got)
	}
	f := job(t, db, "f")
	if f.Attempts != 1 || f.LastError != "carrier down" || f.Outcome != nil || !f.DueAt.Equal(evening.Add(time.Minute)) {
		t.Fatalf("failed job: %+v", f)
	}
	q := job(t, db, "q")
	morning := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	if q.Attempts != 0 || q.LastError != "quiet hours" || !q.DueAt.Equal(morning) {
		t.Fatalf("put-off job: %+v", q)
	}
	if _, err := db.RunDueJobs(ctx, morning, 10); err != nil {
		t.Fatal(err)
	}
	if got := effects(t, db); got["q"] != 1 {
		t.Fatalf("the put-off job did not run in the morning: %v", got)
	}
	// Tried until it gives up: failed, and never run again.
	at := morning
	for i := 0; i < 12; i++ {
		at = at.Add(24 * time.Hour)
		if _, err := db.RunDueJobs(ctx, at, 10); err != nil {
			t.Fatal(err)
		}
	}
	if f := job(t, db, "f"); f.Outcome == nil || *f.Outcome != "failed" || f.Attempts != 10 {
		t.Fatalf("job that always fails: %+v", f)
	}
}

// TestJobsTwoProcesses: two gateway processes (two pools on one database)
// running due jobs at the same moment run each exactly once.
func TestJobsTwoProcesses(t *testing.T) {
	t.Parallel()
	a := storagetest.MustDB(t)
	effectsTable(t, a)
	b, err := storage.Open(t.Context(), a.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	const jobs = 200
	for i := range jobs {
		if err := storage.ScheduleJob(a, "test-record", fmt.Sprint("k", i), t0.Add(time.Duration(i)*time.Second), nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	ran := make([]int, 4)
	for i, db := range []*storage.DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := db.RunDueJobs(t.Context(), t0.Add(time.Hour), jobs)
			if err != nil {
				t.Error(err)
			}
			ran[i] = n
		}()
	}
	wg.Wait()
	got := effects(t, a)
	if len(got) != jobs || ran[0]+ran[1]+ran[2]+ran[3] != jobs {
		t.Fatalf("%d distinct jobs ran, %v handled", len(got), ran)
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("job %s ran %d times", k, n)
		}
	}
}
