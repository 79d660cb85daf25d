// Package credential reads the credential a request presents: the
// Authorization and X-API-Key headers, strictly, with errors that say what
// is wrong and never repeat the token; and the token-like query
// parameters that every front end refuses.
package credential

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyward/keyward"
)

// maxTokenLen bounds a presented token; keyward's own are far shorter.
const maxTokenLen = 512

// expectBearer starts every message about a malformed Authorization header.
const expectBearer = "expected 'Bearer <token>': "

// ParseAuthorization reads the value of an Authorization header. It
// accepts exactly "Bearer <token>": the scheme in any case, one space, and
// a token of printable ASCII without whitespace. Anything else is an
// EUNAUTHORIZED error whose message says what is wrong; the message never
// repeats the token.
func ParseAuthorization(header string) (string, error) {
	if header == "" {
		return "", unauthorized(expectBearer + "found an empty Authorization header")
	}
	if isSpace(header[0]) {
		return "", unauthorized(expectBearer + "found whitespace before the scheme")
	}
	sep := strings.IndexAny(header, " \t")
	if sep < 0 {
		if strings.EqualFold(header, "bearer") {
			return "", unauthorized(expectBearer + "found no token")
		}
		return "", unauthorized(expectBearer + "found no scheme")
	}
	scheme, rest := header[:sep], header[sep+1:]
	if !strings.EqualFold(scheme, "bearer") {
		if isSchemeName(scheme) {
			return "", unauthorized(fmt.Sprintf(expectBearer+"unsupported scheme %q", scheme))
		}
		return "", unauthorized(expectBearer + "unsupported scheme")
	}
	if header[sep] == '\t' {
		return "", unauthorized(expectBearer + "found a tab after the scheme, want one space")
	}
	switch {
	case rest == "":
		return "", unauthorized(expectBearer + "found no token")
	case rest[0] == ' ':
		if strings.Trim(rest, " \t") == "" {
			return "", unauthorized(expectBearer + "found no token")
		}
		return "", unauthorized(expectBearer + "found two spaces")
	case isSpace(rest[0]):
		return "", unauthorized(expectBearer + "found whitespace before the token")
	}
	return checkToken(rest, "expected 'Bearer <token>'")
}

// checkToken checks the token part of a header: printable ASCII, no
// whitespace, not too long. what names the expected form in messages.
func checkToken(tok, what string) (string, error) {
	if len(tok) > maxTokenLen {
		return "", unauthorized(fmt.Sprintf("%s: found a token longer than %d characters", what, maxTokenLen))
	}
	end := len(tok)
	for end > 0 && isSpace(tok[end-1]) {
		end--
	}
	if end < len(tok) {
		return "", unauthorized(what + ": found trailing whitespace")
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case isSpace(c):
			return "", unauthorized(what + ": found whitespace inside the token")
		case c < 0x21 || c > 0x7e:
			return "", unauthorized(what + ": found a character that cannot be in a token")
		}
	}
	return tok, nil
}

// isSpace reports whether c is ASCII whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isSchemeName reports whether s is short and looks like an auth scheme
// name, so that it is safe to quote back: a token is never quoted.
func isSchemeName(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func unauthorized(msg string) error {
	return &keyward.Error{Code: keyward.EUNAUTHORIZED, Message: msg}
}

// ErrMissing answers a request that presented no credential at all;
// compare with ==.
var ErrMissing = &keyward.Error{
	Code:    keyward.EUNAUTHORIZED,
	Message: "missing credential",
	Detail:  "send 'Authorization: Bearer <token>' or 'X-API-Key: <token>'",
}

// FromHeader returns the token a request presents in its Authorization or
// X-API-Key header. Each header may appear once; when both appear they
// must carry the same token. It returns EUNAUTHORIZED errors that say what
// is wrong, and ErrMissing when there is none at all.
func FromHeader(h http.Header) (string, error) {
	auth, hasAuth := h["Authorization"]
	key, hasKey := h["X-Api-Key"]
	if len(auth) > 1 {
		return "", unauthorized("found more than one Authorization header")
	}
	if len(key) > 1 {
		return "", unauthorized("found more than one X-API-Key header")
	}
	var fromAuth, fromKey string
	var err error
	if hasAuth {
		if fromAuth, err = ParseAuthorization(auth[0]); err != nil {
			return "", err
		}
	}
	if hasKey {
		if key[0] == "" {
			return "", unauthorized("expected 'X-API-Key: <token>': found an empty header")
		}
		if isSpace(key[0][0]) {
			return "", unauthorized("expected 'X-API-Key: <token>': found leading whitespace")
		}
		if fromKey, err = checkToken(key[0], "expected 'X-API-Key: <token>'"); err != nil {
			return "", err
		}
	}
	switch {
	case hasAuth && hasKey && fromAuth != fromKey:
		return "", unauthorized("the Authorization and X-API-Key headers carry different tokens; send one")
	case hasAuth:
		return fromAuth, nil
	case hasKey:
		return fromKey, nil
	}
	return "", ErrMissing
}

// queryTokenParams are the query parameters in which a token is refused.
var queryTokenParams = []string{"token", "access_token", "api_key", "key"}

// ErrTokenInURL is the error for a token in the query parameter name.
func ErrTokenInURL(name string) error {
	return &keyward.Error{
		Code:    keyward.ETOKENINURL,
		Message: fmt.Sprintf("a token in the query string (%q) is never accepted", name),
		Detail:  "send it in the 'Authorization: Bearer <token>' or 'X-API-Key' header, and consider it exposed: revoke or regenerate it",
	}
}

// TokenInQuery reports whether the raw query has one of the token
// parameters, and which. Names are compared after unescaping and
// case-insensitively, and ';' counts as a separator too, so no spelling
// slips through.
func TokenInQuery(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		name = strings.TrimSpace(name)
		for _, p := range queryTokenParams {
			if strings.EqualFold(name, p) {
				return p, true
			}
		}
	}
	return "", false
}
