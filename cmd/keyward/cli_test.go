package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// result is what one run of the CLI did.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the command line with env as its only environment and stdin
// as its standard input. Its stdout writes as a terminal's does unless env
// sets KEYWARD_FORCE_TTY.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if v, ok := env[k]; ok || k != "KEYWARD_FORCE_TTY" {
			return v
		}
		return "1"
	}
	code := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// fakeAPI answers requests from a table of "METHOD /path" to a status and
// body, accepting only the Bearer token it is given, and records requests.
type fakeAPI struct {
	t       *testing.T
	srv     *httptest.Server
	token   string
	answers map[string]fakeAnswer

	mu   sync.Mutex
	seen []string // "METHOD /path?query"
	uas  []string
}

type fakeAnswer struct {
	status int
	body   string
}

func newFakeAPI(t *testing.T, token string, answers map[string]fakeAnswer) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, token: token, answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	line := r.Method + " " + r.URL.EscapedPath()
	f.mu.Lock()
	if r.URL.RawQuery != "" {
		f.seen = append(f.seen, line+"?"+r.URL.RawQuery)
	} else {
		f.seen = append(f.seen, line)
	}
	f.uas = append(f.uas, r.UserAgent())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":true,"message":"invalid token","code":"unauthorized","status":401}`)
		return
	}
	a, ok := f.answers[line]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":true,"message":"no such endpoint","code":"not_found","status":404}`)
		return
	}
	if a.status == 0 {
		a.status = http.StatusOK
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

const (
	testToken = "kw_pat_0123456789abcdefghijABCDEFGHIJ0123456789"
	orgJSON   = `{"id":"org_1","slug":"acme","name":"Acme","created_at":"2025-01-01T00:00:00Z"}`
	whoJSON   = `{"user":{"id":"usr_1","email":"ann@example.com","name":"Ann","created_at":"2025-01-01T00:00:00Z"},"org":` + orgJSON + `,"role":"owner","token":null,"permissions":["tokens:read","tokens:write"]}`
	tokJSON   = `{"id":"tok_1","kind":"pat","org_id":"org_1","user_id":"usr_1","created_by":"usr_1","name":"ci","description":"","display":"kw_pat_abc...wxyz","status":"active","source":"cli","created_at":"2025-01-02T03:04:05Z","expires_at":"2025-04-02T03:04:05Z","last_used_at":null,"last_used_ip":null,"revoked_at":null,"generation":0,"permissions":null,"scopes":[{"id":"scp_1","entity_type":"monitor","entity_id":"*","operations":["read"]}],"allowed_cidrs":[]}`
	newSecret = "kw_pat_NEWSECRETNEWSECRETNEWSECRETNEWSECRET"
)

func TestLoginWhoamiLogout(t *testing.T) {
	api := newFakeAPI(t, testToken, map[string]fakeAnswer{"GET /v1/whoami": {body: whoJSON}})
	dir := filepath.Join(t.TempDir(), "cfg")
	env := map[string]string{"KEYWARD_CONFIG_DIR": dir}

	r := runCLI(t, env, testToken+"\n", "login", "--url", api.srv.URL+"/", "--with-token")
	if r.code != 0 {
		t.Fatalf("login: got exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "as ann@example.com in acme (owner)") {
		t.Errorf("login: got %q, want who it logged in as", r.stdout)
	}
	path := filepath.Join(dir, "credentials.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials mode: got %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode: got %v, want 0700", di.Mode().Perm())
	}
	var stored credentials
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &stored); err != nil || stored.URL != api.srv.URL || stored.Token != testToken {
		t.Errorf("stored %s (%v), want the URL without the slash and the token", b, err)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, testToken) {
			t.Error("login printed the token")
		}
	}

	r = runCLI(t, env, "", "whoami")
	if r.code != 0 || !strings.Contains(r.stdout, "ann@example.com") {
		t.Fatalf("whoami with the stored login: got exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, testToken) {
		t.Error("whoami printed the token")
	}

	r = runCLI(t, env, "", "logout")
	if r.code != 0 || !strings.Contains(r.stdout, "Logged out of "+api.srv.URL) {
		t.Fatalf("logout: got exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("credentials still there after logout: %v", err)
	}
	r = runCLI(t, env, "", "whoami")
	if r.code != 4 || !strings.Contains(r.stderr, "keyward: no server") {
		t.Errorf("whoami after logout: got exit %d, %q, want a failure saying there is no server", r.code, r.stderr)
	}
	for _, ua := range api.uas {
		if !strings.HasPrefix(ua, "keyward-cli/") {
			t.Errorf("got User-Agent %q, want keyward-cli/<version>", ua)
		}
	}
}

func TestLoginRefusesBadToken(t *testing.T) {
	api := newFakeAPI(t, testToken, map[string]fakeAnswer{"GET /v1/whoami": {body: whoJSON}})
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_CONFIG_DIR": dir}
	r := runCLI(t, env, "kw_pat_wrong", "login", "--url", api.srv.URL, "--with-token")
	if r.code != 4 || !strings.Contains(r.stderr, "keyward: checking the token") || !strings.Contains(r.stderr, "invalid token (unauthorized)") {
		t.Errorf("got exit %d, %q, want a failure with the API's message and code", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "credentials.json")); !os.IsNotExist(err) {
		t.Errorf("a refused token was stored")
	}
	// Without --with-token, a reader that is not a terminal is refused.
	r = runCLI(t, env, testToken, "login", "--url", api.srv.URL)
	if r.code != 2 || !strings.Contains(r.stderr, "--with-token") {
		t.Errorf("login without a terminal: got exit %d, %q, want a usage error naming --with-token", r.code, r.stderr)
	}
}

func TestCredentialPrecedence(t *testing.T) {
	a := newFakeAPI(t, testToken, map[string]fakeAnswer{"GET /v1/whoami": {body: whoJSON}})
	b := newFakeAPI(t, "kw_pat_other", map[string]fakeAnswer{"GET /v1/whoami": {body: whoJSON}})
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_CONFIG_DIR": dir}
	if r := runCLI(t, env, testToken, "login", "--url", a.srv.URL, "--with-token"); r.code != 0 {
		t.Fatalf("login: %q", r.stderr)
	}

	// The stored token is never sent to another server.
	r := runCLI(t, env, "", "whoami", "--url", b.srv.URL)
	if r.code != 4 || !strings.Contains(r.stderr, "no token for "+b.srv.URL) {
		t.Errorf("other server: got exit %d, %q, want no token for it", r.code, r.stderr)
	}
	if len(b.requests()) != 0 {
		t.Errorf("the other server got %v", b.requests())
	}
	// Environment beats the stored login, flags beat the environment.
	env["KEYWARD_URL"], env["KEYWARD_TOKEN"] = b.srv.URL, "kw_pat_other"
	if r := runCLI(t, env, "", "whoami"); r.code != 0 {
		t.Errorf("env: got exit %d, %q", r.code, r.stderr)
	}
	if got := len(b.requests()); got != 1 {
		t.Errorf("env: server b got %d requests, want 1", got)
	}
	if r := runCLI(t, env, "", "whoami", "--url", a.srv.URL, "--token", testToken); r.code != 0 {
		t.Errorf("flags: got exit %d, %q", r.code, r.stderr)
	}
	if got := len(a.requests()); got != 2 {
		t.Errorf("flags: server a got %d requests, want 2 (login and whoami)", got)
	}
}

func TestSecretShownOnce(t *testing.T) {
	api := newFakeAPI(t, testToken, map[string]fakeAnswer{
		"POST /v1/tokens":              {status: 201, body: `{"token":` + tokJSON + `,"secret":"` + newSecret + `"}`},
		"POST /v1/tokens/tok_1/rotate": {body: `{"token":` + tokJSON + `,"secret":"` + newSecret + `"}`},
		"GET /v1/tokens":               {body: `{"tokens":[` + tokJSON + `],"next_cursor":"cur2"}`},
		"GET /v1/tokens/tok_1":         {body: tokJSON},
		"POST /v1/tokens/tok_1/revoke": {body: tokJSON},
		"DELETE /v1/tokens/tok_1":      {status: 204},
		"POST /v1/tokens/tok_1/scopes": {body: tokJSON},
	})
	env := map[string]string{"KEYWARD_URL": api.srv.URL, "KEYWARD_TOKEN": testToken, "KEYWARD_CONFIG_DIR": t.TempDir()}

	r := runCLI(t, env, "", "token", "create", "--name", "ci", "--expires-in", "90d", "--scope", "monitor:*:read")
	if r.code != 0 {
		t.Fatalf("create: exit %d, %q", r.code, r.stderr)
	}
	if r.stdout != newSecret+"\n" {
		t.Errorf("create: got stdout %q, want the secret alone", r.stdout)
	}
	if !strings.Contains(r.stderr, "Copy it now, it will not be shown again.") || !strings.Contains(r.stderr, "tok_1") {
		t.Errorf("create: got stderr %q, want the token and the warning", r.stderr)
	}

	r = runCLI(t, env, "", "-o", "json", "token", "rotate", "tok_1", "--overlap", "1d")
	var ts struct {
		Token  struct{ ID string }
		Secret string
	}
	if err := json.Unmarshal([]byte(r.stdout), &ts); err != nil || ts.Secret != newSecret || ts.Token.ID != "tok_1" {
		t.Errorf("rotate -o json: got %q (%v), want the token and its secret", r.stdout, err)
	}

	// No other command prints a secret or the caller's token.
	for _, argv := range [][]string{
		{"token", "list"}, {"token", "show", "tok_1"}, {"token", "revoke", "tok_1"},
		{"token", "delete", "tok_1"}, {"-o", "json", "token", "list"}, {"token", "scopes", "list", "tok_1"},
		{"token", "scopes", "add", "tok_1", "project:p:1:read,list"},
	} {
		r := runCLI(t, env, "", argv...)
		if r.code != 0 {
			t.Errorf("%v: exit %d, %q", argv, r.code, r.stderr)
		}
		for _, out := range []string{r.stdout, r.stderr} {
			if strings.Contains(out, newSecret) || strings.Contains(out, testToken) {
				t.Errorf("%v printed a secret: %q", argv, out)
			}
		}
	}
	want := []string{
		"POST /v1/tokens", "POST /v1/tokens/tok_1/rotate", "GET /v1/tokens", "GET /v1/tokens/tok_1",
		"POST /v1/tokens/tok_1/revoke", "DELETE /v1/tokens/tok_1", "GET /v1/tokens", "GET /v1/tokens/tok_1",
		"POST /v1/tokens/tok_1/scopes",
	}
	if got := api.requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTokenListTable(t *testing.T) {
	api := newFakeAPI(t, testToken, map[string]fakeAnswer{
		"GET /v1/tokens": {body: `{"tokens":[` + tokJSON + `],"next_cursor":"cur2"}`},
	})
	env := map[string]string{"KEYWARD_URL": api.srv.URL, "KEYWARD_TOKEN": testToken}
	r := runCLI(t, env, "", "token", "list", "--status", "all", "--limit", "5")
	if r.code != 0 {
		t.Fatalf("exit %d, %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[1], "kw_pat_abc...wxyz") ||
		!strings.Contains(lines[1], "2025-04-02 03:04") {
		t.Errorf("got table\n%s\nwant a header and one row", r.stdout)
	}
	if !strings.Contains(r.stderr, "--cursor cur2") {
		t.Errorf("got stderr %q, want the next cursor", r.stderr)
	}
	if got := api.requests()[0]; got != "GET /v1/tokens?limit=5&status=all" {
		t.Errorf("got request %q", got)
	}
}

func TestOrgCommandsDefaultToTheTokensOrg(t *testing.T) {
	api := newFakeAPI(t, testToken, map[string]fakeAnswer{
		"GET /v1/whoami":             {body: whoJSON},
		"GET /v1/orgs/acme/keys":     {body: `{"keys":[],"next_cursor":null}`},
		"GET /v1/orgs/other/members": {body: `{"members":[],"next_cursor":null}`},
		"GET /v1/orgs/acme/policy":   {body: `{"require_expiry":false,"max_lifetime":null,"allowed_kinds":[]}`},
		"PUT /v1/orgs/acme/policy":   {body: `{"require_expiry":true,"max_lifetime":"90d","allowed_kinds":[]}`},
	})
	env := map[string]string{"KEYWARD_URL": api.srv.URL, "KEYWARD_TOKEN": testToken}
	if r := runCLI(t, env, "", "key", "list", "--kind", "agent"); r.code != 0 {
		t.Fatalf("key list: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI(t, env, "", "member", "list", "--org", "other"); r.code != 0 {
		t.Fatalf("member list: exit %d, %q", r.code, r.stderr)
	}
	r := runCLI(t, env, "", "policy", "set", "--org", "acme", "--require-expiry", "--max-lifetime", "90d")
	if r.code != 0 || !strings.Contains(r.stdout, "90d") {
		t.Fatalf("policy set: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	want := []string{"GET /v1/whoami", "GET /v1/orgs/acme/keys?kind=agent", "GET /v1/orgs/other/members",
		"GET /v1/orgs/acme/policy", "PUT /v1/orgs/acme/policy"}
	if got := api.requests(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got requests %v, want %v", got, want)
	}
}

func TestFailures(t *testing.T) {
	api := newFakeAPI(t, testToken, map[string]fakeAnswer{
		"GET /v1/tokens/tok_x": {status: 404, body: `{"error":true,"message":"token not found","code":"not_found","status":404}`},
	})
	env := map[string]string{"KEYWARD_URL": api.srv.URL, "KEYWARD_TOKEN": testToken}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"api error", []string{"token", "show", "tok_x"}, 1, "keyward: token not found (not_found)\n"},
		{"wrong token", []string{"token", "list", "--token", "kw_pat_nope"}, 4, "keyward: invalid token (unauthorized)\n"},
		{"missing name", []string{"token", "create"}, 2, "keyward: --name is required\n"},
		{"missing arg", []string{"token", "show"}, 2, "keyward: keyward token show: accepts 1 arg(s), received 0\n"},
		{"unknown flag", []string{"token", "list", "--nope"}, 2, "keyward: unknown flag: --nope\n"},
		{"unknown command", []string{"tokens"}, 1, "keyward: unknown command \"tokens\" for \"keyward\"\n\nDid you mean this?\n\ttoken\n"},
		{"bad output", []string{"-o", "yaml", "version"}, 2, "keyward: unknown output \"yaml\""},
		{"bad scope", []string{"token", "create", "--name", "x", "--scope", "monitor"}, 2, "keyward: scope \"monitor\""},
		{"delete all unconfirmed", []string{"token", "delete", "--all"}, 2, "add --yes to confirm"},
		{"backup postgres", []string{"backup", "/tmp/x", "--database-url", "postgres://u:secret@h/db"}, 1, "pg_dump"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, env, "", tt.args...)
			if r.code != tt.code || !strings.HasPrefix(r.stderr, tt.stderr) && !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("got exit %d, stderr %q; want exit %d, stderr with %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if strings.Contains(r.stderr, testToken) || strings.Contains(r.stderr, "secret@") {
				t.Errorf("stderr holds a secret: %q", r.stderr)
			}
		})
	}
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		in, typ, id, ops string
		ok               bool
	}{
		{"monitor:*:read,list", "monitor", "*", "read,list", true},
		{"project:a:b:c:read", "project", "a:b:c", "read", true},
		{"monitor", "", "", "", false},
		{"monitor:*", "", "", "", false},
		{":*:read", "", "", "", false},
		{"monitor:*:", "", "", "", false},
	}
	for _, tt := range tests {
		sc, err := parseScope(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseScope(%q): got error %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (sc.EntityType != tt.typ || sc.EntityID != tt.id || strings.Join(sc.Operations, ",") != tt.ops) {
			t.Errorf("parseScope(%q): got %+v, want %s %s %s", tt.in, sc, tt.typ, tt.id, tt.ops)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"24h", now.Add(-24 * time.Hour)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"2025-06-01", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"2025-06-01T10:00:00Z", time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := parseWhen("--since", tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseWhen(%q): got %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseWhen("--since", "yesterday", now); err == nil {
		t.Error("parseWhen(yesterday): got no error")
	}
}
