package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRootHandler: /mcp and its protected resource metadata go to MCP,
// /oauth/... and the authorization server's metadata to OAuth, the API's
// paths to the API, and every other path to the dashboard.
func TestRootHandler(t *testing.T) {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name)) })
	}
	h := rootHandler(mounts{mcp: named("mcp"), oauth: named("oauth"), api: named("api"), web: named("web")})
	for path, want := range map[string]string{
		"/mcp":                                  "mcp",
		"/.well-known/oauth-protected-resource": "mcp",
		"/.well-known/oauth-protected-resource/mcp": "mcp",
		"/mcp/": "web",
		"/mcpx": "web",
		"//mcp": "web",
		"/.well-known/oauth-protected-resource/other": "web",
		"/.well-known/oauth-authorization-server":     "oauth",
		"/oauth/authorize":                            "oauth",
		"/oauth/token":                                "oauth",
		"/oauthx":                                     "web",
		"/v1/whoami":                                  "api",
		"/v1/auth":                                    "api",
		"/openapi.json":                               "api",
		"/healthz":                                    "api",
		"/readyz":                                     "api",
		"/metrics":                                    "api",
		"/v1x":                                        "web",
		"/":                                           "web",
		"/tokens":                                     "web",
		"/signin":                                     "web",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://keys.example.com"+path, nil))
		if got := rec.Body.String(); got != want {
			t.Errorf("GET %s: went to %s, want %s", path, got, want)
		}
	}
}

// TestServeRefusesPublicURLWithPath: the public URL names the MCP resource,
// so it must be scheme and host only.
func TestServeRefusesPublicURLWithPath(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "KEYWARD_CONFIG_DIR" {
			return dir
		}
		return ""
	}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	code := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--database-url", dir + "/k.db", "--public-url", "https://keys.example.com/keyward"},
		getenv, strings.NewReader(""), stdout, stderr)
	if code == 0 || !strings.Contains(stderr.String(), "public URL") {
		t.Fatalf("serve with a public URL with a path: got exit %d, stderr %q; want a failure naming the public URL", code, stderr.String())
	}
}
