package api_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/config"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/ratelimit"
)

// testPolicy admits agent tokens on /v1/agent/* only, and people's and
// API keys' tokens on /monitors/* with the product's permissions and
// everywhere else below /.
const testPolicy = `
permissions: [monitors:read, monitors:write, agent:heartbeat, probe:report]
identity_headers: [token_id, kind, org_id, org_slug, user_id, role, agent_id, permissions]
routes:
  - path: /v1/agent/*
    kinds: [agent]
    permission: agent:heartbeat
  - methods: [GET, HEAD]
    path: /monitors/*
    permission: monitors:read
    kinds: [pat, oauth, api_key]
  - methods: [POST, PUT, PATCH, DELETE]
    path: /monitors/*
    permission: monitors:write
    kinds: [pat, oauth, api_key]
  - path: /*
    kinds: [pat, oauth, api_key]
`

func newPolicyEnv(t *testing.T, proxies ...string) *env {
	t.Helper()
	cfg, err := config.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	opts := api.Options{Routes: cfg.Routes, IdentityHeaders: cfg.IdentityHeaders}
	for _, p := range proxies {
		opts.TrustedProxies = append(opts.TrustedProxies, netip.MustParsePrefix(p))
	}
	return newEnvWith(t, opts)
}

// auth asks /v1/auth about an original request: method and uri as nginx
// passes them, with the token as a Bearer token when not "".
func (e *env) auth(token, method, uri string, more ...header) *answer {
	e.t.Helper()
	hs := append([]header{{"X-Original-Method", method}, {"X-Original-URI", uri}}, more...)
	if token != "" {
		hs = append(hs, bearer(token))
	}
	return e.do("GET", "/v1/auth", nil, hs...)
}

// wantAuth checks the status and the verdict's code of an /v1/auth answer:
// a refusal carries its code, a 200 (always VALID) none, and no body.
func (a *answer) wantAuth(t *testing.T, status int, code string) {
	t.Helper()
	want := code
	if status == http.StatusOK {
		want = ""
		if code != "VALID" {
			t.Fatalf("%s: a 200 is always VALID, not %s", a.path, code)
		}
		if len(a.body) != 0 || a.header.Get("Content-Length") != "0" {
			t.Errorf("%s: 200 with Content-Length %q and body %q, want 0 and none", a.path, a.header.Get("Content-Length"), a.body)
		}
	}
	if a.status != status || a.header.Get("X-Keyward-Code") != want {
		t.Errorf("%s: got %d with code %q, want %d with %q; body %s", a.path, a.status, a.header.Get("X-Keyward-Code"), status, want, a.body)
	}
}

// With no policy any active token passes, and the answer tells who it is.
func TestAuthWithoutPolicy(t *testing.T) {
	e := newEnv(t)
	a := e.do("GET", "/v1/auth", nil, bearer(e.owner)).want(t, 200, nil)
	a.wantAuth(t, 200, "VALID")
	who := e.whoamiToken(e.owner)
	// The default identity headers: not the kind nor the org's slug, which
	// a configuration names to have them (TestAuthRoutePolicy).
	for name, want := range map[string]string{
		api.HeaderTokenID: who, api.HeaderKind: "", api.HeaderOrgID: e.boot.Org.ID, api.HeaderOrgSlug: "",
		api.HeaderUserID: e.boot.User.ID, api.HeaderRole: "owner",
	} {
		if got := a.header.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if perms := a.header.Get(api.HeaderPermissions); !strings.Contains(perms, "monitors:write") || !strings.Contains(perms, "tokens:verify") {
		t.Errorf("%s: got %q, want the owner's permissions", api.HeaderPermissions, perms)
	}
	// X-API-Key works as well, on any route.
	e.auth("", "DELETE", "/anything/at/all", header{"X-API-Key", e.owner}).want(t, 200, nil)

	b := e.do("GET", "/v1/auth", nil).wantError(t, 401, "unauthorized")
	if b.Message != "missing credential" || e.answers[len(e.answers)-1].header.Get("WWW-Authenticate") != `Bearer realm="keyward"` {
		t.Errorf("no token: got %+v", b)
	}
	e.do("GET", "/v1/auth", nil, header{"Authorization", "Bearer  " + e.owner}).wantError(t, 401, "unauthorized")
	e.auth("kw_pat_madeup", "GET", "/").wantAuth(t, 401, "NOT_FOUND")
	revoked := e.mint(e.owner, client.TokenRequest{Name: "r"})
	e.auth(revoked.Secret, "GET", "/").wantAuth(t, 200, "VALID")
	e.as(e.owner, "POST", "/v1/tokens/"+revoked.Token.ID+"/revoke", nil).want(t, 200, nil)
	e.auth(revoked.Secret, "GET", "/").wantAuth(t, 401, "REVOKED")
	e.auth(revoked.Secret, "GET", "/").wantError(t, 401, "unauthorized")
}

// The route policy: first match wins, kinds and permissions are checked,
// unmatched routes are refused, paths are judged cleaned.
func TestAuthRoutePolicy(t *testing.T) {
	e := newPolicyEnv(t)
	agent := e.mintKey(e.owner, client.TokenRequest{Name: "agent", Kind: "agent", AgentID: "agent-7"}).Secret
	probe := e.mintKey(e.owner, client.TokenRequest{Name: "probe", Kind: "probe"}).Secret
	key := e.mintKey(e.owner, client.TokenRequest{Name: "viewer key", Role: "viewer"}).Secret
	viewer := e.member("vic@example.com", "acme", "viewer")

	a := e.auth(agent, "POST", "/v1/agent/heartbeat")
	a.wantAuth(t, 200, "VALID")
	if a.header.Get(api.HeaderOrgSlug) != "acme" {
		t.Errorf("%s: got %q, want the slug the configuration asks for", api.HeaderOrgSlug, a.header.Get(api.HeaderOrgSlug))
	}
	if a.header.Get(api.HeaderKind) != "agent" || a.header.Get(api.HeaderAgentID) != "agent-7" || a.header.Get(api.HeaderUserID) != "" ||
		a.header.Get(api.HeaderRole) != "" || a.header.Get(api.HeaderPermissions) != "agent:heartbeat" {
		t.Errorf("agent: got headers %v", a.header)
	}
	tests := []struct {
		name, token, method, uri string
		status                   int
		code                     string
	}{
		{"agent elsewhere", agent, "GET", "/monitors/1", 403, "FORBIDDEN"},
		{"agent anywhere else", agent, "GET", "/dashboard", 403, "FORBIDDEN"},
		{"agent through ..", agent, "GET", "/v1/agent/../../monitors/1", 403, "FORBIDDEN"},
		{"agent through escaped ..", agent, "GET", "/v1/agent/%2E%2E/%2E%2E/dashboard", 403, "FORBIDDEN"},
		{"agent through //", agent, "GET", "//monitors/1", 403, "FORBIDDEN"},
		{"viewer writes through //", viewer, "POST", "//monitors/1", 403, "INSUFFICIENT_PERMISSIONS"},
		{"viewer key writes through //", key, "PUT", "//monitors//1", 403, "INSUFFICIENT_PERMISSIONS"},
		{"probe on the agent route", probe, "POST", "/v1/agent/heartbeat", 403, "FORBIDDEN"},
		{"PAT on the agent route", e.owner, "POST", "/v1/agent/heartbeat", 403, "FORBIDDEN"},
		{"PAT reads", e.owner, "GET", "/monitors/1?page=2", 200, "VALID"},
		{"PAT writes", e.owner, "DELETE", "/monitors/1", 200, "VALID"},
		{"lower-case method", e.owner, "delete", "/monitors/1", 200, "VALID"},
		{"viewer reads", viewer, "GET", "/monitors/1", 200, "VALID"},
		{"viewer writes", viewer, "POST", "/monitors/1", 403, "INSUFFICIENT_PERMISSIONS"},
		{"viewer key reads", key, "HEAD", "/monitors/1/checks", 200, "VALID"},
		{"viewer key writes", key, "PUT", "/monitors/1", 403, "INSUFFICIENT_PERMISSIONS"},
		{"catch-all", viewer, "GET", "/dashboard/x", 200, "VALID"},
		{"no rule for /", e.owner, "GET", "/", 403, "FORBIDDEN"},
		{"no token", "", "GET", "/monitors/1", 401, "NOT_FOUND"},
		{"bad token", "kw_pat_x", "GET", "/monitors/1", 401, "NOT_FOUND"},
	}
	for _, tt := range tests {
		a := e.auth(tt.token, tt.method, tt.uri)
		a.wantAuth(t, tt.status, tt.code)
		if tt.status != 200 && a.header.Get(api.HeaderTokenID) != "" {
			t.Errorf("%s: a refusal carries identity headers", tt.name)
		}
	}
	b := e.auth(e.owner, "GET", "/").wantError(t, 403, "forbidden")
	if b.Message != "no route rule admits this request" || b.Detail != "GET /" {
		t.Errorf("no rule: got message %q, detail %q", b.Message, b.Detail)
	}

	// Caddy and Traefik send X-Forwarded-Method and X-Forwarded-Uri.
	e.do("GET", "/v1/auth", nil, bearer(agent), header{"X-Forwarded-Method", "POST"}, header{"X-Forwarded-Uri", "/v1/agent/heartbeat"}).want(t, 200, nil)
	e.do("GET", "/v1/auth", nil, bearer(agent), header{"X-Forwarded-Method", "GET"}, header{"X-Forwarded-Uri", "/monitors/1"}).wantError(t, 403, "forbidden")
	// With a policy, the original method and URI are required.
	e.do("GET", "/v1/auth", nil, bearer(e.owner)).wantError(t, 400, "invalid_request")
	e.do("GET", "/v1/auth", nil, bearer(e.owner), header{"X-Original-URI", "/monitors/1"}).wantError(t, 400, "invalid_request")
}

// A token in the original request's query string is refused, even with a
// good token in the header, and never accepted.
func TestAuthTokenInOriginalURI(t *testing.T) {
	e := newPolicyEnv(t)
	for _, uri := range []string{
		"/monitors/1?access_token=" + e.owner,
		"/monitors/1?x=1&api_key=" + e.owner,
		"/monitors/1?TOKEN=abc",
		"/monitors/1?k%65y=abc",
	} {
		b := e.auth(e.owner, "GET", uri).wantError(t, 400, "token_in_url")
		if strings.Contains(b.Message+b.Detail, e.owner) {
			t.Errorf("%s: the error echoes the token", uri)
		}
	}
	e.auth("", "GET", "/monitors/1?access_token="+e.owner).wantError(t, 400, "token_in_url")
	// And in /v1/auth's own URL.
	e.do("GET", "/v1/auth?token="+e.owner, nil).wantError(t, 400, "token_in_url")
}

// The client's address comes from X-Forwarded-For only when the peer is a
// trusted proxy, and is the right-most address that is not one.
func TestAuthClientIP(t *testing.T) {
	trusted := newPolicyEnv(t, "127.0.0.0/8", "10.0.0.0/8")
	untrusted := newPolicyEnv(t)
	for _, e := range []*env{trusted, untrusted} {
		fenced := e.mint(e.owner, client.TokenRequest{Name: "fenced", AllowedCIDRs: []string{"203.0.113.0/24"}}).Secret
		xff := func(v string) header { return header{"X-Forwarded-For", v} }
		if e == untrusted {
			// The peer (127.0.0.1) is not trusted: its headers count for nothing.
			e.auth(fenced, "GET", "/x", xff("203.0.113.5")).wantAuth(t, 403, "IP_NOT_ALLOWED")
			e.auth(fenced, "GET", "/x", header{"X-Real-IP", "203.0.113.5"}).wantError(t, 403, "ip_not_allowed")
			continue
		}
		tests := []struct {
			name    string
			headers []header
			status  int
		}{
			{"no header: the proxy itself", nil, 403},
			{"one hop", []header{xff("203.0.113.5")}, 200},
			{"through a trusted inner proxy", []header{xff("203.0.113.5, 10.1.1.1")}, 200},
			{"spoofed left part ignored", []header{xff("198.51.100.1, 203.0.113.5")}, 200},
			{"client outside, spoofing inside", []header{xff("203.0.113.5, 198.51.100.1")}, 403},
			{"two headers are one list", []header{xff("203.0.113.5"), xff("198.51.100.1")}, 403},
			{"two headers, the client last", []header{xff("198.51.100.1"), xff("203.0.113.5")}, 200},
			{"two headers, a trusted hop last", []header{xff("198.51.100.1, 203.0.113.5"), xff("10.1.1.1")}, 200},
			{"an empty header", []header{xff("203.0.113.5"), xff("")}, 403},
			{"garbage", []header{xff("203.0.113.5, garbage")}, 403},
			{"X-Real-IP", []header{{"X-Real-IP", "203.0.113.9"}}, 200},
			{"X-Forwarded-For before X-Real-IP", []header{{"X-Real-IP", "203.0.113.9"}, xff("198.51.100.1")}, 403},
		}
		for _, tt := range tests {
			if a := e.auth(fenced, "GET", "/x", tt.headers...); a.status != tt.status {
				t.Errorf("%s: got %d, want %d; body %s", tt.name, a.status, tt.status, a.body)
			}
		}
		// The address is also what last_used_ip records.
		if err := e.svc.FlushUsage(e.ctx); err != nil {
			t.Fatal(err)
		}
		var list client.TokenList
		e.as(e.owner, "GET", "/v1/tokens", nil).want(t, 200, &list)
		for _, tok := range list.Tokens {
			if tok.Name == "fenced" && (tok.LastUsedIP == nil || !strings.HasPrefix(*tok.LastUsedIP, "203.0.113.")) {
				t.Errorf("last_used_ip: got %v, want the forwarded client's", tok.LastUsedIP)
			}
		}
	}
}

// The request metrics are labelled by route pattern, never by token or id.
func TestMetricsEndpoint(t *testing.T) {
	e := newEnv(t)
	pat := e.mint(e.owner, client.TokenRequest{Name: "m"})
	e.as(e.owner, "GET", "/v1/tokens/"+pat.Token.ID, nil).want(t, 200, nil)
	e.auth(pat.Secret, "GET", "/").want(t, 200, nil)
	e.auth("kw_pat_nope", "GET", "/").want(t, 401, nil)
	body := string(e.do("GET", "/metrics", nil).want(t, 200, nil).body)
	for _, want := range []string{
		`keyward_http_requests_total{method="GET",route="GET /v1/tokens/{id}",status="200"} 1`,
		`keyward_verifications_total{code="VALID",endpoint="auth"} 1`,
		`keyward_verifications_total{code="NOT_FOUND",endpoint="auth"} 1`,
		`keyward_verification_duration_seconds_count{endpoint="auth"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, pat.Token.ID) || strings.Contains(body, pat.Secret) {
		t.Error("/metrics names a token")
	}
}

// The identity headers are set without canonicalizing them, so their
// names must be canonical already.
func TestIdentityHeaderNamesCanonical(t *testing.T) {
	for _, name := range []string{api.HeaderTokenID, api.HeaderKind, api.HeaderOrgID, api.HeaderOrgSlug, api.HeaderUserID, api.HeaderRole, api.HeaderAgentID, api.HeaderPermissions, api.HeaderCode} {
		if got := http.CanonicalHeaderKey(name); got != name {
			t.Errorf("got %q, want the canonical %q", name, got)
		}
	}
}

// Under the default rate limits, as keyward serve runs, every request is
// labelled by the route the mux matched (none "unmatched"), and the
// verification routes log their lines at debug level.
func TestMetricsRouteUnderDefaultLimits(t *testing.T) {
	e := newEnvWith(t, api.Options{RateLimit: httplimit.Options{
		Limiter: ratelimit.NewMemory(ratelimit.MemoryOptions{}),
		Token:   httplimit.DefaultToken, IP: httplimit.DefaultIP,
	}})
	pat := e.mint(e.owner, client.TokenRequest{Name: "m"})
	key := e.mintKey(e.owner, client.TokenRequest{Name: "rs", Role: "admin"}).Secret
	e.as(e.owner, "GET", "/v1/tokens/"+pat.Token.ID, nil).want(t, 200, nil)
	e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil)
	e.verify(key, client.VerifyRequest{Token: pat.Secret})
	e.do("GET", "/v1/whoami", nil).want(t, 401, nil)
	e.as("kw_pat_nope", "GET", "/v1/tokens", nil).want(t, 401, nil)
	e.do("GET", "/openapi.json", nil).want(t, 200, nil)
	e.do("GET", "/v1/tokens?token=x", nil).want(t, 400, nil)
	body := string(e.do("GET", "/metrics", nil).want(t, 200, nil).body)
	for _, want := range []string{
		`route="POST /v1/tokens",status="201"`,
		`route="POST /v1/orgs/{org}/keys",status="201"`,
		`route="GET /v1/tokens/{id}",status="200"`,
		`route="GET /v1/whoami",status="200"`,
		`route="GET /v1/whoami",status="401"`,
		`route="POST /v1/verify",status="200"`,
		`route="GET /v1/tokens",status="401"`,
		`route="GET /v1/tokens",status="400"`,
		`route="GET /openapi.json",status="200"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks a request counted as %s", want)
		}
	}
	if strings.Contains(body, `route="unmatched"`) {
		t.Errorf("/metrics counts a matched request as unmatched:\n%s", grepLines(body, "keyward_http_requests_total"))
	}
	logs := e.logs.String()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "msg=request") && strings.Contains(line, "path=/v1/verify") && !strings.Contains(line, "level=DEBUG") {
			t.Errorf("POST /v1/verify logged above debug: %s", line)
		}
	}
	if !strings.Contains(logs, "path=/v1/verify") {
		t.Error("POST /v1/verify logged no request line at all")
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
