package gateway_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus/access"
)

// apiIn calls the admin API as a console in lang would ("": no
// Accept-Language, as a script would).
func apiIn(t *testing.T, g *gatewaytest.Gateway, lang, method, path, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type reasonError struct {
	Error struct {
		Code     string            `json:"code"`
		Reason   string            `json:"reason"`
		Params   map[string]string `json:"params"`
		Message  string            `json:"message"`
		Problems []struct {
			Node    string `json:"node"`
			Field   string `json:"field"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"problems"`
	} `json:"error"`
}

// TestAdminErrorReasons: every error a console shows has a stable reason
// (with its values) that the console words in its user's language, and a
// tree's problems come worded in the language the request accepts.
func TestAdminErrorReasons(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	editor := mustUser(t, g, "editor2", access.RoleEditor)
	viewer := mustUser(t, g, "viewer2", access.RoleViewer)
	src, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")
	broken := strings.Replace(string(src), "next: visit_situation", "next: nowhere", 1)
	tests := []struct {
		name, lang, method, path, token, contentType, body string
		status                                             int
		reason                                             string
		params                                             map[string]string
		problem                                            string // a problem's code and message, "code: message"
	}{
		{"login without password", "zh", "POST", "/login", "", "application/json", `{"username":"editor2"}`, 400, "credentials_required", nil, "required: required"},
		{"wrong password", "zh", "POST", "/login", "", "application/json", `{"username":"editor2","password":"wrong password!"}`, 401, "wrong_credentials", nil, ""},
		{"no token", "zh", "GET", "/menus", "", "", "", 401, "token_required", nil, ""},
		{"viewer on menus", "zh", "GET", "/menus", viewer, "", "", 403, "role_required", map[string]string{"role": "editor"}, ""},
		{"unknown version", "zh", "GET", "/menus/director/versions/9", editor, "", "", 404, "version_unknown", map[string]string{"version": "9", "tree": "director"}, ""},
		{"broken tree in Chinese", "zh-CN,zh;q=0.9", "POST", "/menus/director/validate", editor, "application/yaml", broken, 422, "tree_invalid", map[string]string{"count": "4"}, `unknown_target: 下一步指向不存在的节点 "nowhere"`},
		{"broken tree in English", "en-US", "POST", "/menus/director/validate", editor, "application/yaml", broken, 422, "tree_invalid", map[string]string{"count": "4"}, `unknown_target: unknown target node "nowhere"`},
		{"tree that does not parse", "zh", "POST", "/menus/director/validate", editor, "application/yaml", "name: [", 422, "tree_unparsed", nil, ""},
		{"note on two lines", "zh", "POST", "/menus/director/versions?note=" + url.QueryEscape("a\nb"), editor, "application/yaml", string(src), 400, "note_invalid", map[string]string{"max": "500"}, ""},
		{"simulating an empty tree", "zh", "POST", "/menus/director/simulate", editor, "application/json", `{"inputs": ["x"], "tree": {}}`, 422, "tree_invalid", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := apiIn(t, g, tt.lang, tt.method, tt.path, tt.token, tt.contentType, tt.body)
			var e reasonError
			if err := json.Unmarshal([]byte(body), &e); err != nil || status != tt.status || e.Error.Reason != tt.reason {
				t.Fatalf("%d %s, want %d with reason %s", status, body, tt.status, tt.reason)
			}
			for k, v := range tt.params {
				if e.Error.Params[k] != v {
					t.Errorf("param %s = %q, want %q (%s)", k, e.Error.Params[k], v, body)
				}
			}
			if tt.problem == "" {
				return
			}
			for _, p := range e.Error.Problems {
				if p.Code+": "+p.Message == tt.problem {
					return
				}
			}
			t.Errorf("no problem %q in %s", tt.problem, body)
		})
	}
}

// TestAdminMenuHistory: a version says who saved it, when and why; the
// list gives the deployment's time zone to show times in; a diff between
// a JSON version and a YAML one reads line by line.
func TestAdminMenuHistory(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Location: shanghai})
	editor := mustUser(t, g, "editor3", access.RoleEditor)
	src, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")
	// A version saved as JSON, as the console used to.
	status, asJSON := api(t, g, "POST", "/menus/convert?to=json", editor, "application/yaml", string(src))
	if status != 200 {
		t.Fatalf("convert: %d %s", status, asJSON)
	}
	edited := strings.Replace(asJSON, "Record a home visit", "Log a home visit", 1)
	if status, body := api(t, g, "POST", "/menus/director/versions", editor, "application/json", edited); status != 201 {
		t.Fatalf("save json: %d %s", status, body)
	}
	note := "家访改名 / renamed the visit option"
	withComment := "# The county's tree.\n" + strings.Replace(string(src), "Record a home visit", "Log a visit", 1)
	status, body := api(t, g, "POST", "/menus/director/versions?note="+url.QueryEscape(note), editor, "application/yaml", withComment)
	if status != 201 || !strings.Contains(body, `"version":3`) {
		t.Fatalf("save yaml: %d %s", status, body)
	}
	status, body = api(t, g, "GET", "/menus", editor, "", "")
	var list struct {
		TimeZone string `json:"time_zone"`
		Versions []struct {
			Name    string `json:"name"`
			Version int    `json:"version"`
			Author  string `json:"author"`
			Note    string `json:"note"`
		} `json:"versions"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &list) != nil {
		t.Fatalf("list: %d %s", status, body)
	}
	if list.TimeZone != "Asia/Shanghai" {
		t.Errorf("time zone %q", list.TimeZone)
	}
	authors := map[int]string{}
	for _, v := range list.Versions {
		if v.Name == "director" {
			authors[v.Version] = v.Author + "|" + v.Note
		}
	}
	if authors[1] != "system|" || authors[2] != "editor3|" || authors[3] != "editor3|"+note {
		t.Errorf("authors and notes: %v", authors)
	}
	status, diff := api(t, g, "GET", "/menus/director/diff?from=2&to=3", editor, "", "")
	if status != 200 || !strings.Contains(diff, "-      - label: {zh: 记录家访, en: Log a home visit}") && !strings.Contains(diff, "Log a home visit") {
		t.Fatalf("diff: %d\n%s", status, diff)
	}
	lines := strings.Split(diff, "\n")
	longest := 0
	for _, l := range lines {
		longest = max(longest, len(l))
	}
	if len(lines) < 8 || longest > 200 || !strings.Contains(diff, "+# The county's tree.") {
		t.Errorf("diff of %d lines, the longest %d characters:\n%s", len(lines), longest, diff)
	}
}
