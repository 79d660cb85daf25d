package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/testenv"
)

// nginxConfig is the nginx configuration the README points to: the
// locations of a server block.
var nginxConfig = filepath.Join("..", "docs", "proxies", "nginx.conf")

// nginxServer returns the locations of docs/proxies/nginx.conf with
// keyward's and the app's addresses replaced by keyward and upstream:
// every request is first asked of keyward's /v1/auth through
// auth_request, and the identity headers of its answer are passed to the
// upstream, replacing whatever the client sent under those names.
func nginxServer(t *testing.T, keyward, upstream string) string {
	t.Helper()
	data, err := os.ReadFile(nginxConfig)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(data)
	for from, to := range map[string]string{"http://127.0.0.1:8080/": keyward + "/", "http://127.0.0.1:3000;": upstream + ";"} {
		if n := strings.Count(conf, from); n != 1 {
			t.Fatalf("%s holds %q %d times, want once", nginxConfig, from, n)
		}
		conf = strings.Replace(conf, from, to, 1)
	}
	return conf
}

// echoed is what the upstream saw of the X-Keyward-* headers.
type echoed map[string]string

// TestNginxAuthRequest puts a real nginx with auth_request to keyward's
// /v1/auth in front of an upstream that echoes the identity headers it
// receives.
func TestNginxAuthRequest(t *testing.T) {
	testenv.NginxPath(t)
	e := newPolicyEnv(t, "127.0.0.0/8")
	var hits atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		out := echoed{}
		for name, vs := range r.Header {
			if strings.HasPrefix(name, "X-Keyward-") {
				out[name] = strings.Join(vs, ",")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(upstream.Close)
	base := testenv.Nginx(t, nginxServer(t, e.srv.URL, upstream.URL))

	// get sends a request through nginx and returns the status and, for
	// a 200, what the upstream echoed.
	get := func(method, path, token string, headers ...header) (int, echoed) {
		t.Helper()
		req, err := http.NewRequestWithContext(e.ctx, method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for _, h := range headers {
			req.Header.Add(h.name, h.value)
		}
		before := hits.Load()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s through nginx: %v", method, path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		reached := hits.Load() != before
		if resp.StatusCode != http.StatusOK {
			if reached {
				t.Errorf("%s %s: refused with %d, yet the upstream was reached", method, path, resp.StatusCode)
			}
			return resp.StatusCode, nil
		}
		var out echoed
		if err := json.Unmarshal(body, &out); err != nil || !reached {
			t.Fatalf("%s %s: got 200 without the upstream's answer (%v)", method, path, err)
		}
		return resp.StatusCode, out
	}

	who := e.whoamiToken(e.owner)
	status, got := get("GET", "/monitors/1", e.owner)
	if status != 200 {
		t.Fatalf("owner reads: got %d, want 200", status)
	}
	for name, want := range map[string]string{
		"X-Keyward-Token-Id": who, "X-Keyward-Kind": "pat", "X-Keyward-Org-Id": e.boot.Org.ID,
		"X-Keyward-User-Id": e.boot.User.ID, "X-Keyward-Role": "owner",
	} {
		if got[name] != want {
			t.Errorf("upstream got %s %q, want %q", name, got[name], want)
		}
	}
	if !strings.Contains(got["X-Keyward-Permissions"], "monitors:write") {
		t.Errorf("upstream got permissions %q", got["X-Keyward-Permissions"])
	}

	viewer := e.member("vic@example.com", "acme", "viewer")
	agent := e.mintKey(e.owner, client.TokenRequest{Name: "agent", Kind: "agent", AgentID: "agent-7"}).Secret
	revoked := e.mint(e.owner, client.TokenRequest{Name: "soon revoked"})
	fenced := e.mint(e.owner, client.TokenRequest{Name: "fenced", AllowedCIDRs: []string{"203.0.113.0/24"}}).Secret
	if s, _ := get("GET", "/monitors/2", revoked.Secret); s != 200 {
		t.Fatalf("before revocation: got %d, want 200", s)
	}
	e.as(e.owner, "POST", "/v1/tokens/"+revoked.Token.ID+"/revoke", nil).want(t, 200, nil)

	tests := []struct {
		name, method, path, token string
		headers                   []header
		status                    int
	}{
		{"no token", "GET", "/monitors/1", "", nil, 401},
		{"bad token", "GET", "/monitors/1", "kw_pat_notatoken", nil, 401},
		{"revoked token", "GET", "/monitors/2", revoked.Secret, nil, 401},
		{"missing permission", "POST", "/monitors/1", viewer, nil, 403},
		{"viewer reads", "GET", "/monitors/1", viewer, nil, 200},
		{"agent on the agent route", "POST", "/v1/agent/heartbeat", agent, nil, 200},
		{"agent elsewhere", "GET", "/monitors/1", agent, nil, 403},
		{"agent through ..", "GET", "/v1/agent/%2e%2e/%2e%2e/monitors/1", agent, nil, 403},
		{"PAT on the agent route", "POST", "/v1/agent/heartbeat", e.owner, nil, 403},
		{"allowlist, client outside", "GET", "/monitors/1", fenced, nil, 403},
		{"allowlist, client inside (forwarded by a trusted hop)", "GET", "/monitors/1", fenced, []header{{"X-Forwarded-For", "203.0.113.5"}}, 200},
		// nginx answers any status of auth_request but 2xx, 401 and 403
		// with 500; what matters is that the request goes no further.
		{"token in the query string", "GET", "/monitors/1?access_token=" + viewer, viewer, nil, 500},
	}
	for _, tt := range tests {
		if s, _ := get(tt.method, tt.path, tt.token, tt.headers...); s != tt.status {
			t.Errorf("%s: got %d, want %d", tt.name, s, tt.status)
		}
	}

	// The agent's identity reaches the upstream, and a client cannot forge
	// the headers that keyward leaves empty.
	_, got = get("POST", "/v1/agent/heartbeat", agent, header{"X-Keyward-Role", "owner"}, header{"X-Keyward-User-Id", "usr_forged"})
	if got["X-Keyward-Kind"] != "agent" || got["X-Keyward-Agent-Id"] != "agent-7" || got["X-Keyward-Permissions"] != "agent:heartbeat" {
		t.Errorf("agent: upstream got %v", got)
	}
	if _, forged := got["X-Keyward-Role"]; forged {
		t.Errorf("agent: a client's X-Keyward-Role reached the upstream: %v", got)
	}
	if _, forged := got["X-Keyward-User-Id"]; forged {
		t.Errorf("agent: a client's X-Keyward-User-Id reached the upstream: %v", got)
	}

	// What nginx passed on was used: last_used_ip is the forwarded client.
	if err := e.svc.FlushUsage(e.ctx); err != nil {
		t.Fatal(err)
	}
	var list client.TokenList
	e.as(e.owner, "GET", "/v1/tokens", nil).want(t, 200, &list)
	for _, tok := range list.Tokens {
		if tok.Name == "fenced" && (tok.LastUsedIP == nil || *tok.LastUsedIP != "203.0.113.5") {
			t.Errorf("fenced token: got last_used_ip %v, want 203.0.113.5", tok.LastUsedIP)
		}
	}
}

// TestNginxForgery runs docs/proxies/nginx.conf through the checks the
// proxies share (proxies_test.go): every X-Keyward-* header forged in
// several spellings, refusals with keyward's status (nginx's
// auth_request answers them with a body of its own).
func TestNginxForgery(t *testing.T) {
	testenv.NginxPath(t)
	e := newPolicyEnv(t, "127.0.0.0/8")
	up := newEchoUpstream(t)
	base := testenv.Nginx(t, nginxServer(t, e.srv.URL, up.URL))
	testProxy(t, e, up, base, proxyQuirks{tokenInURL: 500, appendsForwardedFor: true, madeUpNamesPass: true, ownRefusals: true})
}
