package mcp_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/keyward/keyward/mcp"
)

type metadataDoc struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ScopesSupported        []string `json:"scopes_supported"`
}

func getMetadata(t *testing.T, e *env, path, host string) metadataDoc {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if host != "" {
		req.Host = host
	}
	r := e.do(req)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		r.header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("GET %s: got %d %q, want 200 JSON readable from any origin", path, r.status, r.header.Get("Content-Type"))
	}
	var doc metadataDoc
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return doc
}

// TestMetadata: both protected resource metadata documents name the MCP
// URL as the resource and keyward as its authorization server.
func TestMetadata(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		doc := getMetadata(t, e, path, "")
		if doc.Resource != e.srv.URL+"/mcp" || !slices.Equal(doc.AuthorizationServers, []string{e.srv.URL}) ||
			!slices.Equal(doc.BearerMethodsSupported, []string{"header"}) || !slices.Equal(doc.ScopesSupported, []string{"tokens:read", "tokens:write", "audit:read"}) {
			t.Errorf("GET %s: got %+v, want resource %s/mcp, authorization server %s, and the tools' scopes, the default scope", path, doc, e.srv.URL, e.srv.URL)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/.well-known/oauth-protected-resource", nil)
	if r := e.do(req); r.status != 405 {
		t.Errorf("POST metadata: got %d, want 405", r.status)
	}

	pub := newEnv(t, mcp.Options{PublicURL: "https://keys.example.com/"})
	doc := getMetadata(t, pub, "/.well-known/oauth-protected-resource/mcp", "attacker.example.com")
	if doc.Resource != "https://keys.example.com/mcp" || !slices.Equal(doc.AuthorizationServers, []string{"https://keys.example.com"}) {
		t.Fatalf("with a public URL: got %+v, want it, not the Host", doc)
	}
}

func TestParsePublicURL(t *testing.T) {
	for _, s := range []string{"https://keys.example.com", "http://127.0.0.1:8080/", "https://KEYS.example.com:8443"} {
		if _, err := mcp.ParsePublicURL(s); err != nil {
			t.Errorf("ParsePublicURL(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "keys.example.com", "ftp://keys.example.com", "https://keys.example.com/prefix", "https://keys.example.com?x=1", "https://u:p@keys.example.com", "https://keys.example.com#f"} {
		if _, err := mcp.ParsePublicURL(s); err == nil {
			t.Errorf("ParsePublicURL(%q): got no error, want one", s)
		}
	}
}
