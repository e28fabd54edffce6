package menus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/looplab/fsm"
)

// Events fired on the state machine besides option numbers ("1", "2" ...).
const (
	eventValid   = "valid"
	eventConfirm = "confirm"
	eventCancel  = "cancel"
)

// Options tune a compiled machine.
type Options struct {
	// Region is the default phone region for the phone validator ("CN").
	Region string
	// Budget is the strictest screen budget of the channels the tree will
	// run on; Compile refuses a tree with a screen that cannot fit it.
	// Zero means the USSD protocol limit.
	Budget textlen.Budget
}

// Machine is a validated tree compiled into looplab/fsm transitions. It is
// safe for concurrent use: each step borrows a state machine from a pool and
// sets it to the caller's node, so the transition table is built once per
// tree version, not once per hop.
type Machine struct {
	tree    *Tree
	version int
	nodes   map[string]*Node
	choices map[string]*Node // answer key -> choice node, to show labels
	texts   map[string]bool  // answer keys of free-text inputs
	events  []fsm.EventDesc
	pool    sync.Pool
	phones  phone.Normalizer
	keys    Keys
	pages   sync.Map // pageKey -> []page
	// langs are the options of language nodes: every language of the
	// tree, named in its own script whatever the screen's language.
	langs []Option
	// published is when this version went live (zero if unknown).
	published time.Time
	// usesNeeds is set when a node lists follow-ups or takes a need's
	// reference: walks then need the caller's open needs.
	usesNeeds bool
}

// SetPublished records when the version went live. It is set once, by the
// loader, before the machine is shared.
func (m *Machine) SetPublished(at time.Time) { m.published = at }

// LiveSince reports when the version went live; zero if unknown.
func (m *Machine) LiveSince() time.Time { return m.published }

// Check parses a tree and runs every check there is on it: the format,
// the per-node and per-path rules, and every screen against the budget in
// opts. The command line, the admin API and the console all check trees
// with it, so they never disagree.
func Check(src []byte, format string, opts Options) (*Machine, error) {
	t, err := Parse(src, format)
	if err != nil {
		return nil, err
	}
	return Compile(t, 1, opts)
}

// Compile builds the state machine of a validated tree: states are node ids,
// events are the inputs that move between them.
func Compile(t *Tree, version int, opts Options) (*Machine, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	m := &Machine{
		tree:    t,
		version: version,
		nodes:   make(map[string]*Node, len(t.Nodes)),
		choices: map[string]*Node{},
		texts:   map[string]bool{},
		phones:  phone.Normalizer{Region: opts.Region},
		keys:    t.Keys.withDefaults(),
	}
	for _, l := range t.Languages {
		label := Text{}
		for _, in := range t.Languages {
			label[in] = languageNames[l]
		}
		m.langs = append(m.langs, Option{Label: label, Value: l})
	}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		m.nodes[n.ID] = n
		switch n.Kind {
		case KindMenu:
			for j, o := range n.Options {
				m.events = append(m.events, fsm.EventDesc{Name: strconv.Itoa(j + 1), Src: []string{n.ID}, Dst: o.Next})
			}
		case KindChoice:
			m.choices[n.SaveAs] = n
			for j, o := range n.Choices {
				dst := o.Next
				if dst == "" {
					dst = n.Next
				}
				m.events = append(m.events, fsm.EventDesc{Name: strconv.Itoa(j + 1), Src: []string{n.ID}, Dst: dst})
			}
		case KindInput:
			if n.Validate == ValidateText {
				m.texts[n.SaveAs] = true
			}
			if n.Validate == ValidateNeed {
				m.usesNeeds = true
			}
			m.events = append(m.events, fsm.EventDesc{Name: eventValid, Src: []string{n.ID}, Dst: n.Next})
		case KindLanguage:
			for j := range t.Languages {
				m.events = append(m.events, fsm.EventDesc{Name: strconv.Itoa(j + 1), Src: []string{n.ID}, Dst: n.Next})
			}
		case KindFollowUps:
			m.usesNeeds = true
			m.events = append(m.events, fsm.EventDesc{Name: eventValid, Src: []string{n.ID}, Dst: n.Next})
		case KindConfirm:
			m.events = append(m.events,
				fsm.EventDesc{Name: eventConfirm, Src: []string{n.ID}, Dst: n.Next},
				fsm.EventDesc{Name: eventCancel, Src: []string{n.ID}, Dst: n.Cancel})
		}
	}
	m.pool.New = func() any { return fsm.NewFSM(t.Start, m.events, nil) }
	if opts.Budget == (textlen.Budget{}) {
		opts.Budget = textlen.USSDMax()
	}
	if problems := append(m.checkBudget(opts.Budget), m.checkLongNames(opts.Budget)...); len(problems) > 0 {
		return nil, &ValidationError{Tree: t.Name, Problems: problems}
	}
	return m, nil
}

// Tree returns the tree the machine was compiled from. It must not be
// modified.
func (m *Machine) Tree() *Tree { return m.tree }

// Version is the tree version the machine runs.
func (m *Machine) Version() int { return m.version }

// Snapshot is everything a walk needs between two hops. It is small and
// plain so that a store can keep it as bytes; the state machine itself is
// rebuilt from it on each hop.
type Snapshot struct {
	Tree    string            `json:"t"`
	Version int               `json:"v"`
	Node    string            `json:"n"`
	Lang    string            `json:"l"`
	Answers map[string]string `json:"a,omitempty"`
	Caller  Caller            `json:"c"`
	// Budget is the screen budget of the channel the walk runs on; every
	// screen is measured against it and paged to fit.
	Budget textlen.Budget `json:"b"`
	// Page is the page shown of a list too long for one screen.
	Page int `json:"pg,omitempty"`
	// Trail is the nodes walked through, most recent last, for Back.
	Trail []string `json:"tr,omitempty"`
	// Ref is the saved report's reference, once saved.
	Ref string `json:"r,omitempty"`
	// ReportKey is the idempotency key of the report this walk files: set
	// by the channel when the walk starts and kept across a resume, so a
	// report resumed in a new session is still saved once.
	ReportKey string `json:"k,omitempty"`
	// Notice is the label key of the validation error shown above the
	// current prompt, and NoticeArgs its arguments.
	Notice     string            `json:"x,omitempty"`
	NoticeArgs map[string]string `json:"xa,omitempty"`
	Ended      bool              `json:"e,omitempty"`
	// Hops counts inputs taken.
	Hops int `json:"h"`
	// Path is the channel's record of the input consumed so far (for
	// Africa's Talking, the cumulative text); the engine does not read it.
	Path string `json:"p"`
	// Seq is the last hop number applied, for carriers that number hops.
	Seq int `json:"q,omitempty"`
	// Phase is the session's lifecycle phase (see Advance).
	Phase string `json:"ph,omitempty"`
	// Resume holds an unfinished walk while the caller is offered to
	// continue it (Node is ResumeNode).
	Resume *Snapshot `json:"rs,omitempty"`
	// Screen is the last screen shown, served again to a duplicate callback.
	Screen  string    `json:"s"`
	Started time.Time `json:"st"`
}

// maxTrail bounds the Back history a snapshot carries.
const maxTrail = 16

// Start opens a walk for a caller at the tree's start node, with the
// channel's screen budget.
func (m *Machine) Start(c Caller, now time.Time, budget textlen.Budget) Snapshot {
	lang := c.Language
	if !m.speaks(lang) {
		lang = m.tree.Languages[0]
	}
	s := Snapshot{Tree: m.tree.Name, Version: m.version, Node: m.tree.Start, Lang: lang, Caller: c, Budget: budget, Started: now}
	m.preset(&s)
	m.settle(&s)
	return s
}

// ErrStaleSnapshot is returned when a snapshot names a node this machine
// does not have: it belongs to another tree or version.
var ErrStaleSnapshot = errors.New("menus: snapshot does not match the tree")

// Step applies one input and returns the next snapshot with the effects the
// step asks for. When the input confirms a report, the effects hold a
// SaveReport and the snapshot's screen is not final: the caller applies the
// save and completes the step with Saved, Failed or Refused.
func (m *Machine) Step(s Snapshot, input string, now time.Time) (Snapshot, Effects, error) {
	n, ok := m.nodes[s.Node]
	if s.Node == ResumeNode {
		return s, nil, fmt.Errorf("%w: the resume offer is answered with ChooseResume", ErrStaleSnapshot)
	}
	if !ok || s.Tree != m.tree.Name || s.Version != m.version {
		return s, nil, fmt.Errorf("%w: %s v%d node %q", ErrStaleSnapshot, s.Tree, s.Version, s.Node)
	}
	if s.Ended {
		return s, nil, nil
	}
	s.Answers = maps.Clone(s.Answers)
	s.Notice, s.NoticeArgs = "", nil
	s.Hops++
	in := cleanInput(input)

	var effects Effects
	if handled, discarded := m.navigate(&s, n, in); handled {
		if discarded {
			effects = append(effects, DiscardWalk{Abandoned: true})
		}
		m.render(&s)
		return s, effects, nil
	}
	event := ""
	switch n.Kind {
	case KindMenu:
		if i, ok := pick(in, len(n.Options)); ok {
			event = strconv.Itoa(i)
		}
	case KindChoice:
		if i, ok := pick(in, len(n.Choices)); ok {
			event = strconv.Itoa(i)
			s.setAnswer(n.SaveAs, n.Choices[i-1].Value)
		}
	case KindAllowance:
		if i, ok := pick(in, len(s.Caller.Children)); ok {
			s.setAnswer("child", s.Caller.Children[i-1].Code)
			s.Ended = true
			m.render(&s)
			return s, Effects{DiscardWalk{}}, nil
		}
	case KindFollowUps:
		due := s.Caller.dueNeeds()
		if i, ok := pick(in, len(due)); ok {
			s.setAnswer("need", due[i-1].Ref)
			event = eventValid
		}
	case KindLanguage:
		if i, ok := pick(in, len(m.tree.Languages)); ok {
			event = strconv.Itoa(i)
			if lang := m.tree.Languages[i-1]; lang != s.Lang {
				s.Lang, s.Caller.Language = lang, lang
				effects = append(effects, RememberLanguage{Lang: lang})
			}
		}
	case KindInput:
		v, bad := m.validate(n, in, s.Caller, now)
		if bad != nil {
			s.Notice, s.NoticeArgs = bad.key, bad.args
			m.render(&s)
			return s, nil, nil
		}
		s.setAnswer(n.SaveAs, v)
		event = eventValid
	case KindConfirm:
		switch in {
		case "1":
			event = eventConfirm
			if n.Action == ActionSetNeedStatus {
				effects = append(effects, SetNeedStatus{Ref: s.Answers["need"], Status: s.Answers["status"], DirectorID: s.Caller.DirectorID})
				break
			}
			r := m.report(n, s, now)
			effects = append(effects, SaveReport{Report: r})
			if r.Urgency == UrgencyUrgent {
				effects = append(effects, AlertSupervisors{})
			}
		case "2":
			// A cancelled walk is over: its answers go, and it is not
			// offered back as unfinished.
			event = eventCancel
			s.Answers = nil
			effects = append(effects, DiscardWalk{Abandoned: true})
		}
	}
	if event == "" {
		s.Notice = "invalid_option"
		m.render(&s)
		return s, nil, nil
	}
	next, err := m.fire(s.Node, event)
	if err != nil {
		return s, nil, err
	}
	m.moveTo(&s, next)
	if event == eventConfirm {
		// The end screen names the reference, which only the store knows.
		return s, effects, nil
	}
	if event == eventCancel {
		s.Trail = nil
	}
	m.settle(&s)
	if s.Ended && !effects.Discards() {
		effects = append(effects, DiscardWalk{})
	}
	return s, effects, nil
}

// navigate handles the navigation keys: Home from anywhere, Back from any
// screen, More on lists. It reports whether the input was one of them, and
// whether it abandoned the walk. A number input keeps "0" as an answer, so
// only Home is taken there.
func (m *Machine) navigate(s *Snapshot, n *Node, in string) (handled, discarded bool) {
	switch {
	case in == m.keys.Home:
		// Home starts a fresh walk: the answers given so far belong to a
		// report the caller has turned away from.
		discarded = len(s.Answers) > 0
		s.Node, s.Page, s.Trail, s.Answers = m.tree.Start, 0, nil, nil
		m.preset(s)
		return true, discarded
	case n.Kind == KindEnd, n.Kind == KindInput && (n.Validate == ValidateNumber || in == m.keys.More):
		return false, false
	case in == m.keys.More:
		if s.Page+1 < len(m.pagesOf(s)) {
			s.Page++
		} else {
			s.Notice = "invalid_option"
		}
		return true, false
	case in == m.keys.Back:
		switch {
		case s.Page > 0:
			s.Page--
		case len(s.Trail) > 0:
			s.Node, s.Trail = s.Trail[len(s.Trail)-1], s.Trail[:len(s.Trail)-1]
		default:
			s.Notice = "invalid_option"
		}
		return true, false
	}
	return false, false
}

// moveTo enters node next, remembering where the walk came from.
func (m *Machine) moveTo(s *Snapshot, next string) {
	if next != s.Node {
		s.Trail = append(s.Trail, s.Node)
		if len(s.Trail) > maxTrail {
			s.Trail = s.Trail[len(s.Trail)-maxTrail:]
		}
	}
	s.Node, s.Page = next, 0
	m.preset(s)
}

// preset stores the fixed answers of the node the walk has reached.
func (m *Machine) preset(s *Snapshot) {
	n := m.nodes[s.Node]
	if n == nil || len(n.Set) == 0 {
		return
	}
	if s.Answers == nil {
		s.Answers = make(map[string]string, len(n.Set))
	}
	maps.Copy(s.Answers, n.Set)
}

// Saved completes a step that produced a report, with its reference.
func (m *Machine) Saved(s Snapshot, ref string) Snapshot {
	s.Ref = ref
	m.settle(&s)
	return s
}

// Failed returns the snapshot from before a confirming step with a notice
// that saving failed, so the caller can press 1 again.
func (m *Machine) Failed(before Snapshot) Snapshot {
	before.Hops++
	before.Notice, before.NoticeArgs = "save_failed", nil
	m.render(&before)
	return before
}

// Refusal is why a store refused a report for good: no retry can save it.
type Refusal string

// Refusals.
const (
	// RefusedChild: the child is no longer assigned to the caller, or no
	// longer active.
	RefusedChild Refusal = "child_gone"
	// RefusedSaved: this conversation's report was already saved, with
	// other answers; Ref names it.
	RefusedSaved Refusal = "already_saved"
	// RefusedNeed: the need is not an open need of the caller's child (any
	// more): resolved meanwhile, or the child reassigned; Ref names it.
	RefusedNeed Refusal = "need_gone"
)

// Refused ends the walk of a confirming step whose report the store
// refused for good, saying why, with the child's code and, for
// RefusedSaved, the reference already saved.
func (m *Machine) Refused(before Snapshot, why Refusal, ref string) Snapshot {
	before.Hops++
	before.Notice, before.NoticeArgs = "", nil
	before.Ended, before.Page = true, 0
	args := map[string]string{"child": before.Answers["child"], "ref": ref}
	before.Screen = budgetOf(&before).Truncate(expand(m.label(string(why), before.Lang), func(k string) string { return args[k] }), ellipsis)
	return before
}

// Unfinished reports whether the walk holds answers towards a report that
// is neither saved nor abandoned: worth offering back on the next dial.
func (s Snapshot) Unfinished() bool {
	return !s.Ended && s.Node != ResumeNode && len(s.Answers) > 0
}

// TakesText reports whether the snapshot waits for free text, which may
// itself contain the separators a channel uses between inputs.
func (m *Machine) TakesText(s Snapshot) bool {
	n := m.nodes[s.Node]
	return n != nil && n.Kind == KindInput && n.Validate == ValidateText
}

// Confirming reports whether the snapshot shows a confirm screen.
func (m *Machine) Confirming(s Snapshot) bool {
	n := m.nodes[s.Node]
	return n != nil && n.Kind == KindConfirm
}

// AtStart reports whether the walk is on the start node with nothing typed
// that matters: a session there has nothing worth resuming.
func (m *Machine) AtStart(s Snapshot) bool {
	return s.Node == m.tree.Start && len(s.Answers) == 0
}

// Render returns the screen for a snapshot.
func (m *Machine) Render(s Snapshot) string {
	m.render(&s)
	return s.Screen
}

// fire runs one transition on a pooled state machine.
func (m *Machine) fire(from, event string) (string, error) {
	f := m.pool.Get().(*fsm.FSM)
	defer m.pool.Put(f)
	f.SetState(from)
	err := f.Event(context.Background(), event)
	var none fsm.NoTransitionError
	if err != nil && !errors.As(err, &none) {
		return "", fmt.Errorf("menus: %s: event %q from %q: %w", m.tree.Name, event, from, err)
	}
	return f.Current(), nil
}

// settle marks end nodes and renders the screen. An allowance node for a
// guardian of one child (or none) has nothing to ask: it is the last screen.
func (m *Machine) settle(s *Snapshot) {
	if n := m.nodes[s.Node]; n != nil {
		switch {
		case n.Kind == KindEnd:
			s.Ended = true
		case n.Kind == KindAllowance && len(s.Caller.Children) <= 1:
			if len(s.Caller.Children) == 1 {
				s.setAnswer("child", s.Caller.Children[0].Code)
			}
			s.Ended = true
		case n.Kind == KindFollowUps && len(s.Caller.dueNeeds()) == 0:
			// Nothing due: the screen says so, and the walk is over.
			s.Ended = true
		}
	}
	m.render(s)
}

func (s *Snapshot) setAnswer(key, value string) {
	if s.Answers == nil {
		s.Answers = map[string]string{}
	}
	s.Answers[key] = value
}

// pick reads an option number from 1 to n.
func pick(in string, n int) (int, bool) {
	if len(in) == 0 || len(in) > 3 {
		return 0, false
	}
	i, err := strconv.Atoi(in)
	if err != nil || i < 1 || i > n || in[0] == '0' {
		return 0, false
	}
	return i, true
}

func (m *Machine) speaks(lang string) bool {
	for _, l := range m.tree.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

func (m *Machine) report(n *Node, s Snapshot, now time.Time) Report {
	r := Report{
		DirectorID: s.Caller.DirectorID,
		ChildCode:  s.Answers["child"],
		Urgency:    UrgencyRoutine,
		Answers:    maps.Clone(s.Answers),
		Tree:       m.tree.Name,
		Version:    m.version,
		StartedAt:  s.Started,
		ReportedAt: now,
	}
	switch n.Action {
	case ActionSaveVisit:
		r.Kind = ReportVisit
		r.Situation = s.Answers["situation"]
		if s.Answers["urgency"] == UrgencyUrgent || r.Situation == UrgencyUrgent {
			r.Urgency = UrgencyUrgent
		}
	case ActionSaveNeed:
		r.Kind = ReportNeed
		r.Category = s.Answers["category"]
		if rule, ok := m.tree.FollowUpFor(r.Category); ok {
			r.FollowUp = &rule
		}
		if s.Answers["urgency"] == UrgencyUrgent {
			r.Urgency = UrgencyUrgent
		}
	}
	return r
}

// value renders a placeholder: a choice answer as its label in the caller's
// language, the child by name or code, the reference.
func (m *Machine) value(s *Snapshot, key string) string {
	switch key {
	case "ref":
		return s.Ref
	case "child.code":
		return s.Answers["child"]
	case "child.name":
		if c, ok := s.Caller.Child(s.Answers["child"]); ok {
			return c.Name
		}
		return s.Answers["child"]
	}
	v := s.Answers[key]
	if n, ok := m.choices[key]; ok {
		for _, o := range n.Choices {
			if o.Value == v {
				return o.Label[s.Lang]
			}
		}
	}
	return v
}

// expand replaces {name} placeholders using get. A conditional section,
// [[ ... ]], is shown only when every placeholder inside it has a value:
// "Need: {category}[[, reason: {reason}]]" reads well on a path that never
// asked the reason.
func expand(s string, get func(string) string) string {
	if !strings.Contains(s, "{") && !strings.Contains(s, "[[") {
		return s
	}
	var b strings.Builder
	sections(s, func(text string, conditional bool) {
		if conditional {
			for _, m := range varRE.FindAllStringSubmatch(text, -1) {
				if get(m[1]) == "" {
					return
				}
			}
		}
		b.WriteString(expandPlain(text, get))
	})
	return b.String()
}

// sections calls fn with each stretch of s in order: the text between
// conditional sections, and the inside of each [[ ... ]] section.
func sections(s string, fn func(text string, conditional bool)) {
	for {
		i := strings.Index(s, "[[")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "]]")
		if j < 0 {
			break
		}
		fn(s[:i], false)
		fn(s[i+2:i+j], true)
		s = s[i+j+2:]
	}
	fn(s, false)
}

// expandPlain replaces placeholders in text without sections.
func expandPlain(s string, get func(string) string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(get(s[i+1 : i+j]))
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}
