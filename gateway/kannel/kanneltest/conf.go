package kanneltest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// setting is one "name = value" line of a Kannel configuration group.
type setting struct{ name, value string }

// group is one group of a Kannel configuration, its settings in file order
// ("group = name" itself excluded).
type group struct {
	name     string
	settings []setting
}

// get returns the value of the setting name.
func (g *group) get(name string) (string, bool) {
	for _, s := range g.settings {
		if s.name == name {
			return s.value, true
		}
	}
	return "", false
}

// set replaces the value of the setting name, or adds it at the end.
func (g *group) set(name, value string) {
	for i := range g.settings {
		if g.settings[i].name == name {
			g.settings[i].value = value
			return
		}
	}
	g.settings = append(g.settings, setting{name, value})
}

// recommendedPath is gateway/kannel/kannel.conf, found from this file's
// location: the harness is only ever compiled from source, by go test, so
// the path is the one in the module's source tree.
func recommendedPath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot tell where the kanneltest source is")
	}
	return filepath.Join(filepath.Dir(file), "..", "kannel.conf"), nil
}

// readConf reads a Kannel configuration file.
func readConf(path string) ([]*group, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	groups, err := parseConf(bufio.NewScanner(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return groups, nil
}

// parseConf follows Kannel's own reader (gwlib/cfg.c): a line whose first
// non-blank character is '#' is a comment, a blank line ends a group, every
// other line is "name = value" with the value optionally in double quotes
// (where \" and \\ are escapes). Include directives are not supported.
func parseConf(sc *bufio.Scanner) ([]*group, error) {
	var (
		groups []*group
		cur    *group
		lineNo int
	)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			cur = nil
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: no '='", lineNo)
		}
		name, value = strings.TrimSpace(name), unquote(strings.TrimSpace(value))
		if strings.Contains(line, "include") {
			return nil, fmt.Errorf("line %d: include directives are not supported", lineNo)
		}
		if cur == nil {
			if name != "group" {
				return nil, fmt.Errorf("line %d: %q outside a group", lineNo, name)
			}
			cur = &group{name: value}
			groups = append(groups, cur)
			continue
		}
		cur.settings = append(cur.settings, setting{name, value})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return groups, nil
}

// unquote undoes Kannel's quoting of a value; an unquoted value is taken as
// it is.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	var b strings.Builder
	v = v[1 : len(v)-1]
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '\\' || v[i+1] == '"') {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// quote writes v so that Kannel reads it back unchanged.
func quote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// renderConf writes groups in Kannel's syntax, every value quoted.
func renderConf(groups []*group) string {
	var b strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&b, "group = %s\n", g.name)
		for _, s := range g.settings {
			fmt.Fprintf(&b, "%s = %s\n", s.name, quote(s.value))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// findGroups returns the groups called name.
func findGroups(groups []*group, name string) []*group {
	var out []*group
	for _, g := range groups {
		if g.name == name {
			out = append(out, g)
		}
	}
	return out
}
