package oauth_test

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/oauth"
)

// wantPage checks an error shown as a page: the status, the exact
// message, and no redirect anywhere.
func wantPage(t *testing.T, what string, p *page, status int, message string) {
	t.Helper()
	if p.status != status || !strings.Contains(p.body, `<p role="alert">`+htmlEscape(message)+`</p>`) {
		t.Errorf("%s: got status %d, message %q; want %d with %q", what, p.status, alert(p.body), status, message)
	}
	if loc := p.header.Get("Location"); loc != "" {
		// Only where it went: its query may hold a code.
		u, _ := url.Parse(loc)
		t.Errorf("%s: redirected to %s%s; an unvalidated redirect URI must never be followed", what, u.Host, u.Path)
	}
}

// alert is the message of an error page.
func alert(body string) string {
	_, after, _ := strings.Cut(body, `<p role="alert">`)
	msg, _, _ := strings.Cut(after, "</p>")
	return msg
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// wantRedirectError checks an error sent to the client's redirect URI,
// with state and iss.
func wantRedirectError(t *testing.T, e *env, what string, p *page, code, desc string) {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Errorf("%s: got status %d (%q), want 303 to the redirect URI", what, p.status, alert(p.body))
		return
	}
	loc := p.location(t)
	got := loc.Query()
	if loc.Host != "127.0.0.1:8765" || got.Get("error") != code || got.Get("error_description") != desc ||
		got.Get("state") != "st-42" || got.Get("iss") != e.srv.URL || got.Get("code") != "" {
		t.Errorf("%s: got redirect to %s with error %q: %q, state %q, iss %q, code %t; want %s?error=%s&error_description=%q with state and iss", what, loc.Host,
			got.Get("error"), got.Get("error_description"), got.Get("state"), got.Get("iss"), got.Get("code") != "", callback, code, desc)
	}
}

func TestAttackRedirectURIMismatch(t *testing.T) {
	e := newEnv(t)
	client := e.register("Victim app", callback, "http://127.0.0.1/native")
	b := e.signedIn()
	p := newPKCE()
	const msg = "redirect_uri does not match any redirect URI registered for this client"
	for _, evil := range []string{
		"http://127.0.0.1:9999/callback",         // another port than the one registered
		"http://127.0.0.1:8765/callback/",        // one more character
		"http://127.0.0.1:8765/callback?x=1",     // a query
		"https://attacker.example/callback",      // another host
		"http://127.0.0.1:8765/callback#frag",    // a fragment
		"http://LOCALHOST:8765/callback",         // case
		"http://127.0.0.1:5000/native/../evil",   // a path around a portless loopback URI
		"https://127.0.0.1:5000/native",          // the scheme of a portless loopback URI
		"http://127.0.0.1:5000/native?then=evil", // a query after a portless loopback URI
	} {
		q := e.authzQuery(client, p, func(v url.Values) { v.Set("redirect_uri", evil) })
		wantPage(t, "authorize with redirect_uri "+evil, b.get("/oauth/authorize?"+q.Encode()), http.StatusBadRequest, msg)
	}
	q := e.authzQuery(client, p, func(v url.Values) { v.Del("redirect_uri") })
	wantPage(t, "authorize without redirect_uri", b.get("/oauth/authorize?"+q.Encode()), http.StatusBadRequest, "redirect_uri is required")

	// A loopback URI registered without a port takes any port (RFC 8252
	// section 7.3).
	q = e.authzQuery(client, p, func(v url.Values) { v.Set("redirect_uri", "http://127.0.0.1:5000/native") })
	if got := b.get("/oauth/authorize?" + q.Encode()); got.status != http.StatusOK {
		t.Errorf("authorize with a portless loopback URI on port 5000: got %d, want the consent page", got.status)
	}

	// At the token endpoint: the code's redirect URI, exactly.
	code := e.code(client, p)
	form := e.tokenForm(client, code, p)
	form.Set("redirect_uri", "http://127.0.0.1:9999/callback")
	status, body := e.exchange(form)
	wantOAuthError(t, "token with another redirect_uri", status, body, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")

	// Registration refuses what may not be a redirect URI.
	for uri, desc := range map[string]string{
		"http://example.com/cb":         `a redirect URI uses http on a host that is not loopback; use https, or http://127.0.0.1, http://[::1] or http://localhost`,
		"https://example.com/cb#x":      `a redirect URI has a fragment; a redirect URI may not have one`,
		"com.example.app:/cb":           `a redirect URI is not an absolute URI`,
		"javascript://example.com/%0a1": `a redirect URI must use https, or http on a loopback host`,
		"https://user@example.com/cb":   `a redirect URI holds user information`,
	} {
		status, body := e.postJSON("/oauth/register", map[string]any{"client_name": "x", "redirect_uris": []string{uri}})
		wantOAuthError(t, "register "+uri, status, body, http.StatusBadRequest, "invalid_redirect_uri", desc)
	}
	status, body = e.postJSON("/oauth/register", map[string]any{"client_name": "x"})
	wantOAuthError(t, "register without redirect_uris", status, body, http.StatusBadRequest, "invalid_redirect_uri", "redirect_uris must list at least one URI")
	status, body = e.postJSON("/oauth/register", map[string]any{"redirect_uris": []string{callback}, "grant_types": []string{"client_credentials"}})
	wantOAuthError(t, "register for client_credentials", status, body, http.StatusBadRequest, "invalid_client_metadata", "grant_types must include authorization_code, the only grant keyward supports")
}

func TestAttackReusedCode(t *testing.T) {
	e := newEnv(t)
	client := e.register("Codex", callback)
	p := newPKCE()
	code := e.code(client, p)
	status, first := e.exchange(e.tokenForm(client, code, p))
	if status != http.StatusOK {
		t.Fatalf("first exchange: got %d %v, want 200", status, first)
	}
	secret := first["access_token"].(string)
	if status, _ := e.api(secret, "GET", "/v1/whoami"); status != http.StatusOK {
		t.Fatalf("whoami before reuse: got %d, want 200", status)
	}

	status, again := e.exchange(e.tokenForm(client, code, p))
	wantOAuthError(t, "second exchange of one code", status, again, http.StatusBadRequest, "invalid_grant", "authorization code was already used; the token issued with it is revoked")

	// The token issued from the code is revoked, audited, and listed so.
	if status, _ := e.api(secret, "GET", "/v1/whoami"); status != http.StatusUnauthorized {
		t.Errorf("whoami after the code's reuse: got %d, want 401", status)
	}
	_, list := e.api(e.boot.Secret, "GET", "/v1/tokens?kind=oauth&status=revoked")
	tokens, _ := list["tokens"].([]any)
	if len(tokens) != 1 || tokens[0].(map[string]any)["revoke_reason"] != "authorization code reused" {
		t.Errorf("revoked OAuth tokens: got %v, want the one token with reason \"authorization code reused\"", list["tokens"])
	}

	// An unknown code, and a code of another client.
	status, body := e.exchange(e.tokenForm(client, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", p))
	wantOAuthError(t, "unknown code", status, body, http.StatusBadRequest, "invalid_grant", "authorization code is unknown")
	other := e.register("Other", callback)
	p2 := newPKCE()
	status, body = e.exchange(e.tokenForm(other, e.code(client, p2), p2))
	wantOAuthError(t, "another client's code", status, body, http.StatusBadRequest, "invalid_grant", "authorization code was issued to another client")
}

func TestAttackWrongVerifier(t *testing.T) {
	e := newEnv(t)
	client := e.register("Gemini CLI", callback)
	p := newPKCE()
	code := e.code(client, p)
	form := e.tokenForm(client, code, p)
	form.Set("code_verifier", newPKCE().verifier)
	status, body := e.exchange(form)
	wantOAuthError(t, "token with another verifier", status, body, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")

	// The challenge itself is no verifier (what plain PKCE would accept).
	form.Set("code_verifier", p.challenge)
	status, body = e.exchange(form)
	wantOAuthError(t, "token with the challenge as verifier", status, body, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")

	form.Del("code_verifier")
	status, body = e.exchange(form)
	wantOAuthError(t, "token without verifier", status, body, http.StatusBadRequest, "invalid_request", "code_verifier is required")
	form.Set("code_verifier", "short")
	status, body = e.exchange(form)
	wantOAuthError(t, "token with a malformed verifier", status, body, http.StatusBadRequest, "invalid_request", "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'")
}

func TestAttackPlainPKCE(t *testing.T) {
	e := newEnv(t)
	client := e.register("Claude Desktop", callback)
	b := e.signedIn()
	p := newPKCE()
	for _, tc := range []struct {
		name string
		mod  func(url.Values)
		desc string
	}{
		{"plain", func(v url.Values) { v.Set("code_challenge_method", "plain"); v.Set("code_challenge", p.verifier) }, "code_challenge_method plain is not allowed; use S256"},
		{"no method", func(v url.Values) { v.Del("code_challenge_method") }, "code_challenge_method must be S256 (PKCE is required)"},
		{"no challenge", func(v url.Values) { v.Del("code_challenge") }, "code_challenge is required (PKCE with S256)"},
		{"malformed challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, "code_challenge must be the 43-character base64url SHA-256 of the code verifier"},
	} {
		q := e.authzQuery(client, p, tc.mod)
		wantRedirectError(t, e, "authorize with "+tc.name, b.get("/oauth/authorize?"+q.Encode()), "invalid_request", tc.desc)
	}
}

func TestAttackResource(t *testing.T) {
	e := newEnv(t)
	client := e.register("MCP Inspector", callback)
	b := e.signedIn()
	p := newPKCE()
	for _, tc := range []struct {
		name, resource, desc string
	}{
		{"another resource", "https://evil.example/mcp", "resource must be " + e.mcp},
		{"the server itself", e.srv.URL, "resource must be " + e.mcp},
		{"no resource", "", "resource is required and must be " + e.mcp},
	} {
		q := e.authzQuery(client, p, func(v url.Values) {
			if tc.resource == "" {
				v.Del("resource")
			} else {
				v.Set("resource", tc.resource)
			}
		})
		wantRedirectError(t, e, "authorize for "+tc.name, b.get("/oauth/authorize?"+q.Encode()), "invalid_target", tc.desc)
	}
	q := e.authzQuery(client, p)
	q.Add("resource", "https://evil.example/mcp")
	wantPage(t, "authorize with two resources", b.get("/oauth/authorize?"+q.Encode()), http.StatusBadRequest, "resource is given more than once")

	code := e.code(client, p)
	form := e.tokenForm(client, code, p)
	form.Set("resource", "https://evil.example/mcp")
	status, body := e.exchange(form)
	wantOAuthError(t, "token for another resource", status, body, http.StatusBadRequest, "invalid_target", "resource does not match the authorization request")
	form.Del("resource")
	status, body = e.exchange(form)
	wantOAuthError(t, "token without resource", status, body, http.StatusBadRequest, "invalid_target", "resource is required")
	form.Set("resource", e.mcp)
	if status, body := e.exchange(form); status != http.StatusOK {
		t.Errorf("token with the right resource after refusals: got %d %v, want 200", status, body)
	}
}

func TestAttackConsentWithoutCSRF(t *testing.T) {
	e := newEnv(t)
	client := e.register("Some app", callback)
	b := e.signedIn()
	page := b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE()).Encode())
	form := consentForm(page.body)
	form.Set("decision", "allow")
	const msg = "the consent form did not come from this site or has expired (missing or invalid CSRF token); start again from the application"

	without := url.Values{}
	for k, v := range form {
		if k != "csrf_token" {
			without[k] = v
		}
	}
	wantPage(t, "consent without a CSRF token", b.post("/oauth/authorize", without), http.StatusForbidden, msg)
	wrong := url.Values{}
	for k, v := range form {
		wrong[k] = v
	}
	wrong.Set("csrf_token", strings.Repeat("A", 43))
	wantPage(t, "consent with a wrong CSRF token", b.post("/oauth/authorize", wrong), http.StatusForbidden, msg)

	// Another browser of the same user (as a forged cross-site post is:
	// the session goes along, the CSRF cookie does not).
	other := e.signedIn()
	wantPage(t, "consent posted from elsewhere with a stolen form", other.post("/oauth/authorize", form), http.StatusForbidden, msg)

	// Nothing was granted: the audit log holds no consent.
	_, events := e.api(e.boot.Secret, "GET", "/v1/orgs/acme/audit?action=oauth.consent_granted")
	if evs, _ := events["events"].([]any); len(evs) != 0 {
		t.Errorf("audit after refused consents: got %d consent events, want 0", len(evs))
	}
	// The genuine form still works.
	if got := b.post("/oauth/authorize", form); got.status != http.StatusSeeOther || got.location(t).Query().Get("code") == "" {
		t.Errorf("consent with the CSRF token: got %d, want a redirect with a code", got.status)
	}
}

func TestAttackFraming(t *testing.T) {
	e := newEnv(t)
	client := e.register("Some app", callback)
	b := e.signedIn()
	pages := map[string]*page{
		"consent page": b.get("/oauth/authorize?" + e.authzQuery(client, newPKCE()).Encode()),
		"error page":   b.get("/oauth/authorize?client_id=dcr_nope"),
	}
	for name, p := range pages {
		csp := p.header.Get("Content-Security-Policy")
		if p.header.Get("X-Frame-Options") != "DENY" || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: got X-Frame-Options %q, Content-Security-Policy %q; want DENY and frame-ancestors 'none'", name, p.header.Get("X-Frame-Options"), csp)
		}
		if strings.Contains(csp, "script-src") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q allows more than it should", name, csp)
		}
	}
	// The consent form may post here and go on to the client, nowhere else.
	if csp := pages["consent page"].header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:8765;") {
		t.Errorf("consent page: got Content-Security-Policy %q, want form-action 'self' http://127.0.0.1:8765", csp)
	}
}

// metadataServer serves a Client ID Metadata Document over TLS, and
// counts the requests it gets.
type metadataServer struct {
	srv  *httptest.Server
	hits atomic.Int64
	doc  func(id string) string
}

func newMetadataServer(t *testing.T, name string) *metadataServer {
	m := &metadataServer{}
	m.doc = func(id string) string {
		b, _ := json.Marshal(map[string]any{"client_id": id, "client_name": name, "redirect_uris": []string{callback}, "token_endpoint_auth_method": "none"})
		return string(b)
	}
	m.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.hits.Add(1)
		switch r.URL.Path {
		case "/client.json", "/wrong.json", "/big.json":
			id := m.srv.URL + r.URL.Path
			if r.URL.Path == "/wrong.json" {
				id = m.srv.URL + "/client.json"
			}
			body := m.doc(id)
			if r.URL.Path == "/big.json" {
				body = strings.Replace(body, `"client_name"`, `"pad":"`+strings.Repeat("x", 70<<10)+`","client_name"`, 1)
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
		case "/moved.json":
			http.Redirect(w, r, "/client.json", http.StatusFound)
		case "/slow.json":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *metadataServer) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(m.srv.Certificate())
	return pool
}

func TestAttackPrivateMetadataURL(t *testing.T) {
	meta := newMetadataServer(t, "Evil internal")
	e := newEnv(t, func(o *oauth.Options) { o.MetadataRootCAs = meta.roots() })
	b := e.signedIn()
	p := newPKCE()
	port := meta.srv.URL[strings.LastIndex(meta.srv.URL, ":")+1:]
	for _, tc := range []struct{ id, msg string }{
		{meta.srv.URL + "/client.json", "client metadata document " + meta.srv.URL + "/client.json: resolves to 127.0.0.1, a loopback address; keyward fetches client metadata from public addresses only"},
		{"https://10.1.2.3/client.json", "client metadata document https://10.1.2.3/client.json: resolves to 10.1.2.3, a private address; keyward fetches client metadata from public addresses only"},
		{"https://169.254.169.254/latest/meta-data", "client metadata document https://169.254.169.254/latest/meta-data: resolves to 169.254.169.254, a link-local address; keyward fetches client metadata from public addresses only"},
		{"https://[::ffff:127.0.0.1]:" + port + "/client.json", "client metadata document https://[::ffff:127.0.0.1]:" + port + "/client.json: resolves to 127.0.0.1, a loopback address; keyward fetches client metadata from public addresses only"},
		{"https://[::1]:" + port + "/client.json", "client metadata document https://[::1]:" + port + "/client.json: resolves to ::1, a loopback address; keyward fetches client metadata from public addresses only"},
	} {
		q := e.authzQuery(tc.id, p)
		wantPage(t, "authorize with client_id "+tc.id, b.get("/oauth/authorize?"+q.Encode()), http.StatusBadRequest, tc.msg)
	}
	// A name is checked after it resolves: localhost is loopback.
	q := e.authzQuery("https://localhost:"+port+"/client.json", p)
	got := b.get("/oauth/authorize?" + q.Encode())
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, "a loopback address; keyward fetches client metadata from public addresses only") {
		t.Errorf("authorize with a client_id on localhost: got %d %q, want the loopback refusal", got.status, alert(got.body))
	}
	if n := meta.hits.Load(); n != 0 {
		t.Errorf("the private metadata server got %d requests, want 0", n)
	}
}

// A client known by its metadata document, fetched from a test server
// that the test setting allows.
func TestClientMetadataDocument(t *testing.T) {
	meta := newMetadataServer(t, "Doc Client")
	e := newEnv(t, func(o *oauth.Options) {
		o.AllowPrivateMetadataHosts = true
		o.MetadataRootCAs = meta.roots()
	})
	client := meta.srv.URL + "/client.json"
	b := e.signedIn()
	p := newPKCE()
	page := b.get("/oauth/authorize?" + e.authzQuery(client, p).Encode())
	if page.status != http.StatusOK || !strings.Contains(page.body, "Doc Client") || !strings.Contains(page.body, client) {
		t.Fatalf("consent page for a metadata client: got %d (%q), want 200 naming Doc Client and its URL", page.status, alert(page.body))
	}
	// The document is cached: a second request does not fetch it again.
	b.get("/oauth/authorize?" + e.authzQuery(client, p).Encode())
	if n := meta.hits.Load(); n != 1 {
		t.Errorf("metadata fetches for two requests: got %d, want 1 (cached)", n)
	}
	form := consentForm(page.body)
	form.Set("decision", "allow")
	code := b.post("/oauth/authorize", form).location(t).Query().Get("code")
	status, tok := e.exchange(e.tokenForm(client, code, p))
	if status != http.StatusOK {
		t.Fatalf("token for a metadata client: got %d %v", status, tok)
	}
	_, list := e.api(e.boot.Secret, "GET", "/v1/tokens?kind=oauth")
	tokens, _ := list["tokens"].([]any)
	if len(tokens) != 1 || tokens[0].(map[string]any)["source_name"] != "OAuth: Doc Client ("+client+")" {
		t.Errorf("listed token: got %v, want source_name \"OAuth: Doc Client (%s)\"", list["tokens"], client)
	}

	if host := strings.TrimPrefix(meta.srv.URL, "https://"); !strings.Contains(page.body, "published at <strong>"+host+"</strong>") {
		t.Errorf("consent page for a metadata client: does not name the host %s that publishes it", host)
	}

	// A failure is remembered briefly too: no fetch per request.
	before := meta.hits.Load()
	for range 3 {
		b.get("/oauth/authorize?" + e.authzQuery(meta.srv.URL+"/missing.json", p).Encode())
	}
	if n := meta.hits.Load() - before; n != 1 {
		t.Errorf("fetches for three requests naming a missing document: got %d, want 1", n)
	}

	for _, tc := range []struct{ path, msg string }{
		{"/wrong.json", "names another client_id than its own URL"},
		{"/big.json", "is larger than 64 KiB"},
		{"/moved.json", "answered HTTP 302; redirects are not followed"},
		{"/missing.json", "answered HTTP 404, want 200"},
		{"/", "has no path"},
	} {
		id := meta.srv.URL + tc.path
		wantPage(t, "metadata document "+tc.path, b.get("/oauth/authorize?"+e.authzQuery(id, p).Encode()), http.StatusBadRequest,
			"client metadata document "+id+": "+tc.msg)
	}
}

func TestCodeExpiry(t *testing.T) {
	e := newEnv(t)
	client := e.register("Slow app", callback)

	p := newPKCE()
	code := e.code(client, p)
	e.clock.Add(59 * time.Second)
	if status, body := e.exchange(e.tokenForm(client, code, p)); status != http.StatusOK {
		t.Errorf("exchange after 59 s: got %d %v, want 200", status, body)
	}

	p = newPKCE()
	code = e.code(client, p)
	e.clock.Add(60 * time.Second)
	status, body := e.exchange(e.tokenForm(client, code, p))
	wantOAuthError(t, "exchange after 60 s", status, body, http.StatusBadRequest, "invalid_grant", "authorization code has expired")
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t)
	client := e.register("App", callback)
	p := newPKCE()
	code := e.code(client, p)
	for _, tc := range []struct {
		name         string
		mod          func(url.Values)
		status       int
		code, detail string
	}{
		{"refresh_token grant", func(v url.Values) { v.Set("grant_type", "refresh_token") }, 400, "unsupported_grant_type", "only authorization_code is supported; keyward issues no refresh tokens"},
		{"client_credentials grant", func(v url.Values) { v.Set("grant_type", "client_credentials") }, 400, "unsupported_grant_type", "only authorization_code is supported; keyward issues no refresh tokens"},
		{"no grant_type", func(v url.Values) { v.Del("grant_type") }, 400, "invalid_request", "grant_type is required"},
		{"no client_id", func(v url.Values) { v.Del("client_id") }, 401, "invalid_client", "client_id is required"},
		{"unknown client", func(v url.Values) { v.Set("client_id", "dcr_unknown") }, 401, "invalid_client", "unknown client_id"},
		{"two codes", func(v url.Values) { v.Add("code", "x") }, 400, "invalid_request", "code is given more than once"},
	} {
		form := e.tokenForm(client, code, p)
		tc.mod(form)
		status, body := e.exchange(form)
		wantOAuthError(t, tc.name, status, body, tc.status, tc.code, tc.detail)
	}
	// Parameters in the URL are not read.
	resp, err := http.Post(e.srv.URL+"/oauth/token?"+e.tokenForm(client, code, p).Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := decode(t, resp.Body)
	wantOAuthError(t, "parameters in the URL", resp.StatusCode, body, 400, "invalid_request", "grant_type is required")
	// After all that, the code is still good once.
	if status, body := e.exchange(e.tokenForm(client, code, p)); status != http.StatusOK {
		t.Errorf("exchange after refused requests: got %d %v, want 200", status, body)
	}
}
