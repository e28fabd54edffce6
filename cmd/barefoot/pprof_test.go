package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestPprofLoopbackOnly: the profiler listens on loopback or not at all.
func TestPprofLoopbackOnly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	for _, bad := range []string{":6060", "0.0.0.0:6060", "192.0.2.1:6060", "[::]:6060", "example.org:6060", "6060"} {
		if err := servePprof(ctx, bad, log); err == nil || !strings.HasPrefix(err.Error(), "BAREFOOT_PPROF_ADDR: ") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if err := servePprof(ctx, "127.0.0.1:0", log); err != nil {
		t.Fatal(err)
	}
}
