package menus

import (
	"fmt"
	"strings"
)

// Kind is what a node does with the caller's input.
type Kind string

// Node kinds.
const (
	// KindMenu lists numbered options, each leading to another node.
	KindMenu Kind = "menu"
	// KindInput takes free input checked by a validator and stores it.
	KindInput Kind = "input"
	// KindChoice lists numbered options, stores the chosen value and moves on
	// (to the option's own target if it has one: branching on an answer).
	KindChoice Kind = "choice"
	// KindConfirm shows a summary; option 1 runs the node's action, option 2
	// goes to the node's cancel target.
	KindConfirm Kind = "confirm"
	// KindEnd shows a final screen and ends the session.
	KindEnd Kind = "end"
	// KindAllowance tells a guardian their children's allowance status:
	// with one child it is the last screen, with several it first asks
	// which child. Only in guardian trees.
	KindAllowance Kind = "allowance"
	// KindLanguage lists the tree's languages, each in its own script;
	// the choice switches the session's language and is remembered for
	// the caller's phone.
	KindLanguage Kind = "language"
	// KindFollowUps lists the caller's needs whose follow-up is due
	// ("My follow-ups"); the one chosen is stored as the answer "need"
	// and the walk goes on to next. With none due it is the last screen.
	// Only in director trees.
	KindFollowUps Kind = "follow_ups"
)

// languageNames name each supported language in its own script, so that a
// caller who cannot read the current language can still find theirs.
var languageNames = map[string]string{LangZH: "中文", LangEN: "English"}

// Validators an input node may use.
const (
	ValidateNumber = "number"
	ValidateDate   = "date"
	ValidatePhone  = "phone"
	ValidateChild  = "child"
	ValidateText   = "text"
	// ValidateNeed takes the reference of a need of one of the caller's
	// children that is not resolved yet.
	ValidateNeed = "need"
)

// Actions a confirm node may run.
const (
	ActionSaveVisit = "save_visit"
	ActionSaveNeed  = "save_need"
	// ActionSetNeedStatus marks the need chosen (the answer "need")
	// referred or resolved (the answer "status").
	ActionSetNeedStatus = "set_need_status"
)

// Text is one piece of wording in every language of a tree, keyed by
// language code ("zh", "en").
type Text map[string]string

// Tree is a menu tree as written in YAML or JSON (see FORMAT.md).
type Tree struct {
	// Name identifies the tree across versions, e.g. "director".
	Name string `yaml:"name" json:"name"`
	// Audience is who dials the tree: "director" (the default) or
	// "guardian"; it decides which registry a caller is looked up in.
	Audience string `yaml:"audience,omitempty" json:"audience,omitempty"`
	// Languages the tree is written in; the first is the default.
	Languages []string `yaml:"languages" json:"languages"`
	// ServiceCodes are the USSD codes that open this tree, e.g. "*384*2015#".
	ServiceCodes []string `yaml:"service_codes" json:"service_codes"`
	// Start is the id of the first node.
	Start string `yaml:"start" json:"start"`
	// Labels overrides built-in wording (confirm and cancel options,
	// validation errors); see FORMAT.md for the keys.
	Labels map[string]Text `yaml:"labels,omitempty" json:"labels,omitempty"`
	// Forms are one-line SMS shorthands of the tree's report walks.
	Forms []Form `yaml:"sms_forms,omitempty" json:"sms_forms,omitempty"`
	// Keywords open the tree as an SMS conversation (e.g. MENU, 菜单).
	Keywords []string `yaml:"sms_keywords,omitempty" json:"sms_keywords,omitempty"`
	// FollowUps are when a need of each category is followed up with
	// its director, by category.
	FollowUps map[string]FollowUpRule `yaml:"follow_ups,omitempty" json:"follow_ups,omitempty"`
	// Keys are the navigation keys; defaults apply to any left empty.
	Keys Keys `yaml:"keys,omitempty" json:"keys,omitempty"`
	// Nodes in any order.
	Nodes []Node `yaml:"nodes" json:"nodes"`
}

// Keys are what a caller types to page and navigate. They must never be an
// option number of any node, so they are checked against every menu.
type Keys struct {
	// More shows the next page of a list too long for one screen.
	More string `yaml:"more,omitempty" json:"more,omitempty"`
	// Back shows the previous page, or the previous screen.
	Back string `yaml:"back,omitempty" json:"back,omitempty"`
	// Home returns to the start node from anywhere.
	Home string `yaml:"home,omitempty" json:"home,omitempty"`
}

// Default navigation keys, the convention of USSD aggregators.
const (
	DefaultMoreKey = "98"
	DefaultBackKey = "0"
	DefaultHomeKey = "00"
)

// withDefaults fills keys left empty.
func (k Keys) withDefaults() Keys {
	if k.More == "" {
		k.More = DefaultMoreKey
	}
	if k.Back == "" {
		k.Back = DefaultBackKey
	}
	if k.Home == "" {
		k.Home = DefaultHomeKey
	}
	return k
}

// Node is one screen of a tree.
type Node struct {
	ID   string `yaml:"id" json:"id"`
	Kind Kind   `yaml:"kind" json:"kind"`
	// Text is the prompt. It may name answers as {key}, the chosen child as
	// {child.name} and {child.code}, and the saved report as {ref}.
	Text Text `yaml:"text" json:"text"`

	// Options of a menu node.
	Options []Option `yaml:"options,omitempty" json:"options,omitempty"`
	// Choices of a choice node.
	Choices []Option `yaml:"choices,omitempty" json:"choices,omitempty"`

	// Validate names the validator of an input node.
	Validate string `yaml:"validate,omitempty" json:"validate,omitempty"`
	// Min and Max bound a number's value or a text's length in characters.
	Min *int `yaml:"min,omitempty" json:"min,omitempty"`
	Max *int `yaml:"max,omitempty" json:"max,omitempty"`
	// MinDate and MaxDate bound a date: "today" or YYYY-MM-DD.
	MinDate string `yaml:"min_date,omitempty" json:"min_date,omitempty"`
	MaxDate string `yaml:"max_date,omitempty" json:"max_date,omitempty"`
	// Error replaces the validator's built-in error message.
	Error Text `yaml:"error,omitempty" json:"error,omitempty"`

	// SaveAs is the answer key an input or choice node stores under.
	SaveAs string `yaml:"save_as,omitempty" json:"save_as,omitempty"`
	// Label names the answer in SMS form replies ("Field 2 (enrolled)"
	// would read as a key): the answer's name in each language. Without
	// it, the built-in name of a well-known answer (child, situation,
	// category, urgency) or the node's prompt is used.
	Label Text `yaml:"label,omitempty" json:"label,omitempty"`
	// Set stores fixed answers when the walk reaches the node, so a walk
	// can file, say, a school need without asking its category.
	Set map[string]string `yaml:"set,omitempty" json:"set,omitempty"`
	// Next is where an input, choice (by default) or confirm node goes.
	Next string `yaml:"next,omitempty" json:"next,omitempty"`

	// Action is what a confirm node runs on option 1.
	Action string `yaml:"action,omitempty" json:"action,omitempty"`
	// Cancel is where a confirm node goes on option 2.
	Cancel string `yaml:"cancel,omitempty" json:"cancel,omitempty"`
}

// Option is a numbered line of a menu or choice node. Options are numbered
// from 1 in the order written.
type Option struct {
	Label Text `yaml:"label" json:"label"`
	// Value is what a choice stores (required on choices, unused on menus).
	Value string `yaml:"value,omitempty" json:"value,omitempty"`
	// Next is the target node: required on menus, optional on choices where
	// it overrides the node's Next.
	Next string `yaml:"next,omitempty" json:"next,omitempty"`
}

// For returns the tree's audience, director by default.
func (t *Tree) For() string {
	if t.Audience == "" {
		return AudienceDirector
	}
	return t.Audience
}

// smsWords are the SMS keywords the tree owns, upper-cased: those that
// open it as a conversation and those of its forms.
func (t *Tree) smsWords() []string {
	var out []string
	for _, k := range t.Keywords {
		out = append(out, strings.ToUpper(strings.TrimSpace(k)))
	}
	for _, f := range t.Forms {
		for _, k := range f.Keywords {
			out = append(out, strings.ToUpper(strings.TrimSpace(k)))
		}
	}
	return out
}

// Claims are what a live tree owns, that no other live tree may: its
// service codes (normalised) and its SMS keywords (upper-cased).
func (t *Tree) Claims() (codes, keywords []string) {
	for _, c := range t.ServiceCodes {
		codes = append(codes, NormalizeServiceCode(c))
	}
	return codes, t.smsWords()
}

// ClaimError is a publish refused because another live tree owns a
// service code or SMS keyword the tree claims. It matches ErrConflict.
type ClaimError struct {
	What  string // "service code" or "SMS keyword"
	Value string
	Owner string // the tree that owns it
}

func (e *ClaimError) Error() string {
	return fmt.Sprintf("%s %s belongs to the live tree %q: remove it from this tree, or from %q first", e.What, e.Value, e.Owner, e.Owner)
}

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *ClaimError) Unwrap() error { return ErrConflict }
