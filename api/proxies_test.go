package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/client"
)

// The tests of the proxies whose configurations are in docs/proxies
// (Caddy, Traefik) share what follows: an upstream that echoes what it
// got, a client that goes through the proxy, and the checks.

// echoUpstream is an app behind a proxy: it answers every request with
// the X-Keyward-* headers it received, as JSON, and counts the requests
// that reached it. Names are matched without regard to case, and with
// '_' read as '-', as a CGI or WSGI server would read them.
type echoUpstream struct {
	*httptest.Server
	hits atomic.Int32
}

func newEchoUpstream(t *testing.T) *echoUpstream {
	t.Helper()
	u := &echoUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		out := echoed{}
		for name, vs := range r.Header {
			if strings.HasPrefix(strings.ReplaceAll(strings.ToLower(name), "_", "-"), "x-keyward-") {
				out[name] = strings.Join(vs, ",")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(u.Close)
	return u
}

// hostPort is the host:port of a server's URL.
func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// proxied is the answer of a request sent through a proxy.
type proxied struct {
	status  int
	header  http.Header
	body    []byte
	reached bool   // the upstream was reached
	got     echoed // what the upstream saw, for a 200
}

// through sends a request through the proxy at base. Headers are sent
// with their names exactly as given (not canonicalized), so that forged
// headers may be written in any case.
func through(t *testing.T, e *env, up *echoUpstream, base, method, path, token string, headers ...header) proxied {
	t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		req.Header[h.name] = append(req.Header[h.name], h.value)
	}
	before := up.hits.Load()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s through the proxy: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := proxied{status: resp.StatusCode, header: resp.Header, body: body, reached: up.hits.Load() != before}
	if resp.StatusCode != http.StatusOK {
		if p.reached {
			t.Errorf("%s %s: refused with %d, yet the upstream was reached", method, path, resp.StatusCode)
		}
		return p
	}
	if err := json.Unmarshal(body, &p.got); err != nil || !p.reached {
		t.Fatalf("%s %s: got 200 without the upstream's answer (%v): %s", method, path, err, body)
	}
	return p
}

// forgeable are the X-Keyward-* headers a client might forge: every
// identity header of /v1/auth, its verdict's code, and one keyward never
// sends.
var forgeable = []string{
	"X-Keyward-Token-Id", "X-Keyward-Kind", "X-Keyward-Org-Id", "X-Keyward-Org-Slug",
	"X-Keyward-User-Id", "X-Keyward-Role", "X-Keyward-Agent-Id", "X-Keyward-Permissions",
	"X-Keyward-Code", "X-Keyward-Admin",
}

// mixedCase writes a header name in an odd case: X-Keyward-Agent-Id as
// x-KEYWARD-aGENT-iD.
func mixedCase(name string) string {
	b := []byte(strings.ToLower(name))
	for i := range b {
		if i%2 == 1 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// proxyQuirks are where proxies differ in what testProxy checks.
type proxyQuirks struct {
	// underscoresPass: the proxy passes header names that hold '_' (as
	// Traefik does, and has no way to strip them by pattern); they are
	// not forged then.
	underscoresPass bool
	// madeUpNamesPass: the proxy strips only the X-Keyward-* names it is
	// told, not a pattern (nginx); a made-up name is not forged then.
	madeUpNamesPass bool
	// tokenInURL is the status the proxy answers for keyward's 400 to a
	// token in the query string (nginx: 500, with its own body); 0 for
	// 400 with keyward's body.
	tokenInURL int
	// appendsForwardedFor: the proxy appends its client's address to the
	// X-Forwarded-For the client sent (nginx) instead of replacing it.
	// Here the client, on loopback, is itself a trusted proxy to
	// keyward, so the address it claims is believed.
	appendsForwardedFor bool
	// ownRefusals: the proxy answers a refusal with its own body and
	// without keyward's headers (nginx's auth_request), with keyward's
	// status.
	ownRefusals bool
}

// testProxy runs the checks shared by the proxies' tests against the
// proxy at base, which guards up with e's keyward (newPolicyEnv, with
// every identity header named).
func testProxy(t *testing.T, e *env, up *echoUpstream, base string, quirks proxyQuirks) {
	get := func(method, path, token string, headers ...header) proxied {
		t.Helper()
		return through(t, e, up, base, method, path, token, headers...)
	}

	// A valid token: 200, with keyward's identity headers.
	who := e.whoamiToken(e.owner)
	p := get("GET", "/monitors/1", e.owner)
	if p.status != 200 {
		t.Fatalf("owner reads: got %d, want 200: %s", p.status, p.body)
	}
	owner := map[string]string{
		"X-Keyward-Token-Id": who, "X-Keyward-Kind": "pat", "X-Keyward-Org-Id": e.boot.Org.ID,
		"X-Keyward-Org-Slug": e.boot.Org.Slug, "X-Keyward-User-Id": e.boot.User.ID, "X-Keyward-Role": "owner",
	}
	for name, want := range owner {
		if p.got[name] != want {
			t.Errorf("owner: upstream got %s %q, want %q", name, p.got[name], want)
		}
	}
	if !strings.Contains(p.got["X-Keyward-Permissions"], "monitors:write") {
		t.Errorf("owner: upstream got permissions %q", p.got["X-Keyward-Permissions"])
	}
	if len(p.got) != len(owner)+1 {
		t.Errorf("owner: upstream got %v, want the %d identity headers of a PAT only", p.got, len(owner)+1)
	}

	agent := e.mintKey(e.owner, client.TokenRequest{Name: "agent", Kind: "agent", AgentID: "agent-7"}).Secret
	p = get("POST", "/v1/agent/heartbeat", agent)
	if p.status != 200 || p.got["X-Keyward-Kind"] != "agent" || p.got["X-Keyward-Agent-Id"] != "agent-7" ||
		p.got["X-Keyward-Permissions"] != "agent:heartbeat" {
		t.Errorf("agent: got %d, upstream got %v", p.status, p.got)
	}

	// Every X-Keyward-* header forged by the client, one at a time, in
	// its own case, in an odd case and with '_' for '-': never does the
	// forged value reach the upstream, whether keyward sets the header
	// (it replaces the forgery) or not (the forgery is dropped).
	for _, tok := range []struct{ name, token, method, path string }{
		{"PAT", e.owner, "GET", "/monitors/1"},
		{"agent", agent, "POST", "/v1/agent/heartbeat"},
	} {
		names := forgeable
		if quirks.madeUpNamesPass {
			names = forgeable[:len(forgeable)-1]
		}
		for _, name := range names {
			spellings := []string{name, mixedCase(name)}
			if !quirks.underscoresPass {
				spellings = append(spellings, strings.ReplaceAll(name, "-", "_"))
			}
			for _, sent := range spellings {
				p := get(tok.method, tok.path, tok.token, header{sent, "forged"})
				if p.status != 200 {
					t.Errorf("%s forging %s: got %d, want 200", tok.name, sent, p.status)
					continue
				}
				for got, v := range p.got {
					if strings.Contains(v, "forged") {
						t.Errorf("%s forging %s: the upstream got %s: %q", tok.name, sent, got, v)
					}
				}
			}
		}
		// All of them at once.
		var all []header
		for _, name := range names {
			all = append(all, header{name, "forged"}, header{mixedCase(name), "forged"})
		}
		p := get(tok.method, tok.path, tok.token, all...)
		for got, v := range p.got {
			if strings.Contains(v, "forged") {
				t.Errorf("%s forging every header: the upstream got %s: %q", tok.name, got, v)
			}
		}
	}

	// Refusals: keyward's status, error body and code reach the client,
	// never the upstream.
	viewer := e.member("vic@example.com", "acme", "viewer")
	revoked := e.mint(e.owner, client.TokenRequest{Name: "soon revoked"})
	fenced := e.mint(e.owner, client.TokenRequest{Name: "fenced", AllowedCIDRs: []string{"203.0.113.0/24"}}).Secret
	if p := get("GET", "/monitors/2", revoked.Secret); p.status != 200 {
		t.Fatalf("before revocation: got %d, want 200", p.status)
	}
	e.as(e.owner, "POST", "/v1/tokens/"+revoked.Token.ID+"/revoke", nil).want(t, 200, nil)

	tests := []struct {
		name, method, path, token string
		headers                   []header
		status                    int
		code, verdict             string // the error body's code, X-Keyward-Code
	}{
		{"no token", "GET", "/monitors/1", "", nil, 401, "unauthorized", "NOT_FOUND"},
		{"bad token", "GET", "/monitors/1", "kw_pat_notatoken", nil, 401, "unauthorized", "NOT_FOUND"},
		{"revoked token", "GET", "/monitors/2", revoked.Secret, nil, 401, "unauthorized", "REVOKED"},
		{"revoked token, forging identity", "GET", "/monitors/2", revoked.Secret, []header{{"X-Keyward-Role", "owner"}}, 401, "unauthorized", "REVOKED"},
		{"missing permission", "POST", "/monitors/1", viewer, nil, 403, "forbidden", "INSUFFICIENT_PERMISSIONS"},
		{"agent elsewhere", "GET", "/monitors/1", agent, nil, 403, "forbidden", "FORBIDDEN"},
		{"agent through ..", "GET", "/v1/agent/%2e%2e/%2e%2e/monitors/1", agent, nil, 403, "forbidden", "FORBIDDEN"},
		{"PAT on the agent route", "POST", "/v1/agent/heartbeat", e.owner, nil, 403, "forbidden", "FORBIDDEN"},
		// The client cannot tell keyward that it asked for another
		// route: the proxy's own account of the original request counts.
		{"agent elsewhere, claiming the agent route", "GET", "/monitors/1", agent, []header{
			{"X-Original-Method", "POST"}, {"X-Original-URI", "/v1/agent/heartbeat"},
			{"X-Forwarded-Method", "POST"}, {"X-Forwarded-Uri", "/v1/agent/heartbeat"},
		}, 403, "forbidden", "FORBIDDEN"},
		{"viewer writing, claiming to read", "POST", "/monitors/1", viewer, []header{
			{"X-Original-Method", "GET"}, {"X-Forwarded-Method", "GET"},
		}, 403, "forbidden", "INSUFFICIENT_PERMISSIONS"},
		// The proxy sets X-Forwarded-For itself: a client cannot claim an
		// address inside a token's allowlist.
		{"allowlist, client claims an address inside", "GET", "/monitors/1", fenced, []header{{"X-Forwarded-For", "203.0.113.5"}}, 403, "ip_not_allowed", "IP_NOT_ALLOWED"},
		{"token in the query string", "GET", "/monitors/1?access_token=" + viewer, viewer, nil, 400, "token_in_url", ""},
	}
	for i, tt := range tests {
		switch {
		case tt.name == "token in the query string" && quirks.tokenInURL != 0:
			tests[i].status, tests[i].code = quirks.tokenInURL, ""
		case strings.HasPrefix(tt.name, "allowlist") && quirks.appendsForwardedFor:
			tests[i].status = 200
		}
	}
	for _, tt := range tests {
		p := get(tt.method, tt.path, tt.token, tt.headers...)
		if p.status != tt.status {
			t.Errorf("%s: got %d, want %d: %s", tt.name, p.status, tt.status, p.body)
			continue
		}
		if tt.status == 200 || tt.code == "" || quirks.ownRefusals {
			continue
		}
		var body client.ErrorBody
		if err := json.Unmarshal(p.body, &body); err != nil || !body.Error || body.Code != tt.code || body.Status != tt.status {
			t.Errorf("%s: got body %s, want keyward's error body with code %q", tt.name, p.body, tt.code)
		}
		if got := p.header.Get("X-Keyward-Code"); got != tt.verdict {
			t.Errorf("%s: got X-Keyward-Code %q, want %q", tt.name, got, tt.verdict)
		}
	}
	if p := get("GET", "/monitors/1", viewer); p.status != 200 || p.got["X-Keyward-Role"] != "viewer" {
		t.Errorf("viewer reads: got %d, upstream got %v", p.status, p.got)
	}
}
