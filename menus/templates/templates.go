// Package templates holds every text the gateway sends by SMS as a
// template with typed variables, in Chinese and English. In mainland China
// an application may send only texts whose template its provider approved
// (Tencent Cloud, Alibaba Cloud): a message is therefore stored with the
// template it was rendered from and its variables, and a carrier that
// sends only approved templates is handed those, with the provider's id
// for the template, instead of the text.
//
// USSD screens are not SMS and stay freely editable; an SMS menu
// conversation's screens are sent as the one template whose variable is
// the whole screen (Screen), which providers that vet variables may refuse.
package templates

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus/sms"
)

// Kind is the type of a template variable: what values it may take, as a
// provider that approves templates wants to know.
type Kind string

// Variable kinds, with the most runes a value may have.
const (
	KindCode   Kind = "code"   // a child code: letters and digits
	KindRef    Kind = "ref"    // a report reference: letters and digits
	KindName   Kind = "name"   // a person's name
	KindWord   Kind = "word"   // a short phrase from the gateway's own wording
	KindAmount Kind = "amount" // a whole number of yuan
	KindDate   Kind = "date"   // YYYY-MM-DD
	KindPhone  Kind = "phone"  // a phone number, masked or not
	KindText   Kind = "text"   // free text the gateway composed (a screen, a status list)
)

var kindRules = map[Kind]struct {
	max  int
	form *regexp.Regexp
}{
	KindCode:   {12, regexp.MustCompile(`^[A-Za-z0-9-]+$`)},
	KindRef:    {12, regexp.MustCompile(`^[A-Z0-9]+$`)},
	KindName:   {20, nil},
	KindWord:   {30, nil},
	KindAmount: {10, regexp.MustCompile(`^[0-9]+$`)},
	KindDate:   {10, regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)},
	KindPhone:  {20, regexp.MustCompile(`^\+?[0-9*]+$`)},
	KindText:   {500, nil},
}

// Var is one variable of a template.
type Var struct {
	Name string
	Kind Kind
}

// Languages of a template's texts. Bilingual is the text sent when the
// recipient's language is not known: Chinese, then English.
const (
	LangZH        = "zh"
	LangEN        = "en"
	LangBilingual = "zh+en"
)

// Template is one SMS text with typed variables, written {name} in Text.
type Template struct {
	Key  string
	Vars []Var
	// Text is the wording by language (LangZH, LangEN, LangBilingual).
	Text map[string]string
	// Screen marks the template whose one variable is a whole screen of an
	// SMS menu conversation: free text a provider may refuse to approve.
	Screen bool
	// About says when the gateway sends it, for the console.
	About string
}

// Keys of the templates the gateway sends.
const (
	Register        = "register"
	StatusSecret    = "status_secret"
	HelpDirector    = "help_director"
	HelpFamily      = "help_family"
	NotSaved        = "not_saved"
	Stopped         = "stopped"
	NothingOpen     = "nothing_open"
	NoAllowance     = "no_allowance"
	Busy            = "busy"
	AllowanceStatus = "allowance_status"
	AlertUrgent     = "alert_urgent"
	MenuScreen      = "menu_screen"
	CaseOpened      = "case_opened"
	CaseEscalated   = "case_escalated"
	CaseUnanswered  = "case_unanswered"
	CaseAckHowTo    = "case_ack_howto"
	CaseAcked       = "case_acknowledged"
	CaseAckedBefore = "case_acknowledged_before"
	CaseAckRefused  = "case_ack_refused"
	FollowUp        = "follow_up"
	VisitReminder   = "visit_reminder"
)

// Approval statuses of a template at a provider.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
)

// Approval is a provider's verdict on one template in one language, and
// the id the provider gave it.
type Approval struct {
	Template   string `db:"template" json:"template"`
	Lang       string `db:"lang" json:"lang"`
	Carrier    string `db:"carrier" json:"carrier"`
	Status     string `db:"status" json:"status"`
	ProviderID string `db:"provider_id" json:"provider_id"`
	Note       string `db:"note" json:"note"`
}

// ErrUnknown is returned for a template key that is not in the catalog.
var ErrUnknown = errors.New("templates: unknown template")

// Get returns the template with key.
func Get(key string) (Template, bool) {
	t, ok := catalog[key]
	return t, ok
}

// All returns every template, by key.
func All() []Template {
	out := make([]Template, 0, len(catalog))
	for _, t := range catalog {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Template) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Languages returns the languages t is written in, sorted.
func (t Template) Languages() []string {
	out := make([]string, 0, len(t.Text))
	for l := range t.Text {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Message is a rendered template: what an outbound message stores.
type Message struct {
	Template string
	Lang     string
	Params   []sms.Param
	Body     string
}

// Render renders the template key in lang with params, given in the
// template's order. lang "" is the bilingual text. A value of the wrong
// kind or length, a missing or extra parameter, or an unknown template or
// language is an error: a text a provider approved with these variables
// must never go out with others.
func Render(key, lang string, params ...sms.Param) (Message, error) {
	t, ok := catalog[key]
	if !ok {
		return Message{}, fmt.Errorf("%w %q", ErrUnknown, key)
	}
	if lang == "" {
		lang = LangBilingual
	}
	text, ok := t.Text[lang]
	if !ok {
		return Message{}, fmt.Errorf("templates: %s has no %q text", key, lang)
	}
	if len(params) != len(t.Vars) {
		return Message{}, fmt.Errorf("templates: %s takes %d parameters, got %d", key, len(t.Vars), len(params))
	}
	values := make(map[string]string, len(params))
	for i, v := range t.Vars {
		p := params[i]
		if p.Name != v.Name {
			return Message{}, fmt.Errorf("templates: %s parameter %d is %s, got %s", key, i+1, v.Name, p.Name)
		}
		if err := check(v.Kind, p.Value); err != nil {
			return Message{}, fmt.Errorf("templates: %s parameter %s: %w", key, v.Name, err)
		}
		values[v.Name] = p.Value
	}
	body := varRE.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := values[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
	return Message{Template: key, Lang: lang, Params: params, Body: body}, nil
}

// MustRender is Render for the gateway's own calls, whose parameters are
// built by code and checked by tests: a value that does not fit its kind
// (a name longer than a provider allows, say) is cut to fit rather than
// lose the message.
func MustRender(key, lang string, params ...sms.Param) Message {
	t, ok := catalog[key]
	if ok {
		for i := range params {
			if i < len(t.Vars) {
				params[i].Value = fit(t.Vars[i].Kind, params[i].Value)
			}
		}
	}
	m, err := Render(key, lang, params...)
	if err != nil {
		panic(err)
	}
	return m
}

// P is a parameter.
func P(name, value string) sms.Param { return sms.Param{Name: name, Value: value} }

var varRE = regexp.MustCompile(`\{[a-z_]+\}`)

func check(k Kind, v string) error {
	r, ok := kindRules[k]
	if !ok {
		return fmt.Errorf("unknown kind %q", k)
	}
	if v == "" {
		return errors.New("empty")
	}
	if n := utf8.RuneCountInString(v); n > r.max {
		return fmt.Errorf("%d characters, at most %d for a %s", n, r.max, k)
	}
	if k != KindText && strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("a %s is one line", k)
	}
	if r.form != nil && !r.form.MatchString(v) {
		return fmt.Errorf("not a %s", k)
	}
	return nil
}

// fit cuts a value to its kind's length, on a rune boundary.
func fit(k Kind, v string) string {
	max := kindRules[k].max
	if utf8.RuneCountInString(v) <= max {
		return v
	}
	r := []rune(v)
	return string(r[:max-1]) + "…"
}
