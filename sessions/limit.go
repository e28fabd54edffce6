package sessions

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter bounds how many replies one phone gets in a window, so that an
// auto-responder loop or SMS pumping cannot burn the programme's credit.
// Counts live in Redis so that every gateway process shares them.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
	name   string
	// Max replies per Window.
	Max    int
	Window time.Duration
}

// NewLimiter returns a limiter named name (several limits can count the
// same phones apart) whose keys start with prefix.
func NewLimiter(rdb redis.UniversalClient, prefix, name string, max int, window time.Duration) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix, name: name, Max: max, Window: window}
}

// The window starts with the first count and its key expires with it: one
// atomic round trip, and nothing outlives its window.
var limitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`)

// Allow counts one reply to key (a phone) and reports whether it is
// within the limit. A Redis failure is an error: the caller decides, and for outbound
// SMS the safe answer is no.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, error) {
	n, err := limitScript.Run(ctx, l.rdb, []string{l.limitKey(key)}, l.Window.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("sessions: rate limit: %w", err)
	}
	return n <= l.Max, nil
}
