// Package sessionstest gives tests a real Redis with a key prefix of their
// own, removed when the test ends, so packages and tests run in parallel
// against one server without seeing each other's keys.
package sessionstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// URL is the Redis the tests use: BAREFOOT_TEST_REDIS_URL or the local one.
func URL() string {
	if u := os.Getenv("BAREFOOT_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// MustRedis returns a client and a fresh key prefix; every key under the
// prefix is deleted when the test ends.
func MustRedis(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	opt, err := redis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("sessionstest: BAREFOOT_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("sessionstest: redis at %s: %v", opt.Addr, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "bftest:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return rdb, prefix
}
