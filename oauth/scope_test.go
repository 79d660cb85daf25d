package oauth_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward"
)

var (
	permissionList = regexp.MustCompile(`(?s)<ul class="permissions" id="permissions-([^"]+)">(.*?)</ul>`)
	permissionItem = regexp.MustCompile(`<li><code>([^<]*)</code></li>`)
)

// consentPermissions reads the permissions the consent page lists for
// each org, by org id.
func consentPermissions(body string) map[string][]string {
	out := map[string][]string{}
	for _, l := range permissionList.FindAllStringSubmatch(body, -1) {
		perms := []string{}
		for _, it := range permissionItem.FindAllStringSubmatch(l[2], -1) {
			perms = append(perms, it[1])
		}
		out[l[1]] = perms
	}
	return out
}

// withScope sets the authorization request's scope.
func withScope(scope string) func(url.Values) {
	return func(q url.Values) { q.Set("scope", scope) }
}

// scopedToken runs the flow in b (signed in) for client with the
// authorization request mods, choosing org (the only one when ""); it
// returns the permissions the consent page listed for that org and the
// token answer.
func (e *env) scopedToken(b *browser, client, org string, mods ...func(url.Values)) ([]string, map[string]any) {
	e.t.Helper()
	p := newPKCE()
	page := b.get("/oauth/authorize?" + e.authzQuery(client, p, mods...).Encode())
	if page.status != http.StatusOK {
		e.t.Fatalf("authorize: got status %d (%s), want the consent page", page.status, page.header.Get("Location"))
	}
	form := consentForm(page.body)
	form.Set("decision", "allow")
	if org != "" {
		form.Set("org_id", org)
	}
	listed, ok := consentPermissions(page.body)[form.Get("org_id")]
	if !ok {
		e.t.Fatalf("consent page: lists no permissions for org %s", form.Get("org_id"))
	}
	got := b.post("/oauth/authorize", form).location(e.t).Query()
	if got.Get("code") == "" {
		e.t.Fatalf("consent: got error %q: %q, want a code", got.Get("error"), got.Get("error_description"))
	}
	status, tok := e.exchange(e.tokenForm(client, got.Get("code"), p))
	if status != http.StatusOK {
		e.t.Fatalf("token: got %d %v: %v, want 200", status, tok["error"], tok["error_description"])
	}
	return listed, tok
}

// whoamiPermissions returns the permissions /v1/whoami says secret has.
func (e *env) whoamiPermissions(secret string) []string {
	e.t.Helper()
	status, who := e.api(secret, "GET", "/v1/whoami")
	if status != http.StatusOK {
		e.t.Fatalf("whoami: got %d %v, want 200", status, who)
	}
	perms := []string{}
	for _, p := range who["permissions"].([]any) {
		perms = append(perms, p.(string))
	}
	return perms
}

// apiJSON calls the API with a bearer token and a JSON body, and returns
// the status.
func (e *env) apiJSON(token, method, path, body string) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// An owner's token consented for tokens:read may read tokens and nothing
// else: not the audit log, not mint an API key. The consent page listed
// exactly what it got.
func TestScopeHonoured(t *testing.T) {
	e := newEnv(t)
	client := e.register("Claude Code", callback)
	listed, tok := e.scopedToken(e.signedIn(), client, "", withScope("tokens:read"))
	secret := tok["access_token"].(string)
	want := []string{"tokens:read"}
	if !slices.Equal(listed, want) {
		t.Errorf("consent page for tokens:read: lists %v, want %v", listed, want)
	}
	if tok["scope"] != "tokens:read" {
		t.Errorf("token answer: got scope %v, want tokens:read", tok["scope"])
	}
	if got := e.whoamiPermissions(secret); !slices.Equal(got, want) {
		t.Errorf("whoami of a tokens:read token: got permissions %v, want %v", got, want)
	}
	if status, _ := e.api(secret, "GET", "/v1/orgs/acme/audit"); status != http.StatusForbidden {
		t.Errorf("GET /v1/orgs/acme/audit with a tokens:read token: got %d, want 403", status)
	}
	if status := e.apiJSON(secret, "POST", "/v1/orgs/acme/keys", `{"name":"ci","role":"owner"}`); status != http.StatusForbidden {
		t.Errorf("POST /v1/orgs/acme/keys with a tokens:read token: got %d, want 403", status)
	}
	if status := e.apiJSON(secret, "POST", "/v1/tokens", `{"name":"more"}`); status != http.StatusForbidden {
		t.Errorf("POST /v1/tokens with a tokens:read token: got %d, want 403", status)
	}
	if status, _ := e.api(secret, "GET", "/v1/tokens"); status != http.StatusOK {
		t.Errorf("GET /v1/tokens with a tokens:read token: got %d, want 200", status)
	}
}

// Without a scope the token gets the documented default, as far as the
// role holds it, and the consent page says so.
func TestScopeDefault(t *testing.T) {
	e := newEnv(t)
	client := e.register("Claude Code", callback)
	want := []string{"audit:read", "tokens:read", "tokens:write"}
	b := e.signedIn()
	page := b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE()).Encode())
	if !strings.Contains(page.body, "<code>tokens:read tokens:write audit:read</code>") {
		t.Errorf("consent page without a scope: does not name the default scope")
	}
	listed, tok := e.scopedToken(b, client, "")
	if !slices.Equal(listed, want) || tok["scope"] != strings.Join(want, " ") {
		t.Errorf("owner without a scope: consent page lists %v, token scope %v; want %v", listed, tok["scope"], want)
	}
	if got := e.whoamiPermissions(tok["access_token"].(string)); !slices.Equal(got, want) {
		t.Errorf("whoami of an owner's token without a scope: got %v, want %v", got, want)
	}

	if _, err := e.svc.AdminCreateUser(e.ctx, "dev@example.com", "Dev", "dev password 123", "acme", keyward.RoleMember); err != nil {
		t.Fatal(err)
	}
	dev := e.browser()
	u, _ := url.Parse(e.srv.URL + "/test/signin?next=/")
	dev.signIn(u, "dev@example.com", "dev password 123")
	listed, tok = e.scopedToken(dev, client, "")
	want = []string{"tokens:read", "tokens:write"}
	if got := e.whoamiPermissions(tok["access_token"].(string)); !slices.Equal(listed, want) || !slices.Equal(got, want) {
		t.Errorf("member without a scope: consent page lists %v, whoami %v; want both %v", listed, got, want)
	}
}

// A viewer asking for tokens:read and audit:read gets tokens:read only,
// and the consent page lists only that.
func TestScopeIntersectsRole(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.AdminCreateUser(e.ctx, "viewer@example.com", "Viewer", "viewer password 123", "acme", keyward.RoleViewer); err != nil {
		t.Fatal(err)
	}
	client := e.register("Cursor", callback)
	b := e.browser()
	u, _ := url.Parse(e.srv.URL + "/test/signin?next=/")
	b.signIn(u, "viewer@example.com", "viewer password 123")
	listed, tok := e.scopedToken(b, client, "", withScope("tokens:read audit:read"))
	want := []string{"tokens:read"}
	got := e.whoamiPermissions(tok["access_token"].(string))
	if !slices.Equal(listed, want) || !slices.Equal(got, want) || tok["scope"] != "tokens:read" {
		t.Errorf("viewer for tokens:read audit:read: consent page lists %v, whoami %v, token scope %v; want %v", listed, got, tok["scope"], want)
	}

	// Asking only for what the role holds none of is access_denied.
	q := b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE(), withScope("audit:read")).Encode()).location(t).Query()
	if q.Get("error") != "access_denied" || q.Get("error_description") != "none of the requested permissions (audit:read) are held by your role in Acme (viewer)" ||
		q.Get("state") != "st-42" || q.Get("iss") != e.srv.URL || q.Get("code") != "" {
		t.Errorf("viewer for audit:read: got error %q: %q, state %q, iss %q, a code %t; want access_denied naming the role, with state and iss and no code",
			q.Get("error"), q.Get("error_description"), q.Get("state"), q.Get("iss"), q.Get("code") != "")
	}
}

// The consent page lists per org what the token will get there, the
// role differing by org; the chosen org's list is what the token gets.
func TestScopePerOrg(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.AdminCreateUser(e.ctx, "dev@example.com", "Dev", "dev password 123", "acme", keyward.RoleMember); err != nil {
		t.Fatal(err)
	}
	beta, err := e.svc.AdminCreateOrg(e.ctx, "Beta", "beta", "dev@example.com")
	if err != nil {
		t.Fatal(err)
	}
	client := e.register("VS Code", callback)
	b := e.browser()
	u, _ := url.Parse(e.srv.URL + "/test/signin?next=/")
	b.signIn(u, "dev@example.com", "dev password 123")
	for _, tc := range []struct {
		org  string
		want []string
	}{
		{e.boot.Org.ID, []string{"tokens:read"}},
		{beta.ID, []string{"audit:read", "tokens:read"}},
	} {
		listed, tok := e.scopedToken(b, client, tc.org, withScope("tokens:read audit:read"))
		got := e.whoamiPermissions(tok["access_token"].(string))
		if !slices.Equal(listed, tc.want) || !slices.Equal(got, tc.want) {
			t.Errorf("token in %s for tokens:read audit:read: consent page lists %v, whoami %v; want both %v", tc.org, listed, got, tc.want)
		}
	}
	// An org where the role holds none of the scope is not offered.
	page := b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE(), withScope("audit:read")).Encode())
	lists := consentPermissions(page.body)
	if _, ok := lists[e.boot.Org.ID]; ok || len(lists) != 1 || !slices.Equal(lists[beta.ID], []string{"audit:read"}) ||
		strings.Contains(page.body, `value="`+e.boot.Org.ID+`"`) {
		t.Errorf("consent page for audit:read: got lists %v, want only beta with [audit:read] offered", lists)
	}
}

// A scope that names no permission of this installation is answered
// invalid_scope at the client's redirect URI, signed in or not, and at
// the consent form's post; no code is issued.
func TestInvalidScope(t *testing.T) {
	e := newEnv(t)
	client := e.register("Windsurf", callback)
	const desc = `unknown scope value: a scope is a space-separated list of this installation's permissions, such as "tokens:read tokens:write audit:read"`
	for name, b := range map[string]*browser{"signed out": e.browser(), "signed in": e.signedIn()} {
		p := b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE(), withScope("tokens:read mcp:everything")).Encode())
		loc := p.location(t)
		q := loc.Query()
		if loc.Scheme+"://"+loc.Host+loc.Path != callback || q.Get("error") != "invalid_scope" || q.Get("error_description") != desc ||
			q.Get("state") != "st-42" || q.Get("iss") != e.srv.URL || q.Get("code") != "" {
			t.Errorf("authorize %s with an unknown scope: got %s%s with error %q: %q, state %q, iss %q, a code %t; want invalid_scope at %s with state and iss and no code",
				name, loc.Host, loc.Path, q.Get("error"), q.Get("error_description"), q.Get("state"), q.Get("iss"), q.Get("code") != "", callback)
		}
	}

	// A consent form whose scope was changed after the page.
	b := e.signedIn()
	page := b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE(), withScope("tokens:read")).Encode())
	form := consentForm(page.body)
	form.Set("decision", "allow")
	form.Set("scope", "tokens:read mcp:everything")
	if q := b.post("/oauth/authorize", form).location(t).Query(); q.Get("error") != "invalid_scope" || q.Get("code") != "" {
		t.Errorf("consent form with an unknown scope: got error %q, a code %t; want invalid_scope and no code", q.Get("error"), q.Get("code") != "")
	}
	_, events := e.api(e.boot.Secret, "GET", "/v1/orgs/acme/audit?action=oauth.consent_granted")
	if evs, _ := events["events"].([]any); len(evs) != 0 {
		t.Errorf("consents after unknown scopes: got %d, want none", len(evs))
	}
}
