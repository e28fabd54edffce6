package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

// Size of the benchmarks' registry: as many directors as the load test
// dials, each with the demo's five children.
const (
	benchDirectors        = 30_000
	benchChildrenEach     = 5
	benchFirstPhoneNumber = 8613900000001
)

// mustSeedDirectors stores n directors, +8613900000001 upwards, each
// with children of their own, in one statement: the audited import would
// take longer than the benchmarks.
func mustSeedDirectors(tb testing.TB, db *storage.DB, n, children int) []string {
	tb.Helper()
	const q = `
WITH d AS (
    INSERT INTO directors (phone, name, language, village, county)
    SELECT '+' || ($1::bigint + i), 'Director ' || i, 'zh', 'Dagu', 'Leishan' FROM generate_series(0, $2 - 1) i
    RETURNING id),
c AS (
    INSERT INTO children (code, name, village, county, director_id)
    SELECT 'K' || lpad(((d.id - 1) * $3 + k)::text, 8, '0'), 'Child ' || k, 'Dagu', 'Leishan', d.id
    FROM d, generate_series(1, $3) k
    RETURNING id, director_id)
INSERT INTO child_directors (child_id, director_id) SELECT id, director_id FROM c`
	if _, err := storage.SQL(db).ExecContext(tb.Context(), q, int64(benchFirstPhoneNumber), n, children); err != nil {
		tb.Fatalf("seed directors: %v", err)
	}
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("+%d", benchFirstPhoneNumber+i)
	}
	return phones
}

// BenchmarkCallerByPhone is a session's first-hop lookup of a director
// picked at random: cold, as when this process never looked them up (a
// query), and warm, once the registry was read in bulk.
func BenchmarkCallerByPhone(b *testing.B) {
	db := storagetest.MustDB(b)
	phones := mustSeedDirectors(b, db, benchDirectors, benchChildrenEach)
	cold, err := storage.Open(b.Context(), db.DSN()) // no cache: every lookup a miss
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cold.Close() })
	db.CacheCallers(time.Hour)
	mustWarm(b, db)

	for _, bb := range []struct {
		name string
		db   *storage.DB
	}{{"cold", cold}, {"warm", db}} {
		b.Run(bb.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				// A stride prime to the registry's size visits every
				// director before any twice.
				c, err := bb.db.CallerByPhone(b.Context(), phones[(i*7919)%len(phones)])
				if err != nil || len(c.Children) != benchChildrenEach {
					b.Fatalf("lookup: %+v, %v", c, err)
				}
				i++
			}
		})
	}
}

// BenchmarkWarmCallers reads the benchmarks' registry, 30,000 directors
// with five children each, into the caller cache.
func BenchmarkWarmCallers(b *testing.B) {
	db := storagetest.MustDB(b)
	mustSeedDirectors(b, db, benchDirectors, benchChildrenEach)
	db.CacheCallers(time.Hour)
	for b.Loop() {
		if phones := mustWarm(b, db); len(phones) != benchDirectors {
			b.Fatalf("warm read %d phones, want %d", len(phones), benchDirectors)
		}
	}
}
