package mcp

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/credential"
	"github.com/keyward/keyward/internal/response"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/verify"
)

// errNoBearer answers a request with no Authorization header.
var errNoBearer = &keyward.Error{
	Code:    keyward.EUNAUTHORIZED,
	Message: "missing credential",
	Detail:  "send 'Authorization: Bearer <token>' with a personal access token or an OAuth token",
}

// authenticate establishes the caller from the request's Bearer token: a
// personal access token or an OAuth token issued for this server.
func (h *handler) authenticate(r *http.Request) (*service.Caller, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		if r.Header.Get("X-API-Key") != "" {
			return nil, &keyward.Error{Code: keyward.EUNAUTHORIZED, Message: "X-API-Key is not accepted here", Detail: "send 'Authorization: Bearer <token>'"}
		}
		return nil, errNoBearer
	case 1:
	default:
		return nil, &keyward.Error{Code: keyward.EUNAUTHORIZED, Message: "found more than one Authorization header"}
	}
	raw, err := credential.ParseAuthorization(values[0])
	if err != nil {
		return nil, err
	}
	kind, err := h.svc.Format().Parse(raw)
	if err != nil {
		// As the one table answers a malformed string everywhere.
		return nil, verify.Malformed.Err(keyward.ErrorMessage(err))
	}
	if !kind.Personal() {
		return nil, &keyward.Error{
			Code:    keyward.EUNAUTHORIZED,
			Message: "this endpoint accepts personal access tokens and OAuth tokens only",
			Detail:  fmt.Sprintf("a %s is for the HTTP API, not for MCP", kind),
		}
	}
	c, err := h.svc.Authenticate(r.Context(), raw, h.ip.Addr(r), r.UserAgent())
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if c.Token.Kind == keyward.KindOAuth {
		if h.aud != nil && !sameResource(h.aud(c.Token), h.resourceURL(r)) {
			return nil, &keyward.Error{Code: keyward.EUNAUTHORIZED, Message: "token was issued for another resource"}
		}
		// Tokens minted by an OAuth client record that client as source.
		if strings.HasPrefix(c.Token.Source, keyward.SourceOAuthPrefix) {
			c.Source = c.Token.Source
		}
	}
	return c, nil
}

// sameResource compares two resource identifiers as RFC 3986 does for
// scheme and host (case-insensitively), ignoring a trailing slash.
func sameResource(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimSuffix(s, "/")
		scheme, rest, ok := strings.Cut(s, "://")
		if !ok {
			return s
		}
		host, path, _ := strings.Cut(rest, "/")
		return strings.ToLower(scheme) + "://" + strings.ToLower(host) + "/" + path
	}
	return a != "" && norm(a) == norm(b)
}

// unauthorized answers a failed authentication: 401 with the challenge
// that names the resource metadata and the basic scopes (and
// error="invalid_token" when a token was presented), 403 for a genuine token that may not be used now
// (blocked, or from an address outside its allowlist), or 500.
func (h *handler) unauthorized(w http.ResponseWriter, r *http.Request, msgs []message, err error) {
	// The HTTP status is the one table's (internal/response); the
	// JSON-RPC code and the challenge are MCP's.
	status, _ := response.Status(keyward.ErrorCode(err))
	rpc := codeInternal
	switch status {
	case http.StatusUnauthorized:
		challenge := fmt.Sprintf(`Bearer resource_metadata=%q, scope=%q`, h.metadataURL(r), strings.Join(basicScopes, " "))
		if err != errNoBearer {
			challenge += fmt.Sprintf(`, error="invalid_token", error_description=%q`, quotable(keyward.ErrorMessage(err)))
		}
		w.Header().Set("WWW-Authenticate", challenge)
		rpc = codeUnauthorized
	case http.StatusForbidden, http.StatusTooManyRequests:
		rpc = codeForbidden
	}
	h.reject(w, r, msgs, status, rpc, err)
}

// insufficientScope answers a tool call that needs permissions the caller
// lacks: 403 with error="insufficient_scope" and the permissions needed as
// the scope (RFC 6750 section 3.1).
func (h *handler) insufficientScope(w http.ResponseWriter, r *http.Request, msgs []message, missing []string) {
	msg := "missing permission " + strings.Join(missing, ", ")
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q, resource_metadata=%q, error_description=%q`,
		strings.Join(missing, " "), h.metadataURL(r), msg))
	h.reject(w, r, msgs, http.StatusForbidden, codeForbidden, &keyward.Error{Code: keyward.EFORBIDDEN, Message: msg})
}

// quotable makes a message safe inside a quoted-string of a header.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r >= 0x7f {
			return '\''
		}
		return r
	}, s)
}
