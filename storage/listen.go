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
	l := pq.NewListener(db.dsn, time.Second, time.Minute, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			log.Warn("menu publish listener", "event", ev, "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(MenusChannel); err != nil {
		log.Error("cannot listen for menu publishes; relying on the periodic refresh", "err", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n != nil { // nil after a reconnect: refresh anyway
				log.Info("menu tree published", "tree", n.Extra)
			}
			refresh()
		}
	}
}
