package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/service"
	"github.com/modelcontextprotocol/go-sdk/auth"
)

// JSON-RPC error codes of the answers the handler gives before the MCP
// server sees a request (server-defined range, mirroring the HTTP status).
const (
	codeUnauthorized   = -32001
	codeForbidden      = -32003
	codeInvalidRequest = -32600
	codeInternal       = -32603
)

// callerKey is the key of the authenticated caller in the SDK's
// TokenInfo.Extra, which the SDK hands to every tool handler.
const callerKey = "keyward.caller"

// serveMCP checks the request's Host and Origin, authenticates its Bearer
// token, checks that the caller holds the permissions of the tools it
// calls, and hands it to the SDK's stateless streamable HTTP handler.
func (h *handler) serveMCP(w http.ResponseWriter, r *http.Request) {
	if why := h.checkOrigin(r); why != "" {
		h.reject(w, r, nil, http.StatusForbidden, codeForbidden, &keyward.Error{Code: keyward.EFORBIDDEN, Message: why})
		return
	}
	if name, ok := api.TokenInQuery(r.URL.RawQuery); ok {
		h.reject(w, r, nil, http.StatusBadRequest, codeInvalidRequest, &keyward.Error{
			Code:    keyward.ETOKENINURL,
			Message: fmt.Sprintf("a token in the query string (%q) is never accepted", name),
			Detail:  "send it in the 'Authorization: Bearer <token>' header, and consider it exposed: revoke or regenerate it",
		})
		return
	}
	var body []byte
	if r.Body != nil && r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.reject(w, r, nil, http.StatusRequestEntityTooLarge, codeInvalidRequest,
					keyward.Errorf(keyward.EINVALID, "request body is larger than %d bytes", maxBodyBytes))
			}
			return // the client went away
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	msgs := parseMessages(body)
	c, err := h.authenticate(r)
	if err != nil {
		h.unauthorized(w, r, msgs, err)
		return
	}
	if missing := missingPermissions(c, msgs); len(missing) > 0 {
		h.insufficientScope(w, r, msgs, missing)
		return
	}
	h.sdk.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerCtxKey{}, c)))
}

// callerCtxKey holds the authenticated caller in the request's context,
// for tokenInfo.
type callerCtxKey struct{}

// tokenInfo hands the caller that serveMCP authenticated to the SDK, which
// passes it to every tool handler in the request's TokenInfo. The SDK
// takes a TokenInfo only through its Bearer middleware, so the middleware
// wraps the SDK handler with this verifier; the token was checked
// already, and its expiry with it.
func tokenInfo(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	c, ok := ctx.Value(callerCtxKey{}).(*service.Caller)
	if !ok {
		return nil, auth.ErrInvalidToken
	}
	info := &auth.TokenInfo{Scopes: c.Permissions, Extra: map[string]any{callerKey: c}}
	if c.User != nil {
		info.UserID = c.User.ID
	}
	return info, nil
}

// callerFrom returns the caller that tokenInfo handed to the SDK.
func callerFrom(info *auth.TokenInfo) (*service.Caller, bool) {
	if info == nil {
		return nil, false
	}
	c, ok := info.Extra[callerKey].(*service.Caller)
	return c, ok
}

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
	raw, err := api.ParseAuthorization(values[0])
	if err != nil {
		return nil, err
	}
	kind, err := h.svc.Format().Parse(raw)
	if err != nil {
		return nil, err
	}
	if !kind.Personal() {
		return nil, &keyward.Error{
			Code:    keyward.EUNAUTHORIZED,
			Message: "this endpoint accepts personal access tokens and OAuth tokens only",
			Detail:  fmt.Sprintf("a %s is for the HTTP API, not for MCP", kind),
		}
	}
	c, err := h.svc.Authenticate(r.Context(), raw, clientIP(r), r.UserAgent())
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

// clientIP is the address of the socket's peer, as the API takes it.
func clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// unauthorized answers a failed authentication: 401 with the challenge
// that names the resource metadata and the basic scopes (and
// error="invalid_token" when a token was presented), 403 for a genuine token that may not be used now
// (blocked, or from an address outside its allowlist), or 500.
func (h *handler) unauthorized(w http.ResponseWriter, r *http.Request, msgs []message, err error) {
	switch keyward.ErrorCode(err) {
	case keyward.EUNAUTHORIZED:
		challenge := fmt.Sprintf(`Bearer resource_metadata=%q, scope=%q`, h.metadataURL(r), strings.Join(basicScopes, " "))
		if err != errNoBearer {
			challenge += fmt.Sprintf(`, error="invalid_token", error_description=%q`, quotable(keyward.ErrorMessage(err)))
		}
		w.Header().Set("WWW-Authenticate", challenge)
		h.reject(w, r, msgs, http.StatusUnauthorized, codeUnauthorized, err)
	case keyward.EFORBIDDEN, keyward.EIPNOTALLOWED:
		h.reject(w, r, msgs, http.StatusForbidden, codeForbidden, err)
	case keyward.ERATELIMITED:
		h.reject(w, r, msgs, http.StatusTooManyRequests, codeForbidden, err)
	default:
		h.reject(w, r, msgs, http.StatusInternalServerError, codeInternal, err)
	}
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

// rpcError is a JSON-RPC error response.
type rpcError struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcErrorBody    `json:"error"`
}

type rpcErrorBody struct {
	Code    int          `json:"code"`
	Message string       `json:"message"`
	Data    rpcErrorData `json:"data"`
}

// rpcErrorData carries keyward's error code, as the API's error body does.
type rpcErrorData struct {
	Code   string `json:"code"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// reject answers an HTTP error with a JSON-RPC error body, carrying the
// request's id when the body held exactly one request. Internal errors
// are logged and answered "internal error".
func (h *handler) reject(w http.ResponseWriter, r *http.Request, msgs []message, status, code int, err error) {
	data := rpcErrorData{Code: keyward.ErrorCode(err), Status: status, Detail: keyward.ErrorDetail(err)}
	message := keyward.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		h.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("err", err.Error()))
		data.Code, data.Detail, message = keyward.EINTERNAL, "", "internal error"
	}
	id := json.RawMessage("null")
	if len(msgs) == 1 && len(msgs[0].ID) > 0 {
		id = msgs[0].ID
	}
	b, _ := json.Marshal(rpcError{JSONRPC: "2.0", ID: id, Error: rpcErrorBody{Code: code, Message: message, Data: data}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// message is the part of a JSON-RPC message the handler reads before the
// SDK does.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// parseMessages reads the JSON-RPC message, or each message of a batch, in
// body. What does not parse is left for the SDK to refuse; the service
// checks every permission again in any case.
func parseMessages(body []byte) []message {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	raws := []json.RawMessage{body}
	if body[0] == '[' {
		if json.Unmarshal(body, &raws) != nil {
			return nil
		}
	}
	msgs := make([]message, 0, len(raws))
	for _, raw := range raws {
		var m message
		if json.Unmarshal(raw, &m) == nil {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// missingPermissions returns the permissions that the tools called in
// msgs need and c lacks, sorted and without repeats.
func missingPermissions(c *service.Caller, msgs []message) []string {
	var missing []string
	for _, m := range msgs {
		if m.Method != "tools/call" {
			continue
		}
		perm := toolPermission(m.Params.Name)
		if perm == "" || c.Can(perm) || contains(missing, perm) {
			continue
		}
		missing = append(missing, perm)
	}
	return missing
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
