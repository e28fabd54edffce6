package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/jmoiron/sqlx"
)

// RegistryChannel is the Postgres notification channel on which any change
// to the registry is announced, by triggers, when it commits.
const RegistryChannel = "barefoot_registry"

// callerCache keeps callers so that a dial's first hop needs no query, and
// so that a caller is still found while Postgres is briefly away. It holds
// the whole registry as last read in bulk (a warm, see WarmCallers), and
// callers looked up one by one since, when no warm is current. Both are
// dropped whole on any registry change: at once for changes made through
// this process, and for others when their notification arrives (within
// milliseconds of the commit). A TTL bounds an entry's life should
// notifications be lost.
type callerCache struct {
	ttl  time.Duration
	size int
	// changed wakes KeepCallersWarm after a change; it holds one signal,
	// as one warm answers any number of changes.
	changed chan struct{}

	mu        sync.Mutex
	gen       uint64 // bumped on every change; lookups and warms begun before one are not kept
	warm      *warmCallers
	directors map[string]cachedCaller
	guardians map[string]cachedCaller
}

type cachedCaller struct {
	c   menus.Caller
	err error // menus.ErrNotFound, or nil
	at  time.Time
}

// warmCallers is the whole registry as one warm read it: a phone it does
// not hold was not registered then.
type warmCallers struct {
	at        time.Time // when the read began: entries are no newer
	directors map[string]menus.Caller
	guardians map[string]menus.Caller
}

// entry is what w knows of phone.
func (w *warmCallers) entry(phone string, directors bool) cachedCaller {
	m, notFound := w.guardians, errNoGuardian
	if directors {
		m, notFound = w.directors, errNoDirector
	}
	if c, ok := m[phone]; ok {
		return cachedCaller{c: c, at: w.at}
	}
	return cachedCaller{err: notFound, at: w.at}
}

// CacheCallers turns on the caller cache with entries kept at most ttl;
// run ListenForRegistryChanges beside it so other processes' changes
// reach it, and KeepCallersWarm so that it holds the whole registry.
// Callers and guardians returned share their slices with the cache and
// must not be modified.
func (db *DB) CacheCallers(ttl time.Duration) {
	db.callers.CompareAndSwap(nil, &callerCache{
		ttl: ttl, size: 100_000, changed: make(chan struct{}, 1),
		directors: map[string]cachedCaller{}, guardians: map[string]cachedCaller{},
	})
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

// registryChanged drops every cached caller, and the warm with them, and
// wakes KeepCallersWarm to read the registry again.
func (db *DB) registryChanged() {
	c := db.callers.Load()
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	c.warm = nil
	clear(c.directors)
	clear(c.guardians)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default: // a warm is due already
	}
}

// cachedLookup serves a lookup from the cache, or fetches and keeps it. An
// unknown phone is kept too (a stranger dialling again costs no query),
// and while a warm is current, a phone it does not hold is unknown. When
// Postgres fails, a kept entry is served whatever its age: a caller is
// better served from a minute-old registry than refused.
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
	// Callers are looked up one by one only when the warm is missing or
	// too old, so one found that way is the newer.
	e, ok := m[phone]
	if !ok && c.warm != nil {
		e, ok = c.warm.entry(phone, directors), true
	}
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

// ErrWarmOvertaken is returned by WarmCallers when the registry changed
// while it was being read: what was read may be out of date, so it is
// not kept.
var ErrWarmOvertaken = errors.New("storage: the registry changed while it was read")

// WarmCallers reads the whole registry, every active director with their
// children and every active guardian with their children and allowances,
// as CallerByPhone and GuardianByPhone would one by one, into the caller
// cache. Until the next registry change, or until the TTL passes, a
// lookup then needs no query, whether the phone is registered or not. It
// returns the phones read, directors' and guardians', each once.
//
// It reads in two queries of one snapshot rather than one per phone, and
// runs beside lookups, which go to Postgres as before until it is done.
func (db *DB) WarmCallers(ctx context.Context) ([]string, error) {
	c := db.callers.Load()
	if c == nil {
		return nil, errors.New("warm callers: the caller cache is off")
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	w := &warmCallers{at: time.Now()}
	// One snapshot, so that no director is read with children an import
	// has since moved, nor a guardian with allowances of children gone.
	err := db.readTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if w.directors, err = warmDirectorsTx(ctx, tx); err != nil {
			return err
		}
		w.guardians, err = warmGuardiansTx(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("warm callers: %w", err)
	}
	if db.beforeWarmInstall != nil {
		db.beforeWarmInstall()
	}
	c.mu.Lock()
	if c.gen != gen {
		c.mu.Unlock()
		return nil, ErrWarmOvertaken
	}
	c.warm = w
	// What was looked up one by one is in the warm too, and no newer.
	clear(c.directors)
	clear(c.guardians)
	c.mu.Unlock()

	phones := make([]string, 0, len(w.directors)+len(w.guardians))
	for p := range w.directors {
		phones = append(phones, p)
	}
	for p := range w.guardians {
		if _, ok := w.directors[p]; !ok {
			phones = append(phones, p)
		}
	}
	return phones, nil
}

// warmDirectorsTx reads every active director as callerByPhone does: the
// same rows, with each director's together.
func warmDirectorsTx(ctx context.Context, tx *sqlx.Tx) (map[string]menus.Caller, error) {
	const q = directorRows + `
WHERE d.active
ORDER BY d.id, c.code COLLATE "C"`
	m, err := warmTx(ctx, tx, q, func(r *callerRow) int64 { return r.DirectorID })
	if err != nil {
		return nil, fmt.Errorf("directors: %w", err)
	}
	return m, nil
}

// warmGuardiansTx reads every active guardian as guardianByPhone does.
func warmGuardiansTx(ctx context.Context, tx *sqlx.Tx) (map[string]menus.Caller, error) {
	const q = guardianRows + `
WHERE g.active
ORDER BY g.id, c.code COLLATE "C", a.scheme`
	m, err := warmTx(ctx, tx, q, func(r *guardianRow) int64 { return r.GuardianID })
	if err != nil {
		return nil, fmt.Errorf("guardians: %w", err)
	}
	return m, nil
}

// callerRows are the row types a caller is built from.
type callerRows[R any] interface {
	*R
	caller() menus.Caller
	addTo(*menus.Caller)
}

// warmTx runs q, whose rows come caller by caller (id says whose a row
// is), and builds each caller by phone as the one-phone lookups do.
func warmTx[R any, P callerRows[R]](ctx context.Context, tx *sqlx.Tx, q string, id func(*R) int64) (map[string]menus.Caller, error) {
	rows, err := tx.QueryxContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]menus.Caller{}
	var (
		cur   menus.Caller
		curID int64
	)
	for rows.Next() {
		var r R
		if err := rows.StructScan(&r); err != nil {
			return nil, err
		}
		if n := id(&r); n != curID {
			if curID != 0 {
				out[cur.Phone] = cur
			}
			cur, curID = P(&r).caller(), n
		}
		P(&r).addTo(&cur)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if curID != 0 {
		out[cur.Phone] = cur
	}
	return out, nil
}

// Warm pacing (KeepCallersWarm). A warm reads the whole registry, so it
// is paced rather than run on every change: an import commits in one go,
// but the console, hand-written SQL and callers choosing a language
// change the registry a row at a time, and each change drops the cache.
// Waiting a second after a change gathers such a burst into one warm
// while keeping the time lookups spend going to Postgres short (they do
// between the change and the warm, as without one). On a large registry
// the wait grows with the warm's cost, so that warming takes at most a
// sixth of the time however steadily the registry changes.
const (
	warmDelay      = time.Second
	warmCostFactor = 5
	// warmRetry is how soon a failed warm is tried again; meanwhile
	// lookups go to Postgres, or to the copy kept when it is away.
	warmRetry = 10 * time.Second
)

// KeepCallersWarm keeps the whole registry in the caller cache: it warms
// it now (WarmCallers), again after every registry change this process
// hears of, and again before the warm's entries outlive the cache's TTL.
// After each warm that is kept, warmed, if not nil, is given the phones
// read. It returns when ctx is done; it does nothing when the cache is
// off.
func (db *DB) KeepCallersWarm(ctx context.Context, log *slog.Logger, warmed func(phones []string)) {
	c := db.callers.Load()
	if c == nil {
		return
	}
	first := true
	for {
		start := time.Now()
		phones, err := db.WarmCallers(ctx)
		took := time.Since(start)
		// Half the TTL, so that a warm replaces the last before its
		// entries expire and lookups go back to Postgres.
		next := max(c.ttl/2, warmDelay)
		switch {
		case err == nil:
			level := slog.LevelDebug
			if first {
				level, first = slog.LevelInfo, false
			}
			log.Log(ctx, level, "caller cache warmed", "phones", len(phones), "took", took.Round(time.Millisecond).String())
			if warmed != nil {
				warmed(phones)
			}
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrWarmOvertaken):
			// The change that overtook it has signalled: go again.
		default:
			log.Warn("caller cache warm failed; lookups go to Postgres", "err", err)
			next = min(next, warmRetry)
		}
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-c.changed:
			timer.Stop()
			timer = time.NewTimer(max(warmDelay, warmCostFactor*took))
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			// The next warm starts after the changes heard meanwhile.
			select {
			case <-c.changed:
			default:
			}
		case <-timer.C:
		}
	}
}

// ListenForRegistryChanges drops the caller cache whenever any process
// changes the registry, and after the listener reconnects (a change may
// have been missed). It returns when ctx is done.
func (db *DB) ListenForRegistryChanges(ctx context.Context, log *slog.Logger) {
	db.listen(ctx, log, RegistryChannel, func(string) { db.registryChanged() })
}
