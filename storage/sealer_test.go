package storage_test

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

func newKey(t *testing.T, name string) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return name + ":" + base64.StdEncoding.EncodeToString(b)
}

// TestSealedAnswers: with data keys, a report's answers are not in the
// database in the clear, read back whole through the store, cannot be
// moved to another report, and survive a key rotation.
func TestSealedAnswers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustDB(t)
	reg := MustSeed(t, db)
	plainRef, err := db.SaveReport(ctx, visitBy(reg, "plain-1")) // before keys were configured
	if err != nil {
		t.Fatal(err)
	}
	k1 := newKey(t, "k1")
	s1, err := storage.NewSealer(k1)
	if err != nil {
		t.Fatal(err)
	}
	db.SetSealer(s1)
	r := visitBy(reg, "sealed-1")
	r.Answers["note"] = "the stepfather hits him"
	ref, err := db.SaveReport(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := storage.SQL(db).GetContext(ctx, &raw, `SELECT answers::text FROM visits WHERE ref = $1`, ref); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "stepfather") || !strings.Contains(raw, "bfs1.k1.") {
		t.Fatalf("stored answers: %s", raw)
	}
	got, err := db.ReportByRef(ctx, ref)
	if err != nil || got.Answers["note"] != "the stepfather hits him" {
		t.Fatalf("read back: %+v, %v", got.Answers, err)
	}
	// Moved onto another report, a sealed value does not open.
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE visits SET answers = (SELECT answers FROM visits WHERE ref = $1) WHERE ref = $2`, ref, plainRef); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReportByRef(ctx, plainRef); err == nil {
		t.Fatal("answers moved to another report opened")
	}
	if _, err := storage.SQL(db).ExecContext(ctx, `UPDATE visits SET answers = '{"child":"C0001","situation":"well"}' WHERE ref = $1`, plainRef); err != nil {
		t.Fatal(err)
	}
	// Rotation: a new key first, the old one kept for reading; rekey
	// reseals everything, plain answers included, under the new key.
	s2, err := storage.NewSealer(newKey(t, "k2") + "," + k1)
	if err != nil {
		t.Fatal(err)
	}
	db.SetSealer(s2)
	if n, err := db.RekeyAnswers(ctx); err != nil || n != 2 {
		t.Fatalf("rekey: %d, %v; want 2", n, err)
	}
	if n := MustCount(t, db, `SELECT count(*) FROM visits WHERE answers->>'sealed' LIKE 'bfs1.k2.%'`); n != 2 {
		t.Fatalf("%d reports sealed under the new key, want 2", n)
	}
	if got, err := db.ReportByRef(ctx, ref); err != nil || got.Answers["note"] != "the stepfather hits him" {
		t.Fatalf("after rekey: %+v, %v", got.Answers, err)
	}
	for _, bad := range []string{"", "k1", "k1:short", "a.b:" + strings.TrimPrefix(k1, "k1:"), k1 + "," + k1} {
		if _, err := storage.NewSealer(bad); err == nil {
			t.Errorf("NewSealer(%q) accepted", bad)
		}
	}
}
