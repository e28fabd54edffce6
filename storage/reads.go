package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/barefoot-ussd/barefoot/menus/access"
)

// RecordRead logs one read of child data. The admin API calls it before a
// response leaves, and answers with an error when it fails: a read that
// could not be recorded is not served.
func (db *DB) RecordRead(ctx context.Context, e access.ReadEntry) error {
	var userID *int64
	if e.Actor.ID != 0 {
		userID = &e.Actor.ID
	}
	const q = `INSERT INTO read_log (user_id, actor, object_type, object_id, query, remote) VALUES ($1, $2, $3, $4, $5, $6)`
	if _, err := db.db.ExecContext(ctx, q, userID, e.Actor.Username, e.ObjectType, e.ObjectID, e.Query, e.Remote); err != nil {
		return fmt.Errorf("record a read of %s %s: %w", e.ObjectType, e.ObjectID, err)
	}
	return nil
}

// ReadLog returns the reads in [from, to), oldest first, at most limit,
// optionally of one object type and id; times in loc.
func (db *DB) ReadLog(ctx context.Context, from, to time.Time, objectType, objectID string, limit int, loc *time.Location) ([]access.ReadRecord, error) {
	const q = `
SELECT id, to_char(at AT TIME ZONE $6, 'YYYY-MM-DD HH24:MI:SS') AS at, actor, object_type, object_id, query, remote
FROM read_log
WHERE at >= $1 AND at < $2 AND ($3 = '' OR object_type = $3) AND ($4 = '' OR object_id = $4)
ORDER BY at, id LIMIT $5`
	out := []access.ReadRecord{}
	if err := db.db.SelectContext(ctx, &out, q, from, to, objectType, objectID, limit, loc.String()); err != nil {
		return nil, fmt.Errorf("read log: %w", err)
	}
	return out, nil
}
