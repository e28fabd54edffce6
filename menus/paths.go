package menus

import (
	"slices"
	"sort"
	"strings"
)

// Checks that follow paths. A tree-wide check ("some node stores
// category") lets an officer publish a walk that saves a need with no
// category: the SMS form that starts after the category screen, say. So
// each entry into the tree (its start node and each SMS form's start) is
// followed along every path, and at every node the checker knows which
// answers every path to it has given; a save that needs an answer, or a
// placeholder outside a conditional [[ ]] section, that some path leaves
// unset is a problem, shown with such a path.

// entry is a way into the tree.
type entry struct {
	node string
	name string // how problems name it: "the start node", "SMS form V"
}

func (v *validator) entries() []entry {
	out := []entry{{node: v.t.Start, name: part("entry_start")}}
	for _, f := range v.t.Forms {
		if len(f.Keywords) > 0 {
			out = append(out, entry{node: f.Start, name: part("entry_form", "form", f.Keywords[0])})
		}
	}
	return out
}

// edge is one way out of a node: to a node, with the answers it adds, or
// clearing them all (a confirm's cancel starts a fresh walk).
type edge struct {
	to     string
	stores string
	clears bool
}

func (v *validator) edges(n *Node) []edge {
	var out []edge
	switch n.Kind {
	case KindMenu:
		for _, o := range n.Options {
			out = append(out, edge{to: o.Next})
		}
	case KindChoice:
		for _, o := range n.Choices {
			to := o.Next
			if to == "" {
				to = n.Next
			}
			out = append(out, edge{to: to, stores: n.SaveAs})
		}
	case KindInput:
		out = append(out, edge{to: n.Next, stores: n.SaveAs})
	case KindConfirm:
		out = append(out, edge{to: n.Next}, edge{to: n.Cancel, clears: true})
	case KindLanguage:
		out = append(out, edge{to: n.Next})
	case KindFollowUps:
		out = append(out, edge{to: n.Next, stores: "need"})
	}
	return out
}

// given computes, for every node reachable from the entry, the answers
// every path to it has given by the time its screen shows (its own fixed
// answers included): a must-analysis, meeting paths by intersection.
func (v *validator) given(from string) map[string]map[string]bool {
	in := map[string]map[string]bool{from: {}}
	at := map[string]map[string]bool{}
	queue := []string{from}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		n, ok := v.byID[id]
		if !ok {
			continue
		}
		cur := clone(in[id])
		for k := range n.Set {
			cur[k] = true
		}
		at[id] = cur
		for _, e := range v.edges(n) {
			if _, ok := v.byID[e.to]; !ok {
				continue
			}
			out := map[string]bool{}
			if !e.clears {
				out = clone(cur)
				if e.stores != "" {
					out[e.stores] = true
				}
			}
			prev, seen := in[e.to]
			if !seen {
				in[e.to] = out
				queue = append(queue, e.to)
				continue
			}
			if meet := intersect(prev, out); len(meet) < len(prev) {
				in[e.to] = meet
				queue = append(queue, e.to)
			}
		}
	}
	return at
}

func clone(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func intersect(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		if b[k] {
			out[k] = true
		}
	}
	return out
}

// pathWithout returns a shortest path from the entry to target on which no
// node before the target gives key, as node ids; nil when none exists
// without a cancel in it.
func (v *validator) pathWithout(from, target, key string) []string {
	gives := func(n *Node, e edge) bool { return e.stores == key || n.Set[key] != "" }
	if n := v.byID[from]; n != nil && n.Set[key] != "" {
		return nil
	}
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if id == target {
			var path []string
			for at := id; at != ""; at = prev[at] {
				path = append(path, at)
			}
			slices.Reverse(path)
			return path
		}
		n := v.byID[id]
		for _, e := range v.edges(n) {
			next, ok := v.byID[e.to]
			if !ok || e.clears || gives(n, e) {
				continue
			}
			if _, seen := prev[e.to]; seen || (next.ID != target && next.Set[key] != "") {
				continue
			}
			prev[e.to] = id
			queue = append(queue, e.to)
		}
	}
	return nil
}

// paths runs the per-path checks from every entry.
func (v *validator) paths() {
	reported := map[string]bool{}
	report := func(node, field, code string, params ...string) {
		if k := node + "\x00" + code + "\x00" + strings.Join(params, "\x00"); !reported[k] {
			reported[k] = true
			v.add(node, field, code, params...)
		}
	}
	for _, en := range v.entries() {
		if _, ok := v.byID[en.node]; !ok {
			continue
		}
		at := v.given(en.node)
		ids := make([]string, 0, len(at))
		for id := range at {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			n, have := v.byID[id], at[id]
			why := func(key string) string {
				if p := v.pathWithout(en.node, id, key); p != nil {
					return part("path_from", "path", strings.Join(p, " → "), "entry", en.name)
				}
				return part("path_cancel", "entry", en.name)
			}
			if n.Kind == KindConfirm {
				for _, k := range actionNeeds[n.Action] {
					if !have[k] {
						report(id, "action", "action_needs", "action", n.Action, "answer", k, "why", why(k))
					}
				}
			}
			for _, lang := range v.t.Languages {
				for _, name := range unconditional(n.Text[lang]) {
					key := name
					switch name {
					case "ref":
						continue
					case "child.name", "child.code":
						key = "child"
					}
					if !have[key] && v.keys[key] != nil {
						report(id, "text", "placeholder_path", "lang", lang, "name", name, "why", why(key))
					}
				}
			}
		}
	}
}

// unconditional lists the placeholders of a text outside [[ ]] sections.
func unconditional(s string) []string {
	var out []string
	sections(s, func(text string, conditional bool) {
		if !conditional {
			for _, m := range varRE.FindAllStringSubmatch(text, -1) {
				out = append(out, m[1])
			}
		}
	})
	return out
}
