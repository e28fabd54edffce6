package menus

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Follow-ups close the loop on a need: each category has a rule for when
// the director is reminded of a need still open (registration after two
// weeks, school at the start of term), written in the tree beside the
// menus that file the needs. The rule travels with the report; the store
// turns it into a date in the deployment's time zone, and clears the
// follow-up when the need is referred or resolved or the child is visited.
// "My follow-ups" lists the due ones, and a director marks a need of their
// own child referred or resolved from it, or by a one-line SMS.

// FollowUpRule says when a need of one category is followed up: a number
// of days after it was reported, or on the next of some dates of the year
// (the start of a school term).
type FollowUpRule struct {
	// AfterDays is how many days after the report, at FollowUpHour.
	AfterDays int `yaml:"after_days,omitempty" json:"after_days,omitempty"`
	// On lists dates of the year as MM-DD; the follow-up falls on the
	// first of them after the day of the report.
	On []string `yaml:"on,omitempty" json:"on,omitempty"`
}

// FollowUpHour is the hour of the day, in the deployment's zone, a
// follow-up falls due: a working morning, when a director can act on it.
const FollowUpHour = 9

// maxFollowUpDays bounds after_days: a follow-up more than a year away is
// a typo, not a plan.
const maxFollowUpDays = 366

var monthDayRE = regexp.MustCompile(`^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)

// String writes the rule as staff read it in lists: "14d" or "09-01,03-01".
func (r FollowUpRule) String() string {
	if r.AfterDays > 0 {
		return strconv.Itoa(r.AfterDays) + "d"
	}
	return strings.Join(r.On, ",")
}

// ParseFollowUpRule reads a rule as String writes it; false for anything
// else.
func ParseFollowUpRule(s string) (FollowUpRule, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > maxFollowUpDays {
			return FollowUpRule{}, false
		}
		return FollowUpRule{AfterDays: n}, true
	}
	on := strings.Split(s, ",")
	for _, md := range on {
		if !monthDayRE.MatchString(md) {
			return FollowUpRule{}, false
		}
	}
	return FollowUpRule{On: on}, true
}

// Due is when a need reported at reported falls due under the rule, in loc:
// FollowUpHour on the day AfterDays later, or on the first of the On dates
// after the day of the report. A rule without either is never due (zero).
func (r FollowUpRule) Due(reported time.Time, loc *time.Location) time.Time {
	local := reported.In(loc)
	y, m, d := local.Date()
	if r.AfterDays > 0 {
		return time.Date(y, m, d+r.AfterDays, FollowUpHour, 0, 0, 0, loc)
	}
	var best time.Time
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	for _, md := range r.On {
		g := monthDayRE.FindStringSubmatch(md)
		if g == nil {
			continue
		}
		mm, _ := strconv.Atoi(g[1])
		dd, _ := strconv.Atoi(g[2])
		for year := y; year <= y+1; year++ {
			c := time.Date(year, time.Month(mm), dd, FollowUpHour, 0, 0, 0, loc)
			if c.After(day.Add(24*time.Hour-time.Nanosecond)) && (best.IsZero() || c.Before(best)) {
				best = c
				break
			}
		}
	}
	return best
}

// FollowUpFor returns the tree's follow-up rule for a need category.
func (t *Tree) FollowUpFor(category string) (FollowUpRule, bool) {
	r, ok := t.FollowUps[category]
	return r, ok
}

// Need statuses a director may set from the field. Reopening is the
// county's call, made in the console.
const (
	NeedReferred = "referred"
	NeedResolved = "resolved"
)

// NeedBrief is a need of one of the caller's children that is not yet
// resolved, as a walk needs it: to check a reference typed back, and to
// list the follow-ups that are due.
type NeedBrief struct {
	Ref       string
	ChildCode string
	Category  string
	Status    string
	// Due is set when the need's follow-up has fallen due and is not
	// cleared: it is then listed under "My follow-ups".
	Due bool
}

// Need returns the caller's need with a reference, matched as typed back
// (any case, full-width, surrounding space). A need of another director's
// child is not found, exactly like one that does not exist.
func (c Caller) Need(ref string) (NeedBrief, bool) {
	r := strings.ToUpper(cleanInput(ref))
	for _, n := range c.Needs {
		if n.Ref == r {
			return n, true
		}
	}
	return NeedBrief{}, false
}

// dueNeeds are the caller's needs whose follow-up is due, in the order
// the store gave them (soonest due first).
func (c Caller) dueNeeds() []NeedBrief {
	var out []NeedBrief
	for _, n := range c.Needs {
		if n.Due {
			out = append(out, n)
		}
	}
	return out
}

// SetNeedStatus asks for a need of one of the caller's children to be
// marked referred or resolved, by the director, from the field. The store
// refuses a need that is not the director's child's exactly as one that
// does not exist.
type SetNeedStatus struct {
	Ref        string
	Status     string
	DirectorID int64
}

func (SetNeedStatus) effect() {}

// NeedStatus returns the need status change the effects ask for, if any.
func (es Effects) NeedStatus() (SetNeedStatus, bool) {
	for _, e := range es {
		if e, ok := e.(SetNeedStatus); ok {
			return e, true
		}
	}
	return SetNeedStatus{}, false
}

// UsesNeeds reports whether the tree lists follow-ups or takes need
// references, so the channel attaches the caller's open needs to a walk.
func (m *Machine) UsesNeeds() bool { return m.usesNeeds }

// WantsNeeds reports whether the walk's next step, on input, or its next
// screen may read the caller's needs: on a follow-up list or a need
// reference, or on a menu whose chosen option opens one. Elsewhere a walk
// goes on without them, which saves a query on the hops of every other
// walk.
func (m *Machine) WantsNeeds(s Snapshot, input string) bool {
	if !m.usesNeeds {
		return false
	}
	n := m.nodes[s.Node]
	if n == nil {
		return false
	}
	if len(s.Trail) > 0 {
		// Back from the screen after the list shows the list again.
		if b := m.nodes[s.Trail[len(s.Trail)-1]]; b != nil && b.Kind == KindFollowUps {
			return true
		}
	}
	readsNeeds := func(t *Node) bool {
		return t != nil && (t.Kind == KindFollowUps || t.Kind == KindInput && t.Validate == ValidateNeed)
	}
	switch {
	case readsNeeds(n):
		return true
	case n.Kind == KindMenu:
		// Only the option the caller chose: a director who records a
		// visit from the main menu does not pay for reading their needs.
		if i, err := strconv.Atoi(strings.TrimSpace(input)); err == nil && i >= 1 && i <= len(n.Options) {
			return readsNeeds(m.nodes[n.Options[i-1].Next])
		}
	}
	return false
}

// needMenu is a follow-ups node as the menu of the caller's due needs:
// each line the child's code, the need's category and its reference. No
// child's name: the codes are what the SMS reminders name too.
func (m *Machine) needMenu(s *Snapshot, n *Node) *Node {
	menu := &Node{ID: n.ID, Kind: KindMenu, Text: n.Text}
	for _, d := range s.Caller.dueNeeds() {
		menu.Options = append(menu.Options, Option{Label: Text{s.Lang: needLine(d, s.Lang)}})
	}
	return menu
}

func needLine(d NeedBrief, lang string) string {
	return d.ChildCode + " " + CategoryName(d.Category, lang) + " " + d.Ref
}

// CategoryName names a need category in lang: the alert's wording, or the
// category's value when it is not a built-in one.
func CategoryName(category, lang string) string {
	if name := categoryNames[category][lang]; name != "" {
		return name
	}
	return category
}

// followUps checks the tree's follow-up rules: director trees only, each
// for a category the tree can file, with days or dates but not both.
func (v *validator) followUps() {
	if len(v.t.FollowUps) == 0 {
		return
	}
	if v.t.For() != AudienceDirector {
		v.add("", "follow_ups", "follow_ups_audience")
		return
	}
	categories := v.categories()
	keys := make([]string, 0, len(v.t.FollowUps))
	for k := range v.t.FollowUps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := v.t.FollowUps[k]
		field := "follow_ups." + k
		if !categories[k] {
			v.add("", field, "follow_up_category", "value", k)
		}
		switch {
		case r.AfterDays != 0 && len(r.On) > 0:
			v.add("", field, "follow_up_both")
		case r.AfterDays == 0 && len(r.On) == 0:
			v.add("", field, "follow_up_none")
		case r.AfterDays < 0 || r.AfterDays > maxFollowUpDays:
			v.add("", field+".after_days", "follow_up_days", "max", itoa(maxFollowUpDays), "value", itoa(r.AfterDays))
		}
		for _, d := range r.On {
			if !monthDayRE.MatchString(d) || d == "02-29" || d == "02-30" || d == "02-31" || d == "04-31" || d == "06-31" || d == "09-31" || d == "11-31" {
				v.add("", field+".on", "follow_up_date", "value", d)
			}
		}
	}
}

// categories are the need categories the tree can file: the values of the
// choices that store a category, and the categories nodes preset.
func (v *validator) categories() map[string]bool {
	out := map[string]bool{}
	for _, n := range v.t.Nodes {
		if n.Kind == KindChoice && n.SaveAs == "category" {
			for _, o := range n.Choices {
				out[o.Value] = true
			}
		}
		if c := n.Set["category"]; c != "" {
			out[c] = true
		}
	}
	return out
}

// isNeedStatus checks an answer named status, which set_need_status
// reads: referred or resolved, nothing else.
func isNeedStatus(val string) bool { return val == NeedReferred || val == NeedResolved }
