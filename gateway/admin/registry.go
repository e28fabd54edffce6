package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
	"github.com/barefoot-ussd/barefoot/menus/phone"
	"github.com/barefoot-ussd/barefoot/menus/registry"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/width"
)

// The registry endpoints: directors, children, guardians, allowance records
// and supervisors under /registry/{resource}, each with the same shape:
// list with search and paging, get, create, update (a full replacement from
// an explicit request type, so ids, active flags and timestamps cannot be
// assigned), deactivate and activate (never a hard delete: reports point at
// directors and children), and a CSV import that checks every row before it
// writes any, then writes them all in one transaction.
//
// The registry holds children's names and families' phone numbers, so
// every registry endpoint, reads included, needs the admin role. Records
// are addressed by their database id, which keeps phone numbers out of URLs
// and so out of access logs; the audit log names them by phone or code.
// Nothing here logs a name or a phone.

// RegistryStore is what the registry endpoints need of the database
// (storage.DB). Lists return a page and the number of matches in all; an
// unknown id is menus.ErrNotFound, a taken phone or code
// menus.ErrConflict, and a reference to a director or child that does not
// exist a *menus.ValidationError. Imports write every record or none, and
// roll back when dryRun; they return how many records they created and
// updated.
type RegistryStore interface {
	ListDirectors(ctx context.Context, q string, limit, offset int) ([]registry.Director, int, error)
	DirectorByID(ctx context.Context, id int64) (registry.Director, error)
	CreateDirector(ctx context.Context, actor access.User, d registry.Director) (registry.Director, error)
	UpdateDirector(ctx context.Context, actor access.User, d registry.Director) (registry.Director, error)
	SetDirectorActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Director, error)
	ImportDirectors(ctx context.Context, actor access.User, ds []registry.Director, dryRun bool) (created, updated int, err error)

	ListChildren(ctx context.Context, q string, limit, offset int) ([]registry.ChildRecord, int, error)
	ChildByID(ctx context.Context, id int64) (registry.ChildRecord, error)
	CreateChild(ctx context.Context, actor access.User, c registry.ChildRecord) (registry.ChildRecord, error)
	UpdateChild(ctx context.Context, actor access.User, c registry.ChildRecord) (registry.ChildRecord, error)
	SetChildActive(ctx context.Context, actor access.User, id int64, active bool) (registry.ChildRecord, error)
	ImportChildren(ctx context.Context, actor access.User, cs []registry.ChildRecord, dryRun bool) (created, updated int, err error)

	ListGuardians(ctx context.Context, q string, limit, offset int) ([]registry.Guardian, int, error)
	GuardianByID(ctx context.Context, id int64) (registry.Guardian, error)
	CreateGuardian(ctx context.Context, actor access.User, g registry.Guardian) (registry.Guardian, error)
	UpdateGuardian(ctx context.Context, actor access.User, g registry.Guardian) (registry.Guardian, error)
	SetGuardianActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Guardian, error)
	ImportGuardians(ctx context.Context, actor access.User, gs []registry.Guardian, dryRun bool) (created, updated int, err error)

	ListAllowances(ctx context.Context, q string, limit, offset int) ([]registry.AllowanceRecord, int, error)
	AllowanceByID(ctx context.Context, id int64) (registry.AllowanceRecord, error)
	CreateAllowance(ctx context.Context, actor access.User, a registry.AllowanceRecord) (registry.AllowanceRecord, error)
	UpdateAllowance(ctx context.Context, actor access.User, a registry.AllowanceRecord) (registry.AllowanceRecord, error)
	SetAllowanceActive(ctx context.Context, actor access.User, id int64, active bool) (registry.AllowanceRecord, error)
	ImportAllowances(ctx context.Context, actor access.User, as []registry.AllowanceRecord, dryRun bool) (created, updated int, err error)

	ListSupervisors(ctx context.Context, q string, limit, offset int) ([]registry.Supervisor, int, error)
	SupervisorByID(ctx context.Context, id int64) (registry.Supervisor, error)
	CreateSupervisor(ctx context.Context, actor access.User, s registry.Supervisor) (registry.Supervisor, error)
	UpdateSupervisor(ctx context.Context, actor access.User, s registry.Supervisor) (registry.Supervisor, error)
	SetSupervisorActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Supervisor, error)
	ImportSupervisors(ctx context.Context, actor access.User, ss []registry.Supervisor, dryRun bool) (created, updated int, err error)

	ListAreas(ctx context.Context, q string, limit, offset int) ([]registry.Area, int, error)
	AreaByID(ctx context.Context, id int64) (registry.Area, error)
	CreateArea(ctx context.Context, actor access.User, a registry.Area) (registry.Area, error)
	UpdateArea(ctx context.Context, actor access.User, a registry.Area) (registry.Area, error)
	SetAreaActive(ctx context.Context, actor access.User, id int64, active bool) (registry.Area, error)
	ImportAreas(ctx context.Context, actor access.User, as []registry.Area, dryRun bool) (created, updated int, err error)

	// UnknownDirectors, UnknownChildren and UnknownAreas return those of
	// the phones or codes that no record, active or not, has.
	UnknownDirectors(ctx context.Context, phones []string) ([]string, error)
	UnknownChildren(ctx context.Context, codes []string) ([]string, error)
	UnknownAreas(ctx context.Context, codes []string) ([]string, error)
}

// Limits of lists and imports.
const (
	registryPerPage    = 50
	registryMaxPerPage = 200
	registryMaxPage    = 1_000_000
	registryMaxQuery   = 100                 // characters of a search text
	maxText            = menus.MaxNameLength // characters of a name, village or county
	maxYuan            = 1_000_000
	// An import is checked whole and written in one transaction. The
	// gateway's BodyLimit (16 KB, for carrier callbacks) refuses bigger
	// bodies before they get here until it is raised for /api.
	maxImportBytes = 4 << 20
	maxImportRows  = 10_000
)

// Allowance schemes and statuses, as the allowances table's CHECK
// constraints list them.
var (
	allowanceSchemes  = []string{"living", "orphan", "disability", "other"}
	allowanceStatuses = []string{menus.AllowanceApplied, menus.AllowanceApproved, menus.AllowancePaid, menus.AllowanceSuspended, menus.AllowanceRejected}
)

var (
	childCodeRE = regexp.MustCompile(`^[A-Z][0-9]{4,9}$`)
	areaCodeRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)
	secretRE    = regexp.MustCompile(`^[0-9A-Za-z]{4,12}$`)
)

// wholeDeployment refuses users who answer for one area: the registry
// lists every child and is managed by the office that runs the deployment.
func wholeDeployment(c *fiber.Ctx) error {
	if user(c).Scoped() {
		e := fail(http.StatusForbidden, "forbidden", "the registry is managed by the office that runs the whole deployment").because("registry_scoped")
		return c.Status(http.StatusForbidden).JSON(fiber.Map{"error": e})
	}
	return c.Next()
}

// mountRegistry adds the registry endpoints.
func (a *API) mountRegistry(r fiber.Router) {
	if a.Registry == nil {
		return
	}
	g := r.Group("/registry", need(access.RoleAdmin), wholeDeployment)
	mountResource(g, a.directors())
	mountResource(g, a.children())
	mountResource(g, a.guardians())
	mountResource(g, a.allowances())
	mountResource(g, a.supervisors())
	mountResource(g, a.areas())
	g.All("/*", func(c *fiber.Ctx) error {
		return a.write(c, fail(http.StatusNotFound, "not_found", "no such registry resource; there are directors, children, guardians, allowances, supervisors and areas"))
	})
}

// resource is one registry resource: In is its request body, R what the store
// reads and writes.
type resource[In, R any] struct {
	api  *API
	path string // "directors"
	noun string // "director"
	// keyField is the field that identifies a record to people, named in
	// a conflict and in a file's duplicate rows.
	keyField string
	conflict string
	columns  []csvColumn
	fromCSV  func(cell func(column string) string) In
	// check validates and normalises a request, naming the directors and
	// children it refers to.
	check func(ck *checker, in In) (R, []reference)
	// key is a record's natural key, to find duplicate rows in a file.
	key       func(R) string
	view      func(R) any
	list      func(ctx context.Context, q string, limit, offset int) ([]R, int, error)
	get       func(ctx context.Context, id int64) (R, error)
	create    func(ctx context.Context, actor access.User, r R) (R, error)
	update    func(ctx context.Context, actor access.User, id int64, r R) (R, error)
	setActive func(ctx context.Context, actor access.User, id int64, active bool) (R, error)
	load      func(ctx context.Context, actor access.User, rs []R, dryRun bool) (created, updated int, err error)
	// readAs names the records in the read log when reading them is
	// reading about a child (children, guardians, allowances); "" for
	// records that are not (directors, supervisors).
	readAs string
}

// csvColumn is a CSV column; an optional one may be left out of the header.
type csvColumn struct {
	name     string
	optional bool
}

func mountResource[In, R any](r fiber.Router, k *resource[In, R]) {
	base := "/" + k.path
	list, get := []fiber.Handler{k.listAll}, []fiber.Handler{k.getOne}
	if k.readAs != "" {
		list = append([]fiber.Handler{k.api.readLogged(k.readAs, "")}, list...)
		get = append([]fiber.Handler{k.api.readLogged(k.readAs, "id")}, get...)
	}
	r.Get(base, list...)
	r.Get(base+"/:id", get...)
	r.Post(base, k.createOne)
	r.Post(base+"/import", k.importCSV)
	r.Put(base+"/:id", k.updateOne)
	r.Post(base+"/:id/deactivate", func(c *fiber.Ctx) error { return k.activate(c, false) })
	r.Post(base+"/:id/activate", func(c *fiber.Ctx) error { return k.activate(c, true) })
}

type registryPage struct {
	Items   []any `json:"items"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int   `json:"total"`
}

func (k *resource[In, R]) listAll(c *fiber.Ctx) error {
	page, perPage, q, err := registryPaging(c)
	if err != nil {
		return k.api.write(c, err)
	}
	rows, total, err := k.list(c.UserContext(), q, perPage, (page-1)*perPage)
	if err != nil {
		return k.api.write(c, err)
	}
	out := registryPage{Items: make([]any, len(rows)), Page: page, PerPage: perPage, Total: total}
	for i, r := range rows {
		out.Items[i] = k.view(r)
	}
	return c.JSON(out)
}

// registryPaging reads ?q=&page=&per_page=; a per_page over the maximum is
// lowered to it.
func registryPaging(c *fiber.Ctx) (page, perPage int, q string, err error) {
	page, perPage = 1, registryPerPage
	var problems []Problem
	if s := c.Query("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 || page > registryMaxPage {
			problems = append(problems, Problem{Field: "page", Message: fmt.Sprintf("must be a whole number from 1 to %d", registryMaxPage)})
		}
	}
	if s := c.Query("per_page"); s != "" {
		if perPage, err = strconv.Atoi(s); err != nil || perPage < 1 {
			problems = append(problems, Problem{Field: "per_page", Message: fmt.Sprintf("must be a whole number from 1 to %d", registryMaxPerPage)})
		}
		perPage = min(perPage, registryMaxPerPage)
	}
	q = strings.Clone(strings.TrimSpace(c.Query("q")))
	if utf8.RuneCountInString(q) > registryMaxQuery {
		problems = append(problems, Problem{Field: "q", Message: fmt.Sprintf("must be at most %d characters", registryMaxQuery)})
	}
	if problems != nil {
		e := fail(http.StatusBadRequest, "invalid", "bad registryPaging or search parameters")
		e.Problems = problems
		return 0, 0, "", e
	}
	return page, perPage, q, nil
}

// id reads the record id from the path; anything but a positive whole
// number names no record.
func (k *resource[In, R]) id(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, k.notFound()
	}
	return id, nil
}

func (k *resource[In, R]) notFound() error {
	return fail(http.StatusNotFound, "not_found", "no such %s", k.noun)
}

func (k *resource[In, R]) getOne(c *fiber.Ctx) error {
	id, err := k.id(c)
	if err == nil {
		var r R
		if r, err = k.get(c.UserContext(), id); err == nil {
			return c.JSON(k.view(r))
		}
	}
	return k.api.write(c, k.storeError(err))
}

func (k *resource[In, R]) createOne(c *fiber.Ctx) error {
	r, err := k.request(c)
	if err == nil {
		if r, err = k.create(c.UserContext(), user(c), r); err == nil {
			return c.Status(http.StatusCreated).JSON(k.view(r))
		}
	}
	return k.api.write(c, k.storeError(err))
}

func (k *resource[In, R]) updateOne(c *fiber.Ctx) error {
	id, err := k.id(c)
	if err == nil {
		var r R
		if r, err = k.request(c); err == nil {
			if r, err = k.update(c.UserContext(), user(c), id, r); err == nil {
				return c.JSON(k.view(r))
			}
		}
	}
	return k.api.write(c, k.storeError(err))
}

func (k *resource[In, R]) activate(c *fiber.Ctx, active bool) error {
	id, err := k.id(c)
	if err == nil {
		var r R
		if r, err = k.setActive(c.UserContext(), user(c), id, active); err == nil {
			return c.JSON(k.view(r))
		}
	}
	return k.api.write(c, k.storeError(err))
}

// request reads and checks a JSON request body.
func (k *resource[In, R]) request(c *fiber.Ctx) (R, error) {
	var in In
	var r R
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt != fiber.MIMEApplicationJSON {
		return r, fail(http.StatusUnsupportedMediaType, "invalid", "the body must be JSON (Content-Type: application/json)")
	}
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			e := fail(http.StatusUnprocessableEntity, "invalid", "the %s has problems", k.noun)
			e.Problems = []Problem{{Field: te.Field, Message: "must be " + jsonKind(te.Type.Kind().String())}}
			return r, e
		}
		return r, fail(http.StatusBadRequest, "invalid", "the body is not a JSON object: %v", err)
	}
	ck := k.api.checker()
	r, refs := k.check(ck, in)
	unknown, err := k.api.unknownRefs(c.UserContext(), refs)
	if err != nil {
		return r, err
	}
	for i, ref := range refs {
		if unknown[i] {
			ck.fail(ref.field, ref.missingCode(), ref.missing())
		}
	}
	if ck.problems != nil {
		e := fail(http.StatusUnprocessableEntity, "invalid", "the %s has %d problems", k.noun, len(ck.problems))
		e.Problems = ck.problems
		return r, e
	}
	return r, nil
}

func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "text"
	case "slice":
		return "a list"
	}
	return "a " + kind
}

// storeError turns the store's errors into the API's.
func (k *resource[In, R]) storeError(err error) error {
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	if v, ok := errors.AsType[*menus.ValidationError](err); ok {
		e := fail(http.StatusUnprocessableEntity, "invalid", "the %s has %d problems", k.noun, len(v.Problems))
		for _, p := range v.Problems {
			e.Problems = append(e.Problems, Problem{Field: p.Field, Message: p.Message})
		}
		return e
	}
	switch {
	case errors.Is(err, menus.ErrNotFound):
		return k.notFound()
	case errors.Is(err, menus.ErrConflict):
		e := fail(http.StatusConflict, "conflict", "%s", k.conflict)
		e.Problems = []Problem{{Field: k.keyField, Message: k.conflict}}
		return e
	}
	return err
}

// reference is a director, child or area that a record names.
type reference struct {
	field    string
	director bool // a director's phone
	area     bool // an area's code; otherwise a child's code
	key      string
}

func (r reference) missingCode() string {
	switch {
	case r.director:
		return "no_such_director"
	case r.area:
		return "no_such_area"
	}
	return "no_such_child"
}

func (r reference) missing() string {
	switch {
	case r.director:
		return "no director has this phone"
	case r.area:
		return "no area has this code"
	}
	return "no child has this code"
}

// unknownRefs reports, for each reference, whether nothing it names exists.
func (a *API) unknownRefs(ctx context.Context, refs []reference) ([]bool, error) {
	var phones, codes, areas []string
	for _, r := range refs {
		switch {
		case r.director:
			phones = append(phones, r.key)
		case r.area:
			areas = append(areas, r.key)
		default:
			codes = append(codes, r.key)
		}
	}
	unknown := map[reference]bool{}
	for _, q := range []struct {
		director, area bool
		keys           []string
		find           func(context.Context, []string) ([]string, error)
	}{{true, false, phones, a.Registry.UnknownDirectors}, {false, false, codes, a.Registry.UnknownChildren}, {false, true, areas, a.Registry.UnknownAreas}} {
		if len(q.keys) == 0 {
			continue
		}
		missing, err := q.find(ctx, q.keys)
		if err != nil {
			return nil, err
		}
		for _, key := range missing {
			unknown[reference{director: q.director, area: q.area, key: key}] = true
		}
	}
	out := make([]bool, len(refs))
	for i, r := range refs {
		out[i] = unknown[reference{director: r.director, area: r.area, key: r.key}]
	}
	return out, nil
}

// checker validates and normalises request fields, collecting a problem
// per bad field.
type checker struct {
	phones phone.Normalizer
	// today is the latest date anywhere on earth: a date after it is in
	// the future in every time zone.
	today    string
	problems []Problem
}

func (a *API) checker() *checker {
	return &checker{
		phones: phone.Normalizer{Region: a.Options.Region},
		today:  time.Now().UTC().Add(14 * time.Hour).Format(time.DateOnly),
	}
}

// fail records a problem of field: its code, its English wording, and its
// values as name, value pairs.
func (ck *checker) fail(field, code, message string, params ...string) {
	ck.problems = append(ck.problems, Problem{Field: field, Code: code, Params: pairs(params), Message: message})
}

// pairs makes name, value pairs a map; nil for none.
func pairs(kv []string) map[string]string {
	if len(kv) < 2 {
		return nil
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func (ck *checker) text(field, v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		ck.fail(field, "required", "required")
	case utf8.RuneCountInString(v) > maxText:
		ck.fail(field, "too_long", fmt.Sprintf("must be at most %d characters", maxText), "max", strconv.Itoa(maxText))
	}
	return v
}

// phone returns the E.164 form of v, or "" when it is not a phone number.
func (ck *checker) phone(field, v string) string {
	if strings.TrimSpace(v) == "" {
		ck.fail(field, "required", "required")
		return ""
	}
	e164, err := ck.phones.Normalize(v)
	if err != nil {
		ck.fail(field, "phone_invalid", "not a valid phone number")
		return ""
	}
	return e164
}

func (ck *checker) language(field, v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v != menus.LangZH && v != menus.LangEN {
		ck.fail(field, "language", "must be zh or en")
	}
	return v
}

// code returns a child code in capitals, or "" when it is not one.
// Full-width characters, as a Chinese input method types them, count as
// their ASCII forms.
func (ck *checker) code(field, v string) string {
	v = strings.ToUpper(strings.TrimSpace(width.Narrow.String(v)))
	switch {
	case v == "":
		ck.fail(field, "required", "required")
	case !childCodeRE.MatchString(v):
		ck.fail(field, "child_code", "must be a capital letter and 4 to 9 digits, such as C0001")
	default:
		return v
	}
	return ""
}

// area reads an optional area code and names it as a reference; "" keeps
// a record's stored area.
func (ck *checker) area(field, v string, refs *[]reference) string {
	v = strings.TrimSpace(width.Narrow.String(v))
	switch {
	case v == "":
	case !areaCodeRE.MatchString(v):
		ck.fail(field, "area_code", "must be 1 to 32 letters, digits, dots, dashes or underscores")
		return ""
	default:
		*refs = append(*refs, reference{field: field, area: true, key: v})
	}
	return v
}

// date reads an optional YYYY-MM-DD; past refuses a date in the future.
func (ck *checker) date(field, v string, past bool) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, v)
	switch {
	case err != nil:
		ck.fail(field, "date", "must be a date written YYYY-MM-DD")
	case t.Year() < 1900:
		ck.fail(field, "date_early", "must be in 1900 or later")
	case past && v > ck.today:
		ck.fail(field, "date_future", "must not be in the future")
	default:
		return t
	}
	return time.Time{}
}

func (ck *checker) oneOf(field, v string, allowed []string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if !slices.Contains(allowed, v) {
		ck.fail(field, "one_of", "must be one of "+strings.Join(allowed, ", "), "values", strings.Join(allowed, ", "))
	}
	return v
}

// yuan reads a whole, non-negative amount; empty is 0.
func (ck *checker) yuan(field string, v amount) int {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		ck.fail(field, "yuan", "must be a whole number of yuan")
	case n < 0:
		ck.fail(field, "yuan_negative", "must be 0 or more")
	case err != nil || n > maxYuan:
		ck.fail(field, "yuan_max", fmt.Sprintf("must be at most %d", maxYuan), "max", strconv.Itoa(maxYuan))
	default:
		return int(n)
	}
	return 0
}

// secret reads an optional status secret: a few letters or digits, such
// as the last digits of an ID number (which may end in X).
func (ck *checker) secret(field, v string) string {
	v = strings.TrimSpace(width.Narrow.String(v))
	if v != "" && !secretRE.MatchString(v) {
		ck.fail(field, "secret", "must be 4 to 12 letters or digits")
	}
	return v
}

// amount is a whole number as JSON gives it, or text (a CSV cell, a quoted
// number). The checker reads it, so that a bad one is a field problem like
// any other rather than a decoding error.
type amount string

func (m *amount) UnmarshalJSON(b []byte) error {
	var s string
	switch {
	case string(b) == "null":
		*m = ""
	case json.Unmarshal(b, &s) == nil:
		*m = amount(s)
	default:
		*m = amount(b)
	}
	return nil
}

// splitList reads a CSV cell holding several values separated by ";"
// (or its full-width form).
func splitList(cell string) []string {
	var out []string
	for _, s := range strings.Split(width.Narrow.String(cell), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// calendarDate is a calendar date as JSON: YYYY-MM-DD, or null when unknown.
func calendarDate(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

// Directors.

type directorIn struct {
	Phone    string `json:"phone"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Village  string `json:"village"`
	County   string `json:"county"`
	// Area is the code of the director's village area; empty keeps it.
	Area string `json:"area"`
}

type directorView struct {
	ID       int64  `json:"id"`
	Phone    string `json:"phone"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Village  string `json:"village"`
	County   string `json:"county"`
	Area     string `json:"area"`
	Active   bool   `json:"active"`
}

func (a *API) directors() *resource[directorIn, registry.Director] {
	s := a.Registry
	return &resource[directorIn, registry.Director]{
		api: a, path: "directors", noun: "director", keyField: "phone", conflict: "another director has this phone",
		columns: []csvColumn{{name: "phone"}, {name: "name"}, {name: "language"}, {name: "village"}, {name: "county"}, {name: "area", optional: true}},
		fromCSV: func(cell func(string) string) directorIn {
			return directorIn{Phone: cell("phone"), Name: cell("name"), Language: cell("language"), Village: cell("village"), County: cell("county"), Area: cell("area")}
		},
		check: func(ck *checker, in directorIn) (registry.Director, []reference) {
			var refs []reference
			return registry.Director{
				Phone: ck.phone("phone", in.Phone), Name: ck.text("name", in.Name), Language: ck.language("language", in.Language),
				Village: ck.text("village", in.Village), County: ck.text("county", in.County), Area: ck.area("area", in.Area, &refs),
			}, refs
		},
		key:    func(d registry.Director) string { return d.Phone },
		view:   func(d registry.Director) any { return directorView(d) },
		list:   s.ListDirectors,
		get:    s.DirectorByID,
		create: s.CreateDirector,
		update: func(ctx context.Context, actor access.User, id int64, d registry.Director) (registry.Director, error) {
			d.ID = id
			return s.UpdateDirector(ctx, actor, d)
		},
		setActive: s.SetDirectorActive,
		load:      s.ImportDirectors,
	}
}

// Children.

type childIn struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	BirthDate string   `json:"birth_date"`
	Village   string   `json:"village"`
	County    string   `json:"county"`
	Directors []string `json:"directors"`
	Area      string   `json:"area"`
}

type childView struct {
	ID        int64    `json:"id"`
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	BirthDate *string  `json:"birth_date"`
	Village   string   `json:"village"`
	County    string   `json:"county"`
	Directors []string `json:"directors"`
	Area      string   `json:"area"`
	Active    bool     `json:"active"`
}

func (a *API) children() *resource[childIn, registry.ChildRecord] {
	s := a.Registry
	return &resource[childIn, registry.ChildRecord]{
		api: a, path: "children", noun: "child", readAs: "child", keyField: "code", conflict: "another child has this code",
		columns: []csvColumn{{name: "code"}, {name: "name"}, {name: "birth_date", optional: true}, {name: "village"}, {name: "county"}, {name: "directors"}, {name: "area", optional: true}},
		fromCSV: func(cell func(string) string) childIn {
			return childIn{Code: cell("code"), Name: cell("name"), BirthDate: cell("birth_date"), Village: cell("village"), County: cell("county"), Directors: splitList(cell("directors")), Area: cell("area")}
		},
		check: func(ck *checker, in childIn) (registry.ChildRecord, []reference) {
			c := registry.ChildRecord{Child: registry.Child{
				Code: ck.code("code", in.Code), Name: ck.text("name", in.Name), BirthDate: ck.date("birth_date", in.BirthDate, true),
				Village: ck.text("village", in.Village), County: ck.text("county", in.County),
			}}
			if len(in.Directors) == 0 {
				ck.fail("directors", "no_director", "a child needs at least one director")
			}
			var refs []reference
			c.Area = ck.area("area", in.Area, &refs)
			for i, p := range in.Directors {
				field := fmt.Sprintf("directors[%d]", i)
				if e164 := ck.phone(field, p); e164 != "" {
					c.Directors = append(c.Directors, e164)
					refs = append(refs, reference{field: field, director: true, key: e164})
				}
			}
			return c, refs
		},
		key: func(c registry.ChildRecord) string { return c.Code },
		view: func(c registry.ChildRecord) any {
			return childView{ID: c.ID, Code: c.Code, Name: c.Name, BirthDate: calendarDate(c.BirthDate), Village: c.Village, County: c.County,
				Directors: append([]string{}, c.Directors...), Area: c.Area, Active: c.Active}
		},
		list:   s.ListChildren,
		get:    s.ChildByID,
		create: s.CreateChild,
		update: func(ctx context.Context, actor access.User, id int64, c registry.ChildRecord) (registry.ChildRecord, error) {
			c.ID = id
			return s.UpdateChild(ctx, actor, c)
		},
		setActive: s.SetChildActive,
		load:      s.ImportChildren,
	}
}

// Guardians.

type guardianIn struct {
	Phone    string   `json:"phone"`
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Children []string `json:"children"`
	// StatusSecret is write-only; empty keeps the stored one.
	StatusSecret string `json:"status_secret"`
}

type guardianView struct {
	ID       int64    `json:"id"`
	Phone    string   `json:"phone"`
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Children []string `json:"children"`
	Active   bool     `json:"active"`
}

func (a *API) guardians() *resource[guardianIn, registry.Guardian] {
	s := a.Registry
	return &resource[guardianIn, registry.Guardian]{
		api: a, path: "guardians", noun: "guardian", readAs: "guardian", keyField: "phone", conflict: "another guardian has this phone",
		columns: []csvColumn{{name: "phone"}, {name: "name"}, {name: "language"}, {name: "children"}, {name: "status_secret", optional: true}},
		fromCSV: func(cell func(string) string) guardianIn {
			return guardianIn{Phone: cell("phone"), Name: cell("name"), Language: cell("language"), Children: splitList(cell("children")), StatusSecret: cell("status_secret")}
		},
		check: func(ck *checker, in guardianIn) (registry.Guardian, []reference) {
			g := registry.Guardian{Phone: ck.phone("phone", in.Phone), Name: ck.text("name", in.Name), Language: ck.language("language", in.Language)}
			var refs []reference
			for i, code := range in.Children {
				field := fmt.Sprintf("children[%d]", i)
				if code = ck.code(field, code); code != "" {
					g.Children = append(g.Children, code)
					refs = append(refs, reference{field: field, key: code})
				}
			}
			g.StatusSecret = ck.secret("status_secret", in.StatusSecret)
			return g, refs
		},
		key: func(g registry.Guardian) string { return g.Phone },
		view: func(g registry.Guardian) any {
			return guardianView{ID: g.ID, Phone: g.Phone, Name: g.Name, Language: g.Language, Children: append([]string{}, g.Children...), Active: g.Active}
		},
		list:   s.ListGuardians,
		get:    s.GuardianByID,
		create: s.CreateGuardian,
		update: func(ctx context.Context, actor access.User, id int64, g registry.Guardian) (registry.Guardian, error) {
			g.ID = id
			return s.UpdateGuardian(ctx, actor, g)
		},
		setActive: s.SetGuardianActive,
		load:      s.ImportGuardians,
	}
}

// Allowances.

type allowanceIn struct {
	Child       string `json:"child"`
	Scheme      string `json:"scheme"`
	Status      string `json:"status"`
	MonthlyYuan amount `json:"monthly_yuan"`
	LastPaid    string `json:"last_paid"`
	NextPayment string `json:"next_payment"`
}

type allowanceView struct {
	ID          int64   `json:"id"`
	Child       string  `json:"child"`
	ChildName   string  `json:"child_name"`
	Scheme      string  `json:"scheme"`
	Status      string  `json:"status"`
	MonthlyYuan int     `json:"monthly_yuan"`
	LastPaid    *string `json:"last_paid"`
	NextPayment *string `json:"next_payment"`
	Active      bool    `json:"active"`
}

func (a *API) allowances() *resource[allowanceIn, registry.AllowanceRecord] {
	s := a.Registry
	return &resource[allowanceIn, registry.AllowanceRecord]{
		api: a, path: "allowances", noun: "allowance", readAs: "allowance", keyField: "scheme", conflict: "the child has an allowance under this scheme already",
		columns: []csvColumn{{name: "child"}, {name: "scheme"}, {name: "status"}, {name: "monthly_yuan"}, {name: "last_paid", optional: true}, {name: "next_payment", optional: true}},
		fromCSV: func(cell func(string) string) allowanceIn {
			return allowanceIn{Child: cell("child"), Scheme: cell("scheme"), Status: cell("status"), MonthlyYuan: amount(cell("monthly_yuan")), LastPaid: cell("last_paid"), NextPayment: cell("next_payment")}
		},
		check: func(ck *checker, in allowanceIn) (registry.AllowanceRecord, []reference) {
			r := registry.AllowanceRecord{Allowance: menus.Allowance{
				ChildCode: ck.code("child", in.Child), Scheme: ck.oneOf("scheme", in.Scheme, allowanceSchemes),
				Status: ck.oneOf("status", in.Status, allowanceStatuses), MonthlyYuan: ck.yuan("monthly_yuan", in.MonthlyYuan),
				LastPaid: ck.date("last_paid", in.LastPaid, true), NextPayment: ck.date("next_payment", in.NextPayment, false),
			}}
			var refs []reference
			if r.ChildCode != "" {
				refs = append(refs, reference{field: "child", key: r.ChildCode})
			}
			return r, refs
		},
		key: func(r registry.AllowanceRecord) string { return r.ChildCode + ":" + r.Scheme },
		view: func(r registry.AllowanceRecord) any {
			return allowanceView{ID: r.ID, Child: r.ChildCode, ChildName: r.ChildName, Scheme: r.Scheme, Status: r.Status, MonthlyYuan: r.MonthlyYuan,
				LastPaid: calendarDate(r.LastPaid), NextPayment: calendarDate(r.NextPayment), Active: r.Active}
		},
		list:   s.ListAllowances,
		get:    s.AllowanceByID,
		create: s.CreateAllowance,
		update: func(ctx context.Context, actor access.User, id int64, r registry.AllowanceRecord) (registry.AllowanceRecord, error) {
			r.ID = id
			return s.UpdateAllowance(ctx, actor, r)
		},
		setActive: s.SetAllowanceActive,
		load:      s.ImportAllowances,
	}
}

// Supervisors.

type supervisorIn struct {
	Phone    string `json:"phone"`
	Name     string `json:"name"`
	Language string `json:"language"`
	County   string `json:"county"`
	// Area is the code of the area the supervisor answers for, at any
	// level; empty keeps it.
	Area string `json:"area"`
}

type supervisorView struct {
	ID       int64  `json:"id"`
	Phone    string `json:"phone"`
	Name     string `json:"name"`
	Language string `json:"language"`
	County   string `json:"county"`
	Area     string `json:"area"`
	Active   bool   `json:"active"`
}

func (a *API) supervisors() *resource[supervisorIn, registry.Supervisor] {
	s := a.Registry
	return &resource[supervisorIn, registry.Supervisor]{
		api: a, path: "supervisors", noun: "supervisor", keyField: "phone", conflict: "another supervisor has this phone",
		columns: []csvColumn{{name: "phone"}, {name: "name"}, {name: "language"}, {name: "county"}, {name: "area", optional: true}},
		fromCSV: func(cell func(string) string) supervisorIn {
			return supervisorIn{Phone: cell("phone"), Name: cell("name"), Language: cell("language"), County: cell("county"), Area: cell("area")}
		},
		check: func(ck *checker, in supervisorIn) (registry.Supervisor, []reference) {
			var refs []reference
			return registry.Supervisor{
				Phone: ck.phone("phone", in.Phone), Name: ck.text("name", in.Name), Language: ck.language("language", in.Language),
				County: ck.text("county", in.County), Area: ck.area("area", in.Area, &refs),
			}, refs
		},
		key:    func(s registry.Supervisor) string { return s.Phone },
		view:   func(s registry.Supervisor) any { return supervisorView(s) },
		list:   s.ListSupervisors,
		get:    s.SupervisorByID,
		create: s.CreateSupervisor,
		update: func(ctx context.Context, actor access.User, id int64, sv registry.Supervisor) (registry.Supervisor, error) {
			sv.ID = id
			return s.UpdateSupervisor(ctx, actor, sv)
		},
		setActive: s.SetSupervisorActive,
		load:      s.ImportSupervisors,
	}
}

// Areas.

type areaIn struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Parent string `json:"parent"`
}

type areaView struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Parent string `json:"parent"`
	Active bool   `json:"active"`
}

func (a *API) areas() *resource[areaIn, registry.Area] {
	s := a.Registry
	return &resource[areaIn, registry.Area]{
		api: a, path: "areas", noun: "area", keyField: "code", conflict: "another area has this code",
		columns: []csvColumn{{name: "code"}, {name: "name"}, {name: "level"}, {name: "parent", optional: true}},
		fromCSV: func(cell func(string) string) areaIn {
			return areaIn{Code: cell("code"), Name: cell("name"), Level: cell("level"), Parent: cell("parent")}
		},
		check: func(ck *checker, in areaIn) (registry.Area, []reference) {
			ar := registry.Area{Name: ck.text("name", in.Name), Level: ck.oneOf("level", in.Level, registry.Levels)}
			if ar.Code = strings.TrimSpace(width.Narrow.String(in.Code)); !areaCodeRE.MatchString(ar.Code) {
				ck.fail("code", "area_code", "must be 1 to 32 letters, digits, dots, dashes or underscores")
			}
			// The parent may be in the same file, so it is not looked
			// up here: the store says when no area has its code.
			if ar.Parent = strings.TrimSpace(width.Narrow.String(in.Parent)); ar.Parent != "" && !areaCodeRE.MatchString(ar.Parent) {
				ck.fail("parent", "area_code", "must be an area's code")
			}
			if ar.Parent != "" && ar.Parent == ar.Code {
				ck.fail("parent", "own_parent", "an area cannot be its own parent")
			}
			return ar, nil
		},
		key:    func(ar registry.Area) string { return ar.Code },
		view:   func(ar registry.Area) any { return areaView(ar) },
		list:   s.ListAreas,
		get:    s.AreaByID,
		create: s.CreateArea,
		update: func(ctx context.Context, actor access.User, id int64, ar registry.Area) (registry.Area, error) {
			ar.ID = id
			return s.UpdateArea(ctx, actor, ar)
		},
		setActive: s.SetAreaActive,
		load:      s.ImportAreas,
	}
}

// CSV import.

// LineProblem is a problem with one line of an imported file; line 1 is
// the header.
type LineProblem struct {
	Line  int    `json:"line"`
	Field string `json:"field,omitempty"`
	// Code names the problem for a client to word in its own language,
	// with Params its values; Message is its English wording.
	Code    string            `json:"code,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Message string            `json:"message"`
}

// importError is the API's error body with problems by line.
type importError struct {
	Status   int           `json:"status"`
	Code     string        `json:"code"`
	Message  string        `json:"message"`
	Problems []LineProblem `json:"problems"`
}

type importResult struct {
	DryRun    bool `json:"dry_run"`
	Rows      int  `json:"rows"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
}

// importCSV checks every row of a CSV file and, only if all are good,
// upserts them in one transaction (or, with ?dry_run=1, counts what it would
// do and rolls back).
func (k *resource[In, R]) importCSV(c *fiber.Ctx) error {
	a := k.api
	body := c.Body()
	if len(body) > maxImportBytes {
		return a.write(c, fail(http.StatusRequestEntityTooLarge, "invalid", "a file may hold at most %d MB; split it", maxImportBytes>>20))
	}
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); !slices.Contains([]string{"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}, mt) {
		return a.write(c, fail(http.StatusUnsupportedMediaType, "invalid", "the body must be a CSV file (Content-Type: text/csv)"))
	}
	dryRun := c.Query("dry_run") == "1" || c.Query("dry_run") == "true"
	rows, problems := readCSV(body, k.columns)
	if problems != nil {
		return writeImportProblems(c, problems)
	}
	recs := make([]R, 0, len(rows))
	var refs []reference
	var refLines []int
	seen := map[string]int{}
	for _, row := range rows {
		ck := a.checker()
		r, rowRefs := k.check(ck, k.fromCSV(row.cell))
		for _, p := range ck.problems {
			problems = append(problems, LineProblem{Line: row.line, Field: p.Field, Code: p.Code, Params: p.Params, Message: p.Message})
		}
		if ck.problems == nil {
			if first, ok := seen[k.key(r)]; ok {
				problems = append(problems, LineProblem{Line: row.line, Field: k.keyField, Code: "duplicate", Params: map[string]string{"line": strconv.Itoa(first)}, Message: fmt.Sprintf("the same %s as line %d", k.noun, first)})
			} else {
				seen[k.key(r)] = row.line
			}
		}
		for _, ref := range rowRefs {
			refs = append(refs, ref)
			refLines = append(refLines, row.line)
		}
		recs = append(recs, r)
	}
	unknown, err := a.unknownRefs(c.UserContext(), refs)
	if err != nil {
		return a.write(c, err)
	}
	for i, ref := range refs {
		if unknown[i] {
			problems = append(problems, LineProblem{Line: refLines[i], Field: ref.field, Code: ref.missingCode(), Message: ref.missing()})
		}
	}
	if problems != nil {
		return writeImportProblems(c, problems)
	}
	created, updated, err := k.load(c.UserContext(), user(c), recs, dryRun)
	if err != nil {
		return a.write(c, k.storeError(err))
	}
	return c.JSON(importResult{DryRun: dryRun, Rows: len(recs), Created: created, Updated: updated, Unchanged: len(recs) - created - updated})
}

func writeImportProblems(c *fiber.Ctx, problems []LineProblem) error {
	slices.SortStableFunc(problems, func(a, b LineProblem) int { return a.Line - b.Line })
	lines := map[int]bool{}
	for _, p := range problems {
		lines[p.Line] = true
	}
	e := importError{
		Status: http.StatusUnprocessableEntity, Code: "invalid", Problems: problems,
		Message: fmt.Sprintf("%d lines of the file have problems; nothing was imported", len(lines)),
	}
	return c.Status(e.Status).JSON(fiber.Map{"error": e})
}

// csvRow is one data row of an imported file.
type csvRow struct {
	line  int
	cells map[string]string
}

func (r csvRow) cell(column string) string { return r.cells[column] }

// readCSV reads a UTF-8 CSV file (a byte order mark, as Excel writes one,
// is skipped) whose first line names its columns, in any order and case.
// Blank rows are skipped.
func readCSV(body []byte, columns []csvColumn) ([]csvRow, []LineProblem) {
	if line := invalidUTF8Line(body); line > 0 {
		return nil, []LineProblem{{Line: line, Code: "not_utf8", Message: `the file is not UTF-8 text; save it as "CSV UTF-8"`}}
	}
	body = bytes.TrimPrefix(body, []byte("\uFEFF"))
	names := make([]string, len(columns))
	for i, col := range columns {
		names[i] = col.name
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, []LineProblem{{Line: 1, Code: "empty_file", Params: map[string]string{"columns": strings.Join(names, ",")}, Message: "the file is empty; its first line must name the columns: " + strings.Join(names, ",")}}
	}
	if err != nil {
		return nil, []LineProblem{csvProblem(err)}
	}
	var problems []LineProblem
	index := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(width.Narrow.String(h)))
		_, twice := index[name]
		switch {
		case !slices.Contains(names, name):
			problems = append(problems, LineProblem{Line: 1, Field: name, Code: "unknown_column", Params: map[string]string{"columns": strings.Join(names, ",")}, Message: "unknown column; the columns are " + strings.Join(names, ",")})
		case twice:
			problems = append(problems, LineProblem{Line: 1, Field: name, Code: "column_twice", Message: "the column is named twice"})
		default:
			index[name] = i
		}
	}
	for _, col := range columns {
		if _, ok := index[col.name]; !ok && !col.optional {
			problems = append(problems, LineProblem{Line: 1, Field: col.name, Code: "missing_column", Message: "missing column"})
		}
	}
	if problems != nil {
		return nil, problems
	}
	var rows []csvRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, append(problems, csvProblem(err))
		}
		line, _ := r.FieldPos(0)
		if !slices.ContainsFunc(rec, func(s string) bool { return strings.TrimSpace(s) != "" }) {
			continue
		}
		if len(rows) == maxImportRows {
			return nil, []LineProblem{{Line: line, Code: "too_many_rows", Params: map[string]string{"max": strconv.Itoa(maxImportRows)}, Message: fmt.Sprintf("a file may hold at most %d rows; split it", maxImportRows)}}
		}
		if len(rec) != len(header) {
			problems = append(problems, LineProblem{Line: line, Code: "field_count", Params: map[string]string{"got": strconv.Itoa(len(rec)), "want": strconv.Itoa(len(header))}, Message: fmt.Sprintf("has %d fields where the header names %d", len(rec), len(header))})
			continue
		}
		cells := make(map[string]string, len(index))
		for name, i := range index {
			cells[name] = rec[i]
		}
		rows = append(rows, csvRow{line: line, cells: cells})
	}
	if rows == nil && problems == nil {
		problems = []LineProblem{{Line: 2, Code: "no_rows", Message: "the file has no rows to import"}}
	}
	return rows, problems
}

func csvProblem(err error) LineProblem {
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		return LineProblem{Line: pe.StartLine, Message: pe.Err.Error()}
	}
	return LineProblem{Line: 1, Message: err.Error()}
}

// invalidUTF8Line returns the line holding the first byte that is not
// UTF-8, or 0 when all are.
func invalidUTF8Line(b []byte) int {
	if utf8.Valid(b) {
		return 0
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return 1 + bytes.Count(b[:i], []byte("\n"))
		}
		i += size
	}
	return 0
}
