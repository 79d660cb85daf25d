package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// The two clients behind the proxy, as X-Forwarded-For names them.
const (
	clientA = "203.0.113.9"
	clientB = "198.51.100.7"
)

// proxyBudget is the --rate-limit-ip of TestProxyAddress: each per-address
// budget is spent after this many requests.
const proxyBudget = 3

// TestProxyAddress runs the whole server ('serve': API, dashboard, MCP and
// OAuth on one listener, SQLite in a temporary directory) twice: behind a
// trusted proxy (trusted_proxies: [127.0.0.0/8] in the configuration
// file), where every front end sees the address X-Forwarded-For names, and
// with no trusted proxy, where every front end ignores the header and sees
// the socket's peer, 127.0.0.1. Each check is made so that a front end
// that read the address any other way than the others would fail it: the
// API's allowlist and its budget for requests without a valid token,
// MCP's allowlist and its budget for failed authentication, the OAuth
// registration budget, the dashboard's sign-in throttle, and the address
// the audit log and last_used_ip record for the API, the dashboard and
// OAuth.
func TestProxyAddress(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted bool
	}{
		{"Trusted", true},
		{"Untrusted", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "k.db")
			env := map[string]string{"KEYWARD_DATABASE_URL": dbPath, "KEYWARD_CONFIG_DIR": filepath.Join(dir, "config")}
			if c.trusted {
				cfg := filepath.Join(dir, "keyward.yaml")
				if err := os.WriteFile(cfg, []byte("trusted_proxies: [127.0.0.0/8]\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				env["KEYWARD_CONFIG"] = cfg
			}
			p := &proxied{t: t, trusted: c.trusted, url: startServe(t, env, "--rate-limit-ip", fmt.Sprint(proxyBudget))}
			jar, _ := cookiejar.New(nil)
			p.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

			r := runCLI(t, env, "", "-o", "json", "bootstrap", "--email", "ann@example.com", "--org", "Acme")
			if r.code != 0 {
				t.Fatalf("bootstrap: exit %d, %s", r.code, r.stderr)
			}
			var boot bootstrapOut
			if err := json.Unmarshal([]byte(r.stdout), &boot); err != nil || boot.Secret == "" || boot.Password == "" {
				t.Fatalf("bootstrap: got %q (%v), want a secret and a password", r.stdout, err)
			}
			p.owner, p.org = boot.Secret, boot.Org.ID

			t.Run("API", func(t *testing.T) { p.t = t; p.api() })
			t.Run("MCP", func(t *testing.T) { p.t = t; p.mcp() })
			t.Run("OAuth", func(t *testing.T) { p.t = t; p.oauth(dbPath) })
			t.Run("Dashboard", func(t *testing.T) { p.t = t; p.dashboard(boot.Password) })
			t.Run("LastUsedIP", func(t *testing.T) { p.t = t; p.lastUsedIP(boot.Token.ID) })
		})
	}
}

// proxied is a client of one server that sends every request through the
// "proxy": from 127.0.0.1, with the client's address in X-Forwarded-For.
type proxied struct {
	t       *testing.T
	trusted bool
	url     string
	c       *http.Client
	owner   string // the bootstrap owner's personal access token
	org     string // the owner's org id

	cidrToken string // a personal token allowed from 203.0.113.0/24 only
}

// seen is the address the server should see for a request forwarded from
// fwd.
func (p *proxied) seen(fwd string) string {
	if p.trusted {
		return fwd
	}
	return "127.0.0.1"
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a request from the client at fwd with a Bearer token (if any)
// and header pairs.
func (p *proxied) do(method, path, fwd, bearer, body string, header ...string) answer {
	p.t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", fwd)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// String is the answer's status and the start of its body, for messages.
func (a answer) String() string {
	const max = 300
	if len(a.body) > max {
		return fmt.Sprintf("%d %s...", a.status, a.body[:max])
	}
	return fmt.Sprintf("%d %s", a.status, a.body)
}

func (p *proxied) json(method, path, fwd, bearer, body string) answer {
	p.t.Helper()
	return p.do(method, path, fwd, bearer, body, "Content-Type", "application/json")
}

// errorCode is the code of an API error body, "" if it is none.
func errorCode(body string) string {
	var e client.ErrorBody
	_ = json.Unmarshal([]byte(body), &e)
	return e.Code
}

// spend sends req from clientA until it is refused with 429, and fails
// the test unless that happens within the budget (exactly after it
// behind a trusted proxy, where nothing else was refused from clientA
// before). ok is the status of a request within the budget.
func (p *proxied) spend(what string, ok int, req func(fwd string) answer) {
	p.t.Helper()
	for i := 1; i <= proxyBudget+1; i++ {
		a := req(clientA)
		if a.status == http.StatusTooManyRequests {
			if p.trusted && i != proxyBudget+1 {
				p.t.Fatalf("%s from %s: request %d was 429, want %d answered %d first", what, clientA, i, proxyBudget, ok)
			}
			return
		}
		if a.status != ok {
			p.t.Fatalf("%s from %s: request %d got %s, want %d", what, clientA, i, a, ok)
		}
	}
	p.t.Fatalf("%s from %s: no 429 after %d requests with a budget of %d", what, clientA, proxyBudget+1, proxyBudget)
}

// auditIPs are the addresses the org's audit log records for the events
// of action on target, newest first.
func (p *proxied) auditIPs(action, target string) []string {
	p.t.Helper()
	a := p.json("GET", "/v1/orgs/"+p.org+"/audit?action="+action+"&target="+target, clientA, p.owner, "")
	var list client.AuditList
	if err := json.Unmarshal([]byte(a.body), &list); err != nil || a.status != 200 {
		p.t.Fatalf("audit of %s %s: got %s (%v)", action, target, a, err)
	}
	var ips []string
	for _, e := range list.Events {
		ips = append(ips, e.IP)
	}
	return ips
}

// auditIP is the address the org's audit log records for the one event of
// action on target.
func (p *proxied) auditIP(action, target string) string {
	p.t.Helper()
	ips := p.auditIPs(action, target)
	if len(ips) != 1 {
		p.t.Fatalf("audit of %s %s: got %d events, want one", action, target, len(ips))
	}
	return ips[0]
}

// api: a token allowlisted for 203.0.113.0/24 is judged by the forwarded
// address; the mint's audit event records it; requests without a valid
// token are counted per forwarded address.
func (p *proxied) api() {
	t := p.t
	a := p.json("POST", "/v1/tokens", clientA, p.owner, `{"name":"allowlisted","allowed_cidrs":["203.0.113.0/24"]}`)
	var minted client.TokenSecret
	if err := json.Unmarshal([]byte(a.body), &minted); err != nil || a.status != 201 {
		t.Fatalf("mint: got %s (%v), want 201", a, err)
	}
	p.cidrToken = minted.Secret
	if ip := p.auditIP(keyward.ActionTokenCreated, minted.Token.ID); ip != p.seen(clientA) {
		t.Errorf("audit of a mint from %s: got ip %q, want %q", clientA, ip, p.seen(clientA))
	}

	a = p.json("GET", "/v1/whoami", clientA, p.cidrToken, "")
	if p.trusted && a.status != 200 {
		t.Errorf("allowlisted token from %s: got %s, want 200", clientA, a)
	}
	if !p.trusted && (a.status != 403 || errorCode(a.body) != keyward.EIPNOTALLOWED) {
		t.Errorf("allowlisted token from %s, not believed: got %s, want 403 ip_not_allowed", clientA, a)
	}
	if a := p.json("GET", "/v1/whoami", clientB, p.cidrToken, ""); a.status != 403 || errorCode(a.body) != keyward.EIPNOTALLOWED {
		t.Errorf("allowlisted token from %s: got %s, want 403 ip_not_allowed", clientB, a)
	}

	p.spend("GET /v1/whoami with a wrong token", 401, func(fwd string) answer {
		return p.json("GET", "/v1/whoami", fwd, "nonsense", "")
	})
	want := 401
	if !p.trusted {
		want = 429
	}
	if a := p.json("GET", "/v1/whoami", clientB, "nonsense", ""); a.status != want {
		t.Errorf("wrong token from %s after %s spent its budget: got %s, want %d", clientB, clientA, a, want)
	}
}

// mcp: the allowlisted token is judged on /mcp by the forwarded address,
// and failed authentication is counted per forwarded address.
func (p *proxied) mcp() {
	t := p.t
	if p.cidrToken == "" {
		t.Skip("no allowlisted token: the API test failed")
	}
	const listTools = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	post := func(fwd, bearer string) answer {
		return p.do("POST", "/mcp", fwd, bearer, listTools, "Content-Type", "application/json",
			"Accept", "application/json, text/event-stream", "MCP-Protocol-Version", "2025-11-25")
	}
	a := post(clientA, p.cidrToken)
	if p.trusted && (a.status != 200 || !strings.Contains(a.body, `"tools"`)) {
		t.Errorf("allowlisted token from %s: got %s, want 200 with the tools", clientA, a)
	}
	if !p.trusted && (a.status != 403 || !strings.Contains(a.body, keyward.EIPNOTALLOWED)) {
		t.Errorf("allowlisted token from %s, not believed: got %s, want 403 ip_not_allowed", clientA, a)
	}
	if a := post(clientB, p.cidrToken); a.status != 403 || !strings.Contains(a.body, keyward.EIPNOTALLOWED) {
		t.Errorf("allowlisted token from %s: got %s, want 403 ip_not_allowed", clientB, a)
	}

	p.spend("POST /mcp with a wrong token", 401, func(fwd string) answer { return post(fwd, "nonsense") })
	want := 401
	if !p.trusted {
		want = 429
	}
	if a := post(clientB, "nonsense"); a.status != want {
		t.Errorf("wrong token on /mcp from %s after %s spent its budget: got %s, want %d", clientB, clientA, a, want)
	}
}

// oauth: dynamic client registration is counted per forwarded address,
// and its audit events record that address.
func (p *proxied) oauth(dbPath string) {
	t := p.t
	register := func(fwd string) answer {
		return p.json("POST", "/oauth/register", fwd, "", `{"client_name":"proxied","redirect_uris":["http://127.0.0.1:9/cb"]}`)
	}
	p.spend("POST /oauth/register", 201, register)
	want := 201
	if !p.trusted {
		want = 429
	}
	if a := register(clientB); a.status != want {
		t.Errorf("registration from %s after %s spent its budget: got %s, want %d", clientB, clientA, a, want)
	}

	// A registration belongs to no org: its audit events are read from
	// the database.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var events []*keyward.AuditEvent
	err = db.View(ctx, func(tx service.Tx) error {
		events, _, err = tx.FindAudit(ctx, keyward.AuditFilter{Action: keyward.ActionOAuthClientRegistered})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, e := range events {
		if !slices.Contains(ips, e.IP) {
			ips = append(ips, e.IP)
		}
	}
	slices.Sort(ips)
	wantIPs := []string{"127.0.0.1"}
	if p.trusted {
		wantIPs = []string{clientB, clientA}
	}
	if !slices.Equal(ips, wantIPs) {
		t.Errorf("audit of %d registrations: got addresses %q, want %q", len(events), ips, wantIPs)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var nonceField = regexp.MustCompile(`name="nonce" value="([^"]+)"`)

// field is the value of re's first match in page.
func (p *proxied) field(re *regexp.Regexp, page answer) string {
	p.t.Helper()
	m := re.FindStringSubmatch(page.body)
	if m == nil {
		p.t.Fatalf("got %d, a page without %s", page.status, re)
	}
	return m[1]
}

// dashboard: a token minted on the dashboard is audited with the
// forwarded address; sign-in failures are counted per forwarded address.
func (p *proxied) dashboard(password string) {
	t := p.t
	form := func(path, fwd string, v url.Values) answer {
		return p.do("POST", path, fwd, "", v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	}
	csrf := p.field(csrfField, p.do("GET", "/signin", clientA, "", ""))
	signIn := func(fwd, email, pw string) answer {
		return form("/signin", fwd, url.Values{"csrf": {csrf}, "email": {email}, "password": {pw}, "next": {"/"}})
	}
	if a := signIn(clientA, "ann@example.com", password); a.status != http.StatusSeeOther {
		t.Fatalf("sign-in from %s: got %d, want 303", clientA, a.status)
	}
	page := p.do("GET", "/tokens/new", clientA, "", "")
	a := form("/tokens", clientA, url.Values{"csrf": {p.field(csrfField, page)}, "nonce": {p.field(nonceField, page)}, "name": {"from the dashboard"}, "expiry": {"30d"}})
	if a.status != 200 && a.status != http.StatusSeeOther {
		t.Fatalf("dashboard mint from %s: got %s", clientA, a)
	}
	var list client.TokenList
	if a := p.json("GET", "/v1/tokens", clientA, p.owner, ""); json.Unmarshal([]byte(a.body), &list) != nil || a.status != 200 {
		t.Fatalf("GET /v1/tokens: got %s", a)
	}
	i := slices.IndexFunc(list.Tokens, func(tok client.Token) bool { return tok.Name == "from the dashboard" })
	if i < 0 {
		t.Fatalf("the dashboard minted no token: %+v", list.Tokens)
	}
	if ip := p.auditIP(keyward.ActionTokenCreated, list.Tokens[i].ID); ip != p.seen(clientA) {
		t.Errorf("audit of a dashboard mint from %s: got ip %q, want %q", clientA, ip, p.seen(clientA))
	}

	// clientB fails with as many unknown accounts as an address may: one
	// account each, so that no account is slowed down.
	for i := range service.MaxIPFailures {
		if a := signIn(clientB, fmt.Sprintf("nobody%d@example.com", i), "wrong password!"); a.status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d from %s: got %d, want 401", i+1, clientB, a.status)
		}
	}
	if a := signIn(clientB, "ann@example.com", password); a.status != http.StatusTooManyRequests {
		t.Fatalf("right password from %s after %d failures from it: got %d, want 429", clientB, service.MaxIPFailures, a.status)
	}
	want := http.StatusSeeOther
	if !p.trusted {
		want = http.StatusTooManyRequests
	}
	if a := signIn(clientA, "ann@example.com", password); a.status != want {
		t.Errorf("right password from %s after %d failures from %s: got %d, want %d", clientA, service.MaxIPFailures, clientB, a.status, want)
	}
}

// lastUsedIP: the owner's token, used from clientA only, was last used
// from the forwarded address, and its token.used audit events say so.
// Usage is written every few seconds.
func (p *proxied) lastUsedIP(id string) {
	t := p.t
	deadline := time.Now().Add(3 * service.DefaultUsageFlushInterval)
	for {
		a := p.json("GET", "/v1/tokens/"+id, clientA, p.owner, "")
		var tok client.Token
		if err := json.Unmarshal([]byte(a.body), &tok); err != nil || a.status != 200 {
			t.Fatalf("GET /v1/tokens/%s: got %s (%v)", id, a, err)
		}
		// A flush writes the last use, then the token.used event of the
		// first use, in transactions of their own.
		ips := p.auditIPs(keyward.ActionTokenUsed, id)
		if tok.LastUsedIP != nil && len(ips) > 0 {
			if *tok.LastUsedIP != p.seen(clientA) {
				t.Errorf("last_used_ip of a token used from %s: got %q, want %q", clientA, *tok.LastUsedIP, p.seen(clientA))
			}
			if slices.ContainsFunc(ips, func(ip string) bool { return ip != p.seen(clientA) }) {
				t.Errorf("token.used events of a token used from %s: got addresses %q, want %s only", clientA, ips, p.seen(clientA))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: last_used_ip %v and %d token.used events, want both written", 3*service.DefaultUsageFlushInterval, tok.LastUsedIP, len(ips))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
