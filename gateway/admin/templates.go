package admin

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/templates"
	"github.com/gofiber/fiber/v2"
)

// TemplateStore keeps providers' verdicts on the SMS templates
// (storage.DB implements it).
type TemplateStore interface {
	TemplateApprovals(ctx context.Context) ([]templates.Approval, error)
	SetTemplateApproval(ctx context.Context, actor access.User, a templates.Approval) (templates.Approval, error)
	// HeldByTemplate counts the messages waiting for each template's
	// approval, by template key.
	HeldByTemplate(ctx context.Context) (map[string]int, error)
}

type templateVar struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type templateView struct {
	Key       string               `json:"key"`
	About     string               `json:"about"`
	Vars      []templateVar        `json:"vars"`
	Text      map[string]string    `json:"text"`
	Screen    bool                 `json:"screen"`
	Approvals []templates.Approval `json:"approvals"`
	Held      int                  `json:"held"`
}

func (a *API) mountTemplates(r fiber.Router) {
	if a.Templates == nil {
		return
	}
	r.Get("/templates", need(access.RoleEditor), a.listTemplates)
	r.Put("/templates/:key/approvals", need(access.RoleAdmin), a.setApproval)
}

// listTemplates lists every SMS template with its texts, its providers'
// verdicts and how many messages wait for one.
func (a *API) listTemplates(c *fiber.Ctx) error {
	ctx := c.UserContext()
	approvals, err := a.Templates.TemplateApprovals(ctx)
	if err != nil {
		return a.write(c, err)
	}
	held, err := a.Templates.HeldByTemplate(ctx)
	if err != nil {
		return a.write(c, err)
	}
	byKey := map[string][]templates.Approval{}
	for _, ap := range approvals {
		byKey[ap.Template] = append(byKey[ap.Template], ap)
	}
	out := []templateView{}
	for _, t := range templates.All() {
		v := templateView{Key: t.Key, About: t.About, Text: t.Text, Screen: t.Screen, Approvals: byKey[t.Key], Held: held[t.Key], Vars: []templateVar{}}
		if v.Approvals == nil {
			v.Approvals = []templates.Approval{}
		}
		for _, x := range t.Vars {
			v.Vars = append(v.Vars, templateVar{Name: x.Name, Kind: string(x.Kind)})
		}
		out = append(out, v)
	}
	return c.JSON(fiber.Map{"templates": out})
}

// setApproval records a provider's verdict on one template in one
// language: what an administrator copies from the provider's console.
func (a *API) setApproval(c *fiber.Ctx) error {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt != fiber.MIMEApplicationJSON {
		return a.write(c, fail(http.StatusUnsupportedMediaType, "invalid", "the body must be JSON (Content-Type: application/json)"))
	}
	var in templates.Approval
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		return a.write(c, fail(http.StatusBadRequest, "invalid", "the body is not a JSON approval: %v", err))
	}
	in.Template = c.Params("key")
	if _, ok := templates.Get(in.Template); !ok {
		return a.write(c, fail(http.StatusNotFound, "not_found", "no template %q", in.Template))
	}
	out, err := a.Templates.SetTemplateApproval(c.UserContext(), user(c), in)
	if v, ok := errors.AsType[*menus.ValidationError](err); ok {
		e := fail(http.StatusUnprocessableEntity, "invalid", "the approval has %d problems", len(v.Problems))
		for _, p := range v.Problems {
			e.Problems = append(e.Problems, Problem{Field: p.Field, Message: p.Message})
		}
		return a.write(c, e)
	}
	if err != nil {
		return a.write(c, err)
	}
	return c.JSON(out)
}
