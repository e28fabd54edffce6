package menus

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus/textlen"
)

// Screens are measured as the carrier measures them (GSM-7 septets or
// UCS-2 units, see textlen) and a list too long for one screen is split
// into pages. Page boundaries are computed from the worst case of every
// placeholder, so they do not move from hop to hop as answers change, and
// are cached per node, language and budget.

// ellipsis ends a screen cut to fit (three dots: "…" is not GSM-7 and would
// turn a Latin screen into UCS-2); only reached when a registry value is
// longer than the worst case the tree was checked against.
const ellipsis = "..."

type page struct{ first, last int } // option indices [first, last)

type pageKey struct {
	node, lang string
	budget     textlen.Budget
}

// label returns built-in wording, overridden by the tree.
func (m *Machine) label(key, lang string) string {
	if t, ok := m.tree.Labels[key]; ok {
		return t[lang]
	}
	return builtinLabels[key][lang]
}

func budgetOf(s *Snapshot) textlen.Budget {
	if s.Budget == (textlen.Budget{}) {
		return textlen.USSDMax()
	}
	return s.Budget
}

// list returns the numbered options a node shows.
func (m *Machine) list(n *Node) []Option {
	switch n.Kind {
	case KindMenu:
		return n.Options
	case KindChoice:
		return n.Choices
	case KindLanguage:
		return m.langs
	}
	return nil
}

func optionLine(i int, o Option, lang string) string {
	return strconv.Itoa(i+1) + ". " + o.Label[lang]
}

// pagesOf returns the pages of the snapshot's node.
func (m *Machine) pagesOf(s *Snapshot) []page {
	if s.Node == ResumeNode {
		return m.pagesFor(m.resumeNode(s.Lang), s.Lang, budgetOf(s))
	}
	if n := m.nodes[s.Node]; n.Kind == KindAllowance {
		return m.paginate(m.childMenu(s, n), s.Lang, budgetOf(s))
	} else if n.Kind == KindFollowUps {
		return m.paginate(m.needMenu(s, n), s.Lang, budgetOf(s))
	}
	return m.pagesFor(m.nodes[s.Node], s.Lang, budgetOf(s))
}

func (m *Machine) pagesFor(n *Node, lang string, b textlen.Budget) []page {
	if n.ID == ResumeNode {
		return m.paginate(n, lang, b)
	}
	k := pageKey{n.ID, lang, b}
	if p, ok := m.pages.Load(k); ok {
		return p.([]page)
	}
	p := m.paginate(n, lang, b)
	m.pages.Store(k, p)
	return p
}

// paginate packs a node's options into pages that fit the budget with the
// worst-case prompt on the first page and room for an "invalid choice"
// notice on every page. A page holds at least one option; an option too
// long to fit even alone is reported by checkBudget.
func (m *Machine) paginate(n *Node, lang string, b textlen.Budget) []page {
	opts := m.list(n)
	if len(opts) == 0 {
		return []page{{0, 0}}
	}
	header := expand(n.Text[lang], m.worst(lang))
	notice := m.label("invalid_option", lang)
	// On the first page a notice takes the prompt's place when both do not
	// fit, so that page must fit the longer of the two.
	if textlen.USSDMax().Room(notice) < textlen.USSDMax().Room(header) {
		header = notice
	}
	var pages []page
	for i := 0; i < len(opts); {
		j := i
		for j < len(opts) {
			screen := m.compose(n, lang, header, len(pages), page{i, j + 1}, j+1 < len(opts))
			if len(pages) > 0 {
				screen = notice + "\n" + screen
			}
			if !b.Fits(screen) {
				break
			}
			j++
		}
		if j == i {
			j = i + 1
		}
		pages = append(pages, page{i, j})
		i = j
	}
	return pages
}

// compose writes the text of page number p of a list node: the prompt on
// the first page, the page's options, and the navigation lines it needs.
func (m *Machine) compose(n *Node, lang, header string, p int, pg page, more bool) string {
	var lines []string
	if p == 0 && header != "" {
		lines = append(lines, header)
	}
	opts := m.list(n)
	for i := pg.first; i < pg.last; i++ {
		lines = append(lines, optionLine(i, opts[i], lang))
	}
	if more {
		lines = append(lines, m.keys.More+". "+m.label("more", lang))
	}
	if p > 0 {
		lines = append(lines, m.keys.Back+". "+m.label("back", lang))
	}
	return strings.Join(lines, "\n")
}

// render writes the snapshot's screen. A notice (an error about the last
// input) goes above the screen; when both do not fit, the notice takes the
// prompt's place, since it says what to do next.
func (m *Machine) render(s *Snapshot) {
	n := m.nodes[s.Node]
	if s.Node == ResumeNode {
		n = m.resumeNode(s.Lang)
	}
	b := budgetOf(s)
	screen := m.fitScreen(s, n, b)
	if s.Notice != "" {
		msg := m.label(s.Notice, s.Lang)
		if n.Error != nil && n.Kind == KindInput {
			msg = n.Error[s.Lang]
		}
		msg = expand(msg, func(k string) string { return s.NoticeArgs[k] })
		if full := msg + "\n" + screen; b.Fits(full) {
			screen = full
		} else if rest := m.body(s, n, ""); rest != "" {
			screen = msg + "\n" + rest
		} else {
			screen = msg
		}
	}
	if !b.Fits(screen) {
		screen = b.Truncate(screen, ellipsis)
	}
	s.Screen = screen
}

// fitScreen expands the node's prompt and returns the screen it makes. Names and typed text can be longer than any screen (the registry
// keeps names of MaxNameLength characters): where the screen would not fit,
// those values are shortened, with an ellipsis, just enough for it to fit,
// so the options below the prompt always show. Pages are laid out for a
// six-character name, so at least that much of a name shows.
func (m *Machine) fitScreen(s *Snapshot, n *Node, b textlen.Budget) string {
	text := n.Text[s.Lang]
	screen := m.body(s, n, expand(text, func(k string) string { return m.value(s, k) }))
	if b.Fits(screen) || !strings.Contains(text, "{") {
		return screen
	}
	longest := 0
	expand(text, func(k string) string {
		if m.elastic(k) {
			longest = max(longest, utf8.RuneCountInString(m.value(s, k)))
		}
		return ""
	})
	shortened := func(limit int) string {
		return m.body(s, n, expand(text, func(k string) string {
			v := m.value(s, k)
			if m.elastic(k) {
				v = shorten(v, limit)
			}
			return v
		}))
	}
	// The longest limit that fits: screens only grow with it.
	lo, hi := 1, longest-1
	screen = shortened(1)
	for lo <= hi {
		mid := (lo + hi) / 2
		if sc := shortened(mid); b.Fits(sc) {
			screen, lo = sc, mid+1
		} else {
			hi = mid - 1
		}
	}
	return screen
}

// elastic reports whether a placeholder's value may be shortened to fit:
// names and free text, whose length the tree cannot know. Codes,
// references and option labels are shown whole.
func (m *Machine) elastic(key string) bool {
	return key == "child.name" || m.texts[key]
}

// shorten cuts v to limit characters, the last of them an ellipsis: "…"
// where v is Chinese (the screen is UCS-2 already), "..." otherwise so a
// Latin screen stays GSM-7.
func shorten(v string, limit int) string {
	r := []rune(v)
	if len(r) <= limit {
		return v
	}
	if enc, _ := textlen.Measure(v); enc == textlen.UCS2 {
		return string(r[:max(limit-1, 0)]) + "…"
	}
	return string(r[:max(limit-3, 0)]) + ellipsis
}

// body is a node's screen below any notice, with header as its prompt.
func (m *Machine) body(s *Snapshot, n *Node, header string) string {
	if n.Kind == KindAllowance {
		if s.Ended {
			lines := AllowancesOf(s.Caller, s.Answers["child"], s.Lang)
			if len(lines) == 0 {
				return m.label("no_allowance", s.Lang)
			}
			return strings.Join(lines, "\n")
		}
		n = m.childMenu(s, n)
	}
	if n.Kind == KindFollowUps {
		if s.Ended {
			return m.label("no_follow_ups", s.Lang)
		}
		n = m.needMenu(s, n)
	}
	switch n.Kind {
	case KindMenu, KindChoice, KindLanguage, KindAllowance:
		pages := m.pagesOf(s)
		p := min(max(s.Page, 0), len(pages)-1)
		return m.compose(n, s.Lang, header, p, pages[p], p+1 < len(pages))
	case KindConfirm:
		return strings.TrimPrefix(header+"\n"+m.confirmLines(s.Lang), "\n")
	}
	return header
}

func (m *Machine) confirmLines(lang string) string {
	return "1. " + m.label("confirm", lang) + "\n2. " + m.label("cancel", lang)
}

// worstName is the child's name screens are laid out for: six Chinese
// characters, the common worst case. Longer names are shortened to fit.
const worstName = "王王王王王王"

// worst returns the longest value each placeholder can plausibly take, to
// check and page screens before any caller sees them.
func (m *Machine) worst(lang string) func(string) string {
	return func(key string) string {
		switch key {
		case "ref":
			return "V234567"
		case "child.code":
			return "C00001"
		case "child.name":
			return worstName
		case "need":
			return "N234567"
		}
		if n, ok := m.choices[key]; ok {
			longest := ""
			for _, o := range n.Choices {
				if l := o.Label[lang]; len([]rune(l)) > len([]rune(longest)) {
					longest = l
				}
			}
			return longest
		}
		for _, n := range m.nodes {
			if n.SaveAs != key || n.Kind != KindInput {
				continue
			}
			switch n.Validate {
			case ValidateNumber:
				return "123456789"
			case ValidateDate:
				return "2026-01-31"
			case ValidatePhone:
				return "+8613800138000"
			case ValidateText:
				return strings.Repeat("字", 10)
			}
		}
		return ""
	}
}

// worstNotices lists the errors an input node can show, with their widest
// arguments.
func (m *Machine) worstNotices(n *Node, lang string) []string {
	if n.Error != nil {
		return []string{n.Error[lang]}
	}
	args := map[string]string{"min": "1", "max": "999999999", "input": strings.Repeat("C", 12) + ellipsis}
	if n.Min != nil {
		args["min"] = strconv.Itoa(*n.Min)
	}
	if n.Max != nil {
		args["max"] = strconv.Itoa(*n.Max)
	}
	keys := map[string][]string{
		ValidateNumber: {"invalid_number", "number_range"},
		ValidateDate:   {"invalid_date", "date_range"},
		ValidatePhone:  {"invalid_phone"},
		ValidateChild:  {"unknown_child"},
		ValidateText:   {"invalid_text", "text_length"},
		ValidateNeed:   {"unknown_need"},
	}[n.Validate]
	var out []string
	for _, k := range keys {
		out = append(out, expand(m.label(k, lang), func(a string) string { return args[a] }))
	}
	return out
}

// checkBudget finds every screen of the tree that cannot fit b, in every
// language, with placeholders at their worst: a prompt too long for any
// screen is a tree error, not a surprise for a caller.
func (m *Machine) checkBudget(b textlen.Budget) []Problem {
	var problems []Problem
	over := func(n *Node, lang, what, screen string) {
		enc, units := textlen.Measure(screen)
		why := ""
		if enc == textlen.UCS2 {
			// A Latin screen that shows a Chinese name is sent as UCS-2,
			// with about half the room: say so, or the figure puzzles.
			if e, _ := textlen.Measure(strings.ReplaceAll(screen, worstName, "xxxxxx")); e == textlen.GSM7 {
				why = part("ucs2_name", "lang", lang)
			}
		}
		problems = append(problems, newProblem(n.ID, "text", "over_budget", "lang", lang, "what", what, "units", itoa(units),
			"encoding", enc.String(), "limit", itoa(b.Limit(enc)), "why", why))
	}
	for i := range m.tree.Nodes {
		n := &m.tree.Nodes[i]
		for _, lang := range m.tree.Languages {
			header := expand(n.Text[lang], m.worst(lang))
			switch n.Kind {
			case KindMenu, KindChoice, KindLanguage:
				notice := m.label("invalid_option", lang)
				if textlen.USSDMax().Room(notice) < textlen.USSDMax().Room(header) {
					header = notice
				}
				for p, pg := range m.pagesFor(n, lang, b) {
					screen := m.compose(n, lang, header, p, pg, pg.last < len(m.list(n)))
					if p > 0 {
						screen = notice + "\n" + screen
					}
					if !b.Fits(screen) {
						what := part("screen_page", "page", itoa(p+1), "option", itoa(pg.first+1))
						if p == 0 {
							what = part("screen_prompt_first")
						}
						over(n, lang, what, screen)
						break
					}
				}
			case KindInput:
				if !b.Fits(header) {
					over(n, lang, part("screen_prompt"), header)
				}
				for _, notice := range m.worstNotices(n, lang) {
					if !b.Fits(notice) {
						over(n, lang, part("screen_error"), notice)
						break
					}
				}
			case KindConfirm:
				if screen := header + "\n" + m.confirmLines(lang); !b.Fits(screen) {
					over(n, lang, part("screen_confirm"), screen)
				}
				if screen := m.label("save_failed", lang) + "\n" + m.confirmLines(lang); !b.Fits(screen) {
					over(n, lang, part("screen_save_failed"), screen)
				}
			case KindEnd:
				if !b.Fits(header) {
					over(n, lang, part("screen_end"), header)
				}
			case KindFollowUps:
				widest := ""
				for c := range categoryNames {
					if l := needLine(NeedBrief{Ref: "N234567", ChildCode: "C00001", Category: c}, lang); len([]rune(l)) > len([]rune(widest)) {
						widest = l
					}
				}
				menu := &Node{ID: n.ID, Kind: KindMenu, Text: n.Text, Options: []Option{{Label: Text{lang: widest}}}}
				if screen := m.compose(menu, lang, header, 0, page{0, 1}, false); !b.Fits(screen) {
					over(n, lang, "prompt with its first follow-up", screen)
				}
				if text := m.label("no_follow_ups", lang); !b.Fits(text) {
					over(n, lang, "no follow-ups screen", text)
				}
			case KindAllowance:
				worst := Allowance{ChildName: "王王王王王王", Scheme: "disability", MonthlyYuan: 99999, NextPayment: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
				for status := range allowanceTexts {
					worst.Status = status
					if text := AllowanceText(worst, lang); !b.Fits(text) {
						over(n, lang, part("screen_allowance", "status", status), text)
					}
				}
			}
		}
	}
	return problems
}

// checkLongNames renders every screen that shows a name or typed text
// with the longest the registry and the inputs allow, in every language,
// and reports a screen whose options or confirm lines would not all show:
// shortening such values must always leave room for them.
func (m *Machine) checkLongNames(b textlen.Budget) []Problem {
	long := Caller{Children: []ChildBrief{{Code: "C00001", Name: strings.Repeat("王", MaxNameLength)}}}
	answers := map[string]string{"child": "C00001"}
	for key := range m.texts {
		answers[key] = strings.Repeat("字", defaultTextMax)
	}
	var problems []Problem
	for i := range m.tree.Nodes {
		n := &m.tree.Nodes[i]
		for _, lang := range m.tree.Languages {
			if !strings.Contains(n.Text[lang], "{") || n.Kind == KindAllowance {
				continue
			}
			s := Snapshot{Tree: m.tree.Name, Version: m.version, Node: n.ID, Lang: lang, Caller: long, Answers: answers, Budget: b}
			m.render(&s)
			var want []string
			switch n.Kind {
			case KindMenu, KindChoice, KindLanguage:
				pg := m.pagesFor(n, lang, b)[0]
				for j := pg.first; j < pg.last; j++ {
					want = append(want, optionLine(j, m.list(n)[j], lang))
				}
			case KindConfirm:
				want = strings.Split(m.confirmLines(lang), "\n")
			}
			for _, w := range want {
				if !strings.Contains(s.Screen, w) {
					problems = append(problems, newProblem(n.ID, "text", "long_name_hides", "lang", lang, "value", w, "length", itoa(MaxNameLength)))
					break
				}
			}
		}
	}
	return problems
}

// childMenu is an allowance node as the menu of the guardian's children.
func (m *Machine) childMenu(s *Snapshot, n *Node) *Node {
	menu := &Node{ID: n.ID, Kind: KindMenu, Text: n.Text}
	for _, c := range s.Caller.Children {
		menu.Options = append(menu.Options, Option{Label: Text{s.Lang: c.Name}})
	}
	return menu
}

// resumeNode is the resume offer as a menu, so that it renders, fits and
// pages like any other.
func (m *Machine) resumeNode(lang string) *Node {
	return &Node{ID: ResumeNode, Kind: KindMenu, Text: Text{lang: m.label("resume_offer", lang)}, Options: []Option{
		{Label: Text{lang: m.label("resume_yes", lang)}},
		{Label: Text{lang: m.label("resume_no", lang)}},
	}}
}
