package storage

import (
	"context"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// ListenForPublishes calls refresh whenever any gateway process publishes
// a menu tree (a Postgres NOTIFY on MenusChannel, sent when the publish
// commits), and after the listener reconnects, since a publish may have
// been missed meanwhile. It returns when ctx is done. Gateways keep a
// periodic refresh as the fallback if listening fails.
func (db *DB) ListenForPublishes(ctx context.Context, log *slog.Logger, refresh func()) {
	db.listen(ctx, log, MenusChannel, func(tree string) {
		if tree != "" {
			log.Info("menu tree published", "tree", tree)
		}
		refresh()
	})
}

// listen calls fn with each notification's payload on channel, and with
// "" after the listener reconnects, since notifications may have been
// missed meanwhile. It returns when ctx is done.
func (db *DB) listen(ctx context.Context, log *slog.Logger, channel string, fn func(payload string)) {
	l := pq.NewListener(db.dsn, time.Second, time.Minute, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			log.Warn("notification listener", "channel", channel, "event", ev, "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(channel); err != nil {
		log.Error("cannot listen for notifications", "channel", channel, "err", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n == nil { // a reconnect
				fn("")
				continue
			}
			fn(n.Extra)
		}
	}
}
