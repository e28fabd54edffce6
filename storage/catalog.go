package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/barefoot-ussd/barefoot/menus"
)

// compile parses and compiles a stored tree version.
func compile(t menus.TreeVersion, opts menus.Options) (*menus.Machine, error) {
	tree, err := menus.Parse(t.Source, t.Format)
	if err != nil {
		return nil, err
	}
	m, err := menus.Compile(tree, t.Version, opts)
	if err != nil {
		return nil, err
	}
	if t.PublishedAt != nil {
		m.SetPublished(*t.PublishedAt)
	}
	return m, nil
}

// TreeLoader returns a menus.LoadFunc that compiles stored versions, for
// sessions pinned to a version this process has not loaded.
func (db *DB) TreeLoader(opts menus.Options) menus.LoadFunc {
	return func(ctx context.Context, name string, version int) (*menus.Machine, error) {
		t, err := db.TreeVersion(ctx, name, version)
		if err != nil {
			return nil, err
		}
		return compile(t, opts)
	}
}

// RefreshCatalog publishes into c every published tree version it does not
// run yet, and returns how many trees are published. A tree that no longer
// compiles is reported and skipped; the others still load.
func (db *DB) RefreshCatalog(ctx context.Context, c *menus.Catalog, opts menus.Options) (int, error) {
	trees, err := db.PublishedTrees(ctx)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, t := range trees {
		if m, ok := c.Current(t.Name); ok && m.Version() == t.Version {
			continue
		}
		m, err := compile(t, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("tree %s v%d: %w", t.Name, t.Version, err))
			continue
		}
		c.Publish(m)
	}
	return len(trees), errors.Join(errs...)
}
