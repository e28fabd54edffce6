package loadgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The walks are written against the demo menus (fixtures/menus) and the
// demo registry: the synthetic directors speak English and are assigned
// C0001-C0005, and the two demo guardians check their child's allowance.
// Each step names the input that produces a screen and a substring that
// screen must contain, so a phone that lands anywhere unexpected (an
// unknown caller, a re-prompt, another child) is caught on that hop.

const (
	directorCode = "*384*2015#"
	guardianCode = "*384*2016#"
	// smsTo is the short code the simulated phones text.
	smsTo = "10690001"
	// resumeOffer is the screen a director sees on dialling while a walk
	// they left unfinished is kept (a browse walk leaves one).
	resumeOffer = "You have an unfinished report."
	mainMenu    = "Child welfare reports"
)

// children are the demo children every synthetic director is assigned,
// with the names their screens show.
var children = []struct{ code, name string }{
	{"C0001", "王小明"}, {"C0002", "刘佳"}, {"C0003", "陈晨"}, {"C0004", "赵磊"}, {"C0005", "孙丽"},
}

// guardian is a demo guardian with what their allowance screens say, in
// their own language.
type guardian struct {
	phone, menu, status string
}

var guardians = []guardian{
	{"+8613900139001", "儿童补贴查询", "王小明的生活补贴已批准"},
	{"+8613900139002", "Child allowance", "刘佳: living allowance suspended"},
}

// DirectorPhone is the phone of the i-th synthetic director (from 0): a
// clearly synthetic range, +86137 9xxxxxxx, that no demo number uses.
func DirectorPhone(i int) string { return fmt.Sprintf("+861379%07d", i+1) }

// MaxDirectors is how many phones DirectorPhone's range holds.
const MaxDirectors = 9_999_999

// step is one hop: the input that is sent (the latest one; USSD sends
// the inputs so far joined by '*') and what the answer must hold.
type step struct {
	input string
	want  string
	// end marks the hop that ends a USSD session (END rather than CON).
	end bool
}

// flow is one kind of simulated session.
type flow struct {
	name string
	// sms flows text the Kannel endpoint; the others dial USSD.
	sms bool
	// guardian flows are made by the demo guardians, the others by
	// synthetic directors.
	guardian bool
	// saves names the report the last hop saves, if any.
	saves string
	steps func(child int, g guardian) []step
}

// Report kinds a flow saves.
const (
	savesVisit = "visit"
	savesNeed  = "need"
)

// Flows lists the flow names in the order summaries show them.
var Flows = []string{"visit", "need", "browse", "allowance", "status", "form"}

var flows = map[string]flow{
	"visit": {name: "visit", saves: savesVisit, steps: func(c int, _ guardian) []step {
		ch := children[c]
		return []step{
			{"", mainMenu, false},
			{"1", "Enter the child ID", false},
			{ch.code, "How is " + ch.name + "?", false},
			{"1", "Visit to " + ch.name + " (" + ch.code + "): Well", false},
			{"1", "Visit saved. Ref V", true},
		}
	}},
	// browse is the visit walk backing out at the confirm: five hops,
	// nothing saved, the walk left unfinished (and so resumable).
	"browse": {name: "browse", steps: func(c int, _ guardian) []step {
		ch := children[c]
		return []step{
			{"", mainMenu, false},
			{"1", "Enter the child ID", false},
			{ch.code, "How is " + ch.name + "?", false},
			{"1", "Visit to " + ch.name + " (" + ch.code + "): Well", false},
			{"0", "How is " + ch.name + "?", false},
		}
	}},
	"need": {name: "need", saves: savesNeed, steps: func(c int, _ guardian) []step {
		ch := children[c]
		return []step{
			{"", mainMenu, false},
			{"2", "Enter the child ID", false},
			{ch.code, "What does " + ch.name + " need?", false},
			{"1", "How urgent?", false},
			// Routine: an urgent need would queue an alert SMS.
			{"1", "Need: " + ch.name + " " + ch.code + ", Birth/residence papers, Routine", false},
			{"1", "Need reported. Ref N", true},
		}
	}},
	"allowance": {name: "allowance", guardian: true, steps: func(_ int, g guardian) []step {
		return []step{
			{"", g.menu, false},
			{"1", g.status, true},
		}
	}},
	"status": {name: "status", sms: true, guardian: true, steps: func(_ int, g guardian) []step {
		return []step{{"STATUS", g.status, true}}
	}},
	"form": {name: "form", sms: true, saves: savesVisit, steps: func(c int, _ guardian) []step {
		return []step{{"V " + children[c].code + " 1", "Visit saved. Ref V", true}}
	}},
}

// DefaultMix weighs the flows of a mixed run: mostly directors' walks,
// some browsing, a few families and one-line SMS reports.
const DefaultMix = "visit=4,browse=3,need=2,allowance=2,status=1,form=1"

// weighted is a flow with its cumulative weight.
type weighted struct {
	flow flow
	cum  int
}

// parseFlows turns a flow name, or "mix" with weights such as
// "visit=3,need=1", into what sessions are drawn from.
func parseFlows(name, mix string) ([]weighted, error) {
	if name != "mix" {
		f, ok := flows[name]
		if !ok {
			return nil, fmt.Errorf("unknown flow %q: want one of %s or mix", name, strings.Join(Flows, ", "))
		}
		return []weighted{{f, 1}}, nil
	}
	if mix == "" {
		mix = DefaultMix
	}
	var out []weighted
	total := 0
	for part := range strings.SplitSeq(mix, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		f, known := flows[k]
		n, err := strconv.Atoi(v)
		if !ok || !known || err != nil || n < 0 {
			return nil, fmt.Errorf("mix %q: want flow=weight pairs such as %s", mix, DefaultMix)
		}
		if slices.ContainsFunc(out, func(w weighted) bool { return w.flow.name == k }) {
			return nil, fmt.Errorf("mix %q: %s given twice", mix, k)
		}
		if n == 0 {
			continue
		}
		total += n
		out = append(out, weighted{f, total})
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: no flow has a weight", mix)
	}
	return out, nil
}

// needsDirectors reports whether any drawn flow is a director's.
func needsDirectors(ws []weighted) bool {
	return slices.ContainsFunc(ws, func(w weighted) bool { return !w.flow.guardian })
}
