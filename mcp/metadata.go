package mcp

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// ScopesSupported are the OAuth scopes keyward's MCP resource understands:
// the permissions its tools need, which are also what an authorization
// request without a scope gets (service.DefaultOAuthScope). An OAuth
// token carries the scope granted (the requested permissions that the
// user's role holds) as its permission narrowing.
var ScopesSupported = strings.Fields(service.DefaultOAuthScope)

// basicScopes are the scopes a 401 challenge asks for: those of the tools
// every member may use. The audit log's scope is asked for when a call
// needs it, by a 403 insufficient_scope challenge (step-up).
var basicScopes = []string{keyward.PermTokensRead, keyward.PermTokensWrite}

// Metadata returns the protected resource metadata (RFC 9728) of the MCP
// resource of keyward at baseURL: the resource is baseURL + "/mcp" and its
// authorization server is keyward itself, at baseURL.
func Metadata(baseURL string) *oauthex.ProtectedResourceMetadata {
	return &oauthex.ProtectedResourceMetadata{
		Resource:               baseURL + Path,
		AuthorizationServers:   []string{baseURL},
		ScopesSupported:        ScopesSupported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "keyward",
	}
}

// serveMetadata answers the protected resource metadata document. It is
// public, so any origin may read it.
func (h *handler) serveMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{
			"error": true, "message": "method " + r.Method + " is not allowed here; allowed: GET, HEAD, OPTIONS",
			"code": "method_not_allowed", "status": http.StatusMethodNotAllowed,
		})
		return
	}
	if h.public == nil {
		// Derived from Host: caches must keep one copy per Host.
		w.Header().Set("Vary", "Host")
	}
	// Public and the same for everyone: caches may keep it a while.
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Del("Pragma")
	writeJSON(w, http.StatusOK, Metadata(h.baseURL(r)))
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
