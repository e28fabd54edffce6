package storage

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
)

// RegistryChannel is the Postgres notification channel on which any change
// to the registry is announced, by triggers, when it commits.
const RegistryChannel = "barefoot_registry"

// callerCache keeps the callers this process looked up, so that a dial's
// first hop needs no query, and so that a caller is still found while
// Postgres is briefly away. It is dropped whole on any registry change:
// at once for changes made through this process, and for others when
// their notification arrives (within milliseconds of the commit). A TTL
// bounds an entry's life should notifications be lost.
type callerCache struct {
	ttl  time.Duration
	size int

	mu        sync.Mutex
	gen       uint64 // bumped on every change; lookups begun before one are not kept
	directors map[string]cachedCaller
	guardians map[string]cachedCaller
}

type cachedCaller struct {
	c   menus.Caller
	err error // menus.ErrNotFound, or nil
	at  time.Time
}

// CacheCallers turns on the caller cache with entries kept at most ttl;
// run ListenForRegistryChanges beside it so other processes' changes
// reach it. Callers and guardians returned share their slices with the
// cache and must not be modified.
func (db *DB) CacheCallers(ttl time.Duration) {
	db.callers.CompareAndSwap(nil, &callerCache{ttl: ttl, size: 100_000, directors: map[string]cachedCaller{}, guardians: map[string]cachedCaller{}})
}

// RegistryGeneration counts the registry changes this process has heard
// of, for tests that change the registry behind its back and must wait
// for the news.
func (db *DB) RegistryGeneration() uint64 {
	c := db.callers.Load()
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// registryChanged drops every cached caller.
func (db *DB) registryChanged() {
	c := db.callers.Load()
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	clear(c.directors)
	clear(c.guardians)
	c.mu.Unlock()
}

// cachedLookup serves a lookup from the cache, or fetches and keeps it. An
// unknown phone is kept too (a stranger dialling again costs no query).
// When Postgres fails, a kept entry is served whatever its age: a caller
// is better served from a minute-old registry than refused.
func (db *DB) cachedLookup(ctx context.Context, phone string, directors bool, fetch func(context.Context, string) (menus.Caller, error)) (menus.Caller, error) {
	c := db.callers.Load()
	if c == nil {
		return fetch(ctx, phone)
	}
	now := time.Now()
	c.mu.Lock()
	m := c.guardians
	if directors {
		m = c.directors
	}
	e, ok := m[phone]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.c, e.err
	}
	v, err := fetch(ctx, phone)
	if err != nil && !errors.Is(err, menus.ErrNotFound) {
		if ok {
			slog.Default().Warn("registry unavailable; answering from this process's copy", "age", now.Sub(e.at).Round(time.Second).String(), "err", err)
			return e.c, e.err
		}
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(m) >= c.size {
			clear(m)
		}
		m[phone] = cachedCaller{c: v, err: err, at: now}
	}
	c.mu.Unlock()
	return v, err
}

// ListenForRegistryChanges drops the caller cache whenever any process
// changes the registry, and after the listener reconnects (a change may
// have been missed). It returns when ctx is done.
func (db *DB) ListenForRegistryChanges(ctx context.Context, log *slog.Logger) {
	db.listen(ctx, log, RegistryChannel, func(string) { db.registryChanged() })
}
