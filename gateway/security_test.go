package gateway_test

// Attacks by someone who can reach the gateway's port, each as it was
// tried on the gateway before it required carriers to prove themselves.

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/barefoot-ussd/barefoot/fixtures"
	"github.com/barefoot-ussd/barefoot/gateway/gatewaytest"
	"github.com/barefoot-ussd/barefoot/menus"
	"github.com/barefoot-ussd/barefoot/menus/sms"
	"go.yaml.in/yaml/v3"
)

const secret = "5f1c2a9e0b7d4e3a8c6f1b2d9e0a7c4b"

// send makes a request with an optional header and returns status and body.
func send(t *testing.T, g *gatewaytest.Gateway, method, path, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

// TestForgedCallbacksRefused: without the webhook secret no callback
// reaches a menu, an inbox or a delivery report; with it, in the header or
// as the path's last segment, everything works. Refusals are logged,
// without the secret tried, and counted.
func TestForgedCallbacksRefused(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	g := gatewaytest.MustGateway(t, gatewaytest.Options{WebhookSecret: secret, Log: &logs})
	at := gatewaytest.ATForm("ATUid_forged", enDirector, "*384*2015#", "1*C0003").Encode()
	const form = "application/x-www-form-urlencoded"
	guess := "0123456789abcdef0123456789abcdef"

	tries := []struct {
		name, method, path, ctype, body string
		header                          map[string]string
	}{
		{"USSD as a director, no secret", "POST", "/ussd/africastalking", form, at, nil},
		{"USSD with a wrong secret", "POST", "/ussd/africastalking/" + guess, form, at, nil},
		{"USSD with a wrong header", "POST", "/ussd/africastalking", form, at, map[string]string{"X-Barefoot-Webhook-Secret": guess}},
		{"a family's status read through Kannel", "GET", "/sms/kannel?from=%2B8613900139001&text=STATUS&id=f1", "", "", nil},
		{"Hubtel", "POST", "/ussd/hubtel", "application/json", `{"Mobile":"8613800138002","SessionId":"x","ServiceCode":"384*2015","Type":"Initiation","Message":"*384*2015#","Operator":"mtn","Sequence":1}`, nil},
		{"an alert marked delivered", "GET", "/sms/kannel/dlr?id=1&status=1", "", "", nil},
		{"an alert marked failed through AT", "POST", "/sms/africastalking/dlr", form, "id=ATXid_1&status=Failed", nil},
	}
	for _, tt := range tries {
		status, body := send(t, g, tt.method, tt.path, tt.ctype, tt.body, tt.header)
		if status != http.StatusForbidden || strings.Contains(body, "王小明") || strings.Contains(body, "陈晨") {
			t.Errorf("%s: %d %q, want 403 and nothing else", tt.name, status, body)
		}
	}
	if got := counter(t, g.Metrics, "barefoot_callbacks_refused_total", map[string]string{"reason": "secret"}); got != float64(len(tries)) {
		t.Errorf("%v refusals counted, want %d", got, len(tries))
	}
	if out := logs.String(); !strings.Contains(out, "carrier callback refused") || strings.Contains(out, guess) {
		t.Errorf("refusals not logged, or logged with the secret tried:\n%s", out)
	}

	// The carriers themselves, with the secret.
	if status, body := send(t, g, "POST", "/ussd/africastalking/"+secret, form, at, nil); status != 200 || !strings.Contains(body, "How is 陈晨?") {
		t.Fatalf("USSD with the secret in the path: %d %q", status, body)
	}
	if status, body := send(t, g, "POST", "/ussd/africastalking", form, at, map[string]string{"X-Barefoot-Webhook-Secret": secret}); status != 200 || !strings.Contains(body, "How is 陈晨?") {
		t.Fatalf("USSD with the secret in the header: %d %q", status, body)
	}
	if status, body := send(t, g, "GET", "/sms/kannel/"+secret+"?from=%2B8613900139001&text=STATUS&id=ok1", "", "", nil); status != 200 || !strings.Contains(body, "王小明") {
		t.Fatalf("Kannel with the secret: %d %q", status, body)
	}
	// Nothing the forgeries tried was stored.
	if n := countRows(t, g, `SELECT count(*) FROM messages WHERE carrier_id = 'f1'`); n != 0 {
		t.Fatalf("a forged message was recorded")
	}
}

// TestCallbacksFromTheCarriersAddressesOnly: a carrier's allowlist holds
// its callbacks to its own addresses.
func TestCallbacksFromTheCarriersAddressesOnly(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Env: map[string]string{"BAREFOOT_AT_ALLOW": "196.201.214.0/24"}})
	status, _ := send(t, g, "POST", "/ussd/africastalking", "application/x-www-form-urlencoded", gatewaytest.ATForm("ATUid_addr", enDirector, "*384*2015#", "").Encode(), nil)
	if status != http.StatusForbidden {
		t.Fatalf("AT from loopback with an allowlist: %d, want 403", status)
	}
	if got := kannelSMS(t, g, zhGuardian, "状态"); !strings.Contains(got, "王小明") { // other carriers unaffected
		t.Fatalf("Kannel: %q", got)
	}
}

// TestForgedDeliveryReportChangesNothing: a delivery report that names a
// queued, never sent alert does not mark it delivered.
func TestForgedDeliveryReportChangesNothing(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{AlertCarrier: "kannel"})
	kannelSMS(t, g, zhDirector, "需求 C0001 6 2") // an urgent need: its alert is queued
	var id int64
	if err := g.SQL(t).Get(&id, `SELECT id FROM messages WHERE kind = 'alert'`); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"1", "16"} {
		status, _ := send(t, g, "GET", "/sms/kannel/dlr?status="+st+"&id="+itoa(id), "", "", nil)
		if status != 200 && status != 400 && status != 403 {
			t.Fatalf("forged report: %d", status)
		}
	}
	msgs, err := g.DB.Messages(context.Background(), "+8613700137001")
	if err != nil || len(msgs) != 1 || msgs[0].Status != sms.Queued {
		t.Fatalf("after forged reports the alert is %+v, %v; want it queued still", msgs, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// login posts a sign-in and returns the status and body.
func login(t *testing.T, g *gatewaytest.Gateway, user, password string) (int, string) {
	t.Helper()
	return send(t, g, "POST", "/api/v1/login", "application/json", `{"username":"`+user+`","password":"`+password+`"}`, nil)
}

// TestPasswordGuessingIsThrottledAndAudited: fifty wrong passwords in a
// row meet growing lock-outs after the first few, every failure is in the
// audit log, and the right password works once the lock-out is over.
func TestPasswordGuessingIsThrottledAndAudited(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	g := gatewaytest.MustGateway(t, gatewaytest.Options{Log: &logs})
	mustUser(t, g, "county", "admin")
	var refused, throttled int
	for range 50 {
		switch status, _ := login(t, g, "county", "wrong-password-1"); status {
		case http.StatusUnauthorized:
			refused++
		case http.StatusTooManyRequests:
			throttled++
		default:
			t.Fatalf("wrong password: %d", status)
		}
	}
	if refused > 6 || throttled < 44 {
		t.Fatalf("%d refused and %d throttled of 50 guesses", refused, throttled)
	}
	if n := countRows(t, g, `SELECT count(*) FROM audit_log WHERE action = 'login.failed' AND object_id = 'county'`); n != refused {
		t.Fatalf("%d failed sign-ins audited, want %d", n, refused)
	}
	if !strings.Contains(logs.String(), "sign-in failed") || !strings.Contains(logs.String(), "too many wrong attempts") {
		t.Fatalf("failed sign-ins not logged:\n%s", logs.String())
	}
	// Locked out even with the right password, until the lock-out ends.
	if status, _ := login(t, g, "county", "correct horse battery"); status != http.StatusTooManyRequests {
		t.Fatalf("right password during the lock-out: %d", status)
	}
}

// TestSignOutEndsTheToken: a sign-out ends the token on the server; API
// answers are never cached and never sniffed.
func TestSignOutEndsTheToken(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	mustUser(t, g, "viewer1", "viewer")
	status, body := login(t, g, "viewer1", "correct horse battery")
	token := strings.Split(strings.SplitN(body, `"token":"`, 2)[1], `"`)[0]
	if status != 200 || token == "" {
		t.Fatalf("login: %d %s", status, body)
	}
	auth := map[string]string{"Authorization": "Bearer " + token}
	req, _ := http.NewRequest("GET", g.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("me: %d %v", resp.StatusCode, resp.Header)
	}
	if status, _ := send(t, g, "POST", "/api/v1/logout", "", "", auth); status != http.StatusNoContent {
		t.Fatalf("logout: %d", status)
	}
	if status, _ := send(t, g, "GET", "/api/v1/me", "", "", auth); status != http.StatusUnauthorized {
		t.Fatalf("the token after sign-out: %d, want 401", status)
	}
}

// TestEditorsSimulateWithSampleCallers: an editor's simulation never shows
// a registry name, a family's allowance, or whether a number is
// registered; an administrator's simulation as a real phone does, and is
// audited.
func TestEditorsSimulateWithSampleCallers(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	editor := mustUser(t, g, "editor1", "editor")
	admin := mustUser(t, g, "admin1", "admin")
	director, _ := fs.ReadFile(fixtures.Menus(), "director.yaml")
	guardian, _ := fs.ReadFile(fixtures.Menus(), "guardian.yaml")
	simulate := func(token, name string, src []byte, phone string, inputs ...string) (int, string) {
		t.Helper()
		tree, err := yamlToJSON(src)
		if err != nil {
			t.Fatal(err)
		}
		in, _ := json.Marshal(inputs)
		return api(t, g, "POST", "/menus/"+name+"/simulate", token, "application/json", `{"tree":`+tree+`,"phone":"`+phone+`","inputs":`+string(in)+`}`)
	}
	for _, tt := range []struct {
		name, tree string
		src        []byte
		phone      string
		inputs     []string
		secret     string
	}{
		{"a director's child", "director", director, enDirector, []string{"1", "C0003"}, "陈晨"},
		{"a family's allowance", "guardian", guardian, zhGuardian, nil, "王小明"},
		{"whether a number is registered", "director", director, "+8613999999999", nil, "not registered"},
	} {
		status, body := simulate(editor, tt.tree, tt.src, tt.phone, tt.inputs...)
		if status != 200 || strings.Contains(body, tt.secret) {
			t.Errorf("editor simulating %s: %d %s", tt.name, status, body)
		}
	}
	if status, body := simulate(editor, "director", director, enDirector, "1", "C0003"); !strings.Contains(body, "示例儿童3") {
		t.Errorf("the editor's sample caller: %d %s", status, body)
	}
	if status, body := simulate(admin, "director", director, enDirector, "1", "C0003"); status != 200 || !strings.Contains(body, "陈晨") {
		t.Fatalf("admin simulating as a real director: %d %s", status, body)
	}
	if n := countRows(t, g, `SELECT count(*) FROM audit_log WHERE action = 'menu.simulate' AND actor = 'admin1'`); n != 1 {
		t.Fatalf("%d audited simulations, want 1", n)
	}
}

func yamlToJSON(src []byte) (string, error) {
	var tree menus.Tree
	if err := yaml.Unmarshal(src, &tree); err != nil {
		return "", err
	}
	out, err := json.Marshal(&tree)
	return string(out), err
}

// TestStrangersReadOneReply: a number that is not in the registry gets the
// same reply whatever it sends, so replies tell nothing about which
// keywords, numbers or codes exist.
func TestStrangersReadOneReply(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{StrangerReplyLimit: 100})
	first := kannelSMS(t, g, "+8613999999999", "HELP")
	for _, text := range []string{"STATUS", "状态 C0001", "MENU", "V C0001 1", "帮助", "hello", ""} {
		if got := kannelSMS(t, g, "+8613999999999", text); got != first {
			t.Errorf("%q: %q, want %q as for HELP", text, got, first)
		}
	}
}

// TestAdminOnItsOwnListener: with the admin apart, the carriers' port
// serves neither /metrics nor the API nor the console.
func TestAdminOnItsOwnListener(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{SeparateAdmin: true})
	for _, path := range []string{"/metrics", "/api/v1/openapi.json", "/admin/"} {
		if resp, err := http.Get(g.URL + path); err != nil || resp.StatusCode != http.StatusNotFound {
			t.Errorf("carriers' port %s: %v %v, want 404", path, resp.StatusCode, err)
		}
		if resp, err := http.Get(g.AdminURL + path); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("admin port %s: %v %v, want 200", path, resp.StatusCode, err)
		}
	}
	if got := g.AT(t, "ATUid_apart", enDirector, ""); !strings.Contains(got, "1. Record a home visit") {
		t.Fatalf("USSD on the carriers' port: %q", got)
	}
}

// TestStrangersMessagesAreForgotten: what a number that is not in the
// registry texts is answered and then kept neither whole nor with its
// number; a carrier's retry of it is still known, and gets nothing more.
func TestStrangersMessagesAreForgotten(t *testing.T) {
	t.Parallel()
	g := gatewaytest.MustGateway(t, gatewaytest.Options{})
	q := "/sms/kannel?from=%2B8613999999999&to=10690001&text=my+secret+words&id=stranger-1"
	status, first := g.Get(t, q)
	if status != 200 || first == "" {
		t.Fatalf("stranger: %d %q", status, first)
	}
	if n := countRows(t, g, `SELECT count(*) FROM messages WHERE phone LIKE '%13999999999%' OR body LIKE '%secret words%' OR body = $1`, first); n != 0 {
		t.Fatalf("%d rows still hold the stranger's number, words or reply", n)
	}
	if n := countRows(t, g, `SELECT count(*) FROM messages WHERE forgotten_at IS NOT NULL`); n != 2 {
		t.Fatalf("%d forgotten rows, want the message and its reply", n)
	}
	if status, again := g.Get(t, q); status != 200 || again != "" {
		t.Fatalf("the carrier's retry: %d %q", status, again)
	}
}
