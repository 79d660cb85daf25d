package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// fuzzEnv is one API server on SQLite for a whole fuzz process: built
// once in FuzzRouteBodies, before f.Fuzz, and shared by every input.
type fuzzEnv struct {
	ctx      context.Context
	srv      *httptest.Server
	oa       *openAPI
	owner    string // the owner's PAT
	verifier string // an org key with tokens:verify
	logs     *syncBuffer
}

// send sends body to method path with the owner's credential (the
// verifier's on /v1/verify) as application/json, and reads the answer.
func (e *fuzzEnv) send(method, path string, body []byte) (*answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	cred := e.owner
	if path == "/v1/verify" {
		cred = e.verifier
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &answer{method: method, path: req.URL.Path, status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// must sends a request the fuzz target relies on, which must succeed.
func (e *fuzzEnv) must(tb testing.TB, method, path, body string, v any) {
	tb.Helper()
	a, err := e.send(method, path, []byte(body))
	if err != nil {
		tb.Fatal(err)
	}
	if a.status >= 300 {
		tb.Fatalf("%s %s: %d %s", method, path, a.status, a.body)
	}
	if v != nil {
		if err := json.Unmarshal(a.body, v); err != nil {
			tb.Fatal(err)
		}
	}
}

// fixtures mints a PAT and an org key, each with a scope, for the routes
// that act on one.
func (e *fuzzEnv) fixtures(tb testing.TB) fixtures {
	tb.Helper()
	type minted struct {
		Token struct {
			ID     string `json:"id"`
			Scopes []struct {
				ID string `json:"id"`
			} `json:"scopes"`
		} `json:"token"`
	}
	const body = `{"name":"fixture","expires_in":"1d","scopes":[{"entity_type":"monitor","entity_id":"m1","operations":["read"]}]}`
	var pat, key minted
	e.must(tb, "POST", "/v1/tokens", body, &pat)
	e.must(tb, "POST", "/v1/orgs/acme/keys", body, &key)
	return fixtures{pat: pat.Token.ID, key: key.Token.ID, patScope: pat.Token.Scopes[0].ID, keyScope: key.Token.Scopes[0].ID}
}

// FuzzRouteBodies sends a fuzzed JSON body to a route picked from the
// router's route list: every route that reads a body (bodyRoutes, which
// TestStrictRoutesClassified keeps equal to routes.go), and, with a
// non-empty body, every route that must refuse one. Whatever the body,
// the answer is no 5xx, matches openapi.json, and an error never repeats
// a token-like value of the body; no ERROR is logged.
func FuzzRouteBodies(f *testing.F) {
	type target struct {
		pattern, method string
		path            func(fixtures) string
		takesBody       bool
	}
	var targets []target
	patterns := api.Patterns()
	for _, r := range bodyRoutes {
		if !slices.Contains(patterns, r.pattern) {
			f.Fatalf("%s is not a route", r.pattern)
		}
		m, _, _ := strings.Cut(r.pattern, " ")
		targets = append(targets, target{r.pattern, m, r.path, true})
	}
	for _, r := range bodylessRoutes {
		m, _, _ := strings.Cut(r.pattern, " ")
		targets = append(targets, target{r.pattern, m, r.path, false})
	}
	for i, r := range bodyRoutes {
		f.Add(uint8(i), []byte(r.body))
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"name":"a","name":"b"}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}", `{"expires_in":"kw_pat_0123456789abcdefghijABCDEFGHIJ012345"}`,
		`{"expires_at":"9999-12-31T23:59:59Z","name":"x"}`, `{"scopes":[{"entity_type":"m","entity_id":"x","operations":["read","read"]}],"name":"x"}`,
		`{"overlap":"-1h"}`, `{"overlap":"99999999999999999999h"}`, `{"role":"owner"}`, `{"email":"kw_pat_0123456789abcdefghijABCDEFGHIJ012345@x"}`,
		`{"max_lifetime":"1m","require_expiry":true,"allowed_kinds":[]}`, `{"token":1}`, `{"permissions":["tokens:read","x"],"name":"x"}`,
		`{"allowed_cidrs":["::ffff:1.2.3.4/200"],"name":"x"}`, `{"rate_limit":1e400,"name":"x"}`, `{"a":` + strings.Repeat("[", 10000),
	} {
		for i := range targets {
			if i%5 == 0 {
				f.Add(uint8(i), []byte(s))
			}
		}
	}

	// One server for the whole process.
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "keyward.db"))
	if err != nil {
		f.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc, err := service.New(store, service.Options{
		Logger:             logger,
		ProductPermissions: []string{"monitors:read", "monitors:write", "agent:heartbeat", "probe:report"},
	})
	if err != nil {
		f.Fatal(err)
	}
	boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", Name: "Owner", OrgName: "Acme"})
	if err != nil {
		f.Fatal(err)
	}
	for _, u := range []struct {
		email string
		role  keyward.Role
	}{{"vic@example.com", keyward.RoleViewer}, {"mo@example.com", keyward.RoleMember}} {
		if _, err := svc.AdminCreateUser(ctx, u.email, "", "", "acme", u.role); err != nil {
			f.Fatal(err)
		}
	}
	srv := httptest.NewServer(api.NewServer(svc, api.Options{Logger: logger, BaseURL: "https://keys.example.com"}))
	f.Cleanup(func() {
		srv.Close()
		_ = store.Close()
	})
	e := &fuzzEnv{ctx: ctx, srv: srv, oa: loadOpenAPI(f), owner: boot.Secret, logs: logs}
	var key struct {
		Secret string `json:"secret"`
	}
	e.must(f, "POST", "/v1/orgs/acme/keys", `{"name":"verifier","permissions":["tokens:verify"]}`, &key)
	e.verifier = key.Secret
	const policy = `{"max_lifetime":null,"require_expiry":false,"allowed_kinds":["pat","oauth","api_key","agent","probe"]}`

	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		tg := targets[int(pick)%len(targets)]
		if !tg.takesBody && len(body) == 0 {
			return // a bodyless route without a body would act: not this target's business
		}
		path := tg.path(fixtures{})
		if strings.Contains(tg.pattern, "{id}") {
			path = tg.path(e.fixtures(t))
		}
		if strings.Contains(tg.pattern, "{invitation}") {
			path = tg.path(fixtures{invitation: "inv_none"})
		}
		before := len(e.logs.String())
		a, err := e.send(tg.method, path, body)
		if err != nil {
			t.Fatalf("%s %s: %v", tg.method, path, err)
		}
		if tg.pattern == "PUT /v1/orgs/{org}/policy" {
			e.must(t, "PUT", "/v1/orgs/acme/policy", policy, nil) // later fixtures need a lenient policy
		}
		what := fmt.Sprintf("%s %s with body %q", tg.method, path, body)
		if a.status >= 500 {
			t.Fatalf("%s: %d %s", what, a.status, a.body)
		}
		if !tg.takesBody && a.status < 400 {
			t.Fatalf("%s: a bodyless route accepted a body: %d %s", what, a.status, a.body)
		}
		if err := e.oa.check(tg.method, a.path, a.status, a.header, a.body); err != nil {
			t.Fatalf("%s: openapi: %v", what, err)
		}
		if a.status >= 400 {
			var eb errorBody
			if err := json.Unmarshal(a.body, &eb); err != nil || !eb.Error || eb.Status != a.status {
				t.Fatalf("%s: error body %s", what, a.body)
			}
			for _, w := range tokenLikeRuns(string(body)) {
				if strings.Contains(eb.Message, w) || strings.Contains(eb.Detail, w) {
					t.Fatalf("%s: the error %s repeats %q", what, a.body, w)
				}
			}
		}
		if logged := e.logs.String()[before:]; strings.Contains(logged, "level=ERROR") {
			t.Fatalf("%s: logged an ERROR: %s", what, logged)
		}
	})
}

// tokenLikeRuns returns the runs of letters, digits and '_' of 12 or
// more in s that are not a field name or enum value (lower case and '_'
// only): what could be (part of) a pasted secret.
func tokenLikeRuns(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) {
		if len(f) >= 12 && strings.ContainsFunc(f, func(r rune) bool { return r < 'a' || r > 'z' }) && strings.Trim(f, "abcdefghijklmnopqrstuvwxyz_") != "" {
			out = append(out, f)
		}
	}
	return out
}
