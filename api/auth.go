package api

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
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

// errNoCredential answers a request that presented no credential at all.
var errNoCredential = &keyward.Error{
	Code:    keyward.EUNAUTHORIZED,
	Message: "missing credential",
	Detail:  "send 'Authorization: Bearer <token>' or 'X-API-Key: <token>'",
}

// Credential returns the token a request presents in its Authorization or
// X-API-Key header. Each header may appear once; when both appear they
// must carry the same token. It returns EUNAUTHORIZED errors that say what
// is wrong, and errNoCredential when there is none at all.
func Credential(h http.Header) (string, error) {
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
	return "", errNoCredential
}

// cliUserAgent starts the User-Agent of keyward's CLI; tokens minted
// through it record the source "cli".
const cliUserAgent = "keyward-cli/"

// authenticate establishes the caller of r from its credential.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (*service.Caller, error) {
	raw, err := Credential(r.Header)
	if err == errNoCredential {
		w.Header().Set("WWW-Authenticate", challengeMissing)
	}
	if err != nil {
		return nil, err
	}
	c, err := s.svc.Authenticate(r.Context(), raw, s.ip.Addr(r), r.UserAgent())
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	c.Source = keyward.SourceAPI
	if strings.HasPrefix(r.UserAgent(), cliUserAgent) {
		c.Source = keyward.SourceCLI
	}
	return c, nil
}

// authedFunc is a handler that runs for an authenticated caller and
// returns its error for the one error writer.
type authedFunc func(w http.ResponseWriter, r *http.Request, c *service.Caller) error

// authed serves a route for an authenticated caller. In order: a token in
// the URL is refused; the request is authenticated; it is counted against
// the token's rate limit, or the client address's when authentication
// failed, and a spent budget answers 429; a failed authentication answers
// its error; then h runs.
func (s *server) authed(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := refuseTokenInURL(r); err != nil {
			s.error(w, r, cmp.Or(s.countAddress(w.Header(), r), err))
			return
		}
		c, err := s.authenticate(w, r)
		if lerr := s.countCaller(w.Header(), r, c, err); lerr != nil {
			err = lerr
		}
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			s.error(w, r, err)
		}
	})
}

// public serves a route that needs no credential, counted against the
// client address; a token in the URL is refused.
func (s *server) public(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lerr := s.countAddress(w.Header(), r)
		if err := refuseTokenInURL(r); err != nil {
			s.error(w, r, cmp.Or(lerr, err))
			return
		}
		if lerr != nil {
			s.error(w, r, lerr)
			return
		}
		h(w, r)
	})
}

// open serves a route for infrastructure (probes and scrapers, which call
// often from one address): neither authenticated nor counted, and so
// without rate limit headers; a token in the URL is still refused.
func (s *server) open(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := refuseTokenInURL(r); err != nil {
			s.error(w, r, err)
			return
		}
		h(w, r)
	})
}

// inOrg authenticates the request, checks that its {org} is the caller's
// own (any other org answers 404, as one that does not exist), then runs h.
func (s *server) inOrg(h authedFunc) http.Handler {
	return s.authed(func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		if err := c.PinOrg(r.PathValue("org")); err != nil {
			return err
		}
		return h(w, r, c)
	})
}
