package storage

import (
	"context"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// lockCheck is how often a held lock's connection is checked: a lock whose
// connection died was released by the server, and its holder must stop
// acting as the holder within about this long.
const lockCheck = 2 * time.Second

// HoldLock takes the named lock, shared by every process on this database,
// for a job only one of them may do at a time (holding a carrier's single
// connection). It is a Postgres session advisory lock on a connection of
// its own, which is held until release is called or ctx is done: a process
// that dies, or loses its connection, loses the lock with it, and another
// takes over.
//
// held is done once the lock is no longer held: after release, when ctx is
// done, or when the connection failed a check. When another process holds
// the lock, HoldLock returns at once with an error wrapping
// menus.ErrConflict; callers wait and try again.
func (db *DB) HoldLock(ctx context.Context, name string) (held context.Context, release func(), err error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("hold lock %s: %w", name, err)
	}
	key := lockKey(name)
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		discard(conn)
		return nil, nil, fmt.Errorf("hold lock %s: %w", name, err)
	}
	if !ok {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("hold lock %s: held by another process: %w", name, menus.ErrConflict)
	}
	held, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lockCheck)
		defer t.Stop()
		for {
			select {
			case <-held.Done():
				// Unlock before the connection goes back to the pool; a
				// connection that cannot unlock is closed instead, which
				// releases it on the server.
				uctx, ucancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, key)
				ucancel()
				if err != nil {
					discard(conn)
					return
				}
				_ = conn.Close()
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(held, lockCheck)
				err := conn.PingContext(pctx)
				pcancel()
				if err != nil && held.Err() == nil {
					cancel() // the server has let the lock go with the connection
				}
			}
		}
	}()
	return held, func() { cancel(); <-done }, nil
}

// lockKey maps a lock's name to the 64-bit key advisory locks take.
func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("barefoot:" + name))
	return int64(h.Sum64())
}

// discard closes a pooled connection for good rather than return it to the
// pool, ending its server session and any lock it held.
func discard(conn interface {
	Raw(func(any) error) error
	Close() error
}) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}
