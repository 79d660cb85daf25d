package oauth_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward"
)

func TestMetadata(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := decode(t, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata: got status %d, want 200", resp.StatusCode)
	}
	want := map[string]any{
		"issuer":                                         e.srv.URL,
		"authorization_endpoint":                         e.srv.URL + "/oauth/authorize",
		"token_endpoint":                                 e.srv.URL + "/oauth/token",
		"registration_endpoint":                          e.srv.URL + "/oauth/register",
		"revocation_endpoint":                            e.srv.URL + "/oauth/revoke",
		"client_id_metadata_document_supported":          true,
		"authorization_response_iss_parameter_supported": true,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("metadata %s: got %v, want %v", k, m[k], v)
		}
	}
	lists := map[string][]any{
		// Every permission a role holds, the product's among them; not
		// the agent's and probe's, which no OAuth token can hold.
		"scopes_supported": {"apikeys:manage", "audit:read", "members:manage", "members:read", "monitors:read", "monitors:write",
			"policy:manage", "tokens:read", "tokens:verify", "tokens:write"},
		"code_challenge_methods_supported":      {"S256"},
		"grant_types_supported":                 {"authorization_code"},
		"response_types_supported":              {"code"},
		"token_endpoint_auth_methods_supported": {"none"},
	}
	for k, v := range lists {
		got, _ := m[k].([]any)
		if !slices.Equal(got, v) {
			t.Errorf("metadata %s: got %v, want %v", k, m[k], v)
		}
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("metadata: got Access-Control-Allow-Origin %q, want *", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// The whole flow by hand: register, sign in, consent, code, token, then
// the token works on the API, is listed with its client's name, and
// revokes like any other.
func TestWholeFlow(t *testing.T) {
	e := newEnv(t)
	status, reg := e.postJSON("/oauth/register", map[string]any{
		"client_name": "Claude Code", "redirect_uris": []string{callback},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "client_secret_post",
	})
	if status != http.StatusCreated {
		t.Fatalf("register: got %d %v, want 201", status, reg)
	}
	client, _ := reg["client_id"].(string)
	if !strings.HasPrefix(client, "dcr_") || reg["token_endpoint_auth_method"] != "none" || reg["client_name"] != "Claude Code" {
		t.Fatalf("register: got %v, want a dcr_ client with token_endpoint_auth_method none", reg)
	}
	if g, _ := reg["grant_types"].([]any); !slices.Equal(g, []any{"authorization_code"}) {
		t.Errorf("register: got grant_types %v, want [authorization_code] (no refresh tokens)", reg["grant_types"])
	}
	if _, ok := reg["client_secret"]; ok {
		t.Errorf("register: answered a client_secret; every client is public")
	}

	// Not signed in: sent to sign in, and back to the same request.
	b := e.browser()
	p := newPKCE()
	q := e.authzQuery(client, p)
	first := b.get("/oauth/authorize?" + q.Encode())
	if first.status != http.StatusSeeOther {
		t.Fatalf("authorize signed out: got status %d, want 303 to sign in", first.status)
	}
	signIn := first.location(t)
	if signIn.Path != "/test/signin" {
		t.Fatalf("authorize signed out: got Location %s, want the sign-in URL", signIn)
	}
	back := b.signIn(signIn, "owner@example.com", ownerPassword)
	backURL, _ := url.Parse(back)
	if backURL.Path != "/oauth/authorize" || backURL.Query().Encode() != q.Encode() {
		t.Fatalf("sign-in sent back to %s, want /oauth/authorize?%s", back, q.Encode())
	}

	// The consent page names the client, its id, the org and the role.
	page := b.get(back)
	if page.status != http.StatusOK {
		t.Fatalf("consent page: got status %d, want 200", page.status)
	}
	for _, want := range []string{"Claude Code", client, "<strong>Acme</strong> (acme), as <strong>owner</strong>", `href="/static/style.css"`, "tokens:write",
		"chose this name itself when it registered; keyward has not checked it", "(a program on this computer)"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("consent page: does not show %q", want)
		}
	}
	if strings.Contains(page.body, "<script") {
		t.Errorf("consent page: has a script")
	}
	form := consentForm(page.body)
	if form.Get("csrf_token") == "" || form.Get("org_id") != e.boot.Org.ID {
		t.Fatalf("consent form: got csrf_token set %t, org_id %q, want a token and %s", form.Get("csrf_token") != "", form.Get("org_id"), e.boot.Org.ID)
	}
	form.Set("decision", "allow")
	answer := b.post("/oauth/authorize", form)
	if answer.status != http.StatusSeeOther {
		t.Fatalf("consent: got status %d, want 303", answer.status)
	}
	loc := answer.location(t)
	got := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != callback || got.Get("code") == "" || got.Get("state") != "st-42" || got.Get("iss") != e.srv.URL {
		t.Fatalf("consent redirect: got %s with code %t, state %q, iss %q; want %s with a code, state st-42, iss %s",
			loc.Path, got.Get("code") != "", got.Get("state"), got.Get("iss"), callback, e.srv.URL)
	}

	status, hdr, tok := e.postForm("/oauth/token", e.tokenForm(client, got.Get("code"), p))
	if status != http.StatusOK {
		t.Fatalf("token: got %d %v: %v, want 200", status, tok["error"], tok["error_description"])
	}
	secret, _ := tok["access_token"].(string)
	if !strings.HasPrefix(secret, "kw_oat_") || tok["token_type"] != "Bearer" || tok["expires_in"] != float64(30*24*3600) {
		t.Errorf("token: got prefix %.7q, token_type %v, expires_in %v; want kw_oat_, Bearer, 2592000", secret, tok["token_type"], tok["expires_in"])
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Errorf("token: answered a refresh_token; keyward issues none")
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("token: got Cache-Control %q, want no-store", hdr.Get("Cache-Control"))
	}

	// The token acts as the owner in acme.
	status, who := e.api(secret, "GET", "/v1/whoami")
	if status != http.StatusOK {
		t.Fatalf("whoami with the OAuth token: got %d %v, want 200", status, who)
	}
	wt, _ := who["token"].(map[string]any)
	if who["role"] != "owner" || wt["kind"] != "oauth" || wt["source"] != "oauth:"+client {
		t.Errorf("whoami: got role %v, kind %v, source %v; want owner, oauth, oauth:%s", who["role"], wt["kind"], wt["source"], client)
	}

	// Listed on the owner's tokens with its client's name.
	status, list := e.api(e.boot.Secret, "GET", "/v1/tokens?kind=oauth")
	tokens, _ := list["tokens"].([]any)
	if status != http.StatusOK || len(tokens) != 1 {
		t.Fatalf("token list: got %d with %d tokens, want 200 with 1", status, len(tokens))
	}
	listed := tokens[0].(map[string]any)
	wantName := "OAuth: Claude Code (" + client + ")"
	if listed["source"] != "oauth:"+client || listed["source_name"] != wantName || listed["name"] != "Claude Code" {
		t.Errorf("listed token: got source %v, source_name %v, name %v; want oauth:%s, %q, Claude Code", listed["source"], listed["source_name"], listed["name"], client, wantName)
	}

	// Audited: the registration, the consent and the mint.
	for _, action := range []string{keyward.ActionOAuthConsentGranted, keyward.ActionTokenCreated} {
		status, events := e.api(e.boot.Secret, "GET", "/v1/orgs/acme/audit?action="+action)
		evs, _ := events["events"].([]any)
		if status != http.StatusOK || len(evs) == 0 {
			t.Errorf("audit %s: got %d with %d events, want at least one", action, status, len(evs))
		}
	}

	// It revokes like any other token.
	status, _ = e.api(e.boot.Secret, "POST", "/v1/tokens/"+listed["id"].(string)+"/revoke")
	if status != http.StatusOK {
		t.Fatalf("revoke through the API: got %d, want 200", status)
	}
	if status, _ := e.api(secret, "GET", "/v1/whoami"); status != http.StatusUnauthorized {
		t.Errorf("whoami after revoke: got %d, want 401", status)
	}
}

// RFC 7009: the client revokes its token; the next request is 401.
func TestRevocationEndpoint(t *testing.T) {
	e := newEnv(t)
	client := e.register("Cursor", callback)
	secret := e.accessToken(client)

	status, _, body := e.postForm("/oauth/revoke", url.Values{"token": {secret}, "client_id": {e.register("Other", callback)}})
	wantOAuthError(t, "revoke by another client", status, body, http.StatusUnauthorized, "invalid_client", "the token was not issued to this client")
	status, _, body = e.postForm("/oauth/revoke", url.Values{"token": {e.boot.Secret}, "client_id": {client}})
	wantOAuthError(t, "revoke a PAT", status, body, http.StatusBadRequest, "unsupported_token_type", "only OAuth access tokens are revoked here")
	if status, _ := e.api(secret, "GET", "/v1/whoami"); status != http.StatusOK {
		t.Fatalf("whoami after refused revocations: got %d, want 200", status)
	}

	for i := range 2 { // the second time changes nothing and succeeds
		status, _, body = e.postForm("/oauth/revoke", url.Values{"token": {secret}, "token_type_hint": {"access_token"}, "client_id": {client}})
		if status != http.StatusOK || body != nil {
			t.Fatalf("revoke #%d: got %d %v, want 200 with no body", i+1, status, body)
		}
	}
	if status, _ := e.api(secret, "GET", "/v1/whoami"); status != http.StatusUnauthorized {
		t.Errorf("whoami after RFC 7009 revocation: got %d, want 401", status)
	}
	status, _, _ = e.postForm("/oauth/revoke", url.Values{"token": {"not-a-token"}, "client_id": {client}})
	if status != http.StatusOK {
		t.Errorf("revoke an unknown token: got %d, want 200 (RFC 7009 section 2.2)", status)
	}
}

// A user in several orgs chooses one on the consent page; the token acts
// there, with the role they have there.
func TestOrgChoice(t *testing.T) {
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
	p := newPKCE()
	page := b.get("/oauth/authorize?" + e.authzQuery(client, p).Encode())
	for _, want := range []string{`type="radio"`, "Acme (acme), as <strong>member</strong>", "Beta (beta), as <strong>owner</strong>"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("consent page for two orgs: does not show %q", want)
		}
	}
	form := consentForm(page.body)
	form.Set("decision", "allow")

	// An org the user is not in is refused.
	forged := url.Values{}
	for k, v := range form {
		forged[k] = v
	}
	forged.Set("org_id", "org_notmine")
	got := b.post("/oauth/authorize", forged).location(t).Query()
	if got.Get("error") != "access_denied" || got.Get("error_description") != "you are not an active member of that org" {
		t.Errorf("consent for a foreign org: got %q: %q, want access_denied", got.Get("error"), got.Get("error_description"))
	}

	form.Set("org_id", beta.ID)
	got = b.post("/oauth/authorize", form).location(t).Query()
	status, tok := e.exchange(e.tokenForm(client, got.Get("code"), p))
	if status != http.StatusOK {
		t.Fatalf("token: got %d %v", status, tok)
	}
	status, who := e.api(tok["access_token"].(string), "GET", "/v1/whoami")
	org, _ := who["org"].(map[string]any)
	if status != http.StatusOK || org["slug"] != "beta" || who["role"] != "owner" {
		t.Errorf("whoami: got %d in org %v as %v, want beta as owner", status, org["slug"], who["role"])
	}
}

// The user denies: the client hears access_denied, with state and iss.
func TestDeny(t *testing.T) {
	e := newEnv(t)
	client := e.register("Windsurf", callback)
	b := e.signedIn()
	page := b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE()).Encode())
	form := consentForm(page.body)
	form.Set("decision", "deny")
	got := b.post("/oauth/authorize", form).location(t).Query()
	if got.Get("error") != "access_denied" || got.Get("state") != "st-42" || got.Get("iss") != e.srv.URL || got.Get("code") != "" {
		t.Errorf("deny: got %v, want access_denied with state and iss and no code", got)
	}
}
