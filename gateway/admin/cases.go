package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/cases"
	"github.com/gofiber/fiber/v2"
)

// The cases endpoints: cases listed open first by deadline (the overdue
// lead), one case with its timeline, and the acts that close the loop:
// acknowledge, refer, resolve. Reading needs the viewer role, acting the
// editor role; every act is audited in its own transaction. Cases name the
// child by code only.

// CaseStore is what the cases endpoints need of the database (storage.DB).
// An unknown code is menus.ErrNotFound; an act the case's state does not
// allow, menus.ErrConflict.
type CaseStore interface {
	ListCases(ctx context.Context, q cases.Query, now time.Time) ([]cases.Case, int, error)
	CaseByCode(ctx context.Context, code string, now time.Time, scope int64) (cases.Case, error)
	ActOnCase(ctx context.Context, actor access.User, code, action, note string, now time.Time) (cases.Case, error)
}

// caseActions are the acts on a case, as the path names them.
var caseActions = []string{"acknowledge", "refer", "resolve"}

// maxCaseNote bounds a note on a case.
const maxCaseNote = 1000

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) mountCases(r fiber.Router) {
	if a.Cases == nil {
		return
	}
	r.Get("/cases", need(access.RoleViewer), a.readLogged("case", ""), a.listCases)
	r.Get("/cases/:code", need(access.RoleViewer), a.readLogged("case", "code"), a.getCase)
	r.Post("/cases/:code/:action", need(access.RoleEditor), a.actOnCase)
}

type caseEventView struct {
	At       string `json:"at"`
	Kind     string `json:"kind"`
	Area     string `json:"area,omitempty"`
	AreaName string `json:"area_name,omitempty"`
	Actor    string `json:"actor"`
	Channel  string `json:"channel"`
	Note     string `json:"note,omitempty"`
}

type caseView struct {
	// TimeZone is the deployment's, to show the UTC times in.
	TimeZone       string          `json:"time_zone,omitempty"`
	Code           string          `json:"code"`
	ReportKind     string          `json:"report_kind"`
	ReportRef      string          `json:"report_ref"`
	Child          string          `json:"child"`
	Category       string          `json:"category"`
	Status         string          `json:"status"`
	Village        string          `json:"village"`
	VillageName    string          `json:"village_name"`
	Area           string          `json:"area"`
	AreaName       string          `json:"area_name"`
	Level          string          `json:"level"`
	OpenedAt       string          `json:"opened_at"`
	DeadlineAt     string          `json:"deadline_at"`
	Overdue        bool            `json:"overdue"`
	Escalations    int             `json:"escalations"`
	AcknowledgedAt *string         `json:"acknowledged_at"`
	AcknowledgedBy string          `json:"acknowledged_by,omitempty"`
	ReferredAt     *string         `json:"referred_at"`
	ReferredBy     string          `json:"referred_by,omitempty"`
	ResolvedAt     *string         `json:"resolved_at"`
	ResolvedBy     string          `json:"resolved_by,omitempty"`
	Events         []caseEventView `json:"events,omitempty"`
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optStamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := stamp(t)
	return &s
}

func caseJSON(c cases.Case) caseView {
	v := caseView{
		Code: c.Code, ReportKind: string(c.ReportKind), ReportRef: c.ReportRef, Child: c.ChildCode, Category: c.Category,
		Status: c.Status, Village: c.OriginCode, VillageName: c.OriginName, Area: c.AreaCode, AreaName: c.AreaName, Level: c.Level,
		OpenedAt: stamp(c.OpenedAt), DeadlineAt: stamp(c.Deadline), Overdue: c.Overdue, Escalations: c.Escalations,
		AcknowledgedAt: optStamp(c.AcknowledgedAt), AcknowledgedBy: c.AcknowledgedBy,
		ReferredAt: optStamp(c.ReferredAt), ReferredBy: c.ReferredBy, ResolvedAt: optStamp(c.ResolvedAt), ResolvedBy: c.ResolvedBy,
	}
	for _, e := range c.Events {
		v.Events = append(v.Events, caseEventView{At: stamp(e.At), Kind: e.Kind, Area: e.AreaCode, AreaName: e.AreaName, Actor: e.Actor, Channel: e.Channel, Note: e.Note})
	}
	return v
}

func (a *API) listCases(c *fiber.Ctx) error {
	page, perPage, _, err := registryPaging(c)
	if err != nil {
		return a.write(c, err)
	}
	q := cases.Query{Limit: perPage, Offset: (page - 1) * perPage, Scope: user(c).Area}
	var problems []Problem
	if s := strings.TrimSpace(c.Query("status")); s != "" {
		if !slices.Contains(cases.Statuses, s) {
			problems = append(problems, Problem{Field: "status", Message: "must be one of " + strings.Join(cases.Statuses, ", ")})
		}
		q.Status = s
	}
	if s := strings.TrimSpace(c.Query("area")); s != "" {
		if !areaCodeRE.MatchString(s) {
			problems = append(problems, Problem{Field: "area", Message: "must be an area's code"})
		}
		q.Area = strings.Clone(s)
	}
	switch c.Query("overdue") {
	case "", "0", "false":
	case "1", "true":
		q.Overdue = true
	default:
		problems = append(problems, Problem{Field: "overdue", Message: "must be true or false"})
	}
	if problems != nil {
		e := fail(http.StatusBadRequest, "invalid", "bad case filters")
		e.Problems = problems
		return a.write(c, e)
	}
	list, total, err := a.Cases.ListCases(c.UserContext(), q, a.now())
	if err != nil {
		return a.write(c, err)
	}
	items := make([]caseView, len(list))
	for i, k := range list {
		items[i] = caseJSON(k)
	}
	return c.JSON(fiber.Map{"items": items, "page": page, "per_page": perPage, "total": total, "time_zone": a.loc().String()})
}

// caseCode reads the code from the path; anything but six digits names no
// case.
func caseCode(c *fiber.Ctx) (string, error) {
	code := strings.Clone(c.Params("code"))
	if !cases.IsCode(code) {
		return "", fail(http.StatusNotFound, "not_found", "no such case")
	}
	return code, nil
}

func (a *API) caseError(err error) error {
	switch {
	case errors.Is(err, menus.ErrNotFound):
		return fail(http.StatusNotFound, "not_found", "no such case")
	case errors.Is(err, menus.ErrConflict):
		return fail(http.StatusConflict, "conflict", "the case's state does not allow this: read it again")
	}
	return err
}

func (a *API) getCase(c *fiber.Ctx) error {
	code, err := caseCode(c)
	if err != nil {
		return a.write(c, err)
	}
	k, err := a.Cases.CaseByCode(c.UserContext(), code, a.now(), user(c).Area)
	if err != nil {
		return a.write(c, a.caseError(err))
	}
	v := caseJSON(k)
	v.TimeZone = a.loc().String()
	return c.JSON(v)
}

func (a *API) actOnCase(c *fiber.Ctx) error {
	code, err := caseCode(c)
	if err != nil {
		return a.write(c, err)
	}
	action := c.Params("action")
	if !slices.Contains(caseActions, action) {
		return a.write(c, fail(http.StatusNotFound, "not_found", "no such act on a case; there are %s", strings.Join(caseActions, ", ")))
	}
	var body struct {
		Note string `json:"note"`
	}
	if len(c.Body()) > 0 {
		if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != fiber.MIMEApplicationJSON {
			return a.write(c, fail(http.StatusUnsupportedMediaType, "invalid", "the body must be JSON (Content-Type: application/json)"))
		}
		if err := json.Unmarshal(c.Body(), &body); err != nil {
			return a.write(c, fail(http.StatusBadRequest, "invalid", "the body is not a JSON object: %v", err))
		}
	}
	note := strings.TrimSpace(body.Note)
	if utf8.RuneCountInString(note) > maxCaseNote {
		e := fail(http.StatusUnprocessableEntity, "invalid", "the note is too long")
		e.Problems = []Problem{{Field: "note", Message: fmt.Sprintf("must be at most %d characters", maxCaseNote)}}
		return a.write(c, e)
	}
	k, err := a.Cases.ActOnCase(c.UserContext(), user(c), code, action, note, a.now())
	if err != nil {
		return a.write(c, a.caseError(err))
	}
	v := caseJSON(k)
	v.TimeZone = a.loc().String()
	return c.JSON(v)
}
