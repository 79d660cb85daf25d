package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// strictEnv is the matrix env (two orgs on SQLite, members of each role)
// with a fixture per route, for the strict-input tests.
type strictEnv struct {
	*matrixEnv
	// verifier is an org API key that may ask /v1/verify.
	verifier string
}

func newStrictEnv(t *testing.T) *strictEnv {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := newMatrixEnv(t, db)
	_, verifier := m.mintAs(m.owner, service.OrgKeys, service.TokenRequest{Permissions: []string{keyward.PermTokensVerify}})
	return &strictEnv{matrixEnv: m, verifier: verifier}
}

// state is everything a refused request must leave alone: the tokens,
// memberships and invitations of both orgs, acme's policy and acme's
// audit log.
type state struct {
	snap   snapshot
	policy string
	audit  int
}

func (s *strictEnv) state() state {
	s.t.Helper()
	p, err := s.svc.FindPolicy(s.ctx, s.owner)
	if err != nil {
		s.t.Fatal(err)
	}
	evs, _, err := s.svc.FindAudit(s.ctx, s.owner, keyward.AuditFilter{Limit: keyward.MaxPageSize})
	if err != nil {
		s.t.Fatal(err)
	}
	return state{snap: s.snapshot(), policy: fmt.Sprintf("%v %v %v", p.RequireExpiry, p.MaxLifetime, p.AllowedKinds), audit: len(evs)}
}

func sameState(a, b state) string {
	var out []string
	if d := diff(a.snap, b.snap); d != "" {
		out = append(out, d)
	}
	if a.policy != b.policy {
		out = append(out, "the policy")
	}
	if a.audit != b.audit {
		out = append(out, fmt.Sprintf("the audit log (%d events, then %d)", a.audit, b.audit))
	}
	return strings.Join(out, ", ")
}

// raw is one request as the test builds it, headers and all.
type raw struct {
	method, path string
	body         []byte
	header       http.Header
	// chunked sends the body without a Content-Length.
	chunked bool
}

// send sends r with the owner's PAT and checks the answer against
// openapi.json.
func (s *strictEnv) send(r raw) *answer {
	s.t.Helper()
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
		if r.chunked {
			rd = io.MultiReader(rd) // hides the length
		}
	}
	req, err := http.NewRequestWithContext(s.ctx, r.method, s.srv.URL+r.path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	credential := s.env.owner
	if r.path == "/v1/verify" {
		credential = s.verifier
	}
	req.Header.Set("Authorization", "Bearer "+credential)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	a := &answer{method: r.method, path: req.URL.Path, status: resp.StatusCode, header: resp.Header, body: b}
	if err := s.oa.check(r.method, req.URL.Path, a.status, a.header, a.body); err != nil {
		s.t.Errorf("openapi: %v", err)
	}
	return a
}

// fixtures are the ids the routes act on, made fresh for each route.
type fixtures struct {
	pat, key           string // token ids
	patScope, keyScope string // a scope id of each
	invitation         string
}

func (s *strictEnv) fixtures() fixtures {
	s.t.Helper()
	scope := []service.ScopeRequest{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}}
	pat, _ := s.mintAs(s.owner, service.Personal, service.TokenRequest{Scopes: scope})
	key, _ := s.mintAs(s.owner, service.OrgKeys, service.TokenRequest{Scopes: scope})
	inv, err := s.svc.AddMember(s.ctx, s.owner, service.MemberRequest{Email: fmt.Sprintf("inv-%s@example.com", strings.ToLower(pat.ID)), Role: keyward.RoleViewer})
	if err != nil {
		s.t.Fatal(err)
	}
	return fixtures{pat: pat.ID, key: key.ID, patScope: pat.Scopes[0].ID, keyScope: key.Scopes[0].ID, invitation: inv.ID}
}

// bodyRoute is a route that reads a JSON body, with a body it takes.
type bodyRoute struct {
	pattern string
	path    func(f fixtures) string
	// body is valid: sent as it is, the route succeeds.
	body string
	ok   int
}

var bodyRoutes = []bodyRoute{
	{"POST /v1/verify", func(fixtures) string { return "/v1/verify" }, `{"token":"kw_pat_nothing","permission":"tokens:read"}`, 200},
	{"POST /v1/tokens", func(fixtures) string { return "/v1/tokens" }, `{"name":"made","expires_in":"30d"}`, 201},
	{"PATCH /v1/tokens/{id}", func(f fixtures) string { return "/v1/tokens/" + f.pat }, `{"name":"renamed"}`, 200},
	{"POST /v1/tokens/{id}/revoke", func(f fixtures) string { return "/v1/tokens/" + f.pat + "/revoke" }, `{"reason":"done"}`, 200},
	{"POST /v1/tokens/{id}/regenerate", func(f fixtures) string { return "/v1/tokens/" + f.pat + "/regenerate" }, `{"expires_in":"30d"}`, 200},
	{"POST /v1/tokens/{id}/rotate", func(f fixtures) string { return "/v1/tokens/" + f.pat + "/rotate" }, `{"overlap":"1h"}`, 200},
	{"POST /v1/tokens/{id}/scopes", func(f fixtures) string { return "/v1/tokens/" + f.pat + "/scopes" }, `{"entity_type":"monitor","entity_id":"m2","operations":["read"]}`, 200},
	{"POST /v1/orgs/{org}/keys", func(fixtures) string { return "/v1/orgs/acme/keys" }, `{"name":"made","expires_in":"30d"}`, 201},
	{"PATCH /v1/orgs/{org}/keys/{id}", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key }, `{"name":"renamed"}`, 200},
	{"POST /v1/orgs/{org}/keys/{id}/revoke", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key + "/revoke" }, `{"reason":"done"}`, 200},
	{"POST /v1/orgs/{org}/keys/{id}/regenerate", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key + "/regenerate" }, `{"expires_in":"30d"}`, 200},
	{"POST /v1/orgs/{org}/keys/{id}/rotate", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key + "/rotate" }, `{"overlap":"1h"}`, 200},
	{"POST /v1/orgs/{org}/keys/{id}/scopes", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key + "/scopes" }, `{"entity_type":"monitor","entity_id":"m2","operations":["read"]}`, 200},
	{"POST /v1/orgs/{org}/members", func(fixtures) string { return "/v1/orgs/acme/members" }, `{"email":"new@example.com","role":"viewer"}`, 201},
	{"PATCH /v1/orgs/{org}/members/{user}", func(fixtures) string { return "/v1/orgs/acme/members/vic@example.com" }, `{"role":"member"}`, 200},
	{"PUT /v1/orgs/{org}/policy", func(fixtures) string { return "/v1/orgs/acme/policy" }, `{"max_lifetime":null,"require_expiry":false,"allowed_kinds":["pat","oauth","api_key","agent","probe"]}`, 200},
}

// bodylessRoutes take no body; each path acts on a real target, so a
// body must be what stops it.
var bodylessRoutes = []struct {
	pattern string
	path    func(f fixtures) string
}{
	{"GET /openapi.json", func(fixtures) string { return "/openapi.json" }},
	{"GET /v1/whoami", func(fixtures) string { return "/v1/whoami" }},
	{"GET /v1/tokens", func(fixtures) string { return "/v1/tokens" }},
	{"DELETE /v1/tokens", func(fixtures) string { return "/v1/tokens?confirm=all" }},
	{"GET /v1/tokens/{id}", func(f fixtures) string { return "/v1/tokens/" + f.pat }},
	{"DELETE /v1/tokens/{id}", func(f fixtures) string { return "/v1/tokens/" + f.pat }},
	{"DELETE /v1/tokens/{id}/scopes", func(f fixtures) string { return "/v1/tokens/" + f.pat + "/scopes" }},
	{"DELETE /v1/tokens/{id}/scopes/{scope_id}", func(f fixtures) string { return "/v1/tokens/" + f.pat + "/scopes/" + f.patScope }},
	{"GET /v1/orgs/{org}/keys", func(fixtures) string { return "/v1/orgs/acme/keys" }},
	{"DELETE /v1/orgs/{org}/keys", func(fixtures) string { return "/v1/orgs/acme/keys?confirm=all" }},
	{"GET /v1/orgs/{org}/keys/{id}", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key }},
	{"DELETE /v1/orgs/{org}/keys/{id}", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key }},
	{"DELETE /v1/orgs/{org}/keys/{id}/scopes", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key + "/scopes" }},
	{"DELETE /v1/orgs/{org}/keys/{id}/scopes/{scope_id}", func(f fixtures) string { return "/v1/orgs/acme/keys/" + f.key + "/scopes/" + f.keyScope }},
	{"GET /v1/orgs/{org}/members", func(fixtures) string { return "/v1/orgs/acme/members" }},
	{"GET /v1/orgs/{org}/members/{user}", func(fixtures) string { return "/v1/orgs/acme/members/mo@example.com" }},
	{"DELETE /v1/orgs/{org}/members/{user}", func(fixtures) string { return "/v1/orgs/acme/members/mo@example.com" }},
	{"POST /v1/orgs/{org}/members/{user}/suspend", func(fixtures) string { return "/v1/orgs/acme/members/mo@example.com/suspend" }},
	{"POST /v1/orgs/{org}/members/{user}/unsuspend", func(fixtures) string { return "/v1/orgs/acme/members/mo@example.com/unsuspend" }},
	{"GET /v1/orgs/{org}/invitations", func(fixtures) string { return "/v1/orgs/acme/invitations" }},
	{"DELETE /v1/orgs/{org}/invitations/{invitation}", func(f fixtures) string { return "/v1/orgs/acme/invitations/" + f.invitation }},
	{"GET /v1/orgs/{org}/policy", func(fixtures) string { return "/v1/orgs/acme/policy" }},
	{"GET /v1/orgs/{org}/audit", func(fixtures) string { return "/v1/orgs/acme/audit" }},
}

// exemptRoutes read no body and refuse none: the probes and scrapers, and
// GET /v1/auth, whose forward-auth proxy may pass a body along.
var exemptRoutes = []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /v1/auth"}

// Every route is a body route, a bodyless one or exempt: a new route
// must be put in one of the tables.
func TestStrictRoutesClassified(t *testing.T) {
	var known []string
	for _, r := range bodyRoutes {
		known = append(known, r.pattern)
	}
	for _, r := range bodylessRoutes {
		known = append(known, r.pattern)
	}
	known = append(known, exemptRoutes...)
	routes := api.Patterns()
	for _, p := range routes {
		if !slices.Contains(known, p) {
			t.Errorf("route %s is in no table of strict_test.go", p)
		}
	}
	for _, p := range known {
		if !slices.Contains(routes, p) {
			t.Errorf("%s in strict_test.go is no route", p)
		}
	}
	sort.Strings(known)
	if len(slices.Compact(known)) != len(routes) {
		t.Errorf("got %d routes, %d in the tables", len(routes), len(known))
	}
}

// badBody is one way a body can be wrong, made from a valid body.
type badBody struct {
	name   string
	make   func(t *testing.T, valid string) raw
	status int
	code   string
}

func jsonHeader(ct string) http.Header {
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return h
}

// firstMember is the first member of a valid body as text: `"name":"x"`.
func firstMember(t *testing.T, body string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	if _, err := dec.Token(); err != nil { // the name
		t.Fatal(err)
	}
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	end := dec.InputOffset()
	return body[1:end]
}

var badBodies = []badBody{
	{"text/plain", func(t *testing.T, b string) raw { return raw{body: []byte(b), header: jsonHeader("text/plain")} }, 415, "unsupported_media_type"},
	{"no content type", func(t *testing.T, b string) raw { return raw{body: []byte(b), header: jsonHeader("")} }, 415, "unsupported_media_type"},
	{"form content type", func(t *testing.T, b string) raw {
		return raw{body: []byte(b), header: jsonHeader("application/x-www-form-urlencoded")}
	}, 415, "unsupported_media_type"},
	{"latin1 charset", func(t *testing.T, b string) raw {
		return raw{body: []byte(b), header: jsonHeader("application/json; charset=iso-8859-1")}
	}, 415, "unsupported_media_type"},
	{"gzip encoding", func(t *testing.T, b string) raw {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(b))
		_ = zw.Close()
		h := jsonHeader("application/json")
		h.Set("Content-Encoding", "gzip")
		return raw{body: buf.Bytes(), header: h}
	}, 415, "unsupported_media_type"},
	{"identity encoding", func(t *testing.T, b string) raw {
		h := jsonHeader("application/json")
		h.Set("Content-Encoding", "identity")
		return raw{body: []byte(b), header: h}
	}, 415, "unsupported_media_type"},
	{"duplicate key", func(t *testing.T, b string) raw {
		return raw{body: []byte("{" + firstMember(t, b) + "," + b[1:]), header: jsonHeader("application/json")}
	}, 400, "invalid_request"},
	{"invalid UTF-8", func(t *testing.T, b string) raw {
		// Into the last string of the body.
		i := strings.LastIndex(b, `"`)
		return raw{body: []byte(b[:i] + "\xff\xfe" + b[i:]), header: jsonHeader("application/json; charset=utf-8")}
	}, 400, "invalid_request"},
	{"null", func(t *testing.T, b string) raw {
		return raw{body: []byte("null"), header: jsonHeader("application/json")}
	}, 400, "invalid_request"},
	{"array", func(t *testing.T, b string) raw {
		return raw{body: []byte("[" + b + "]"), header: jsonHeader("application/json")}
	}, 400, "invalid_request"},
	{"trailing object", func(t *testing.T, b string) raw {
		return raw{body: []byte(b + " {}"), header: jsonHeader("application/json")}
	}, 400, "invalid_request"},
	{"trailing garbage", func(t *testing.T, b string) raw {
		return raw{body: []byte(b + "]"), header: jsonHeader("application/json")}
	}, 400, "invalid_request"},
	{"unknown field", func(t *testing.T, b string) raw {
		return raw{body: []byte(`{"zz_unknown":1,` + b[1:]), header: jsonHeader("application/json")}
	}, 400, "invalid_request"},
	{"oversized", func(t *testing.T, b string) raw {
		return raw{body: []byte(b + strings.Repeat(" ", 64<<10)), header: jsonHeader("application/json")}
	}, 413, "request_too_large"},
	{"oversized chunked", func(t *testing.T, b string) raw {
		return raw{body: []byte(b + strings.Repeat(" ", 64<<10)), header: jsonHeader("application/json"), chunked: true}
	}, 413, "request_too_large"},
}

// Every body route refuses every bad body with its status and code, and
// changes nothing; then the valid body, sent as it should be, succeeds.
func TestStrictBodies(t *testing.T) {
	s := newStrictEnv(t)
	for _, rt := range bodyRoutes {
		t.Run(rt.pattern, func(t *testing.T) {
			method, _, _ := strings.Cut(rt.pattern, " ")
			path := rt.path(s.fixtures())
			for _, bad := range badBodies {
				r := bad.make(t, rt.body)
				r.method, r.path = method, path
				before := s.state()
				a := s.send(r)
				after := s.state()
				if a.status != bad.status {
					t.Errorf("%s: got %d, want %d; body %s", bad.name, a.status, bad.status, a.body)
					continue
				}
				var eb errorBody
				if err := json.Unmarshal(a.body, &eb); err != nil || !eb.Error || eb.Code != bad.code || eb.Status != bad.status || eb.Message == "" {
					t.Errorf("%s: got body %s, want the error body with code %s", bad.name, a.body, bad.code)
				}
				if d := sameState(before, after); d != "" {
					t.Errorf("%s: the refused request changed %s", bad.name, d)
				}
			}
			// The valid body, sent right, works: the refusals were the
			// body's doing, not the route's.
			a := s.send(raw{method: method, path: path, body: []byte(rt.body), header: jsonHeader("application/json; charset=utf-8")})
			if a.status != rt.ok {
				t.Errorf("the valid body: got %d, want %d; body %s", a.status, rt.ok, a.body)
			}
		})
	}
	if logs := s.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("refused bodies were logged as errors:\n%s", logs)
	}
}

// Every bodyless route refuses a body, with a length or chunked, and
// changes nothing; an empty body is no body.
func TestStrictBodyless(t *testing.T) {
	s := newStrictEnv(t)
	for _, rt := range bodylessRoutes {
		t.Run(rt.pattern, func(t *testing.T) {
			method, _, _ := strings.Cut(rt.pattern, " ")
			path := rt.path(s.fixtures())
			for _, chunked := range []bool{false, true} {
				before := s.state()
				a := s.send(raw{method: method, path: path, body: []byte(`{"confirm":"all"}`), header: jsonHeader("application/json"), chunked: chunked})
				after := s.state()
				if a.status != http.StatusBadRequest || !bytes.Contains(a.body, []byte(`"code":"invalid_request"`)) || !bytes.Contains(a.body, []byte("takes no body")) {
					t.Errorf("a body (chunked %t): got %d %s, want 400 invalid_request", chunked, a.status, a.body)
				}
				if d := sameState(before, after); d != "" {
					t.Errorf("a body (chunked %t): the refused request changed %s", chunked, d)
				}
			}
		})
	}
	// An empty body, declared or chunked, is no body.
	for _, chunked := range []bool{false, true} {
		if a := s.send(raw{method: "GET", path: "/v1/whoami", body: []byte{}, chunked: chunked}); a.status != http.StatusOK {
			t.Errorf("GET /v1/whoami with an empty body (chunked %t): got %d %s, want 200", chunked, a.status, a.body)
		}
	}
}

// An optional body may be left out, without a Content-Type.
func TestStrictOptionalBodyLeftOut(t *testing.T) {
	s := newStrictEnv(t)
	f := s.fixtures()
	if a := s.send(raw{method: "POST", path: "/v1/tokens/" + f.pat + "/revoke"}); a.status != http.StatusOK {
		t.Errorf("revoke without a body: got %d %s, want 200", a.status, a.body)
	}
	if a := s.send(raw{method: "POST", path: "/v1/tokens", header: jsonHeader("application/json")}); a.status != http.StatusBadRequest || !bytes.Contains(a.body, []byte("body is required")) {
		t.Errorf("mint without a body: got %d %s, want 400 body is required", a.status, a.body)
	}
}

// An expiry more than service.MaxExpiryYears ahead is refused, through
// the API and the service alike; one just inside is taken.
func TestStrictExpiry(t *testing.T) {
	s := newStrictEnv(t)
	now := s.clock.Now()
	limit := now.AddDate(service.MaxExpiryYears, 0, 0)
	f := s.fixtures()
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"expires_in 11 years", "POST", "/v1/tokens", `{"name":"x","expires_in":"4018d"}`, 400},
		{"expires_in in hours", "POST", "/v1/tokens", `{"name":"x","expires_in":"100000h"}`, 400},
		{"expires_at past the limit", "POST", "/v1/orgs/acme/keys", `{"name":"x","expires_at":"` + limit.Add(time.Hour).Format(time.RFC3339) + `"}`, 400},
		{"expires_at far", "POST", "/v1/tokens", `{"name":"x","expires_at":"9999-12-31T23:59:59Z"}`, 400},
		{"regenerate past the limit", "POST", "/v1/tokens/" + f.pat + "/regenerate", `{"expires_in":"4018d"}`, 400},
		{"rotate past the limit", "POST", "/v1/orgs/acme/keys/" + f.key + "/rotate", `{"expires_at":"` + limit.Add(time.Minute).Format(time.RFC3339) + `"}`, 400},
		{"expires_in 3650d", "POST", "/v1/tokens", `{"name":"x","expires_in":"3650d"}`, 201},
		{"expires_at just inside", "POST", "/v1/orgs/acme/keys", `{"name":"x","expires_at":"` + limit.Add(-time.Minute).Format(time.RFC3339) + `"}`, 201},
	} {
		before := s.state()
		a := s.send(raw{method: tt.method, path: tt.path, body: []byte(tt.body), header: jsonHeader("application/json")})
		if a.status != tt.status {
			t.Errorf("%s: got %d %s, want %d", tt.name, a.status, a.body, tt.status)
			continue
		}
		if tt.status == 400 {
			if !bytes.Contains(a.body, []byte(fmt.Sprintf("at most %d years", service.MaxExpiryYears))) {
				t.Errorf("%s: got %s, want it to name the limit", tt.name, a.body)
			}
			if d := sameState(before, s.state()); d != "" {
				t.Errorf("%s: changed %s", tt.name, d)
			}
		}
	}
	far := limit.Add(24 * time.Hour)
	if _, _, err := s.svc.CreateToken(s.ctx, s.owner, service.Personal, service.TokenRequest{Name: "x", ExpiresAt: &far}); keyward.ErrorCode(err) != keyward.EINVALID {
		t.Errorf("the service minted an expiry past %d years: %v", service.MaxExpiryYears, err)
	}
	if _, _, err := s.svc.CreateToken(s.ctx, s.owner, service.OrgKeys, service.TokenRequest{Name: "x", ExpiresIn: "4000d"}); keyward.ErrorCode(err) != keyward.EINVALID {
		t.Errorf("the service minted expires_in past %d years: %v", service.MaxExpiryYears, err)
	}
}

// No error quotes a value the client sent: a secret pasted into the
// wrong field must not come back in the answer.
func TestStrictErrorsEchoNoValue(t *testing.T) {
	s := newStrictEnv(t)
	const secret = "kw_pat_3cHoM3Z9Qk7Yw2Lr8Tn5Vb1Xd4Fg6Hj0"
	// plain is a secret of another system, not shaped like a token (a
	// token in the query string is refused before anything reads it).
	const plain = "s3cr3tPASTEDv4lue9f8e7d6c5b4a"
	f := s.fixtures()
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/v1/tokens", `{"name":"x","expires_in":"` + secret + `"}`},
		{"POST", "/v1/tokens", `{"name":"x","expires_at":"` + secret + `"}`},
		{"POST", "/v1/tokens", `{"name":"x","kind":"` + secret + `"}`},
		{"POST", "/v1/tokens", `{"name":"x","permissions":["` + secret + `"]}`},
		{"POST", "/v1/tokens", `{"name":"x","allowed_cidrs":["` + secret + `"]}`},
		{"POST", "/v1/tokens", `{"name":"x","scopes":[{"entity_type":"` + secret + `","entity_id":"*","operations":["read"]}]}`},
		{"POST", "/v1/tokens", `{"name":"x","scopes":[{"entity_type":"monitor","entity_id":"*","operations":["` + secret + `"]}]}`},
		{"POST", "/v1/tokens", `{"name":"x","scopes":[{"entity_type":"monitor","entity_id":"*","` + secret + `":1}]}`},
		{"POST", "/v1/tokens", `{"name":"x","` + secret + `":"y"}`},
		{"POST", "/v1/tokens", `{"` + secret + `":"y","` + secret + `":"z"}`},
		{"POST", "/v1/tokens", `{"name":"` + secret + `\u0001"}`},
		{"POST", "/v1/tokens", `{"name":["` + secret + `"]}`},
		{"POST", "/v1/tokens", `{"name":"x","rate_limit":"` + secret + `"}`},
		{"POST", "/v1/orgs/acme/keys", `{"name":"x","role":"` + secret + `"}`},
		{"POST", "/v1/tokens/" + f.pat + "/rotate", `{"overlap":"` + secret + `"}`},
		{"POST", "/v1/tokens/" + f.pat + "/regenerate", `{"expires_in":"` + secret + `"}`},
		{"POST", "/v1/verify", `{"token":"x","permission":"` + secret + `"}`},
		{"POST", "/v1/verify", `{"token":"x","ip":"` + secret + `"}`},
		{"POST", "/v1/verify", `{"token":"x","entity":{"entity_type":"` + secret + `","entity_id":"1","operation":"read"}}`},
		{"POST", "/v1/verify", `{"token":"x","entity":{"entity_type":"monitor","entity_id":"1","operation":"` + secret + `"}}`},
		{"POST", "/v1/orgs/acme/members", `{"email":"` + secret + `"}`},
		{"POST", "/v1/orgs/acme/members", `{"email":"a@example.com","role":"` + secret + `"}`},
		{"PATCH", "/v1/orgs/acme/members/mo@example.com", `{"role":"` + secret + `"}`},
		{"PUT", "/v1/orgs/acme/policy", `{"max_lifetime":"` + secret + `"}`},
		{"PUT", "/v1/orgs/acme/policy", `{"allowed_kinds":["` + secret + `"]}`},
		{"GET", "/v1/tokens?status=" + plain, ""},
		{"GET", "/v1/orgs/acme/keys?kind=" + plain, ""},
		{"GET", "/v1/orgs/acme/audit?format=" + plain, ""},
		{"GET", "/v1/orgs/acme/audit?since=" + plain, ""},
		{"GET", "/v1/tokens?limit=" + plain, ""},
	} {
		r := raw{method: tt.method, path: tt.path}
		if tt.body != "" {
			r.body, r.header = []byte(tt.body), jsonHeader("application/json")
		}
		a := s.send(r)
		if a.status < 400 || a.status >= 500 {
			t.Errorf("%s %s %s: got %d %s, want a 4xx", tt.method, tt.path, tt.body, a.status, a.body)
		}
		if testing.Verbose() {
			t.Logf("%s %s: %d %s", tt.method, tt.path, a.status, a.body)
		}
		if bytes.Contains(a.body, []byte(secret)) || bytes.Contains(a.body, []byte(secret[:12])) || bytes.Contains(a.body, []byte(plain)) {
			t.Errorf("%s %s %s: the answer echoes the value: %s", tt.method, tt.path, tt.body, a.body)
		}
	}
}

// rawServer is the API over s's service behind a server whose read
// deadline is short, with a log of its own.
func rawServer(t *testing.T, s *strictEnv, readTimeout time.Duration) (addr string, logs *syncBuffer) {
	t.Helper()
	logs = &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewUnstartedServer(api.NewServer(s.svc, api.Options{Logger: logger}))
	srv.Config.ReadTimeout = readTimeout
	srv.Config.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), logs
}

// rawRequest writes head and then body to a fresh connection, pausing
// between them, and reads the answer.
func rawRequest(t *testing.T, addr, head, body string, pause time.Duration) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pause)
	_, _ = io.WriteString(conn, body) // the server may have answered and closed already
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

func wantRawError(t *testing.T, what string, resp *http.Response, status int, code, msg string) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	var eb errorBody
	if resp.StatusCode != status || json.Unmarshal(b, &eb) != nil || eb.Code != code || eb.Status != status || !strings.Contains(eb.Message, msg) {
		t.Errorf("%s: got %d %s, want %d %s saying %q", what, resp.StatusCode, b, status, code, msg)
	}
}

// A broken chunked body is a 400 and a body that stops arriving a 408:
// neither is a 500, neither is logged as an error, neither changes
// anything.
func TestStrictRawBodies(t *testing.T) {
	s := newStrictEnv(t)
	// Broken bodies go to a server with a deadline no load can reach,
	// slow ones to a server with a short one.
	addr, logs := rawServer(t, s, time.Minute)
	slowAddr, slowLogs := rawServer(t, s, 300*time.Millisecond)
	auth := "Authorization: Bearer " + s.env.owner + "\r\n"
	before := s.state()

	head := "POST /v1/tokens HTTP/1.1\r\nHost: keys\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	resp := rawRequest(t, addr, head, "zz\r\n{\"name\":\"x\"}\r\n0\r\n\r\n", 0)
	wantRawError(t, "a broken chunk size", resp, http.StatusBadRequest, "invalid_request", "could not be read")

	resp = rawRequest(t, addr, head, "4\r\n{\"name\":\"x\"}\r\n0\r\n\r\n", 0)
	wantRawError(t, "a chunk longer than announced", resp, http.StatusBadRequest, "invalid_request", "could not be read")

	head = "POST /v1/tokens HTTP/1.1\r\nHost: keys\r\n" + auth + "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"name\":"
	resp = rawRequest(t, slowAddr, head, "", 0)
	wantRawError(t, "a body that stops arriving", resp, http.StatusRequestTimeout, "request_timeout", "did not arrive in time")

	head = "POST /v1/tokens HTTP/1.1\r\nHost: keys\r\n" + auth + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"nam"
	resp = rawRequest(t, slowAddr, head, "", 0)
	wantRawError(t, "a chunked body that stops arriving", resp, http.StatusRequestTimeout, "request_timeout", "did not arrive in time")

	head = "POST /v1/orgs/acme/members/mo@example.com/suspend HTTP/1.1\r\nHost: keys\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\n"
	resp = rawRequest(t, addr, head, "zz\r\n", 0)
	wantRawError(t, "a broken chunked body on a bodyless route", resp, http.StatusBadRequest, "invalid_request", "could not be read")

	if d := sameState(before, s.state()); d != "" {
		t.Errorf("the broken bodies changed %s", d)
	}
	for status, l := range map[string]*syncBuffer{"status=400": logs, "status=408": slowLogs} {
		out := l.String()
		if strings.Contains(out, "level=ERROR") || strings.Contains(out, "status=500") {
			t.Errorf("a broken or slow body was logged as an error:\n%s", out)
		}
		if !slices.ContainsFunc(strings.Split(out, "\n"), func(line string) bool {
			return strings.Contains(line, "level=INFO msg=request") && strings.Contains(line, status)
		}) {
			t.Errorf("no INFO request line with %s:\n%s", status, out)
		}
	}
}
