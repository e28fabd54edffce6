package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// The demo registry that gatewaytest seeds: three directors, six children,
// two guardians, two allowance records (C0001 and C0002, living) and one
// supervisor.

// regProblem is a field problem; Line is set by imports.
type regProblem struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

type regErrorBody struct {
	Error struct {
		Status   int          `json:"status"`
		Code     string       `json:"code"`
		Message  string       `json:"message"`
		Problems []regProblem `json:"problems"`
	} `json:"error"`
}

type regListBody struct {
	Items   []map[string]any `json:"items"`
	Page    int              `json:"page"`
	PerPage int              `json:"per_page"`
	Total   int              `json:"total"`
}

type regImportBody struct {
	DryRun    bool `json:"dry_run"`
	Rows      int  `json:"rows"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
}

type regAuditBody struct {
	Entries []struct {
		Actor      string         `json:"actor"`
		Action     string         `json:"action"`
		ObjectType string         `json:"object_type"`
		ObjectID   string         `json:"object_id"`
		Before     map[string]any `json:"before"`
		After      map[string]any `json:"after"`
	} `json:"entries"`
}

// regDecode decodes a response body, failing the test when it is not the
// JSON expected.
func regDecode[T any](t *testing.T, what string, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, body)
	}
	return v
}

// regWant calls the API and fails the test unless the status is want.
func regWant(t *testing.T, g *gatewaytest.Gateway, want int, method, path, token, contentType, body string) string {
	t.Helper()
	status, got := api(t, g, method, path, token, contentType, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, got, want)
	}
	return got
}

// regFailure calls the API and checks the error: its status and code and,
// when fields is not nil, exactly the fields of its problems.
func regFailure(t *testing.T, g *gatewaytest.Gateway, status int, code string, fields []string, method, path, token, contentType, body string) regErrorBody {
	t.Helper()
	e := regDecode[regErrorBody](t, method+" "+path, regWant(t, g, status, method, path, token, contentType, body))
	if e.Error.Status != status || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("%s %s: error %+v, want %d %s", method, path, e.Error, status, code)
	}
	if fields != nil {
		var got []string
		for _, p := range e.Error.Problems {
			got = append(got, p.Field)
		}
		if !slices.Equal(got, fields) {
			t.Fatalf("%s %s %s: problems %+v, want fields %v", method, path, body, e.Error.Problems, fields)
		}
	}
	return e
}

func regList(t *testing.T, g *gatewaytest.Gateway, token, path string) regListBody {
	t.Helper()
	return regDecode[regListBody](t, path, regWant(t, g, 200, "GET", path, token, "", ""))
}

func regAudit(t *testing.T, g *gatewaytest.Gateway, token string) regAuditBody {
	t.Helper()
	return regDecode[regAuditBody](t, "audit", regWant(t, g, 200, "GET", "/audit", token, "", ""))
}

func TestRegistryAuth(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	viewer := mustUser(t, g, "viewer1", access.RoleViewer)
	editor := mustUser(t, g, "editor1", access.RoleEditor)
	for _, resource := range []string{"directors", "children", "guardians", "allowances", "supervisors"} {
		for _, call := range []struct{ method, path, contentType, body string }{
			{"GET", "", "", ""},
			{"GET", "?q=a&page=2", "", ""},
			{"GET", "/1", "", ""},
			{"POST", "", "application/json", "{}"},
			{"PUT", "/1", "application/json", "{}"},
			{"POST", "/1/deactivate", "", ""},
			{"POST", "/1/activate", "", ""},
			{"POST", "/import?dry_run=1", "text/csv", "phone\n"},
		} {
			path := "/registry/" + resource + call.path
			regFailure(t, g, 401, "unauthorized", nil, call.method, path, "", call.contentType, call.body)
			// Children's names and families' phones: the editors of menus
			// and the readers of reports see none of it.
			regFailure(t, g, 403, "forbidden", nil, call.method, path, viewer, call.contentType, call.body)
			regFailure(t, g, 403, "forbidden", nil, call.method, path, editor, call.contentType, call.body)
		}
	}
	admin := mustUser(t, g, "admin1", access.RoleAdmin)
	regFailure(t, g, 404, "not_found", nil, "GET", "/registry/parents", admin, "", "")
	if status, body := api(t, g, "GET", "/openapi.json", "", "", ""); status != 200 || !json.Valid([]byte(body)) ||
		!strings.Contains(body, "/registry/children/import") || !strings.Contains(body, "code,name,birth_date,village,county,directors") {
		t.Fatalf("openapi does not document the registry: %d", status)
	}
}

// registryCase drives one resource through the life every resource has:
// list, search, page, create, get, update, deactivate, activate, and the
// refusals, then finds each change in the audit log.
type registryCase struct {
	resource, noun string
	seeded         int    // records in the demo registry
	search         string // a search text (in another case than stored)
	found          int    // how many records it finds
	create         string // a new record, in Chinese
	key            string // its phone or code, as stored and audited
	update         string // the record changed, with fields no request may set
	changed        string // what the updated record then shows
	duplicate      string // a record whose phone or code is taken
	invalid        []registryInvalid
}

// registryInvalid is a request with problems in exactly fields.
type registryInvalid struct {
	body   string
	fields []string
}

var registryCases = []registryCase{{
	resource: "directors", noun: "director", seeded: 3, search: "ZHANG", found: 1,
	create:    `{"phone": "138 0013 8010", "name": "陈静", "language": "zh", "village": "青山村", "county": "云岭县"}`,
	key:       "+8613800138010",
	update:    `{"id": 1, "active": false, "created_at": "2001-01-01T00:00:00Z", "phone": "+8613800138010", "name": "陈静静", "language": "en", "village": "青山村", "county": "云岭县"}`,
	changed:   `"name":"陈静静"`,
	duplicate: `{"phone": "+86 138 0013 8001", "name": "x", "language": "zh", "village": "v", "county": "c"}`,
	invalid: []registryInvalid{
		{`{"phone": "12345", "name": " ", "language": "fr", "village": "v", "county": ""}`, []string{"phone", "name", "language", "county"}},
		{`{"phone": "", "name": "` + strings.Repeat("名", 101) + `", "language": "en", "village": "v", "county": "c"}`, []string{"phone", "name"}},
		{`{"phone": 13800138010, "name": "x"}`, []string{"phone"}}, // a number where text belongs
	},
}, {
	resource: "children", noun: "child", seeded: 6, search: "c000", found: 6,
	create:    `{"code": "ｃ0100", "name": "小红", "birth_date": "2016-02-29", "village": "青山村", "county": "云岭县", "directors": ["+8613800138003", "13800138001"]}`,
	key:       "C0100",
	update:    `{"id": 1, "active": false, "code": "C0100", "name": "小红", "birth_date": "", "village": "石门村", "county": "云岭县", "directors": ["+8613800138001"]}`,
	changed:   `"birth_date":null,"village":"石门村","county":"云岭县","directors":["+8613800138001"]`,
	duplicate: `{"code": "C0001", "name": "x", "village": "v", "county": "c", "directors": ["+8613800138001"]}`,
	invalid: []registryInvalid{
		{`{"code": "C-1", "name": "x", "birth_date": "2015/03/12", "village": "v", "county": "c", "directors": []}`, []string{"code", "birth_date", "directors"}},
		{`{"code": "C0101", "name": "x", "birth_date": "2999-01-01", "village": "v", "county": "c", "directors": ["+8613800138001", "not a phone", "+8613800138099"]}`, []string{"birth_date", "directors[1]", "directors[2]"}},
		{`{"code": "C0101", "name": "x", "birth_date": "1850-01-01", "village": "v", "county": "c", "directors": "+8613800138001"}`, []string{"directors"}},
	},
}, {
	resource: "guardians", noun: "guardian", seeded: 2, search: "liu", found: 1,
	create:    `{"phone": "+8613900139010", "name": "张丽", "language": "zh", "children": ["C0003", "C0004"], "status_secret": "123X"}`,
	key:       "+8613900139010",
	update:    `{"id": 1, "active": false, "phone": "+8613900139010", "name": "张丽", "language": "zh", "children": ["C0003"]}`,
	changed:   `"children":["C0003"]`,
	duplicate: `{"phone": "+8613900139001", "name": "x", "language": "zh", "children": []}`,
	invalid: []registryInvalid{
		{`{"phone": "+8613900139011", "name": "x", "language": "zh", "children": ["C0001", "C9999", "12"], "status_secret": "12"}`, []string{"children[2]", "status_secret", "children[1]"}},
	},
}, {
	resource: "allowances", noun: "allowance", seeded: 2, search: "王小明", found: 1,
	create:    `{"child": "C0003", "scheme": "orphan", "status": "applied", "monthly_yuan": 300, "next_payment": "2027-01-15"}`,
	key:       "C0003:orphan",
	update:    `{"id": 1, "active": false, "child": "C0003", "scheme": "orphan", "status": "paid", "monthly_yuan": "350", "last_paid": "2026-01-15", "next_payment": "2027-02-15"}`,
	changed:   `"status":"paid","monthly_yuan":350,"last_paid":"2026-01-15","next_payment":"2027-02-15"`,
	duplicate: `{"child": "C0001", "scheme": "living", "status": "applied"}`,
	invalid: []registryInvalid{
		{`{"child": "C9999", "scheme": "pension", "status": "lost", "monthly_yuan": -5}`, []string{"scheme", "status", "monthly_yuan", "child"}},
		{`{"child": "C0003", "scheme": "other", "status": "paid", "monthly_yuan": 1.5, "last_paid": "2999-01-01", "next_payment": "soon"}`, []string{"monthly_yuan", "last_paid", "next_payment"}},
		{`{"child": "", "scheme": "other", "status": "paid", "monthly_yuan": "lots"}`, []string{"child", "monthly_yuan"}},
	},
}, {
	resource: "supervisors", noun: "supervisor", seeded: 3, search: "赵主", found: 1,
	create:    `{"phone": "+8613700137010", "name": "钱主任", "language": "zh", "county": "云岭县", "area": "YL-QS"}`,
	key:       "+8613700137010",
	update:    `{"id": 1, "active": false, "phone": "+8613700137010", "name": "钱主任", "language": "zh", "county": "雾山县", "area": "YL"}`,
	changed:   `"county":"雾山县","area":"YL"`,
	duplicate: `{"phone": "+8613700137001", "name": "x", "language": "zh", "county": "c"}`,
	invalid: []registryInvalid{
		{`{"phone": "+86137", "name": "x", "language": "ZH ", "county": ""}`, []string{"phone", "county"}},
		{`{"phone": "+8613700137011", "name": "x", "language": "zh", "county": "c", "area": "NOWHERE"}`, []string{"area"}},
	},
}, {
	resource: "areas", noun: "area", seeded: 5, search: "yl-qs", found: 2,
	create:    `{"code": "YL-HX", "name": "河西镇", "level": "township", "parent": "YL"}`,
	key:       "YL-HX",
	update:    `{"id": 1, "active": false, "code": "YL-HX", "name": "河西乡", "level": "township", "parent": "YL"}`,
	changed:   `"name":"河西乡","level":"township","parent":"YL"`,
	duplicate: `{"code": "YL", "name": "x", "level": "county"}`,
	invalid: []registryInvalid{
		{`{"code": "a b", "name": "", "level": "city"}`, []string{"name", "level", "code"}},
		{`{"code": "YL-X", "name": "x", "level": "county", "parent": "YL-QS-01"}`, []string{"parent"}},
		{`{"code": "YL-Y", "name": "x", "level": "village", "parent": "NOWHERE"}`, []string{"parent"}},
	},
}}

// regLog collects a gateway's logs.
type regLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *regLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *regLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestRegistryResources(t *testing.T) {
	t.Parallel()
	logs := &regLog{}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Log: logs})
	admin := mustUser(t, g, "admin1", access.RoleAdmin)
	t.Cleanup(func() {
		// Names and phones of the registry never reach the log, not even
		// masked.
		for _, secret := range []string{"陈静", "小红", "张丽", "钱主任", "138001380", "139001390", "137001370", "8013", "9010"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log holds %q:\n%s", secret, logs)
			}
		}
	})
	for _, tc := range registryCases {
		t.Run(tc.resource, func(t *testing.T) {
			base := "/registry/" + tc.resource
			list := regList(t, g, admin, base)
			if list.Total != tc.seeded || len(list.Items) != tc.seeded || list.Page != 1 || list.PerPage != 50 {
				t.Fatalf("list: %+v", list)
			}
			if found := regList(t, g, admin, base+"?q="+url.QueryEscape(tc.search)); found.Total != tc.found || len(found.Items) != tc.found {
				t.Fatalf("search %q: %+v", tc.search, found)
			}
			if none := regList(t, g, admin, base+"?q=%25"); none.Total != 0 || none.Items == nil {
				t.Fatalf("a %% searched for wildcards: %+v", none)
			}

			created := regDecode[map[string]any](t, "create", regWant(t, g, 201, "POST", base, admin, "application/json", tc.create))
			id := int(created["id"].(float64))
			path := fmt.Sprintf("%s/%d", base, id)
			got := regWant(t, g, 200, "GET", path, admin, "", "")
			if !strings.Contains(got, `"active":true`) || !strings.Contains(got, tc.key[strings.Index(tc.key, ":")+1:]) {
				t.Fatalf("get: %s", got)
			}
			regFailure(t, g, 409, "conflict", nil, "POST", base, admin, "application/json", tc.duplicate)
			for _, bad := range tc.invalid {
				regFailure(t, g, 422, "invalid", bad.fields, "POST", base, admin, "application/json", bad.body)
				regFailure(t, g, 422, "invalid", bad.fields, "PUT", path, admin, "application/json", bad.body)
			}
			regFailure(t, g, 400, "invalid", nil, "POST", base, admin, "application/json", `{"name": `)
			regFailure(t, g, 415, "invalid", nil, "POST", base, admin, "text/plain", tc.create)

			// id, active and timestamps in the body are not the request's to set.
			updated := regWant(t, g, 200, "PUT", path, admin, "application/json", tc.update)
			if !strings.Contains(updated, tc.changed) || !strings.Contains(updated, fmt.Sprintf(`"id":%d,`, id)) || !strings.Contains(updated, `"active":true`) {
				t.Fatalf("update: %s, want %s", updated, tc.changed)
			}
			if one := regWant(t, g, 200, "GET", path, admin, "", ""); one != updated {
				t.Fatalf("get after update: %s, want %s", one, updated)
			}
			// The same again changes nothing, and is not audited.
			regWant(t, g, 200, "PUT", path, admin, "application/json", tc.update)
			regFailure(t, g, 409, "conflict", nil, "PUT", path, admin, "application/json", tc.duplicate)

			off := regWant(t, g, 200, "POST", path+"/deactivate", admin, "", "")
			if !strings.Contains(off, `"active":false`) {
				t.Fatalf("deactivate: %s", off)
			}
			// Deactivated records stay, listed with their flag.
			list = regList(t, g, admin, base+"?per_page=200")
			if list.Total != tc.seeded+1 || !slices.ContainsFunc(list.Items, func(it map[string]any) bool { return it["id"] == float64(id) && it["active"] == false }) {
				t.Fatalf("list after deactivate: %+v", list)
			}
			regWant(t, g, 200, "POST", path+"/activate", admin, "", "")

			// Paging: pages of one cover every record once.
			seen := map[float64]bool{}
			for page := 1; page <= tc.seeded+1; page++ {
				p := regList(t, g, admin, fmt.Sprintf("%s?per_page=1&page=%d", base, page))
				if p.Total != tc.seeded+1 || len(p.Items) != 1 || p.Page != page || p.PerPage != 1 || seen[p.Items[0]["id"].(float64)] {
					t.Fatalf("page %d: %+v", page, p)
				}
				seen[p.Items[0]["id"].(float64)] = true
			}
			if past := regList(t, g, admin, fmt.Sprintf("%s?per_page=1&page=%d", base, tc.seeded+2)); len(past.Items) != 0 || past.Total != tc.seeded+1 {
				t.Fatalf("past the last page: %+v", past)
			}
			if most := regList(t, g, admin, base+"?per_page=500"); most.PerPage != 200 {
				t.Fatalf("per_page over the maximum: %+v", most)
			}
			regFailure(t, g, 400, "invalid", []string{"page", "per_page"}, "GET", base+"?page=0&per_page=x", admin, "", "")

			for _, p := range []string{"/999999", "/abc", "/-1"} {
				regFailure(t, g, 404, "not_found", nil, "GET", base+p, admin, "", "")
			}
			regFailure(t, g, 404, "not_found", nil, "PUT", base+"/999999", admin, "application/json", tc.update)
			regFailure(t, g, 404, "not_found", nil, "POST", base+"/999999/deactivate", admin, "", "")

			// Each change once in the audit log, by its author, with the
			// record before and after.
			var actions []string
			for _, e := range regAudit(t, g, admin).Entries {
				if e.ObjectType != tc.noun || e.ObjectID != tc.key {
					continue
				}
				actions = append(actions, e.Action)
				if e.Actor != "admin1" {
					t.Errorf("%s by %q", e.Action, e.Actor)
				}
				switch e.Action {
				case tc.noun + ".create":
					if e.Before != nil || e.After == nil {
						t.Errorf("create: before %v after %v", e.Before, e.After)
					}
				case tc.noun + ".update":
					if e.Before == nil || e.After == nil || fmt.Sprint(e.Before) == fmt.Sprint(e.After) {
						t.Errorf("update: before %v after %v", e.Before, e.After)
					}
				case tc.noun + ".deactivate":
					if e.Before["active"] != true || e.After["active"] != false {
						t.Errorf("deactivate: before %v after %v", e.Before, e.After)
					}
				}
			}
			want := []string{tc.noun + ".activate", tc.noun + ".deactivate", tc.noun + ".update", tc.noun + ".create"} // newest first
			if !slices.Equal(actions, want) {
				t.Fatalf("audit %v, want %v", actions, want)
			}
		})
	}
}

// TestRegistryLinks: children list their directors' phones, guardians
// their children's codes, and the links the registry writes are the ones
// the menus and SMS use.
func TestRegistryLinks(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	admin := mustUser(t, g, "admin1", access.RoleAdmin)
	children := regList(t, g, admin, "/registry/children?q=C0009")
	if len(children.Items) != 1 || fmt.Sprint(children.Items[0]["directors"]) != "[+8613800138003]" || children.Items[0]["name"] != "周洋" || children.Items[0]["birth_date"] != "2014-09-09" {
		t.Fatalf("children: %+v", children)
	}
	guardians := regList(t, g, admin, "/registry/guardians?q="+url.QueryEscape("+8613900139001"))
	if len(guardians.Items) != 1 || fmt.Sprint(guardians.Items[0]["children"]) != "[C0001]" || guardians.Items[0]["status_secret"] != nil {
		t.Fatalf("guardians: %+v", guardians)
	}
	// A search by a director's phone finds their children.
	if byDirector := regList(t, g, admin, "/registry/children?q=138003"); byDirector.Total != 1 {
		t.Fatalf("children of a director: %+v", byDirector)
	}

	// Assigning C0009 to 李梅 as well lets her report on it at once.
	id := int(children.Items[0]["id"].(float64))
	regWant(t, g, 200, "PUT", fmt.Sprintf("/registry/children/%d", id), admin, "application/json",
		`{"code": "C0009", "name": "周洋", "birth_date": "2014-09-09", "village": "石门村", "county": "云岭县", "directors": ["+8613800138003", "+8613800138001"]}`)
	caller, err := g.DB.CallerByPhone(t.Context(), "+8613800138001")
	if err != nil || !slices.ContainsFunc(caller.Children, func(c menus.ChildBrief) bool { return c.Code == "C0009" }) {
		t.Fatalf("李梅's children: %+v %v", caller.Children, err)
	}
	// Deactivating it takes it out of every director's menu.
	regWant(t, g, 200, "POST", fmt.Sprintf("/registry/children/%d/deactivate", id), admin, "", "")
	caller, _ = g.DB.CallerByPhone(t.Context(), "+8613800138003")
	if slices.ContainsFunc(caller.Children, func(c menus.ChildBrief) bool { return c.Code == "C0009" }) {
		t.Fatalf("a deactivated child is still offered: %+v", caller.Children)
	}
	// A guardian's secret set through the API works by SMS.
	gid := int(guardians.Items[0]["id"].(float64))
	regWant(t, g, 200, "PUT", fmt.Sprintf("/registry/guardians/%d", gid), admin, "application/json",
		`{"phone": "+8613900139001", "name": "王芳芳", "language": "zh", "children": ["C0001"], "status_secret": "5555"}`)
	if ok, err := g.DB.CheckStatusSecret(t.Context(), "+8613900139001", "C0001", "5555"); !ok || err != nil {
		t.Fatalf("new secret: %v %v", ok, err)
	}
	// A new phone needs the secret again: the stored hash is bound to the phone.
	regFailure(t, g, 422, "invalid", []string{"status_secret"}, "PUT", fmt.Sprintf("/registry/guardians/%d", gid), admin, "application/json",
		`{"phone": "+8613900139009", "name": "王芳芳", "language": "zh", "children": ["C0001"]}`)
}

// regCounts is how many records of every resource there are, and how many
// audit entries: what an import that writes nothing leaves alone.
func regCounts(t *testing.T, g *gatewaytest.Gateway, token string) string {
	t.Helper()
	var parts []string
	for _, r := range []string{"directors", "children", "guardians", "allowances", "supervisors"} {
		parts = append(parts, fmt.Sprintf("%s=%d", r, regList(t, g, token, "/registry/"+r).Total))
	}
	return strings.Join(parts, " ") + fmt.Sprintf(" audit=%d", len(regAudit(t, g, token).Entries))
}

func regImport(t *testing.T, g *gatewaytest.Gateway, token, resource, query, csv string) regImportBody {
	t.Helper()
	return regDecode[regImportBody](t, "import", regWant(t, g, 200, "POST", "/registry/"+resource+"/import"+query, token, "text/csv; charset=utf-8", csv))
}

func TestRegistryImport(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	admin := mustUser(t, g, "admin1", access.RoleAdmin)

	// Excel's "CSV UTF-8": a byte order mark and CRLF line ends. One
	// director renamed, one new (a national number), one as it was.
	directors := "\uFEFFphone,name,language,village,county\r\n" +
		"+8613800138001,李梅梅,zh,青山村,云岭县\r\n" +
		"13800138010,\"陈, 静\",zh,青山村,云岭县\r\n" +
		"+8613800138003,王芳,zh,石门村,云岭县\r\n"
	before := regCounts(t, g, admin)
	if dry := regImport(t, g, admin, "directors", "?dry_run=1", directors); dry != (regImportBody{DryRun: true, Rows: 3, Created: 1, Updated: 1, Unchanged: 1}) {
		t.Fatalf("dry run: %+v", dry)
	}
	if after := regCounts(t, g, admin); after != before {
		t.Fatalf("a dry run wrote: %s, was %s", after, before)
	}
	if got := regImport(t, g, admin, "directors", "", directors); got != (regImportBody{Rows: 3, Created: 1, Updated: 1, Unchanged: 1}) {
		t.Fatalf("import: %+v", got)
	}
	if found := regList(t, g, admin, "/registry/directors?q=138010"); found.Total != 1 || found.Items[0]["name"] != "陈, 静" || found.Items[0]["phone"] != "+8613800138010" {
		t.Fatalf("imported director: %+v", found)
	}
	if found := regList(t, g, admin, "/registry/directors?q="+url.QueryEscape("李梅梅")); found.Total != 1 {
		t.Fatalf("updated director: %+v", found)
	}
	if again := regImport(t, g, admin, "directors", "", directors); again != (regImportBody{Rows: 3, Unchanged: 3}) {
		t.Fatalf("the same file again: %+v", again)
	}

	// Columns in any order and case; several directors or children per
	// cell, separated by ";".
	imports := []struct {
		resource, csv string
		want          regImportBody
	}{
		{"children", "Directors,CODE,name,village,county,birth_date\n" +
			"+8613800138010; +8613800138001,C0100,小明,青山村,云岭县,2019-06-01\n" +
			"+8613800138003,C0009,周洋,石门村,云岭县,2014-09-09\n" +
			"+8613800138002,C0001,王小明,青山村,云岭县,2015-03-12\n", regImportBody{Rows: 3, Created: 1, Updated: 1, Unchanged: 1}},
		{"guardians", "phone,name,language,children,status_secret\n" +
			"+8613900139010,赵敏,zh,C0100;C0003,4321\n" +
			"+8613900139002,Liu Min,en,C0002,\n", regImportBody{Rows: 2, Created: 1, Unchanged: 1}},
		{"allowances", "child,scheme,status,monthly_yuan,last_paid,next_payment\n" +
			"C0100,orphan,approved,600,,2027-01-15\n" +
			"C0001,living,paid,500,2026-10-15,2027-01-15\n", regImportBody{Rows: 2, Created: 1, Updated: 1}},
		{"supervisors", "phone,name,language,county\n+8613700137010,孙主任,zh,雾山县\n", regImportBody{Rows: 1, Created: 1}},
	}
	for _, im := range imports {
		if got := regImport(t, g, admin, im.resource, "", im.csv); got != im.want {
			t.Fatalf("import %s: %+v, want %+v", im.resource, got, im.want)
		}
	}
	child := regList(t, g, admin, "/registry/children?q=C0100").Items[0]
	if fmt.Sprint(child["directors"]) != "[+8613800138010 +8613800138001]" || child["name"] != "小明" {
		t.Fatalf("imported child: %+v", child)
	}
	if c1 := regList(t, g, admin, "/registry/children?q=C0001").Items[0]; fmt.Sprint(c1["directors"]) != "[+8613800138002]" {
		t.Fatalf("reassigned child: %+v", c1)
	}
	if ok, _ := g.DB.CheckStatusSecret(t.Context(), "+8613900139010", "C0003", "4321"); !ok {
		t.Fatal("imported secret does not work")
	}

	// One audit entry per row written, by the importer.
	var imported []string
	for _, e := range regAudit(t, g, admin).Entries {
		if e.Actor == "admin1" && e.ObjectType != "api_token" {
			imported = append(imported, e.Action+" "+e.ObjectID)
		}
	}
	for _, want := range []string{"director.update +8613800138001", "director.create +8613800138010", "child.create C0100", "child.update C0001",
		"guardian.create +8613900139010", "allowance.create C0100:orphan", "allowance.update C0001:living", "supervisor.create +8613700137010"} {
		if !slices.Contains(imported, want) {
			t.Errorf("no audit entry %q in %v", want, imported)
		}
	}
	if len(imported) != 8 {
		t.Errorf("%d audit entries, want 8: %v", len(imported), imported)
	}
}

func TestRegistryImportRefusals(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	admin := mustUser(t, g, "admin1", access.RoleAdmin)
	before := regCounts(t, g, admin)

	// Three bad rows among good ones, in different fields: every one is
	// reported by line (the header is line 1), and nothing is written, not
	// even the good rows.
	bad := "code,name,birth_date,village,county,directors\n" +
		"C0200,好孩子,2015-01-01,青山村,云岭县,+8613800138001\n" +
		"C02,坏编号,2015-01-01,青山村,云岭县,+8613800138001\n" +
		"C0202,未来,2999-01-01,青山村,云岭县,+8613800138001\n" +
		"C0203,没人管,2015-01-01,青山村,云岭县,+8613800138099\n" +
		"C0204,好孩子,2015-01-01,青山村,云岭县,+8613800138002\n"
	e := regFailure(t, g, 422, "invalid", []string{"code", "birth_date", "directors[0]"}, "POST", "/registry/children/import", admin, "text/csv", bad)
	if lines := []int{e.Error.Problems[0].Line, e.Error.Problems[1].Line, e.Error.Problems[2].Line}; !slices.Equal(lines, []int{3, 4, 5}) {
		t.Fatalf("lines %v, want 3, 4, 5: %+v", lines, e.Error.Problems)
	}
	regFailure(t, g, 422, "invalid", []string{"code", "birth_date", "directors[0]"}, "POST", "/registry/children/import?dry_run=1", admin, "text/csv", bad)

	for _, tc := range []struct {
		name, resource, csv string
		problems            []regProblem // line and field; messages are not compared
	}{
		{"missing column", "directors", "phone,name,language,village\n+8613800138020,x,zh,v\n", []regProblem{{Line: 1, Field: "county"}}},
		{"unknown column", "supervisors", "phone,name,language,county,email\n", []regProblem{{Line: 1, Field: "email"}}},
		{"column twice", "supervisors", "phone,name,language,county,Phone\n", []regProblem{{Line: 1, Field: "phone"}}},
		{"empty file", "directors", "\uFEFF", []regProblem{{Line: 1}}},
		{"header only", "directors", "phone,name,language,village,county\n", []regProblem{{Line: 2}}},
		{"not UTF-8", "directors", "phone,name,language,village,county\n+8613800138020,\xc0\xee\xc3\xb7,zh,v,c\n", []regProblem{{Line: 2}}},
		{"wrong field count", "supervisors", "phone,name,language,county\n+8613700137020,x,zh\n", []regProblem{{Line: 2}}},
		{"broken quotes", "supervisors", "phone,name,language,county\n+8613700137020,\"x,zh,c\n", []regProblem{{Line: 2}}},
		{"same phone twice", "supervisors", "phone,name,language,county\n+8613700137020,x,zh,c\n\n+86 137 0013 7020,y,en,c\n", []regProblem{{Line: 4, Field: "phone"}}},
		{"same child and scheme twice", "allowances", "child,scheme,status,monthly_yuan\nC0003,living,applied,1\nc0003,Living,paid,2\n", []regProblem{{Line: 3, Field: "scheme"}}},
		{"guardian rows", "guardians", "phone,name,language,children\n+8613900139020,x,de,C0001;C9999\n", []regProblem{{Line: 2, Field: "language"}, {Line: 2, Field: "children[1]"}}},
		{"allowance rows", "allowances", "child,scheme,status,monthly_yuan,last_paid\nC9999,living,applied,-1,2026-13-01\nC0003,living,applied,abc,\n",
			[]regProblem{{Line: 2, Field: "monthly_yuan"}, {Line: 2, Field: "last_paid"}, {Line: 2, Field: "child"}, {Line: 3, Field: "monthly_yuan"}}},
	} {
		e := regFailure(t, g, 422, "invalid", nil, "POST", "/registry/"+tc.resource+"/import", admin, "text/csv", tc.csv)
		var got []regProblem
		for _, p := range e.Error.Problems {
			if p.Message == "" {
				t.Errorf("%s: a problem without a message", tc.name)
			}
			got = append(got, regProblem{Line: p.Line, Field: p.Field})
		}
		if !slices.Equal(got, tc.problems) {
			t.Errorf("%s: problems %+v, want %+v", tc.name, e.Error.Problems, tc.problems)
		}
	}
	regFailure(t, g, 415, "invalid", nil, "POST", "/registry/directors/import", admin, "application/json", `{}`)
	if after := regCounts(t, g, admin); after != before {
		t.Fatalf("refused imports wrote: %s, was %s", after, before)
	}
}
