package admin

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/reports"
	"github.com/gofiber/fiber/v2"
)

// GET /api/v1/follow-ups lists needs' follow-ups, soonest due first:
// viewers may read them (directors' phones masked, as on reports); they
// name children by code only, as the reminders do.

// FollowUpStore is what the follow-up list needs of the database
// (storage.DB).
type FollowUpStore interface {
	FollowUps(ctx context.Context, q reports.FollowUpQuery, now time.Time) ([]reports.FollowUp, error)
}

const (
	followUpsPerPage    = 50
	followUpsMaxPerPage = 200
)

var followUpFilters = []string{"director", "due", "status", "page", "per_page"}

type followUpView struct {
	Ref           string `json:"ref"`
	ChildCode     string `json:"child_code"`
	Category      string `json:"category"`
	NeedStatus    string `json:"need_status"`
	DirectorPhone string `json:"director_phone"`
	Rule          string `json:"rule"`
	DueAt         string `json:"due_at"`
	RemindedAt    string `json:"reminded_at,omitempty"`
	ClearedAt     string `json:"cleared_at,omitempty"`
	ClearedBy     string `json:"cleared_by,omitempty"`
}

func (a *API) listFollowUps(c *fiber.Ctx) error {
	if a.FollowUps == nil {
		return a.write(c, fail(http.StatusNotFound, "not_found", "follow-ups are not kept by this gateway"))
	}
	params := map[string]string{}
	var problems []Problem
	for k, v := range c.Context().QueryArgs().All() {
		key := string(k)
		switch _, seen := params[key]; {
		case !slices.Contains(followUpFilters, key):
			problems = append(problems, Problem{Field: key, Message: "unknown parameter"})
		case seen:
			problems = append(problems, Problem{Field: key, Message: "given more than once"})
		default:
			params[key] = strings.TrimSpace(string(v))
		}
	}
	q := reports.FollowUpQuery{Due: params["due"], Status: params["status"], Scope: user(c).Area}
	if q.Due != "" && q.Due != "due" && q.Due != "overdue" {
		problems = append(problems, Problem{Field: "due", Message: "must be due or overdue"})
	}
	if q.Status != "" && q.Status != "open" && q.Status != "cleared" {
		problems = append(problems, Problem{Field: "status", Message: "must be open or cleared"})
	}
	if d := params["director"]; d != "" {
		e164, err := phone.Normalizer{Region: a.Options.Region}.Normalize(d)
		if err != nil {
			problems = append(problems, Problem{Field: "director", Message: "must be a phone number"})
		}
		q.Director = e164
	}
	page, perPage := 1, followUpsPerPage
	for key, dst := range map[string]*int{"page": &page, "per_page": &perPage} {
		if v, ok := params[key]; ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || key == "per_page" && n > followUpsMaxPerPage || key == "page" && n > reportMaxPage {
				problems = append(problems, Problem{Field: key, Message: "out of range"})
				continue
			}
			*dst = n
		}
	}
	if len(problems) > 0 {
		return a.write(c, invalidParams(problems))
	}
	q.Limit, q.Offset = perPage, (page-1)*perPage
	items, err := a.FollowUps.FollowUps(c.UserContext(), q, a.now())
	if err != nil {
		return a.write(c, err)
	}
	u := user(c)
	out := make([]followUpView, len(items))
	for i, f := range items {
		out[i] = followUpView{
			Ref: f.Ref, ChildCode: f.ChildCode, Category: f.Category, NeedStatus: f.NeedStatus,
			DirectorPhone: directorPhone(u, f.DirectorPhone), Rule: f.Rule, DueAt: timeJSON(f.DueAt),
			RemindedAt: timeJSON(f.RemindedAt), ClearedAt: timeJSON(f.ClearedAt), ClearedBy: f.ClearedBy,
		}
	}
	return c.JSON(fiber.Map{"items": out, "page": page, "per_page": perPage})
}
