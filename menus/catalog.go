package menus

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// LoadFunc fetches and compiles one version of a tree that the catalog has
// not seen, for sessions pinned to a version published elsewhere.
type LoadFunc func(ctx context.Context, name string, version int) (*Machine, error)

// Catalog holds the compiled trees a gateway serves: the current version of
// each tree by service code, and every version a live session may be
// pinned to. It is safe for concurrent use.
type Catalog struct {
	load LoadFunc

	mu        sync.RWMutex
	current   map[string]*Machine // tree name -> published version
	byService map[string]*Machine
	byVersion map[versionKey]*Machine
}

type versionKey struct {
	name    string
	version int
}

// NewCatalog returns an empty catalog; load may be nil.
func NewCatalog(load LoadFunc) *Catalog {
	return &Catalog{load: load, current: map[string]*Machine{}, byService: map[string]*Machine{}, byVersion: map[versionKey]*Machine{}}
}

// Publish makes m the current tree for its service codes. Sessions already
// running on an older version keep it.
func (c *Catalog) Publish(m *Machine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byVersion[versionKey{m.tree.Name, m.version}] = m
	if old, ok := c.current[m.tree.Name]; ok {
		// A code the new version dropped stops answering.
		for _, code := range old.tree.ServiceCodes {
			delete(c.byService, NormalizeServiceCode(code))
		}
	}
	c.current[m.tree.Name] = m
	for _, code := range m.tree.ServiceCodes {
		c.byService[NormalizeServiceCode(code)] = m
	}
}

// Current returns the published version of a tree.
func (c *Catalog) Current(name string) (*Machine, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.current[name]
	return m, ok
}

// Published lists the names of the trees with a published version.
func (c *Catalog) Published() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	names := make([]string, 0, len(c.current))
	for n := range c.current {
		names = append(names, n)
	}
	return names
}

// ForService returns the current tree for a dialled service code.
func (c *Catalog) ForService(code string) (*Machine, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.byService[NormalizeServiceCode(code)]
	return m, ok
}

// Version returns a given version of a tree, loading it if needed.
func (c *Catalog) Version(ctx context.Context, name string, version int) (*Machine, error) {
	k := versionKey{name, version}
	c.mu.RLock()
	m, ok := c.byVersion[k]
	c.mu.RUnlock()
	if ok {
		return m, nil
	}
	if c.load == nil {
		return nil, fmt.Errorf("menus: tree %s v%d: %w", name, version, ErrNotFound)
	}
	m, err := c.load(ctx, name, version)
	if err != nil {
		return nil, fmt.Errorf("menus: load tree %s v%d: %w", name, version, err)
	}
	c.mu.Lock()
	c.byVersion[k] = m
	c.mu.Unlock()
	return m, nil
}

// NormalizeServiceCode folds the spellings carriers use for one code
// ("*384*2015#", " *384*2015# ") to one key.
func NormalizeServiceCode(code string) string {
	return strings.TrimSpace(code)
}
