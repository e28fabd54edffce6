// Package admin is the JSON API county administrators use, directly or
// through the console: sign in, read and edit menu trees version by
// version, publish and roll back, and read the audit log. Every change is
// written to the audit log in the transaction that makes it.
//
// Errors have one shape, documented in the OpenAPI file served at
// /api/v1/openapi.json:
//
//	{"error": {"status": 422, "code": "invalid", "reason": "tree_invalid", "params": {"count": "2"}, "message": "...",
//	 "problems": [{"node": "...", "field": "...", "code": "...", "params": {...}, "message": "..."}]}}
//
// code is the broad class (invalid, unauthorized, not_found ...); reason,
// when given, names the exact error, stable across releases, with its
// values in params, so that a client can say it in its user's language.
// Menu problems are worded in the language the request accepts (zh or en).
package admin

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/gofiber/fiber/v2"
	"github.com/pmezard/go-difflib/difflib"
	"go.yaml.in/yaml/v3"
)

// Store is what the API needs of the database (storage.DB).
type Store interface {
	Authenticate(ctx context.Context, username, password string) (access.User, error)
	CreateSessionToken(ctx context.Context, actor access.User, userID int64, name string, ttl time.Duration) (string, error)
	UserByToken(ctx context.Context, token string) (access.User, error)
	TreeVersions(ctx context.Context) ([]menus.TreeVersion, error)
	TreeVersion(ctx context.Context, name string, version int) (menus.TreeVersion, error)
	SaveTreeVersionNoted(ctx context.Context, actor access.User, name, format, note string, source []byte) (menus.TreeVersion, error)
	PublishTreeAs(ctx context.Context, actor access.User, name string, version int) error
	AuditLog(ctx context.Context, limit int) ([]access.AuditRecord, error)
	RevokeToken(ctx context.Context, actor access.User, token string) error
	Audit(ctx context.Context, e access.AuditEntry) error
	RecordLoginFailure(ctx context.Context, username, address, reason string) error
}

// Refresher loads newly published trees into this process at once (other
// processes hear of it by notification).
type Refresher func(ctx context.Context) error

// API serves /api/v1.
type API struct {
	Store Store
	// Registry and Reports are the stores of the registry and reports
	// endpoints (storage.DB implements both).
	Registry RegistryStore
	Reports  ReportStore
	// FollowUps lists needs' follow-ups (storage.DB); not served when nil.
	FollowUps FollowUpStore
	// Templates keeps providers' verdicts on the SMS templates; the
	// template endpoints are not served when nil.
	Templates TemplateStore
	// Reads logs every read of child data (children, guardians,
	// allowances, reports) and serves the log to inspections.
	Reads ReadLog
	// People looks up the phone a draft is simulated as.
	People People
	// Cases are the cases endpoints' store; they are not served when nil.
	Cases CaseStore
	// Now is the clock cases are read and acted on by, and that says
	// which follow-ups are due; time.Now when nil.
	Now func() time.Time
	// Options are what trees are compiled with: a draft is validated
	// exactly as the gateway will load it, screen budgets included.
	Options menus.Options
	Refresh Refresher
	Log     *slog.Logger
	// Location is the deployment's time zone: report dates and months are
	// its calendar days, and exports show its times. UTC when nil.
	Location *time.Location

	throttle *throttle
	words    words
}

func (a *API) loc() *time.Location {
	if a.Location == nil {
		return time.UTC
	}
	return a.Location
}

//go:embed openapi.json
var openapi []byte

// consoleSession is how long a sign-in lasts: a working day.
const consoleSession = 8 * time.Hour

// Mount adds the API's routes to app.
func (a *API) Mount(app *fiber.App) {
	if a.throttle == nil {
		a.throttle = newThrottle()
	}
	if a.Reads == nil {
		panic("admin: no read log: child data must not be served unlogged")
	}
	r := app.Group("/api/v1", func(c *fiber.Ctx) error {
		// Tokens, registry records and reports: never cached by a browser
		// or a proxy, never sniffed into another content type.
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Next()
	})
	r.Get("/openapi.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(openapi)
	})
	r.Post("/login", a.login)
	auth := r.Group("", a.authenticate)
	auth.Get("/me", func(c *fiber.Ctx) error { return c.JSON(userJSON(user(c))) })
	auth.Post("/logout", a.logout)
	auth.Get("/menus", need(access.RoleEditor), a.listTrees)
	auth.Get("/menus/:name/versions/:version", need(access.RoleEditor), a.getTree)
	auth.Get("/menus/:name/diff", need(access.RoleEditor), a.diff)
	auth.Post("/menus/:name/validate", need(access.RoleEditor), a.validate)
	auth.Post("/menus/:name/versions", need(access.RoleEditor), a.saveDraft)
	auth.Post("/menus/:name/versions/:version/publish", need(access.RoleEditor), a.publish)
	auth.Get("/audit", need(access.RoleAdmin), a.audit)
	auth.Get("/audit/reads", need(access.RoleAdmin), a.readLog("json"))
	auth.Get("/audit/reads.csv", need(access.RoleAdmin), a.readLog("csv"))
	a.mountEditor(auth)
	a.mountRegistry(auth)
	a.mountReports(auth)
	a.mountTemplates(auth)
	a.mountCases(auth)
}

// Problem is one field-level validation message. Code, when set, names
// the problem for a client that words it itself, with Params its values.
type Problem struct {
	Node    string            `json:"node,omitempty"`
	Field   string            `json:"field,omitempty"`
	Code    string            `json:"code,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Message string            `json:"message"`
}

// Error is the API's error body.
type Error struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	// Reason names the error exactly (see the package comment).
	Reason   string            `json:"reason,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
	Message  string            `json:"message"`
	Problems []Problem         `json:"problems,omitempty"`
}

func (e *Error) Error() string { return e.Message }

func fail(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// because names an error's reason and its values (name, value pairs).
func (e *Error) because(reason string, params ...string) *Error {
	e.Reason, e.Params = reason, pairs(params)
	return e
}

// language is the language the request reads best, of the console's two:
// Chinese when its Accept-Language puts zh first, else English.
func language(c *fiber.Ctx) string {
	for _, part := range strings.Split(c.Get(fiber.HeaderAcceptLanguage), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return menus.LangZH
		case strings.HasPrefix(tag, "en"):
			return menus.LangEN
		}
	}
	return menus.LangEN
}

// invalidTree answers a tree with problems, each worded in lang.
func invalidTree(verr *menus.ValidationError, lang string) *Error {
	e := fail(http.StatusUnprocessableEntity, "invalid", "the tree has %d problems", len(verr.Problems)).
		because("tree_invalid", "count", strconv.Itoa(len(verr.Problems)))
	for _, p := range verr.Problems {
		e.Problems = append(e.Problems, Problem{Node: p.Node, Field: p.Field, Code: p.Code, Params: p.ParamsIn(lang), Message: p.In(lang)})
	}
	return e
}

// write sends an error in the documented shape; a non-API error is a 500
// whose detail stays in the log.
func (a *API) write(c *fiber.Ctx, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		a.Log.Error("admin api failed", "path", c.Path(), "err", err)
		e = fail(http.StatusInternalServerError, "internal", "internal error")
	}
	return c.Status(e.Status).JSON(fiber.Map{"error": e})
}

type userView struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Role     string `json:"role"`
	// Area names the area the user answers for; absent for the whole
	// deployment.
	Area string `json:"area,omitempty"`
}

func userJSON(u access.User) userView {
	return userView{ID: u.ID, Username: u.Username, Role: u.Role, Area: u.AreaName}
}

// maxPassword bounds what is hashed: argon2 reads all of it.
const maxPassword = 1024

func (a *API) login(c *fiber.Ctx) error {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := c.BodyParser(&body); err != nil || body.Username == "" || body.Password == "" || len(body.Username) > 200 || len(body.Password) > maxPassword {
		e := fail(http.StatusBadRequest, "invalid", "username and password are required").because("credentials_required")
		e.Problems = []Problem{{Field: "username", Code: "required", Message: "required"}, {Field: "password", Code: "required", Message: "required"}}
		return a.write(c, e)
	}
	userKey, addrKey := "u:"+strings.ToLower(body.Username), "a:"+c.IP()
	if wait := a.throttle.wait(userKey, addrKey); wait > 0 {
		a.Log.Warn("sign-in refused: too many wrong attempts", "user", body.Username, "remote", c.IP(), "wait", wait.Round(time.Second).String())
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait.Seconds())+1))
		return a.write(c, fail(http.StatusTooManyRequests, "throttled", "too many wrong attempts: try again in %d seconds", int(wait.Seconds())+1).
			because("throttled", "seconds", strconv.Itoa(int(wait.Seconds())+1)))
	}
	u, err := a.Store.Authenticate(c.UserContext(), body.Username, body.Password)
	if errors.Is(err, menus.ErrNotFound) {
		a.throttle.fail(userKey, addrKey)
		a.Log.Warn("sign-in failed: wrong username or password", "user", body.Username, "remote", c.IP())
		if err := a.Store.RecordLoginFailure(c.UserContext(), body.Username, c.IP(), "wrong username or password"); err != nil {
			a.Log.Error("failed sign-in not audited", "err", err)
		}
		return a.write(c, fail(http.StatusUnauthorized, "unauthorized", "wrong username or password").because("wrong_credentials"))
	}
	if errors.Is(err, access.ErrBusy) {
		c.Set(fiber.HeaderRetryAfter, "2")
		return a.write(c, fail(http.StatusServiceUnavailable, "busy", "busy: try again in a moment").because("busy"))
	}
	if err != nil {
		return a.write(c, err)
	}
	a.throttle.ok(userKey)
	token, err := a.Store.CreateSessionToken(c.UserContext(), u, u.ID, "console", consoleSession)
	if err != nil {
		return a.write(c, err)
	}
	return c.JSON(fiber.Map{"token": token, "user": userJSON(u)})
}

// authenticate requires a bearer token.
// logout ends the token it is called with, on every process, at once.
func (a *API) logout(c *fiber.Ctx) error {
	token, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if err := a.Store.RevokeToken(c.UserContext(), user(c), strings.TrimSpace(token)); err != nil {
		return a.write(c, err)
	}
	return c.SendStatus(http.StatusNoContent)
}

func (a *API) authenticate(c *fiber.Ctx) error {
	token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || token == "" {
		return a.write(c, fail(http.StatusUnauthorized, "unauthorized", "a bearer token is required").because("token_required"))
	}
	u, err := a.Store.UserByToken(c.UserContext(), strings.TrimSpace(token))
	if errors.Is(err, menus.ErrNotFound) {
		return a.write(c, fail(http.StatusUnauthorized, "unauthorized", "unknown or revoked token").because("token_unknown"))
	}
	if err != nil {
		return a.write(c, err)
	}
	c.Locals("user", u)
	return c.Next()
}

func user(c *fiber.Ctx) access.User {
	u, _ := c.Locals("user").(access.User)
	return u
}

// need refuses a user whose role does not allow role.
func need(role string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !user(c).Allows(role) {
			return c.Status(http.StatusForbidden).JSON(fiber.Map{"error": fail(http.StatusForbidden, "forbidden", "this needs the %s role", role).because("role_required", "role", role)})
		}
		return c.Next()
	}
}

type treeView struct {
	Name        string `json:"name"`
	Version     int    `json:"version"`
	Format      string `json:"format"`
	Checksum    string `json:"checksum"`
	CreatedAt   string `json:"created_at"`
	PublishedAt string `json:"published_at,omitempty"`
	// Live marks the version callers get: the one published last.
	Live   bool   `json:"live,omitempty"`
	Author string `json:"author,omitempty"`
	Note   string `json:"note,omitempty"`
	Source string `json:"source,omitempty"`
}

// maxTreeNote bounds a version's note (storage keeps as many).
const maxTreeNote = 500

func treeJSON(t menus.TreeVersion) treeView {
	v := treeView{Name: t.Name, Version: t.Version, Format: t.Format, Checksum: t.Checksum, CreatedAt: t.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		Author: t.Author, Note: t.Note, Source: string(t.Source)}
	if t.PublishedAt != nil {
		v.PublishedAt = t.PublishedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return v
}

func (a *API) listTrees(c *fiber.Ctx) error {
	trees, err := a.Store.TreeVersions(c.UserContext())
	if err != nil {
		return a.write(c, err)
	}
	out := make([]treeView, len(trees))
	live := map[string]int{} // tree name -> index of its live version
	for i, t := range trees {
		out[i] = treeJSON(t)
		if t.PublishedAt == nil {
			continue
		}
		// Published last wins; in a tie (one transaction), the higher
		// version, as the gateway decides.
		if j, ok := live[t.Name]; !ok || t.PublishedAt.After(*trees[j].PublishedAt) ||
			(t.PublishedAt.Equal(*trees[j].PublishedAt) && t.Version > trees[j].Version) {
			live[t.Name] = i
		}
	}
	for _, i := range live {
		out[i].Live = true
	}
	// Times are UTC; the console shows them in the deployment's zone.
	return c.JSON(fiber.Map{"versions": out, "time_zone": a.loc().String()})
}

func (a *API) version(c *fiber.Ctx, param string) (menus.TreeVersion, error) {
	v, err := strconv.Atoi(param)
	if err != nil || v < 1 {
		return menus.TreeVersion{}, fail(http.StatusBadRequest, "invalid", "version must be a whole number from 1").because("version_number")
	}
	t, err := a.Store.TreeVersion(c.UserContext(), c.Params("name"), v)
	if errors.Is(err, menus.ErrNotFound) {
		return t, fail(http.StatusNotFound, "not_found", "no version %d of tree %q", v, c.Params("name")).
			because("version_unknown", "version", strconv.Itoa(v), "tree", c.Params("name"))
	}
	return t, err
}

// getTree returns a version as JSON, or its source as a file with
// ?download=1 (export).
func (a *API) getTree(c *fiber.Ctx) error {
	t, err := a.version(c, c.Params("version"))
	if err != nil {
		return a.write(c, err)
	}
	if c.Query("as") == "json" {
		// The console's editor works on the tree as JSON.
		tree, err := menus.Parse(t.Source, t.Format)
		if err != nil {
			return a.write(c, fail(http.StatusUnprocessableEntity, "invalid", "stored version does not load: %v", err).because("tree_unparsed", "detail", err.Error()))
		}
		return c.JSON(fiber.Map{"name": t.Name, "version": t.Version, "tree": tree})
	}
	if c.Query("download") != "" {
		ct := "application/yaml; charset=utf-8"
		if t.Format == menus.FormatJSON {
			ct = fiber.MIMEApplicationJSONCharsetUTF8
		}
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-v%d.%s"`, t.Name, t.Version, t.Format))
		return c.Send(t.Source)
	}
	return c.JSON(treeJSON(t))
}

func (a *API) diff(c *fiber.Ctx) error {
	from, err := a.version(c, c.Query("from"))
	if err != nil {
		return a.write(c, err)
	}
	to, err := a.version(c, c.Query("to"))
	if err != nil {
		return a.write(c, err)
	}
	// A JSON version is one line to a diff: when either side is JSON,
	// both are compared as the YAML they load as.
	a1, b1 := string(from.Source), string(to.Source)
	if from.Format == menus.FormatJSON || to.Format == menus.FormatJSON {
		if a1, err = asYAML(from); err == nil {
			b1, err = asYAML(to)
		}
		if err != nil {
			return a.write(c, fail(http.StatusUnprocessableEntity, "invalid", "stored version does not load: %v", err).because("tree_unparsed", "detail", err.Error()))
		}
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a1), B: difflib.SplitLines(b1),
		FromFile: fmt.Sprintf("%s v%d", from.Name, from.Version), ToFile: fmt.Sprintf("%s v%d", to.Name, to.Version), Context: 3,
	})
	if err != nil {
		return a.write(c, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(text)
}

func asYAML(t menus.TreeVersion) (string, error) {
	if t.Format == menus.FormatYAML {
		return string(t.Source), nil
	}
	tree, err := menus.Parse(t.Source, t.Format)
	if err != nil {
		return "", err
	}
	out, err := yaml.Marshal(tree)
	return string(out), err
}

// draft reads a tree from the request body and checks it as the gateway
// would load it: the format from the content type, the name from the path.
func (a *API) draft(c *fiber.Ctx) (string, []byte, error) {
	format := menus.FormatYAML
	if strings.Contains(c.Get(fiber.HeaderContentType), "json") {
		format = menus.FormatJSON
	}
	src := append([]byte(nil), c.Body()...)
	m, err := menus.Check(src, format, a.Options)
	if err == nil && m.Tree().Name != c.Params("name") {
		err = &menus.ValidationError{Tree: m.Tree().Name, Problems: []menus.Problem{menus.NameProblem(m.Tree().Name, c.Params("name"))}}
	}
	var verr *menus.ValidationError
	switch {
	case errors.As(err, &verr):
		return "", nil, invalidTree(verr, language(c))
	case err != nil:
		return "", nil, (&Error{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: err.Error()}).because("tree_unparsed", "detail", err.Error())
	}
	return format, src, nil
}

func (a *API) validate(c *fiber.Ctx) error {
	if _, _, err := a.draft(c); err != nil {
		return a.write(c, err)
	}
	return c.JSON(fiber.Map{"valid": true})
}

func (a *API) saveDraft(c *fiber.Ctx) error {
	format, src, err := a.draft(c)
	if err != nil {
		return a.write(c, err)
	}
	note := strings.TrimSpace(c.Query("note"))
	if utf8.RuneCountInString(note) > maxTreeNote || strings.ContainsFunc(note, unicode.IsControl) {
		return a.write(c, fail(http.StatusBadRequest, "invalid", "the note must be at most %d characters on one line", maxTreeNote).
			because("note_invalid", "max", strconv.Itoa(maxTreeNote)))
	}
	t, err := a.Store.SaveTreeVersionNoted(c.UserContext(), user(c), c.Params("name"), format, note, src)
	if err != nil {
		return a.write(c, err)
	}
	return c.Status(http.StatusCreated).JSON(treeJSON(t))
}

// publish makes a version the live one; publishing an older version is the
// rollback. Running sessions keep the version they started on.
func (a *API) publish(c *fiber.Ctx) error {
	t, err := a.version(c, c.Params("version"))
	if err != nil {
		return a.write(c, err)
	}
	if err := a.Store.PublishTreeAs(c.UserContext(), user(c), t.Name, t.Version); err != nil {
		var claim *menus.ClaimError
		if errors.As(err, &claim) {
			// Publishing it would take a code or keyword from a live
			// tree's callers; nothing changed.
			return a.write(c, fail(http.StatusConflict, "claimed", "%s", claim.Error()).
				because("claimed", "what", claim.What, "value", claim.Value, "owner", claim.Owner))
		}
		return a.write(c, err)
	}
	if a.Refresh != nil {
		if err := a.Refresh(c.UserContext()); err != nil {
			a.Log.Error("published tree not loaded here yet", "tree", t.Name, "err", err)
		}
	}
	return c.JSON(fiber.Map{"published": treeJSON(menus.TreeVersion{Name: t.Name, Version: t.Version, Format: t.Format, Checksum: t.Checksum, CreatedAt: t.CreatedAt})})
}

func (a *API) audit(c *fiber.Ctx) error {
	rows, err := a.Store.AuditLog(c.UserContext(), 200)
	if err != nil {
		return a.write(c, err)
	}
	return c.JSON(fiber.Map{"entries": rows, "time_zone": a.loc().String()})
}
