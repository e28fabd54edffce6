package storage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
	"github.com/jmoiron/sqlx"
)

// TestHoldLock: one holder at a time; the lock passes on when released,
// and a holder whose connection dies learns it has lost the lock.
func TestHoldLock(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	ctx := t.Context()
	held, release, err := db.HoldLock(ctx, "cmpp:a")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.HoldLock(ctx, "cmpp:a"); !errors.Is(err, menus.ErrConflict) {
		t.Fatalf("second holder: %v, want a conflict", err)
	}
	_, releaseB, err := db.HoldLock(ctx, "cmpp:b")
	if err != nil {
		t.Fatalf("another name: %v", err)
	}
	releaseB()
	release()
	if held.Err() == nil {
		t.Error("held is not done after release")
	}
	held, release, err = db.HoldLock(ctx, "cmpp:a")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	defer release()

	// The server ends the holder's session: the lock goes with it.
	admin, err := sqlx.Open("postgres", db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("held never done after the connection died")
	}
	_, release2, err := db.HoldLock(ctx, "cmpp:a")
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	release2()
}
