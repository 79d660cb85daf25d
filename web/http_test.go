package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// agent is a browser without a browser: a cookie jar that follows no
// redirects, for tests of headers, cookies and refusals.
type agent struct {
	t    *testing.T
	s    *site
	c    *http.Client
	last string // the body of the last page
	// forwardedFor, when set, is sent as X-Forwarded-For, as a reverse
	// proxy in front of keyward would.
	forwardedFor string
}

func newAgent(t *testing.T, s *site) *agent {
	jar, _ := cookiejar.New(nil)
	c := *s.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &agent{t: t, s: s, c: &c}
}

// get fetches path and returns the response, with its body read.
func (a *agent) get(path string) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.s.URL+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	resp, err := a.do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.last = string(b)
	return resp
}

// post sends a form to path and returns the response, with its body read.
func (a *agent) post(path string, form url.Values) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest("POST", a.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.last = string(b)
	return resp
}

// do sends req from the agent's browser.
func (a *agent) do(req *http.Request) (*http.Response, error) {
	if a.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", a.forwardedFor)
	}
	return a.c.Do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var nonceRE = regexp.MustCompile(`name="nonce" value="([^"]+)"`)

// field returns the value of the first hidden field matched by re in the
// last page.
func (a *agent) field(re *regexp.Regexp) string {
	a.t.Helper()
	m := re.FindStringSubmatch(a.last)
	if m == nil {
		a.t.Fatalf("no %s in the page", re)
	}
	return m[1]
}

// signIn signs in as email through the form.
func (a *agent) signIn(email, password string) *http.Response {
	a.t.Helper()
	a.get("/signin")
	return a.post("/signin", url.Values{"csrf": {a.field(csrfRE)}, "email": {email}, "password": {password}})
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	if resp := a.signIn("owner@example.com", ownerPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	tok, _ := s.mint("t")
	for _, path := range []string{"/signin", "/tokens", "/tokens/new", "/tokens/" + tok.ID, "/connect", "/org/keys", "/org/members", "/org/policy", "/org/audit", "/nope"} {
		resp := a.get(path)
		h := resp.Header
		if got := h.Get("Content-Security-Policy"); got != "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'" {
			t.Errorf("%s: CSP %q", path, got)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: missing frame, sniff or referrer header: %v", path, h)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, h.Get("Cache-Control"))
		}
		// No inline script or style: CSP would block them.
		for _, bad := range []string{"<script>", "style=", "onclick=", "onload=", "<style"} {
			if strings.Contains(a.last, bad) {
				t.Errorf("%s: the page has inline %q", path, bad)
			}
		}
	}
}

func TestCookies(t *testing.T) {
	for _, tls := range []bool{false, true} {
		s := newSite(t, tls)
		a := newAgent(t, s)
		resp := a.signIn("owner@example.com", ownerPassword)
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "kw_session" {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("tls %v: sign-in set no session cookie", tls)
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != tls {
			t.Errorf("tls %v: session cookie HttpOnly %v SameSite %v Secure %v; want HttpOnly, Lax, Secure only under TLS", tls, session.HttpOnly, session.SameSite, session.Secure)
		}
		if session.Path != "/" {
			t.Errorf("session cookie path %q", session.Path)
		}
	}
}

func TestSessionRenewedAndEnded(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	// A session id planted before sign-in is not kept.
	u, _ := url.Parse(s.URL)
	a.c.Jar.SetCookies(u, []*http.Cookie{{Name: "kw_session", Value: "planted", Path: "/"}})
	a.signIn("owner@example.com", ownerPassword)
	var id string
	for _, c := range a.c.Jar.Cookies(u) {
		if c.Name == "kw_session" {
			id = c.Value
		}
	}
	if id == "" || id == "planted" {
		t.Fatal("sign-in did not give a fresh session id")
	}
	if resp := a.get("/tokens"); resp.StatusCode != 200 {
		t.Fatalf("signed in, /tokens: %d", resp.StatusCode)
	}
	csrf := a.field(csrfRE)
	if resp := a.post("/signout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if _, err := s.svc.SessionCaller(context.Background(), id, "", ""); keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
		t.Errorf("after sign-out the session still stands: %v", err)
	}
	// The old cookie, sent again, is refused.
	b := newAgent(t, s)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "kw_session", Value: id, Path: "/"}})
	if resp := b.get("/tokens"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("an ended session's cookie: %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestSessionExpiry(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	s.clock.Add(service.SessionIdle + time.Minute)
	if resp := a.get("/tokens"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("an idle session: /tokens answered %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestCSRFRefused(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	// Before sign-in: the sign-in form needs its token too.
	a.get("/signin")
	if resp := a.post("/signin", url.Values{"email": {"owner@example.com"}, "password": {ownerPassword}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without CSRF token: %d, want 403", resp.StatusCode)
	}
	a.signIn("owner@example.com", ownerPassword)
	tok, secret := s.mint("victim")
	a.get("/tokens")
	good := a.field(csrfRE)
	for _, c := range []struct {
		name string
		form url.Values
	}{
		{"no token", url.Values{}},
		{"wrong token", url.Values{"csrf": {"x" + good[1:]}}},
	} {
		for _, path := range []string{"/tokens/" + tok.ID + "/revoke", "/tokens/" + tok.ID + "/delete", "/tokens", "/org/members", "/org/policy", "/signout"} {
			if resp := a.post(path, c.form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s, %s: %d, want 403", c.name, path, resp.StatusCode)
			}
		}
	}
	if s.whoami(secret) != 200 {
		t.Error("a refused form changed the token")
	}
	// Another person's token from another session does not work either.
	b := newAgent(t, s)
	b.get("/signin")
	if resp := a.post("/tokens/"+tok.ID+"/revoke", url.Values{"csrf": {b.field(csrfRE)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a pre-session token on a session's form: %d, want 403", resp.StatusCode)
	}
	// A cross-site POST is refused by the browser's own Sec-Fetch-Site.
	req, _ := http.NewRequest("POST", s.URL+"/tokens/"+tok.ID+"/revoke", strings.NewReader("csrf="+url.QueryEscape(good)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := a.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", resp.StatusCode)
	}
	if s.whoami(secret) != 200 {
		t.Error("a refused form revoked the token")
	}
}

// Sign-in failures are counted per client address, read past a trusted
// proxy: an attacker's failures from one address, however many, never
// refuse the owner's right password from another.
func TestSignInThrottledOverHTTP(t *testing.T) {
	s := newSiteWith(t, siteConfig{trustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	attacker := newAgent(t, s)
	attacker.forwardedFor = "203.0.113.7"
	for i := range 20 {
		resp := attacker.signIn("owner@example.com", "wrong password!")
		want := http.StatusUnauthorized
		if i >= service.MaxAccountAddressFailures {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("failure %d from %s: %d, want %d", i+1, attacker.forwardedFor, resp.StatusCode, want)
		}
		if want == http.StatusTooManyRequests && !strings.Contains(attacker.last, "Too many failed sign-ins") {
			t.Fatalf("failure %d: a 429 without its message", i+1)
		}
	}
	if resp := attacker.signIn("owner@example.com", ownerPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password from the attacker's address: %d, want 429", resp.StatusCode)
	}
	owner := newAgent(t, s)
	owner.forwardedFor = "198.51.100.9"
	if resp := owner.signIn("owner@example.com", ownerPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the owner's right password from another address: %d, want 303; page %.300s", resp.StatusCode, owner.last)
	}

	// Without a trusted proxy, X-Forwarded-For counts for nothing: every
	// attempt comes from the socket's address, whatever the header says.
	s = newSite(t, false)
	for i := range service.MaxAccountAddressFailures + 1 {
		a := newAgent(t, s)
		a.forwardedFor = "203.0.113." + strconv.Itoa(10+i)
		want := http.StatusUnauthorized
		if i == service.MaxAccountAddressFailures {
			want = http.StatusTooManyRequests
		}
		if resp := a.signIn("owner@example.com", "wrong password!"); resp.StatusCode != want {
			t.Fatalf("failure %d with a forged X-Forwarded-For and no trusted proxy: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestRevealOnceAndReload(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	a.get("/tokens/new")
	form := url.Values{"csrf": {a.field(csrfRE)}, "nonce": {a.field(nonceRE)}, "name": {"ci"}, "expiry": {"30d"}}
	resp := a.post("/tokens", form)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("mint: %d, Cache-Control %q; want 200 and no-store", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	m := regexp.MustCompile(`value="(kw_pat_[0-9A-Za-z]+)"`).FindStringSubmatch(a.last)
	if m == nil {
		t.Fatal("the reveal holds no token")
	}
	if s.whoami(m[1]) != 200 {
		t.Error("the revealed token does not work")
	}
	// The same form again (a reload): refused, no secret, no second token.
	resp = a.post("/tokens", form)
	if resp.StatusCode != http.StatusConflict || strings.Contains(a.last, "kw_pat_") {
		t.Errorf("the form sent twice: %d; want 409 without a secret", resp.StatusCode)
	}
	tokens, _, _ := s.svc.FindTokens(context.Background(), s.owner(), service.Personal, keyward.TokenFilter{})
	if len(tokens) != 2 {
		t.Errorf("tokens after the form sent twice: %d, want 2", len(tokens))
	}
	// Nothing shows it later: not the list, not the token's page.
	for _, p := range []string{"/tokens", "/tokens/" + tokens[0].ID} {
		a.get(p)
		if strings.Contains(a.last, m[1]) {
			t.Errorf("%s shows the secret", p)
		}
	}
}

func TestScopesOverHTTP(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	tok, _ := s.mint("scoped")
	a.get("/tokens/" + tok.ID)
	csrf := a.field(csrfRE)
	for _, typ := range []string{"monitor", "dashboard"} {
		if resp := a.post("/tokens/"+tok.ID+"/scopes", url.Values{"csrf": {csrf}, "entity_type": {typ}, "entity_id": {"*"}, "op": {"read"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add scope: %d", resp.StatusCode)
		}
	}
	if resp := a.post("/tokens/"+tok.ID+"/scopes/remove", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove all: %d", resp.StatusCode)
	}
	got, _ := s.svc.FindTokenByID(context.Background(), s.owner(), service.Personal, tok.ID)
	if len(got.Scopes) != 0 {
		t.Errorf("after remove all: %d scopes", len(got.Scopes))
	}
	// Bad input: a clear message, nothing changed.
	a.post("/tokens/"+tok.ID+"/scopes", url.Values{"csrf": {csrf}, "entity_type": {"Bad Type"}, "entity_id": {"*"}, "op": {"read"}})
	a.get("/tokens/" + tok.ID)
	if !strings.Contains(a.last, "flash-error") || !strings.Contains(a.last, "entity_type") {
		t.Error("a bad scope gave no clear error")
	}
}

func TestAuditExport(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	tok, secret := s.mint("exported")
	owner := s.owner()
	owner.UserAgent = "=cmd|' /C calc'!A0"
	if _, err := s.svc.RevokeToken(context.Background(), owner, service.Personal, tok.ID, "leaked"); err != nil {
		t.Fatal(err)
	}
	resp := a.get("/org/audit/export?format=jsonl&action=token.revoked")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("jsonl export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(a.last), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"action":"token.revoked"`) {
		t.Errorf("jsonl export filtered by action: got %d lines: %q", len(lines), a.last)
	}
	resp = a.get("/org/audit/export?format=csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("csv export: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.HasPrefix(a.last, "id,time,org_id,action,actor") || !strings.Contains(a.last, "token.created") {
		t.Errorf("csv export: %q", a.last)
	}
	if strings.Contains(a.last, secret) {
		t.Error("the export holds a secret")
	}
	if !strings.Contains(a.last, `'=cmd`) {
		t.Error("a formula in the export is not defused")
	}
}

func TestNoSecretInURLs(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	a.get("/tokens/new")
	resp := a.post("/tokens", url.Values{"csrf": {a.field(csrfRE)}, "nonce": {a.field(nonceRE)}, "name": {"x"}, "expiry": {"7d"}})
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("mint redirected to %q; the secret must be in the answer itself", loc)
	}
	for _, href := range regexp.MustCompile(`(?:href|action)="([^"]*)"`).FindAllStringSubmatch(a.last, -1) {
		if strings.Contains(href[1], "kw_") {
			t.Errorf("a link holds a token: %q", href[1])
		}
	}
}

func TestMemberSeesNoOrgAdminPages(t *testing.T) {
	s := newSite(t, false)
	mustAddMember(t, s, "mo@example.com")
	a := newAgent(t, s)
	if resp := a.signIn("mo@example.com", "a password for mo@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("member sign-in: %d", resp.StatusCode)
	}
	a.get("/tokens")
	if strings.Contains(a.last, `href="/org/keys"`) || strings.Contains(a.last, `href="/org/audit"`) {
		t.Error("a member's navigation offers API keys or the audit log")
	}
	for _, path := range []string{"/org/keys", "/org/audit", "/org/audit/export?format=csv"} {
		if resp := a.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("member GET %s: %d, want 403", path, resp.StatusCode)
		}
	}
	a.get("/org/members")
	if strings.Contains(a.last, `action="/org/members"`) || strings.Contains(a.last, "/remove") {
		t.Error("a member is offered to add or remove members")
	}
	a.get("/org/policy")
	if !strings.Contains(a.last, "Only an owner") {
		t.Error("a member is offered to change the policy")
	}
	// Another person's token is not found, as on the API.
	tok, _ := s.mint("owner's")
	if resp := a.get("/tokens/" + tok.ID); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a member opening the owner's token: %d, want 404", resp.StatusCode)
	}
}

func TestSignInGoesOnlyToLocalPages(t *testing.T) {
	s := newSite(t, false)
	for next, want := range map[string]string{
		"/org/audit?action=token.created": "/org/audit?action=token.created",
		"//evil.example/x":                "/tokens",
		"https://evil.example/":           "/tokens",
		`/\evil.example`:                  "/tokens",
	} {
		a := newAgent(t, s)
		a.get("/signin")
		resp := a.post("/signin", url.Values{"csrf": {a.field(csrfRE)}, "email": {"owner@example.com"}, "password": {ownerPassword}, "next": {next}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next %q: went to %q, want %q", next, got, want)
		}
	}
}

func TestUnknownPage(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	resp := a.get("/no/such/page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(a.last, "no such page") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("an unknown page: %d, want a 404 page with the headers", resp.StatusCode)
	}
	// The API keeps its own answers.
	resp = a.get("/v1/nope")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("/v1/nope: %s, want the API's JSON", resp.Header.Get("Content-Type"))
	}
}

func TestSuspendedMemberCannotAct(t *testing.T) {
	s := newSite(t, false)
	mustAddMember(t, s, "sue@example.com")
	a := newAgent(t, s)
	a.signIn("sue@example.com", "a password for sue@example.com")
	if resp := a.get("/tokens"); resp.StatusCode != 200 {
		t.Fatalf("before suspension: %d", resp.StatusCode)
	}
	csrf := a.field(csrfRE)
	a.get("/tokens/new")
	nonce := a.field(nonceRE)
	if _, err := s.svc.SuspendMember(context.Background(), s.owner(), "sue@example.com", true); err != nil {
		t.Fatal(err)
	}
	if resp := a.get("/tokens"); resp.StatusCode != http.StatusForbidden || !strings.Contains(a.last, "You are suspended in Acme") {
		t.Errorf("suspended, /tokens: %d, want 403 saying so", resp.StatusCode)
	}
	if resp := a.post("/tokens", url.Values{"csrf": {csrf}, "nonce": {nonce}, "name": {"sneaky"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("suspended, minting: %d, want 403", resp.StatusCode)
	}
	m, _ := s.svc.FindMember(context.Background(), s.owner(), "sue@example.com")
	n, _ := s.svc.CountMemberTokens(context.Background(), s.owner(), m.UserID)
	if n != 1 {
		t.Errorf("the suspended member has %d tokens, want only the one from before", n)
	}
}

// BenchmarkTokensPage measures the tokens page of a person with a full
// page (50) of tokens, signed in, over loopback HTTP.
func BenchmarkTokensPage(b *testing.B) {
	s := newSite(b, false)
	for i := range 49 {
		s.mint(fmt.Sprintf("token %d", i))
	}
	jar, _ := cookiejar.New(nil)
	c := *s.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := c.Get(s.URL + "/signin")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := csrfRE.FindStringSubmatch(string(body))[1]
	resp, err := c.PostForm(s.URL+"/signin", url.Values{"csrf": {csrf}, "email": {"owner@example.com"}, "password": {ownerPassword}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %v", err)
	}
	resp.Body.Close()
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.Get(s.URL + "/tokens")
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET /tokens: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func TestEditToken(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	tok, _ := s.mint("old name")
	a.get("/tokens/" + tok.ID)
	csrf := a.field(csrfRE)
	if resp := a.post("/tokens/"+tok.ID+"/edit", url.Values{"csrf": {csrf}, "name": {"new name"}, "description": {"for the nightly job"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", resp.StatusCode)
	}
	got, _ := s.svc.FindTokenByID(context.Background(), s.owner(), service.Personal, tok.ID)
	if got.Name != "new name" || got.Description != "for the nightly job" {
		t.Errorf("after edit: %q %q", got.Name, got.Description)
	}
	// An empty name is refused with a message; nothing changes.
	a.post("/tokens/"+tok.ID+"/edit", url.Values{"csrf": {csrf}, "name": {"  "}, "description": {"x"}})
	a.get("/tokens/" + tok.ID)
	if !strings.Contains(a.last, "Name is required") {
		t.Error("an empty name gave no clear message")
	}
	got, _ = s.svc.FindTokenByID(context.Background(), s.owner(), service.Personal, tok.ID)
	if got.Name != "new name" || got.Description != "for the nightly job" {
		t.Errorf("a refused edit changed the token: %q %q", got.Name, got.Description)
	}
}

func TestNoSecretInLogs(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	s := newLoggedSite(t, false, log)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	a.get("/org/members")
	a.post("/org/members", url.Values{"csrf": {a.field(csrfRE)}, "email": {"lee@example.com"}, "role": {"member"}})
	link := regexp.MustCompile(`value="(http[^"]*/invite/[^"]+)"`).FindStringSubmatch(a.last)
	if link == nil {
		t.Fatal("no invitation link")
	}
	u, _ := url.Parse(link[1])
	a.get(u.Path)
	pwLink, err := s.svc.AdminPasswordLink(context.Background(), "owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	a.get("/set-password/" + pwLink)
	a.get("/tokens/new")
	a.post("/tokens", url.Values{"csrf": {a.field(csrfRE)}, "nonce": {a.field(nonceRE)}, "name": {"logged"}, "expiry": {"7d"}})
	secret := regexp.MustCompile(`value="(kw_pat_[0-9A-Za-z]+)"`).FindStringSubmatch(a.last)
	if secret == nil {
		t.Fatal("no secret revealed")
	}
	var session string
	base, _ := url.Parse(s.URL)
	for _, c := range a.c.Jar.Cookies(base) {
		if c.Name == "kw_session" {
			session = c.Value
		}
	}
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	if !strings.Contains(logs, "/set-password/[redacted]") || !strings.Contains(logs, "/invite/[redacted]") || !strings.Contains(logs, "path=/tokens") {
		t.Errorf("the dashboard's requests are not logged as expected")
	}
	for what, v := range map[string]string{"the token": secret[1], "the session id": session, "the invitation token": strings.TrimPrefix(u.Path, "/invite/"), "the set-password token": pwLink, "the password": ownerPassword} {
		if v == "" || strings.Contains(logs, v) {
			t.Errorf("the log holds %s (or it was not found)", what)
		}
	}
}

// lockedWriter serialises writes to a buffer the test reads.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
