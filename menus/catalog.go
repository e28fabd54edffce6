package menus

import (
	"context"
	"fmt"
	"slices"
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
	byKeyword map[string]*Machine // SMS keyword (upper case) -> tree it opens
	byVersion map[versionKey]*Machine
}

type versionKey struct {
	name    string
	version int
}

// NewCatalog returns an empty catalog; load may be nil.
func NewCatalog(load LoadFunc) *Catalog {
	return &Catalog{load: load, current: map[string]*Machine{}, byService: map[string]*Machine{}, byKeyword: map[string]*Machine{}, byVersion: map[versionKey]*Machine{}}
}

// Publish makes m the current tree for its service codes and SMS
// keywords. Sessions already running on an older version keep it.
func (c *Catalog) Publish(m *Machine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byVersion[versionKey{m.tree.Name, m.version}] = m
	c.current[m.tree.Name] = m
	c.index()
}

// Unpublish stops a tree answering its codes and keywords.
func (c *Catalog) Unpublish(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.current, name)
	c.index()
}

// index rebuilds the code and keyword tables from the current trees, so
// that a code a new version dropped, or a tree gave up, stops answering
// at once, and so that every process resolves them the same way whatever
// order it loaded trees in. Publishing refuses a code or keyword another
// live tree owns; should two trees still claim one (stored before that
// rule), the tree whose name sorts first keeps it.
func (c *Catalog) index() {
	names := make([]string, 0, len(c.current))
	for n := range c.current {
		names = append(names, n)
	}
	slices.Sort(names)
	c.byService = map[string]*Machine{}
	c.byKeyword = map[string]*Machine{}
	for _, n := range names {
		m := c.current[n]
		for _, code := range m.tree.ServiceCodes {
			if k := NormalizeServiceCode(code); c.byService[k] == nil {
				c.byService[k] = m
			}
		}
		for _, kw := range m.tree.smsWords() {
			if c.byKeyword[kw] == nil {
				c.byKeyword[kw] = m
			}
		}
	}
}

// ForKeyword returns the tree an SMS keyword opens as a conversation
// (MENU, 菜单), or whose one-line form it starts.
func (c *Catalog) ForKeyword(word string) (*Machine, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.byKeyword[strings.ToUpper(word)]
	return m, ok
}

// MatchForm finds the published tree and form an SMS's words fill (see
// Machine.MatchForm), across every tree: a keyword is owned by one tree,
// and the longest keyword a glued first word starts with wins.
func (c *Catalog) MatchForm(words []string) (*Machine, Form, []string, bool) {
	c.mu.RLock()
	trees := make([]*Machine, 0, len(c.current))
	for _, m := range c.current {
		trees = append(trees, m)
	}
	c.mu.RUnlock()
	var (
		best      *Machine
		bestForm  Form
		bestField []string
		bestLen   = -1
	)
	for _, m := range trees {
		f, fields, ok := m.MatchForm(words)
		if !ok {
			continue
		}
		// The keyword's length is what the first word lost to it.
		kw := len(words[0])
		if len(fields) == len(words) {
			kw -= len(fields[0])
		}
		if kw > bestLen || (kw == bestLen && m.tree.Name < best.tree.Name) {
			best, bestForm, bestField, bestLen = m, f, fields, kw
		}
	}
	return best, bestForm, bestField, best != nil
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
