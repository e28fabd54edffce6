package spool_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/fixtures/demo"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/spool"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

func mustDemo(t *testing.T) *storage.DB {
	t.Helper()
	db := storagetest.MustDB(t)
	if err := demo.Seed(context.Background(), db, io.Discard); err != nil {
		t.Fatal(err)
	}
	return db
}

func visit(t *testing.T, db *storage.DB, key, child string) menus.Report {
	t.Helper()
	c, err := db.CallerByPhone(context.Background(), "+8613800138002")
	if err != nil {
		t.Fatal(err)
	}
	return menus.Report{Kind: menus.ReportVisit, SessionKey: key, Channel: menus.ChannelUSSD, Carrier: "at",
		DirectorID: c.DirectorID, ChildCode: child, Situation: "well", Urgency: menus.UrgencyRoutine, Tree: "director", Version: 1}
}

// TestDrainOnceInOrder: spooled reports reach Postgres under the
// references their callers were given, once, however often the drain
// replays them (a crash between insert and removal), and leave the spool.
func TestDrainOnceInOrder(t *testing.T) {
	t.Parallel()
	db := mustDemo(t)
	ctx := context.Background()
	sp, err := spool.Open(t.TempDir(), storage.NewRef)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for i, child := range []string{"C0001", "C0002", "C0003"} {
		ref, err := sp.Put(visit(t, db, "ussd:at:spool"+string(rune('a'+i)), child))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	if n, oldest, _ := sp.Depth(); n != 3 || oldest.IsZero() {
		t.Fatalf("depth %d, oldest %v", n, oldest)
	}
	// Keep a copy of one file, to put back as a crash would leave it.
	names, _ := filepath.Glob(filepath.Join(sp.Dir(), "*.json"))
	saved, _ := os.ReadFile(names[0])
	if n, err := sp.Drain(ctx, db); err != nil || n != 3 {
		t.Fatalf("drain: %d, %v", n, err)
	}
	if err := os.WriteFile(names[0], saved, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := sp.Drain(ctx, db); err != nil || n != 1 {
		t.Fatalf("replayed drain: %d, %v", n, err)
	}
	for _, ref := range refs {
		r, err := db.ReportByRef(ctx, ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if n, _ := db.CountReports(ctx, menus.ReportVisit, r.SessionKey); n != 1 {
			t.Fatalf("%s stored %d times", ref, n)
		}
	}
	if n, _, _ := sp.Depth(); n != 0 {
		t.Fatalf("%d left in the spool", n)
	}
}

// TestDrainSetsAside: a file that does not decode and a report the
// registry now refuses are kept aside for an operator; the rest drain.
func TestDrainSetsAside(t *testing.T) {
	t.Parallel()
	db := mustDemo(t)
	ctx := context.Background()
	dir := t.TempDir()
	sp, err := spool.Open(dir, storage.NewRef)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000001-000001-V222222.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Put(visit(t, db, "ussd:at:gone", "C0009")); err != nil { // not this director's child
		t.Fatal(err)
	}
	good, err := sp.Put(visit(t, db, "ussd:at:good", "C0001"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := sp.Drain(ctx, db); err != nil || n != 1 {
		t.Fatalf("drain: %d, %v", n, err)
	}
	if _, err := db.ReportByRef(ctx, good); err != nil {
		t.Fatal(err)
	}
	var corrupt, refused int
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		corrupt += map[bool]int{true: 1}[strings.HasSuffix(de.Name(), ".corrupt")]
		refused += map[bool]int{true: 1}[strings.HasSuffix(de.Name(), ".refused")]
	}
	if corrupt != 1 || refused != 1 {
		t.Fatalf("set aside %d corrupt and %d refused, want 1 and 1", corrupt, refused)
	}
}

// TestFaultSpoolUnwritable: a spool that cannot be written stops
// the gateway at start-up.
func TestFaultSpoolUnwritable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := spool.Open(filepath.Join(file, "spool"), storage.NewRef); err == nil {
		t.Fatal("a spool under a file opened")
	}
}
