package mcp_test

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/mcp"
	"github.com/keyward/keyward/service"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

const listTools = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

func toolCall(name string) *mcpsdk.CallToolParams {
	return &mcpsdk.CallToolParams{Name: name, Arguments: map[string]any{}}
}

// TestUnauthorized: every request without an accepted token is 401 with
// the challenge naming the protected resource metadata, and
// error="invalid_token" when a token was presented.
func TestUnauthorized(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	metadata := `resource_metadata="` + e.srv.URL + `/.well-known/oauth-protected-resource/mcp", scope="tokens:read tokens:write"`

	r := e.post(listTools, nil)
	if r.status != 401 || r.header.Get("WWW-Authenticate") != "Bearer "+metadata {
		t.Fatalf("no token: got %d %q, want 401 with exactly %q", r.status, r.header.Get("WWW-Authenticate"), "Bearer "+metadata)
	}
	var body struct {
		ID    any `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				Code string `json:"code"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.ID != float64(1) || body.Error.Data.Code != "unauthorized" || body.Error.Message != "missing credential" {
		t.Fatalf("no token: got body %s, want a JSON-RPC error for id 1 with code unauthorized", r.body)
	}

	_, apiKey, err := e.svc.CreateToken(e.ctx, ownerCaller(t, e), service.OrgKeys, service.TokenRequest{Name: "key"})
	if err != nil {
		t.Fatal(err)
	}
	_, revoked, err := e.svc.AdminCreateToken(e.ctx, "owner@example.com", "acme", service.TokenRequest{Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Authenticate(e.ctx, revoked, noIP, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeToken(e.ctx, c, service.Personal, c.Token.ID, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, header, message string
	}{
		{"not a keyward token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "not a keyward token"},
		{"mistyped", "Bearer " + e.owner[:len(e.owner)-1] + "x", "checksum"},
		{"two spaces", "Bearer  " + e.owner, "two spaces"},
		{"basic", "Basic dXNlcjpwYXNz", "unsupported scheme"},
		{"an API key", "Bearer " + apiKey, "personal access tokens and OAuth tokens only"},
		{"revoked", "Bearer " + revoked, "revoked"},
	} {
		r := e.post(listTools, map[string]string{"Authorization": c.header})
		got := r.header.Get("WWW-Authenticate")
		if r.status != 401 || !strings.HasPrefix(got, "Bearer "+metadata+`, error="invalid_token"`) {
			t.Errorf("%s: got %d %q, want 401 with resource_metadata and error=\"invalid_token\"", c.name, r.status, got)
		}
		if !strings.Contains(string(r.body), c.message) {
			t.Errorf("%s: got body %s, want it to say %q", c.name, r.body, c.message)
		}
		if strings.Contains(string(r.body), apiKey) || strings.Contains(string(r.body), e.owner) || strings.Contains(got, e.owner[10:]) {
			t.Errorf("%s: the answer repeats the token", c.name)
		}
	}

	// X-API-Key is the API's alternative, not MCP's.
	r = e.post(listTools, map[string]string{"X-API-Key": e.owner})
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) || !strings.Contains(string(r.body), "X-API-Key is not accepted") {
		t.Errorf("X-API-Key: got %d %q %s, want 401 invalid_token", r.status, r.header.Get("WWW-Authenticate"), r.body)
	}

	// A token in the query string is refused, even with a good header.
	r = e.post(listTools, map[string]string{"Authorization": "Bearer " + e.owner})
	if r.status != 200 {
		t.Fatalf("good token: got %d, want 200; body %s", r.status, r.body)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+mcp.Path+"?access_token=x", strings.NewReader(listTools))
	req.Header.Set("Authorization", "Bearer "+e.owner)
	if r := e.do(req); r.status != 400 || !strings.Contains(string(r.body), "token_in_url") {
		t.Fatalf("token in URL: got %d %s, want 400 token_in_url", r.status, r.body)
	}

	// The Go SDK's client cannot connect without a token.
	if cs, err := e.connect(""); err == nil {
		cs.Close()
		t.Fatal("connecting without a token: got a session, want an error")
	}
	// Nor with a GET, which stateless MCP does not serve, once authenticated.
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+mcp.Path, nil)
	if r := e.do(req); r.status != 401 {
		t.Fatalf("GET without a token: got %d, want 401", r.status)
	}
}

func ownerCaller(t *testing.T, e *env) *service.Caller {
	t.Helper()
	c, err := e.svc.Authenticate(e.ctx, e.owner, noIP, "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOAuthTokens: an OAuth token is accepted when issued for this
// server's MCP URL, and what it mints records its client as source; one
// issued for another resource is refused.
func TestOAuthTokens(t *testing.T) {
	var audience string
	e := newEnv(t, mcp.Options{
		PublicURL: "https://keys.example.com",
		Audience:  func(*keyward.Token) string { return audience },
	})
	_, oat, err := e.svc.CreateToken(e.ctx, ownerCaller(t, e), service.Personal, service.TokenRequest{
		Kind: keyward.KindOAuth, Name: "Claude", Source: "oauth:dcr_test1",
	})
	if err != nil {
		t.Fatal(err)
	}
	host := map[string]string{"Host": "keys.example.com", "Authorization": "Bearer " + oat}

	audience = "https://elsewhere.example.com/mcp"
	r := e.post(listTools, host)
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) || !strings.Contains(string(r.body), "another resource") {
		t.Fatalf("token for another resource: got %d %q %s, want 401 invalid_token", r.status, r.header.Get("WWW-Authenticate"), r.body)
	}
	if want := `resource_metadata="https://keys.example.com/.well-known/oauth-protected-resource/mcp"`; !strings.Contains(r.header.Get("WWW-Authenticate"), want) {
		t.Fatalf("got challenge %q, want the public URL's metadata %s", r.header.Get("WWW-Authenticate"), want)
	}

	audience = "HTTPS://Keys.Example.com/mcp"
	r = e.post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_token","arguments":{"name":"from claude"}}}`, host)
	if r.status != 200 {
		t.Fatalf("token for this resource: got %d, want 200; body %s", r.status, r.body)
	}
	var res struct {
		Result struct {
			StructuredContent client.TokenSecret `json:"structuredContent"`
		} `json:"result"`
	}
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatal(err)
	}
	if got := res.Result.StructuredContent.Token.Source; got != "oauth:dcr_test1" {
		t.Fatalf("a token minted through an OAuth token: got source %q, want oauth:dcr_test1", got)
	}
}

// TestInternalErrorsStayInside: when the store fails, the answer says
// "internal error" and nothing more; the log has the cause.
func TestInternalErrorsStayInside(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.post(listTools, map[string]string{"Authorization": "Bearer " + e.owner})
	var body struct {
		Error struct {
			Message string `json:"message"`
			Data    struct {
				Code string `json:"code"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 500 || body.Error.Message != "internal error" || body.Error.Data.Code != "internal" {
		t.Fatalf("with the store closed: got %d %s, want 500 with only \"internal error\"", r.status, r.body)
	}
	if strings.Contains(string(r.body), "sql") || !strings.Contains(e.logs.String(), "internal error") {
		t.Fatalf("got body %s and log %q, want the cause in the log only", r.body, e.logs.String())
	}
}

// An allowlisted token is judged by the client's address, read past the
// trusted proxies as the API reads it, never by the proxy's; without a
// trusted proxy, X-Forwarded-For counts for nothing.
func TestAllowlistBehindProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		opts := mcp.Options{}
		if trusted {
			opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		}
		e := newEnv(t, opts)
		_, fenced, err := e.svc.CreateToken(e.ctx, ownerCaller(t, e), service.Personal, service.TokenRequest{Name: "fenced", AllowedCIDRs: []string{"203.0.113.0/24"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			from string
			want int
		}{{"203.0.113.5", 200}, {"198.51.100.1", 403}, {"", 403}} {
			h := map[string]string{"Authorization": "Bearer " + fenced}
			if c.from != "" {
				h["X-Forwarded-For"] = c.from
			}
			want := c.want
			if !trusted {
				want = 403 // the socket's address, 127.0.0.1, is outside
			}
			if r := e.post(listTools, h); r.status != want {
				t.Errorf("trusted proxy %v, forwarded for %q: got %d, want %d; body %s", trusted, c.from, r.status, want, r.body)
			}
		}
	}
}
