package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
		return a.write(c, fail(http.StatusUnprocessableEntity, "invalid", "the tree does not parse: %v", err))
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
// "inputs": [...]}) and returns every screen. A confirm shows the end
// screen with a placeholder reference: nothing is saved.
func (a *API) simulate(c *fiber.Ctx) error {
	var body struct {
		Tree   menus.Tree `json:"tree"`
		Phone  string     `json:"phone"`
		Inputs []string   `json:"inputs"`
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return a.write(c, fail(http.StatusBadRequest, "invalid", "want {tree, phone, inputs}"))
	}
	if len(body.Inputs) > 50 {
		return a.write(c, fail(http.StatusBadRequest, "invalid", "at most 50 inputs"))
	}
	m, err := menus.Compile(&body.Tree, 0, a.Options)
	var verr *menus.ValidationError
	if errors.As(err, &verr) {
		e := fail(http.StatusUnprocessableEntity, "invalid", "the tree has %d problems", len(verr.Problems))
		for _, p := range verr.Problems {
			e.Problems = append(e.Problems, Problem{Node: p.Node, Field: p.Field, Message: p.Message})
		}
		return a.write(c, e)
	}
	if err != nil {
		return a.write(c, fail(http.StatusUnprocessableEntity, "invalid", "%v", err))
	}
	e164, err := phone.Normalizer{Region: a.Options.Region}.Normalize(body.Phone)
	if err != nil {
		e := fail(http.StatusUnprocessableEntity, "invalid", "not a valid phone number")
		e.Problems = []Problem{{Field: "phone", Message: "not a valid phone number"}}
		return a.write(c, e)
	}
	lookup := a.People.CallerByPhone
	if m.Tree().For() == menus.AudienceGuardian {
		lookup = a.People.GuardianByPhone
	}
	caller, err := lookup(c.UserContext(), e164)
	if errors.Is(err, menus.ErrNotFound) {
		e := fail(http.StatusUnprocessableEntity, "invalid", "that phone is not registered for this tree's audience")
		e.Problems = []Problem{{Field: "phone", Message: "not registered"}}
		return a.write(c, e)
	}
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
		next, report, err := m.Step(s, in, now)
		if err != nil {
			return a.write(c, err)
		}
		if report != nil {
			next = m.Saved(next, "SIMULATE")
		}
		s = next
		screens = append(screens, screenOf(s, budget))
	}
	return c.JSON(fiber.Map{"screens": screens})
}

func screenOf(s menus.Snapshot, b textlen.Budget) Screen {
	enc, n := textlen.Measure(s.Screen)
	return Screen{Text: s.Screen, End: s.Ended, Encoding: enc.String(), Units: n, Limit: b.Limit(enc)}
}
