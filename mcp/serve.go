package mcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/credential"
	"github.com/keyward/keyward/service"
	"github.com/modelcontextprotocol/go-sdk/auth"
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
	if name, ok := credential.TokenInQuery(r.URL.RawQuery); ok {
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
	if keyward.ErrorCode(err) == keyward.EUNAUTHORIZED {
		// A failed authentication counts against the client's address.
		if lerr := h.limiter.Allow(w, r, "mcp-auth"); lerr != nil {
			err = lerr
		}
	}
	if err != nil {
		h.unauthorized(w, r, msgs, err)
		return
	}
	if missing := missingPermissions(c, msgs); len(missing) > 0 {
		h.insufficientScope(w, r, msgs, missing)
		return
	}
	h.sdk.ServeHTTP(&noStoreWriter{ResponseWriter: w}, r.WithContext(context.WithValue(r.Context(), callerCtxKey{}, c)))
}

// noStoreWriter keeps every answer of the SDK out of caches, since a tool
// result may hold a secret: the SDK sets a Cache-Control of its own
// ("no-cache"), which allows storing.
type noStoreWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *noStoreWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Set("Cache-Control", "no-store, no-transform")
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *noStoreWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *noStoreWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
