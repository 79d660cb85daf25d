package main

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward/mcp"
)

// mounts are the handlers of keyward's HTTP surface.
type mounts struct {
	// mcp serves /mcp and its OAuth protected resource metadata.
	mcp http.Handler
	// oauth serves the authorization server: /oauth/... and its RFC 8414
	// metadata.
	oauth http.Handler
	// api serves the API: /v1/..., /openapi.json, /healthz, /readyz and
	// /metrics.
	api http.Handler
	// web serves every other path: the dashboard.
	web http.Handler
}

// oauthMetadataPath is the authorization server's RFC 8414 metadata.
const oauthMetadataPath = "/.well-known/oauth-authorization-server"

// rootHandler sends each request to the handler of its path. It matches
// exact paths and prefixes rather than using a ServeMux, whose redirects
// of unclean paths would come before the API's own.
func rootHandler(m mounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == mcp.Path, p == mcp.MetadataPath, p == mcp.MetadataPath+mcp.Path:
			m.mcp.ServeHTTP(w, r)
		case p == oauthMetadataPath, strings.HasPrefix(p, "/oauth/"):
			m.oauth.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/v1/"), p == "/openapi.json", p == "/healthz", p == "/readyz", p == "/metrics":
			m.api.ServeHTTP(w, r)
		default:
			m.web.ServeHTTP(w, r)
		}
	})
}
