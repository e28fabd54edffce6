package admin

import (
	"sync"
	"time"
)

// throttle slows down guessing passwords: after a few wrong attempts on a
// username, or from an address, each further one locks that username or
// address out for twice as long as the last, up to a cap. A locked-out
// attempt is refused before any password is hashed, so a flood of guesses
// costs the server almost nothing.
type throttle struct {
	mu  sync.Mutex
	by  map[string]*strikes
	now func() time.Time
}

type strikes struct {
	fails int
	until time.Time
	last  time.Time
}

const (
	freeFails   = 5                // wrong attempts before the first lock-out
	firstLock   = time.Second      // then 2 s, 4 s ...
	maxLock     = 15 * time.Minute // the longest lock-out
	maxTracked  = 100_000          // keys kept; the stale go first
	forgetAfter = time.Hour        // a key quiet this long starts afresh
)

func newThrottle() *throttle {
	return &throttle{by: map[string]*strikes{}, now: time.Now}
}

// wait returns how long the longest lock-out among keys has left; zero
// when none is locked out.
func (t *throttle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var longest time.Duration
	for _, k := range keys {
		if s := t.by[k]; s != nil && s.until.After(now) {
			longest = max(longest, s.until.Sub(now))
		}
	}
	return longest
}

// fail counts a wrong attempt on every key, locking out those past the
// free attempts.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.by) >= maxTracked {
		for k, s := range t.by {
			if now.Sub(s.last) > forgetAfter {
				delete(t.by, k)
			}
		}
	}
	for _, k := range keys {
		s := t.by[k]
		if s == nil || now.Sub(s.last) > forgetAfter {
			s = &strikes{}
			t.by[k] = s
		}
		s.fails++
		s.last = now
		if over := s.fails - freeFails; over > 0 {
			lock := maxLock
			if over < 20 {
				lock = min(firstLock<<(over-1), maxLock)
			}
			s.until = now.Add(lock)
		}
	}
}

// ok clears a key after a right password.
func (t *throttle) ok(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.by, key)
}
