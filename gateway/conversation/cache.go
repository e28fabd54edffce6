package conversation

import (
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// Cache keeps the last snapshot this process wrote for each session, so a
// mid-session hop needs one Redis round trip (the compare-and-set) instead
// of two (a load, then the compare-and-set). It is only ever a guess: the
// write is conditional on the revision, so when another process has moved
// the session on, or Redis has lost it, the write fails with the current
// state and the hop is worked out again from that. With carriers' sticky
// routing most hops of a session reach the process that saw the last one.
type Cache struct {
	// Size bounds the sessions kept; 0 means 50,000 (a few tens of MB).
	Size int
	// TTL drops entries older than this; 0 means 5 minutes.
	TTL time.Duration

	mu sync.Mutex
	m  map[string]cached
}

type cached struct {
	snap menus.Snapshot
	rev  int64
	at   time.Time
	// dirty marks a snapshot the store has not taken (it was down): this
	// process's copy is the only one, and wins over an older or missing
	// one once the store is back.
	dirty bool
}

func (c *Cache) get(key string, now time.Time) (snap menus.Snapshot, rev int64, dirty, ok bool) {
	if c == nil {
		return menus.Snapshot{}, 0, false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) > c.ttl() {
		return menus.Snapshot{}, 0, false, false
	}
	return e.snap, e.rev, e.dirty, true
}

func (c *Cache) put(key string, snap menus.Snapshot, rev int64, now time.Time) {
	c.store(key, cached{snap: snap, rev: rev, at: now})
}

// putDirty keeps a snapshot the store could not take, at the revision the
// store last had.
func (c *Cache) putDirty(key string, snap menus.Snapshot, rev int64, now time.Time) {
	c.store(key, cached{snap: snap, rev: rev, at: now, dirty: true})
}

func (c *Cache) store(key string, e cached) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	size := c.Size
	if size == 0 {
		size = 50000
	}
	if c.m == nil {
		c.m = make(map[string]cached)
	}
	now := e.at
	if len(c.m) >= size {
		// Full: drop the stale entries, and if that is not enough, half of
		// the rest (map order is random enough); a dropped entry costs one
		// extra load, never a wrong answer.
		for k, e := range c.m {
			if now.Sub(e.at) > c.ttl() {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < size/2 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = e
}

func (c *Cache) forget(key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *Cache) ttl() time.Duration {
	if c.TTL == 0 {
		return 5 * time.Minute
	}
	return c.TTL
}
