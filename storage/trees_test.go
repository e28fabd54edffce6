package storage_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/storage"
	"github.com/barefoot-ussd/barefoot/storage/storagetest"
)

func MustSaveTree(tb testing.TB, db *storage.DB, name, format, source string) menus.TreeVersion {
	tb.Helper()
	tree, err := db.SaveTreeVersion(tb.Context(), name, format, []byte(source))
	if err != nil {
		tb.Fatalf("save %s: %v", name, err)
	}
	return tree
}

func MustPublish(tb testing.TB, db *storage.DB, name string, version int) {
	tb.Helper()
	if err := db.PublishTree(tb.Context(), name, version); err != nil {
		tb.Fatalf("publish %s v%d: %v", name, version, err)
	}
}

func TestSaveTreeVersion(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	const v1src, v2src = "name: visits\n# first\n", "name: visits\n# second\n"

	v1 := MustSaveTree(t, db, "visits", "yaml", v1src)
	sum := sha256.Sum256([]byte(v1src))
	if v1.Name != "visits" || v1.Version != 1 || v1.Format != "yaml" || string(v1.Source) != v1src ||
		v1.Checksum != hex.EncodeToString(sum[:]) || v1.CreatedAt.IsZero() || v1.PublishedAt != nil {
		t.Fatalf("first save = %+v", v1)
	}

	again := MustSaveTree(t, db, "visits", "yaml", v1src)
	if again.Version != 1 || !again.CreatedAt.Equal(v1.CreatedAt) {
		t.Errorf("same content saved again = version %d created %v, want version 1 created %v", again.Version, again.CreatedAt, v1.CreatedAt)
	}

	v2 := MustSaveTree(t, db, "visits", "yaml", v2src)
	if v2.Version != 2 || string(v2.Source) != v2src {
		t.Errorf("changed content = version %d %q, want version 2", v2.Version, v2.Source)
	}
	// Going back to old content is a change from the newest version.
	if v3 := MustSaveTree(t, db, "visits", "yaml", v1src); v3.Version != 3 {
		t.Errorf("old content again = version %d, want 3", v3.Version)
	}
	// Versions count per tree.
	if other := MustSaveTree(t, db, "needs", "json", `{"name":"needs"}`); other.Version != 1 {
		t.Errorf("another tree's first version = %d, want 1", other.Version)
	}

	got, err := db.TreeVersion(t.Context(), "visits", 2)
	if err != nil {
		t.Fatalf("TreeVersion: %v", err)
	}
	if got.Version != 2 || string(got.Source) != v2src || got.Checksum != v2.Checksum {
		t.Errorf("TreeVersion(visits, 2) = %+v", got)
	}
}

func TestSaveTreeVersionRefusesBadInput(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	tests := []struct {
		name, tree, format, source string
	}{
		{"invalid UTF-8", "visits", "yaml", "name: \xff"},
		{"NUL byte", "visits", "yaml", "name: a\x00b"},
		{"unknown format", "visits", "toml", "name = 'visits'"},
		{"no name", "", "yaml", "name: visits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tree, err := db.SaveTreeVersion(t.Context(), tt.tree, tt.format, []byte(tt.source)); err == nil {
				t.Errorf("saved %+v, want an error", tree)
			}
		})
	}
	if n := MustCount(t, db, `SELECT count(*) FROM menu_trees`); n != 0 {
		t.Errorf("%d versions stored, want 0", n)
	}
}

func TestSaveTreeVersionConcurrently(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)

	const n = 8
	versions := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			tree, err := db.SaveTreeVersion(t.Context(), "visits", "yaml", fmt.Appendf(nil, "edit: %d\n", i))
			versions[i], errs[i] = tree.Version, err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	slices.Sort(versions)
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(versions, want) {
		t.Errorf("versions = %v, want %v", versions, want)
	}
}

func TestPublishTree(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSaveTree(t, db, "visits", "yaml", "v: 1")
	MustSaveTree(t, db, "visits", "yaml", "v: 2")
	MustSaveTree(t, db, "visits", "yaml", "v: 3") // never published
	MustSaveTree(t, db, "needs", "json", `{"v":1}`)
	MustSaveTree(t, db, "drafts", "yaml", "v: 1") // no version published

	// published returns name@version for each published tree.
	published := func() []string {
		t.Helper()
		trees, err := db.PublishedTrees(t.Context())
		if err != nil {
			t.Fatalf("PublishedTrees: %v", err)
		}
		var got []string
		for _, tree := range trees {
			if tree.PublishedAt == nil {
				t.Errorf("%s v%d listed as published without a time", tree.Name, tree.Version)
			}
			got = append(got, fmt.Sprintf("%s@%d:%s", tree.Name, tree.Version, tree.Source))
		}
		return got
	}
	steps := []struct {
		name    string
		publish string
		version int
		want    []string
	}{
		{"first version", "visits", 1, []string{"visits@1:v: 1"}},
		{"newer version", "visits", 2, []string{"visits@2:v: 2"}},
		{"another tree", "needs", 1, []string{"needs@1:{\"v\":1}", "visits@2:v: 2"}},
		{"roll back", "visits", 1, []string{"needs@1:{\"v\":1}", "visits@1:v: 1"}},
	}
	if got := published(); len(got) != 0 {
		t.Fatalf("published before any publish: %v", got)
	}
	for _, s := range steps { // in order: each step builds on the last
		MustPublish(t, db, s.publish, s.version)
		if got := published(); !slices.Equal(got, s.want) {
			t.Errorf("%s: published = %v, want %v", s.name, got, s.want)
		}
	}

	tree, err := db.TreeVersion(t.Context(), "visits", 1)
	if err != nil {
		t.Fatal(err)
	}
	if tree.PublishedAt == nil {
		t.Errorf("TreeVersion of a published version has no PublishedAt")
	}
}

func TestTreesNotFound(t *testing.T) {
	t.Parallel()
	db := storagetest.MustDB(t)
	MustSaveTree(t, db, "visits", "yaml", "v: 1")
	tests := []struct {
		name    string
		tree    string
		version int
	}{
		{"unknown version", "visits", 2},
		{"unknown tree", "needs", 1},
		{"version zero", "visits", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.TreeVersion(t.Context(), tt.tree, tt.version); !errors.Is(err, menus.ErrNotFound) {
				t.Errorf("TreeVersion: %v, want ErrNotFound", err)
			}
			if err := db.PublishTree(t.Context(), tt.tree, tt.version); !errors.Is(err, menus.ErrNotFound) {
				t.Errorf("PublishTree: %v, want ErrNotFound", err)
			}
		})
	}
	if trees, err := db.PublishedTrees(t.Context()); err != nil || len(trees) != 0 {
		t.Errorf("PublishedTrees = %v, %v; want none", trees, err)
	}
}
