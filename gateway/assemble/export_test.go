package assemble

import (
	"context"
	"log/slog"
	"time"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// NewOutboxCollector is the outbox's collector reading through read, at
// most once per every, for tests of what it reports when reads fail.
func NewOutboxCollector(read func(context.Context) ([]storage.Backlog, error), carriers []string, every time.Duration) prometheus.Collector {
	c := newOutbox(read, carriers, slog.New(slog.DiscardHandler))
	c.every = every
	return c
}
