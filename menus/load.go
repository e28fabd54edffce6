package menus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Formats a tree may be written in.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// maxTreeSize bounds what Parse reads: a real tree is a few kilobytes, and an
// admin upload should never be able to exhaust memory.
const maxTreeSize = 1 << 20

// Problem is one thing wrong with a tree, pointing at the node (empty for
// the tree itself) and the field.
type Problem struct {
	Node  string `json:"node,omitempty"`
	Field string `json:"field,omitempty"`
	// Code names the kind of problem, the same in every language, and
	// Params its values (see problems.go).
	Code    string            `json:"code,omitempty"`
	Params  map[string]string `json:"-"`
	Message string            `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Node != "" {
		fmt.Fprintf(&b, "node %q: ", p.Node)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, "%s: ", p.Field)
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem found in a tree, so an editor can show
// them all at once rather than one per save.
type ValidationError struct {
	Tree     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	name := e.Tree
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("menus: tree %s is invalid: %s", name, strings.Join(parts, "; "))
}

// FormatOf tells a tree's format from a file name.
func FormatOf(filename string) (string, error) {
	switch strings.ToLower(path.Ext(filename)) {
	case ".yaml", ".yml":
		return FormatYAML, nil
	case ".json":
		return FormatJSON, nil
	}
	return "", fmt.Errorf("menus: %s: unknown tree format (want .yaml, .yml or .json)", filename)
}

// Parse decodes a tree strictly (unknown fields are errors, so a typo in a
// field name is caught rather than silently ignored) and validates it.
func Parse(data []byte, format string) (*Tree, error) {
	if len(data) > maxTreeSize {
		return nil, fmt.Errorf("menus: tree is %d bytes, over the %d byte limit", len(data), maxTreeSize)
	}
	var t Tree
	switch format {
	case FormatYAML:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("menus: %w", yamlError(data, err))
		}
		var extra any
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, errors.New("menus: decode yaml: more than one document")
		}
	case FormatJSON:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("menus: %w", jsonError(err))
		}
		if dec.More() {
			return nil, errors.New("menus: decode json: trailing data after the tree")
		}
	default:
		return nil, fmt.Errorf("menus: unknown tree format %q", format)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Decoding errors speak of Go types ("field number not found in type
// menus.Option"); an officer reads YAML, so they are said in its terms.
var (
	yamlLineRE  = regexp.MustCompile(`^yaml: line (\d+): `)
	goFieldRE   = regexp.MustCompile(`field (\S+) not found in type menus\.(\w+)`)
	goUnmarshal = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
	typeNames   = map[string]string{"Tree": "the tree", "Node": "a node", "Option": "an option", "Form": "an SMS form", "Keys": "keys", "Text": "a text"}
	goKinds     = map[string]string{"int": "a whole number", "*int": "a whole number", "string": "text", "[]string": "a list", "menus.Text": "a text in each language ({zh: ..., en: ...})", "[]menus.Node": "a list of nodes", "[]menus.Option": "a list of options", "map[string]string": "a map of answers"}
)

// yamlError rewords a YAML decoding error, and for a syntax error finds
// the line that breaks the document: the parser often reports the line
// where the enclosing block began (line 11 for a bad indent on line 48).
func yamlError(src []byte, err error) error {
	msg := err.Error()
	msg = goFieldRE.ReplaceAllStringFunc(msg, func(m string) string {
		g := goFieldRE.FindStringSubmatch(m)
		return fmt.Sprintf("%s is not a field of %s", g[1], nameOf(g[2]))
	})
	msg = goUnmarshal.ReplaceAllStringFunc(msg, func(m string) string {
		g := goUnmarshal.FindStringSubmatch(m)
		want := goKinds[g[3]]
		if want == "" {
			want = "something else"
		}
		return fmt.Sprintf("%q should be %s", g[2], want)
	})
	msg = strings.Replace(msg, "yaml: unmarshal errors:\n  ", "", 1)
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		reported, _ := strconv.Atoi(m[1])
		if line, text := firstBadLine(src); line > 0 && line != reported {
			msg += fmt.Sprintf(" (the document breaks at line %d: %q)", line, strings.TrimSpace(text))
		}
	}
	return fmt.Errorf("yaml: %s", strings.TrimPrefix(msg, "yaml: "))
}

// firstBadLine returns the first line whose addition makes the document
// fail to parse, and its text; 0 when every prefix parses.
func firstBadLine(src []byte) (int, string) {
	lines := strings.Split(string(src), "\n")
	for k := 1; k <= len(lines); k++ {
		var v any
		if err := yaml.Unmarshal([]byte(strings.Join(lines[:k], "\n")), &v); err != nil {
			return k, lines[k-1]
		}
	}
	return 0, ""
}

func nameOf(goType string) string {
	if n, ok := typeNames[goType]; ok {
		return n
	}
	return strings.ToLower(goType)
}

// jsonError rewords a JSON decoding error in the tree's terms.
func jsonError(err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		want := goKinds[ute.Type.String()]
		if want == "" {
			want = "something else"
		}
		return fmt.Errorf("json: %s should be %s (at byte %d)", ute.Field, want, ute.Offset)
	}
	return err
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	idRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	codeRE = regexp.MustCompile(`^\*[0-9*]+#$`)
	varRE  = regexp.MustCompile(`\{([^{}]*)\}`)
)

// actionNeeds lists the answers each action reads; a tree whose confirm node
// runs an action must store them.
var actionNeeds = map[string][]string{
	ActionSaveVisit: {"child", "situation"},
	ActionSaveNeed:  {"child", "category", "urgency"},
	// The need's reference and the status to give it.
	ActionSetNeedStatus: {"need", "status"},
}

// Validate checks a tree and returns a *ValidationError listing every
// problem, or nil.
func (t *Tree) Validate() error {
	v := validator{t: t, byID: map[string]*Node{}, keys: map[string]*Node{}, presets: map[string]bool{}}
	v.run()
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Tree: t.Name, Problems: v.problems}
}

type validator struct {
	t        *Tree
	byID     map[string]*Node
	keys     map[string]*Node // answer key -> node that stores it
	presets  map[string]bool  // answer keys some node's set gives
	problems []Problem
}

func (v *validator) add(node, field, code string, params ...string) {
	v.problems = append(v.problems, newProblem(node, field, code, params...))
}

func (v *validator) run() {
	t := v.t
	if !nameRE.MatchString(t.Name) {
		v.add("", "name", "tree_name", "value", t.Name)
	}
	if a := t.For(); a != AudienceDirector && a != AudienceGuardian {
		v.add("", "audience", "unknown_audience", "value", string(a))
	}
	if len(t.Languages) == 0 {
		v.add("", "languages", "no_language")
	}
	seenLang := map[string]bool{}
	for _, l := range t.Languages {
		if l != LangZH && l != LangEN {
			v.add("", "languages", "unsupported_language", "lang", l)
		}
		if seenLang[l] {
			v.add("", "languages", "language_twice", "lang", l)
		}
		seenLang[l] = true
	}
	for _, c := range t.ServiceCodes {
		if !codeRE.MatchString(c) {
			v.add("", "service_codes", "service_code", "value", c)
		}
	}
	v.keys_()
	for key, text := range t.Labels {
		if _, ok := builtinLabels[key]; !ok {
			v.add("", "labels", "unknown_label", "value", key)
			continue
		}
		v.text("", "labels."+key, text)
	}

	// Index nodes first so that targets can be checked in any order.
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if !idRE.MatchString(n.ID) {
			v.add(n.ID, "id", "node_id")
			continue
		}
		if _, dup := v.byID[n.ID]; dup {
			v.add(n.ID, "id", "duplicate_id")
			continue
		}
		v.byID[n.ID] = n
		for k := range n.Set {
			v.presets[k] = true
		}
		if n.Kind == KindFollowUps {
			if _, dup := v.keys["need"]; !dup {
				v.keys["need"] = n
			}
		}
		if n.SaveAs != "" {
			if prev, dup := v.keys[n.SaveAs]; dup && prev.Kind != n.Kind && n.SaveAs != "need" {
				v.add(n.ID, "save_as", "answer_kinds", "answer", n.SaveAs, "other", prev.ID)
			} else if !dup {
				v.keys[n.SaveAs] = n
			}
		}
	}
	if len(t.Nodes) == 0 {
		v.add("", "nodes", "no_nodes")
	}
	if t.Start == "" {
		v.add("", "start", "start_required")
	} else if _, ok := v.byID[t.Start]; !ok {
		v.add("", "start", "unknown_node", "target", t.Start)
	}
	for i := range t.Nodes {
		v.node(&t.Nodes[i])
	}
	v.forms()
	v.followUps()
	v.reachable()
	v.paths()
}

func (v *validator) node(n *Node) {
	v.text(n.ID, "text", n.Text)
	v.placeholders(n.ID, "text", n.Text)
	if n.Error != nil {
		v.text(n.ID, "error", n.Error)
	}
	if n.Label != nil {
		v.text(n.ID, "label", n.Label)
		if n.Kind != KindInput && n.Kind != KindChoice {
			v.add(n.ID, "label", "label_unused")
		}
	}
	v.presetsOf(n)
	v.sameLabels(n)
	switch n.Kind {
	case KindMenu:
		if len(n.Options) == 0 {
			v.add(n.ID, "options", "menu_no_options")
		}
		for i, o := range n.Options {
			f := fmt.Sprintf("options[%d]", i+1)
			v.text(n.ID, f+".label", o.Label)
			if o.Next == "" {
				v.add(n.ID, f+".next", "option_no_target")
			} else {
				v.target(n.ID, f+".next", o.Next)
			}
		}
		v.unused(n, "save_as", n.SaveAs != "", "validate", n.Validate != "", "action", n.Action != "", "next", n.Next != "", "choices", len(n.Choices) > 0)
	case KindChoice:
		if len(n.Choices) == 0 {
			v.add(n.ID, "choices", "choice_no_options")
		}
		if n.SaveAs == "" {
			v.add(n.ID, "save_as", "choice_no_save")
		}
		values := map[string]bool{}
		for i, o := range n.Choices {
			f := fmt.Sprintf("choices[%d]", i+1)
			v.text(n.ID, f+".label", o.Label)
			if o.Value == "" {
				v.add(n.ID, f+".value", "choice_no_value")
			} else if values[o.Value] {
				v.add(n.ID, f+".value", "choice_value_twice", "value", o.Value)
			}
			values[o.Value] = true
			switch {
			case o.Next != "":
				v.target(n.ID, f+".next", o.Next)
			case n.Next == "":
				v.add(n.ID, f+".next", "choice_no_target")
			}
		}
		if n.Next != "" {
			v.target(n.ID, "next", n.Next)
		}
		if n.SaveAs == "status" {
			for i, o := range n.Choices {
				if !isNeedStatus(o.Value) {
					v.add(n.ID, fmt.Sprintf("choices[%d].value", i+1), "need_status", "value", o.Value)
				}
			}
		}
		if n.SaveAs == "need" {
			v.add(n.ID, "save_as", "the answer \"need\" comes from the need validator or a follow_ups node")
		}
		v.unused(n, "validate", n.Validate != "", "action", n.Action != "", "options", len(n.Options) > 0)
	case KindFollowUps:
		if v.t.For() != AudienceDirector {
			v.add(n.ID, "kind", "a follow_ups node belongs in a director tree")
		}
		v.required(n, "next", n.Next)
		v.unused(n, "options", len(n.Options) > 0, "choices", len(n.Choices) > 0, "save_as", n.SaveAs != "", "validate", n.Validate != "", "action", n.Action != "")
	case KindInput:
		switch n.Validate {
		case ValidateNumber, ValidatePhone, ValidateChild, ValidateText:
		case ValidateNeed:
			if v.t.For() != AudienceDirector {
				v.add(n.ID, "validate", "need references are taken in director trees only")
			}
		case ValidateDate:
			for f, s := range map[string]string{"min_date": n.MinDate, "max_date": n.MaxDate} {
				if _, ok := parseBound(s, time.Now()); !ok {
					v.add(n.ID, f, "date_bound", "value", s)
				}
			}
		case "":
			v.add(n.ID, "validate", "no_validator")
		default:
			v.add(n.ID, "validate", "unknown_validator", "value", n.Validate)
		}
		if n.Min != nil && n.Max != nil && *n.Min > *n.Max {
			v.add(n.ID, "min", "min_over_max", "min", itoa(*n.Min), "max", itoa(*n.Max))
		}
		if n.SaveAs == "" {
			v.add(n.ID, "save_as", "input_no_save")
		}
		if n.SaveAs == "child" && n.Validate != ValidateChild {
			v.add(n.ID, "save_as", "child_validator")
		}
		if (n.SaveAs == "need") != (n.Validate == ValidateNeed) {
			v.add(n.ID, "save_as", "need_validator")
		}
		v.required(n, "next", n.Next)
		v.unused(n, "options", len(n.Options) > 0, "choices", len(n.Choices) > 0, "action", n.Action != "")
	case KindConfirm:
		if v.t.For() != AudienceDirector {
			v.add(n.ID, "kind", "confirm_audience")
		}
		// Whether every path gives the answers the action needs is
		// checked path by path (paths.go).
		switch _, ok := actionNeeds[n.Action]; {
		case n.Action == "":
			v.add(n.ID, "action", "no_action")
		case !ok:
			v.add(n.ID, "action", "unknown_action", "value", n.Action)
		}
		v.required(n, "next", n.Next)
		v.required(n, "cancel", n.Cancel)
		v.unused(n, "options", len(n.Options) > 0, "choices", len(n.Choices) > 0, "save_as", n.SaveAs != "", "validate", n.Validate != "")
	case KindAllowance:
		if v.t.For() != AudienceGuardian {
			v.add(n.ID, "kind", "allowance_audience")
		}
		v.unused(n, "options", len(n.Options) > 0, "choices", len(n.Choices) > 0, "next", n.Next != "", "save_as", n.SaveAs != "", "validate", n.Validate != "", "action", n.Action != "")
	case KindLanguage:
		if len(v.t.Languages) < 2 {
			v.add(n.ID, "kind", "language_one")
		}
		v.required(n, "next", n.Next)
		v.unused(n, "options", len(n.Options) > 0, "choices", len(n.Choices) > 0, "save_as", n.SaveAs != "", "validate", n.Validate != "", "action", n.Action != "")
	case KindEnd:
		v.unused(n, "options", len(n.Options) > 0, "choices", len(n.Choices) > 0, "next", n.Next != "", "action", n.Action != "", "save_as", n.SaveAs != "")
	case "":
		v.add(n.ID, "kind", "kind_required")
	default:
		v.add(n.ID, "kind", "unknown_kind", "value", string(n.Kind))
	}
}

// presetsOf checks a node's fixed answers: named like answers, never the
// child (only the child validator may name one), and for an answer a
// choice stores, one of its values.
func (v *validator) presetsOf(n *Node) {
	keys := make([]string, 0, len(n.Set))
	for k := range n.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := n.Set[k]
		switch {
		case !idRE.MatchString(k):
			v.add(n.ID, "set", "preset_name", "answer", k)
		case k == "child":
			v.add(n.ID, "set", "preset_child")
		case strings.TrimSpace(val) == "":
			v.add(n.ID, "set", "preset_empty", "answer", k)
		}
		if c := v.keys[k]; c != nil && c.Kind == KindChoice && !slices.ContainsFunc(c.Choices, func(o Option) bool { return o.Value == val }) {
			v.add(n.ID, "set", "preset_value", "answer", k, "value", val, "other", c.ID)
		}
		if k == "urgency" && val != UrgencyRoutine && val != UrgencyUrgent {
			v.add(n.ID, "set", "preset_urgency", "value", val)
		}
		if k == "status" {
			if !isNeedStatus(val) {
				v.add(n.ID, "set", "need_status", "value", val)
			}
		}
		if k == "need" {
			v.add(n.ID, "set", "preset_need")
		}
	}
}

// sameLabels flags two options of one node with the same label: a caller
// cannot tell them apart.
func (v *validator) sameLabels(n *Node) {
	for _, opts := range [][]Option{n.Options, n.Choices} {
		for _, lang := range v.t.Languages {
			seen := map[string]int{}
			for i, o := range opts {
				l := strings.TrimSpace(o.Label[lang])
				if j, dup := seen[l]; dup && l != "" {
					v.add(n.ID, fmt.Sprintf("options[%d].label", i+1), "same_label", "lang", lang, "value", l, "other", itoa(j))
				}
				seen[l] = i + 1
			}
		}
	}
}

// keys_ checks the navigation keys: digits, distinct, and never an option
// number of any node (confirm nodes use 1 and 2).
func (v *validator) keys_() {
	k := v.t.Keys.withDefaults()
	most, widest := 2, part("confirm_node")
	for _, n := range v.t.Nodes {
		if c := max(len(n.Options), len(n.Choices)); c > most {
			most, widest = c, part("node_named", "node", n.ID)
		}
	}
	seen := map[string]string{}
	for _, kv := range [][2]string{{"more", k.More}, {"back", k.Back}, {"home", k.Home}} {
		name, key := kv[0], kv[1]
		if !isDigits(key) || len(key) > 3 {
			v.add("", "keys."+name, "key_digits", "value", key)
			continue
		}
		if other, dup := seen[key]; dup {
			v.add("", "keys."+name, "key_twice", "value", key, "other", part("key_"+other))
		}
		seen[key] = name
		if n, err := strconv.Atoi(key); err == nil && key[0] != '0' && n >= 1 && n <= most {
			v.add("", "keys."+name, "key_option", "value", key, "where", widest, "count", itoa(most))
		}
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (v *validator) required(n *Node, field, target string) {
	if target == "" {
		v.add(n.ID, field, "required", "kind", string(n.Kind))
		return
	}
	v.target(n.ID, field, target)
}

func (v *validator) target(node, field, id string) {
	if _, ok := v.byID[id]; !ok {
		v.add(node, field, "unknown_target", "target", id)
	}
}

// unused flags fields that a node kind ignores: a field that silently does
// nothing is a mistake an editor wants to hear about.
func (v *validator) unused(n *Node, pairs ...any) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if set, _ := pairs[i+1].(bool); set {
			v.add(n.ID, pairs[i].(string), "unused", "kind", string(n.Kind))
		}
	}
}

func (v *validator) text(node, field string, t Text) {
	for _, l := range v.t.Languages {
		if strings.TrimSpace(t[l]) == "" {
			v.add(node, field, "missing_translation", "lang", l)
		}
	}
	for l := range t {
		if !slices.Contains(v.t.Languages, l) {
			v.add(node, field, "undeclared_language", "lang", l)
		}
	}
	for l, s := range t {
		if strings.ContainsFunc(s, isHiddenFormat) {
			v.add(node, field, "hidden_characters", "lang", l)
		}
	}
}

func (v *validator) placeholders(node, field string, t Text) {
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		for _, m := range varRE.FindAllStringSubmatch(t[l], -1) {
			name := m[1]
			switch {
			case name == "ref", name == "child.name", name == "child.code":
				if name != "ref" {
					if _, ok := v.keys["child"]; !ok {
						v.add(node, field, "placeholder_no_child", "lang", l, "name", name)
					}
				}
			default:
				if _, ok := v.keys[name]; !ok && !v.presets[name] {
					v.add(node, field, "placeholder_unknown", "lang", l, "name", name)
				}
			}
		}
	}
}

// reachable reports nodes that no path from the start or from an SMS
// form's start reaches: they are usually a forgotten link, and they would
// otherwise rot unseen. A walk only SMS forms take (DONE <ref>) is
// reached from its form.
func (v *validator) reachable() {
	start, ok := v.byID[v.t.Start]
	if !ok {
		return
	}
	seen := map[string]bool{start.ID: true}
	queue := []*Node{start}
	for _, f := range v.t.Forms {
		if n, ok := v.byID[f.Start]; ok && !seen[n.ID] {
			seen[n.ID] = true
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, next := range targets(n) {
			if m, ok := v.byID[next]; ok && !seen[next] {
				seen[next] = true
				queue = append(queue, m)
			}
		}
	}
	for _, n := range v.t.Nodes {
		if _, indexed := v.byID[n.ID]; indexed && !seen[n.ID] {
			v.add(n.ID, "", "unreachable", "start", v.t.Start)
		}
	}
}

func targets(n *Node) []string {
	var out []string
	for _, o := range n.Options {
		out = append(out, o.Next)
	}
	for _, o := range n.Choices {
		if o.Next != "" {
			out = append(out, o.Next)
		}
	}
	for _, s := range []string{n.Next, n.Cancel} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isHiddenFormat matches bidirectional overrides and zero-width characters,
// which can make a label read differently from what it says.
func isHiddenFormat(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r >= 0x200B && r <= 0x200D, r == 0xFEFF:
		return true
	}
	return false
}

func article(k Kind) string {
	if k == KindInput || k == KindEnd {
		return "an " + string(k)
	}
	return "a " + string(k)
}
