package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/textlen"
	"github.com/gofiber/fiber/v2"
	"go.yaml.in/yaml/v3"
)

// Endpoints behind the console's menu editor: a tree as JSON (the editor's
// model), YAML and JSON conversion for the raw view, and a simulator that
// plays a draft as a given phone would see it, screen by screen, without
// saving anything.

// People finds who a simulated phone is (storage.DB implements it).
type People interface {
	CallerByPhone(ctx context.Context, phone string) (menus.Caller, error)
	GuardianByPhone(ctx context.Context, phone string) (menus.Caller, error)
}

func (a *API) mountEditor(r fiber.Router) {
	r.Post("/menus/convert", need(access.RoleEditor), a.convert)
	r.Post("/menus/:name/simulate", need(access.RoleEditor), a.simulate)
}

// convert turns a tree between YAML and JSON (?to=yaml or ?to=json); the
// tree must parse, though it need not be valid yet.
func (a *API) convert(c *fiber.Ctx) error {
	var tree menus.Tree
	body := c.Body()
	var err error
	if c.Query("to") == "yaml" {
		err = json.Unmarshal(body, &tree)
	} else {
		err = yaml.Unmarshal(body, &tree)
	}
	if err != nil {
		return a.write(c, fail(http.StatusUnprocessableEntity, "invalid", "the tree does not parse: %v", err).because("tree_unparsed", "detail", err.Error()))
	}
	if c.Query("to") == "yaml" {
		out, err := yaml.Marshal(&tree)
		if err != nil {
			return a.write(c, err)
		}
		c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
		return c.Send(out)
	}
	return c.JSON(&tree)
}

// Screen is one simulated screen with its length as the carrier counts it.
type Screen struct {
	Text     string `json:"text"`
	End      bool   `json:"end"`
	Encoding string `json:"encoding"`
	Units    int    `json:"units"`
	Limit    int    `json:"limit"`
}

// simulate plays a draft (JSON body {"tree": {...}, "phone": "...",
// "lang": "zh", "inputs": [...]}) and returns every screen. A confirm shows
// the end screen with a placeholder reference: nothing is saved. The
// sample caller speaks lang when the tree has it.
func (a *API) simulate(c *fiber.Ctx) error {
	var body struct {
		Tree   menus.Tree `json:"tree"`
		Phone  string     `json:"phone"`
		Lang   string     `json:"lang"`
		Inputs []string   `json:"inputs"`
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return a.write(c, fail(http.StatusBadRequest, "invalid", "want {tree, phone, inputs}").because("simulate_body"))
	}
	if len(body.Inputs) > 50 {
		return a.write(c, fail(http.StatusBadRequest, "invalid", "at most 50 inputs").because("too_many_inputs", "max", "50"))
	}
	m, err := menus.Compile(&body.Tree, 0, a.Options)
	var verr *menus.ValidationError
	if errors.As(err, &verr) {
		return a.write(c, invalidTree(verr, language(c)))
	}
	if err != nil {
		return a.write(c, fail(http.StatusUnprocessableEntity, "invalid", "%v", err).because("tree_unparsed", "detail", err.Error()))
	}
	caller, err := a.simulatedCaller(c, m, body.Phone, body.Lang)
	if err != nil {
		return a.write(c, err)
	}
	budget := a.Options.Budget
	if budget == (textlen.Budget{}) {
		budget = textlen.USSDMax()
	}
	now := time.Now()
	s := m.Start(caller, now, budget)
	screens := []Screen{screenOf(s, budget)}
	for _, in := range body.Inputs {
		if s.Ended {
			break
		}
		next, effects, err := m.Step(s, in, now)
		if err != nil {
			return a.write(c, err)
		}
		if _, ok := effects.Report(); ok {
			next = m.Saved(next, "SIMULATE")
		}
		s = next
		screens = append(screens, screenOf(s, budget))
	}
	return c.JSON(fiber.Map{"screens": screens})
}

// sampleCaller is who an editor simulates as: made-up children with the
// demo's codes, and a made-up allowance, so that a draft can be walked
// through without reading anyone's record. Only those who may read the
// registry simulate as a real phone.
func sampleCaller(m *menus.Machine, lang string) menus.Caller {
	if !slices.Contains(m.Tree().Languages, lang) {
		lang = m.Tree().Languages[0]
	}
	c := menus.Caller{Phone: "+8613000000000", DirectorID: 1, GuardianID: 1, Language: lang}
	for i := 1; i <= 5; i++ {
		code := fmt.Sprintf("C%04d", i)
		name := fmt.Sprintf("示例儿童%d", i)
		if lang == menus.LangEN {
			name = fmt.Sprintf("Sample child %d", i)
		}
		c.Children = append(c.Children, menus.ChildBrief{Code: code, Name: name})
		if m.Tree().For() == menus.AudienceGuardian && i <= 2 {
			c.Allowances = append(c.Allowances, menus.Allowance{ChildCode: code, ChildName: name, Scheme: "living",
				Status: menus.AllowanceApproved, MonthlyYuan: 500, NextPayment: time.Now().AddDate(0, 1, 0)})
		}
	}
	if m.Tree().For() == menus.AudienceGuardian {
		c.Children = c.Children[:2]
	}
	return c
}

// simulatedCaller is the caller a simulation runs as: the sample caller
// for anyone who may not read the registry (an editor), whatever phone
// they name, so that the simulator is no window onto it; the phone's
// registered caller for an administrator, audited, since that shows a
// real child's name or a family's allowance.
func (a *API) simulatedCaller(c *fiber.Ctx, m *menus.Machine, raw, lang string) (menus.Caller, error) {
	u := user(c)
	if !u.Allows(access.RoleAdmin) || raw == "" {
		return sampleCaller(m, lang), nil
	}
	e164, err := phone.Normalizer{Region: a.Options.Region}.Normalize(raw)
	if err != nil {
		e := fail(http.StatusUnprocessableEntity, "invalid", "not a valid phone number").because("phone_invalid")
		e.Problems = []Problem{{Field: "phone", Code: "phone_invalid", Message: "not a valid phone number"}}
		return menus.Caller{}, e
	}
	lookup := a.People.CallerByPhone
	if m.Tree().For() == menus.AudienceGuardian {
		lookup = a.People.GuardianByPhone
	}
	caller, err := lookup(c.UserContext(), e164)
	if errors.Is(err, menus.ErrNotFound) {
		e := fail(http.StatusUnprocessableEntity, "invalid", "that phone is not registered for this tree's audience").
			because("phone_unregistered", "audience", string(m.Tree().For()))
		e.Problems = []Problem{{Field: "phone", Code: "phone_unregistered", Message: "not registered"}}
		return menus.Caller{}, e
	}
	if err != nil {
		return menus.Caller{}, err
	}
	if err := a.Store.Audit(c.UserContext(), access.AuditEntry{Actor: u, Action: "menu.simulate", ObjectType: "menu_tree",
		ObjectID: m.Tree().Name, After: map[string]any{"as": phone.Mask(e164)}}); err != nil {
		return menus.Caller{}, err
	}
	return caller, nil
}

func screenOf(s menus.Snapshot, b textlen.Budget) Screen {
	enc, n := textlen.Measure(s.Screen)
	return Screen{Text: s.Screen, End: s.Ended, Encoding: enc.String(), Units: n, Limit: b.Limit(enc)}
}
