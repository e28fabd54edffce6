package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/redis/go-redis/v9"
)

// ErrConflict is returned by Save when the session changed since it was
// loaded. It wraps menus.ErrConflict so callers need not import this package.
var ErrConflict = fmt.Errorf("sessions: revision conflict: %w", menus.ErrConflict)

// Rev is a session's revision: 0 for a session that does not exist, then
// one more on every successful save.
type Rev = int64

// Conflict is the error Save returns when the revision did not match, with
// the stored state so the caller can retry without another round trip.
type Conflict struct {
	Current menus.Snapshot
	Rev     Rev
	Exists  bool
}

func (c *Conflict) Error() string { return fmt.Sprintf("sessions: revision conflict at %d", c.Rev) }

// Unwrap lets errors.Is(err, ErrConflict) match.
func (c *Conflict) Unwrap() error { return ErrConflict }

// Latest returns the state stored when the save lost, so the caller can
// retry without loading it again.
func (c *Conflict) Latest() (menus.Snapshot, int64, bool) { return c.Current, c.Rev, c.Exists }

// Store keeps session snapshots in Redis, and for each phone the walk it
// left unfinished, so that the next dial can offer to resume it.
type Store struct {
	rdb    redis.UniversalClient
	pipe   *redis.AutoPipeliner // nil when rdb cannot batch
	prefix string
	// ResumeTTL is how long an unfinished walk is kept for its caller.
	ResumeTTL time.Duration
}

// DefaultResumeTTL keeps an unfinished report for ten minutes.
const DefaultResumeTTL = 10 * time.Minute

// NewStore returns a store whose keys all start with prefix (e.g. "bf:").
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, pipe: batcher(rdb), prefix: prefix, ResumeTTL: DefaultResumeTTL}
}

// Load returns a session's snapshot and revision. A missing session is not
// an error: it returns revision 0 and ok == false.
func (s *Store) Load(ctx context.Context, channel, id string) (snap menus.Snapshot, rev Rev, ok bool, err error) {
	hm := redis.NewSliceCmd(ctx, "hmget", s.sessionKey(channel, id), "rev", "snap")
	if err := s.do(ctx, hm); err != nil {
		return snap, 0, false, fmt.Errorf("sessions: load: %w", err)
	}
	vals, err := hm.Result()
	if err != nil {
		return snap, 0, false, fmt.Errorf("sessions: load: %w", err)
	}
	return decodeSession(vals)
}

// LoadWithResume is Load plus the phone's unfinished walk, if any, in the
// same round trip: a hop that finds no session needs both.
func (s *Store) LoadWithResume(ctx context.Context, channel, id, phone string) (snap menus.Snapshot, rev Rev, ok bool, resume *menus.Snapshot, err error) {
	hm := redis.NewSliceCmd(ctx, "hmget", s.sessionKey(channel, id), "rev", "snap")
	rs := redis.NewStringCmd(ctx, "get", s.resumeKey(phone))
	if err := s.do(ctx, hm, rs); err != nil {
		return snap, 0, false, nil, fmt.Errorf("sessions: load: %w", err)
	}
	for _, c := range []redis.Cmder{hm, rs} {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return snap, 0, false, nil, fmt.Errorf("sessions: load: %w", err)
		}
	}
	snap, rev, ok, err = decodeSession(hm.Val())
	if err != nil {
		return snap, 0, false, nil, err
	}
	if raw, err := rs.Result(); err == nil {
		var r menus.Snapshot
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return snap, rev, ok, nil, fmt.Errorf("sessions: load: decode resumable walk: %w", err)
		}
		resume = &r
	}
	return snap, rev, ok, resume, nil
}

func decodeSession(vals []any) (snap menus.Snapshot, rev Rev, ok bool, err error) {
	if len(vals) != 2 {
		return snap, 0, false, nil
	}
	r, data := vals[0], vals[1]
	if r == nil || data == nil {
		return snap, 0, false, nil
	}
	var n int64
	if _, err := fmt.Sscan(r.(string), &n); err != nil {
		return snap, 0, false, fmt.Errorf("sessions: load: bad revision %q", r)
	}
	if err := json.Unmarshal([]byte(data.(string)), &snap); err != nil {
		return snap, 0, false, fmt.Errorf("sessions: load: decode snapshot: %w", err)
	}
	return snap, Rev(n), true, nil
}

// casScript writes a snapshot only if the stored revision is the expected
// one, and refreshes the TTL in the same atomic step. On a mismatch it
// returns the stored state, so a losing writer can retry at once.
// The phone's resumable walk is kept or dropped in the same script, so a
// hop stays one round trip.
var casScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if cur ~= tonumber(ARGV[1]) then
  return {0, cur, redis.call('HGET', KEYS[1], 'snap') or ''}
end
redis.call('HSET', KEYS[1], 'rev', cur + 1, 'snap', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if ARGV[4] == 'save' then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[5])
elseif ARGV[4] == 'forget' then
  redis.call('DEL', KEYS[2])
end
return {1, cur + 1}
`)

var resumeOps = map[menus.ResumeAction]string{menus.ResumeKeep: "keep", menus.ResumeSave: "save", menus.ResumeForget: "forget"}

// Save stores snap if the session is still at revision expected, applies
// the resume action to the phone's resumable walk, and returns the new
// revision. When another writer got there first it returns a *Conflict
// (matching ErrConflict) holding the current state, and changes nothing.
func (s *Store) Save(ctx context.Context, channel, id, phone string, expected Rev, snap menus.Snapshot, ttl time.Duration, resume menus.ResumeAction) (Rev, error) {
	data, err := json.Marshal(snap)
	if err != nil {
		return 0, fmt.Errorf("sessions: save: encode snapshot: %w", err)
	}
	if ttl < time.Millisecond {
		return 0, fmt.Errorf("sessions: save: ttl %v too short", ttl)
	}
	keys := []string{s.sessionKey(channel, id), s.resumeKey(phone)}
	args := []any{int64(expected), data, ttl.Milliseconds(), resumeOps[resume], s.ResumeTTL.Milliseconds()}
	cmd := redis.NewCmd(ctx, "evalsha", casScript.Hash(), len(keys), keys[0], keys[1], args[0], args[1], args[2], args[3], args[4])
	if err := s.do(ctx, cmd); err != nil {
		return 0, fmt.Errorf("sessions: save: %w", err)
	}
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		// Redis was restarted or its scripts flushed: Run loads it again.
		cmd = casScript.Run(ctx, s.rdb, keys, args...)
	}
	res, err := cmd.Slice()
	if err != nil {
		return 0, fmt.Errorf("sessions: save: %w", err)
	}
	if len(res) < 2 {
		return 0, fmt.Errorf("sessions: save: unexpected reply %v", res)
	}
	cur, _ := res[1].(int64)
	if ok, _ := res[0].(int64); ok == 1 {
		return Rev(cur), nil
	}
	c := &Conflict{Rev: Rev(cur)}
	if len(res) > 2 {
		if raw, _ := res[2].(string); raw != "" {
			c.Exists = true
			if err := json.Unmarshal([]byte(raw), &c.Current); err != nil {
				return 0, fmt.Errorf("sessions: save: decode current snapshot: %w", err)
			}
		}
	}
	return 0, c
}

// Delete removes a session.
func (s *Store) Delete(ctx context.Context, channel, id string) error {
	if err := s.rdb.Del(ctx, s.sessionKey(channel, id)).Err(); err != nil {
		return fmt.Errorf("sessions: delete: %w", err)
	}
	return nil
}

// TTL reports how long a session has left (for tests and diagnostics).
func (s *Store) TTL(ctx context.Context, channel, id string) (time.Duration, error) {
	d, err := s.rdb.PTTL(ctx, s.sessionKey(channel, id)).Result()
	if err != nil {
		return 0, fmt.Errorf("sessions: ttl: %w", err)
	}
	return d, nil
}

// Ping checks Redis is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("sessions: ping: %w", err)
	}
	return nil
}
