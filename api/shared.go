package api

import (
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
)

// This file exports what keyward's other HTTP interfaces (MCP, the
// dashboard) share with the API, so that each value has one wire form.

// WhoamiOut is the caller as GET /v1/whoami shows it.
func WhoamiOut(c *service.Caller) client.Whoami { return whoamiOut(c) }

// TokensOut converts a page of tokens; never null.
func TokensOut(ts []*keyward.Token) []client.Token { return tokensOut(ts) }

// AuditsOut converts a page of audit events; never null.
func AuditsOut(es []*keyward.AuditEvent) []client.AuditEvent { return auditsOut(es) }

// CursorOut is a list's next_cursor: null on the last page.
func CursorOut(next string) *string { return cursorOut(next) }

// TokenInQuery reports whether a raw query string carries a token
// parameter (token, access_token, api_key, key, in any spelling), and
// which: such a request is refused, never served.
func TokenInQuery(rawQuery string) (string, bool) { return tokenInQuery(rawQuery) }

// SecurityHeaders sets on every answer the headers the API's answers
// carry: never stored by a cache (an answer may hold a secret), never
// sniffed, framed or sent on as a referrer.
func SecurityHeaders(next http.Handler) http.Handler { return securityHeaders(next) }
