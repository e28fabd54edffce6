package sessions

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Every hop makes one or two Redis calls, and under load sixty callers'
// hops are in flight at once. Sent one by one, each call costs a write and
// a read system call on both sides of the socket, and those system calls,
// not Redis's work, were most of a hop's store cost (a profile showed the
// compare-and-set's write alone at a quarter of the gateway's CPU). So the
// store hands its calls to go-redis's autopipeliner, which sends whatever
// calls are waiting as one pipeline while the previous one is answered: a
// lone call still goes at once, and concurrent calls share round trips.

// asyncPipeliner is implemented by go-redis's Client and ClusterClient.
type asyncPipeliner interface {
	AsyncAutoPipeline() (*redis.AutoPipeliner, error)
}

// batcher returns the autopipeliner of rdb, or nil when it has none (then
// calls go one by one).
func batcher(rdb redis.UniversalClient) *redis.AutoPipeliner {
	c, ok := rdb.(asyncPipeliner)
	if !ok {
		return nil
	}
	ap, err := c.AsyncAutoPipeline()
	if err != nil {
		return nil
	}
	return ap
}

// do runs cmds, batched with other callers' when the client can, and
// returns once all have answered or ctx is done. The autopipeliner runs a
// queued command on its own context, so ctx bounds only the wait: a
// command abandoned here may still run, as one whose reply was lost
// would. Command errors are left on the commands.
func (s *Store) do(ctx context.Context, cmds ...redis.Cmder) error {
	if s.pipe == nil {
		for _, c := range cmds {
			_ = s.rdb.Process(ctx, c)
		}
		return nil
	}
	var futures [2]redis.AutoFuture
	fs := futures[:0]
	for _, c := range cmds {
		fs = append(fs, s.pipe.Submit(ctx, c))
	}
	for _, f := range fs {
		if err := f.WaitContext(ctx); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
