package oauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/mcp"
	"github.com/keyward/keyward/oauth"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
	"github.com/keyward/keyward/sqlstore"
)

// clock is a controllable time for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// The owner's dashboard password in every test.
const ownerPassword = "correct horse battery staple"

// The redirect URI that test clients register.
const callback = "http://127.0.0.1:8765/callback"

// env is keyward's API and authorization server on one test server, over
// a service on a fresh SQLite file with a bootstrapped owner of "acme",
// and a minimal real sign-in (testSessions).
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *service.Service
	store *sqlstore.DB
	clock *clock
	srv   *httptest.Server
	boot  *service.BootstrapResult
	mcp   string // the MCP resource URL
}

func newEnv(t *testing.T, configure ...func(*oauth.Options)) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	ck := &clock{now: time.Now().UTC().Truncate(time.Second)}
	svc, err := service.New(store, service.Options{Now: ck.Now, ProductPermissions: []string{"monitors:read", "monitors:write"}})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", Name: "Owner", OrgName: "Acme", Password: ownerPassword})
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	var root http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { root.ServeHTTP(w, r) }))
	t.Cleanup(func() {
		srv.Close()
		_ = store.Close()
	})
	opts := oauth.Options{Issuer: srv.URL}
	for _, c := range configure {
		c(&opts)
	}
	sessions := &testSessions{store: store}
	oh, err := oauth.NewHandler(svc, sessions, opts)
	if err != nil {
		t.Fatalf("oauth.NewHandler: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", api.NewServer(svc, api.Options{BaseURL: srv.URL}))
	mux.Handle("/oauth/", oh)
	mux.Handle("/.well-known/oauth-authorization-server", oh)
	mcpH := mcp.NewHandler(svc, mcp.Options{PublicURL: srv.URL})
	mux.Handle(mcp.Path, mcpH)
	mux.Handle(mcp.MetadataPath+mcp.Path, mcpH)
	mux.HandleFunc("POST /test/signin", sessions.signIn)
	mux.HandleFunc("GET /test/signin", sessions.signInForm)
	root = mux
	return &env{t: t, ctx: ctx, svc: svc, store: store, clock: ck, srv: srv, boot: boot, mcp: srv.URL + "/mcp"}
}

// testSessions is a minimal real sign-in for the tests: it checks a real
// user's real password with service.CheckPassword, and remembers the user
// in a test-only cookie. The dashboard's sessions take its place in
// keyward.
type testSessions struct {
	store *sqlstore.DB
}

const sessionCookie = "test_session"

func (s *testSessions) SignedIn(r *http.Request) (*keyward.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	var u *keyward.User
	err = s.store.View(r.Context(), func(tx service.Tx) error {
		var err error
		u, err = tx.FindUserByID(r.Context(), c.Value)
		return err
	})
	if keyward.ErrorCode(err) == keyward.ENOTFOUND {
		return nil, nil
	}
	return u, err
}

func (s *testSessions) SignInURL(next string) string {
	return "/test/signin?next=" + url.QueryEscape(next)
}

// signInForm is the sign-in page, for the browser tests.
func (s *testSessions) signInForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><title>Sign in</title>
<form method="post" action="/test/signin?next=%s">
<label>Email <input id="email" name="email"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="signin" type="submit">Sign in</button>
</form>`, html.EscapeString(url.QueryEscape(r.URL.Query().Get("next"))))
}

func (s *testSessions) signIn(w http.ResponseWriter, r *http.Request) {
	var u *keyward.User
	err := s.store.View(r.Context(), func(tx service.Tx) error {
		var err error
		u, err = tx.FindUserByEmail(r.Context(), r.PostFormValue("email"))
		return err
	})
	if err != nil || !service.CheckPassword(u.PasswordHash, r.PostFormValue("password")) {
		http.Error(w, "wrong email or password", http.StatusUnauthorized)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: u.ID, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusSeeOther)
}

// page is one answer, read whole.
type page struct {
	status int
	header http.Header
	body   string
}

// location returns the answer's redirect target, parsed.
func (p *page) location(t *testing.T) *url.URL {
	t.Helper()
	loc := p.header.Get("Location")
	if loc == "" {
		t.Fatalf("got status %d with no Location, want a redirect", p.status)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return u
}

// browser is a person's browser: it keeps cookies and does not follow
// redirects, so that tests see each one.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) *page {
	b.e.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// get fetches a path or URL.
func (b *browser) get(target string) *page {
	b.e.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.e.srv.URL + target
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form to a path.
func (b *browser) post(path string, form url.Values) *page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn signs the browser in through the sign-in URL that an
// unauthenticated authorization request was sent to, and returns where
// sign-in sends it back.
func (b *browser) signIn(signInURL *url.URL, email, password string) string {
	b.e.t.Helper()
	p := b.post(signInURL.RequestURI(), url.Values{"email": {email}, "password": {password}})
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("sign-in: got status %d, want 303", p.status)
	}
	return p.header.Get("Location")
}

// register registers a client named name with redirect URIs and returns
// its id.
func (e *env) register(name string, redirects ...string) string {
	e.t.Helper()
	status, body := e.postJSON("/oauth/register", map[string]any{
		"client_name": name, "redirect_uris": redirects,
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
	})
	if status != http.StatusCreated {
		e.t.Fatalf("register: got status %d, want 201; body %v", status, body)
	}
	return body["client_id"].(string)
}

// postJSON posts a JSON body and decodes a JSON answer.
func (e *env) postJSON(path string, v any) (int, map[string]any) {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.Post(e.srv.URL+path, "application/json", strings.NewReader(string(b)))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(e.t, resp.Body)
}

// postForm posts a form to a JSON endpoint and decodes its answer (an
// empty body decodes to nil).
func (e *env) postForm(path string, form url.Values) (int, http.Header, map[string]any) {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header, decode(e.t, resp.Body)
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v", err)
	}
	return m
}

// api calls the API with a bearer token and decodes the JSON answer.
func (e *env) api(token, method, path string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(e.t, resp.Body)
}

// pkce is a code verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	v := strings.Repeat("x", 10) + keyward.NewID("") + keyward.NewID("") // 50 unreserved characters
	return pkce{verifier: v, challenge: service.S256(v)}
}

// authzQuery is a well-formed authorization request for client; mods
// change it.
func (e *env) authzQuery(client string, p pkce, mods ...func(url.Values)) url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {callback},
		"code_challenge": {p.challenge}, "code_challenge_method": {"S256"},
		"resource": {e.mcp}, "state": {"st-42"},
	}
	for _, m := range mods {
		m(q)
	}
	return q
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentForm reads the consent page's hidden fields.
func consentForm(body string) url.Values {
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return form
}

// signedIn returns a browser signed in as the owner.
func (e *env) signedIn() *browser {
	e.t.Helper()
	b := e.browser()
	u, _ := url.Parse(e.srv.URL + "/test/signin?next=/")
	b.signIn(u, "owner@example.com", ownerPassword)
	return b
}

// consent runs the authorization request q in b up to the consent page,
// allows it, and returns the redirect's query.
func (e *env) consent(b *browser, q url.Values) url.Values {
	e.t.Helper()
	p := b.get("/oauth/authorize?" + q.Encode())
	if p.status != http.StatusOK {
		e.t.Fatalf("authorize: got status %d, want 200", p.status)
	}
	form := consentForm(p.body)
	form.Set("decision", "allow")
	p = b.post("/oauth/authorize", form)
	if p.status != http.StatusSeeOther {
		e.t.Fatalf("consent: got status %d, want 303", p.status)
	}
	return p.location(e.t).Query()
}

// code gets an authorization code for client as the signed-in owner.
func (e *env) code(client string, p pkce) string {
	e.t.Helper()
	got := e.consent(e.signedIn(), e.authzQuery(client, p))
	if got.Get("code") == "" {
		e.t.Fatalf("consent redirect: no code; error %q: %q", got.Get("error"), got.Get("error_description"))
	}
	return got.Get("code")
}

// tokenForm is a well-formed token request.
func (e *env) tokenForm(client, code string, p pkce) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {client},
		"redirect_uri": {callback}, "code_verifier": {p.verifier}, "resource": {e.mcp},
	}
}

// exchange posts a token request and returns its status and answer.
func (e *env) exchange(form url.Values) (int, map[string]any) {
	e.t.Helper()
	status, _, body := e.postForm("/oauth/token", form)
	return status, body
}

// wantOAuthError checks an OAuth JSON error answer.
func wantOAuthError(t *testing.T, what string, status int, body map[string]any, wantStatus int, code, desc string) {
	t.Helper()
	if status != wantStatus || body["error"] != code || body["error_description"] != desc {
		t.Errorf("%s: got %d %v: %v, want %d %s: %s", what, status, body["error"], body["error_description"], wantStatus, code, desc)
	}
}

// accessToken runs the whole flow for client and returns the token.
func (e *env) accessToken(client string) string {
	e.t.Helper()
	p := newPKCE()
	status, body := e.exchange(e.tokenForm(client, e.code(client, p), p))
	if status != http.StatusOK {
		e.t.Fatalf("token: got status %d (%v: %v), want 200", status, body["error"], body["error_description"])
	}
	return body["access_token"].(string)
}
