package api

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/credential"
	"github.com/keyward/keyward/service"
)

// cliUserAgent starts the User-Agent of keyward's CLI; tokens minted
// through it record the source "cli".
const cliUserAgent = "keyward-cli/"

// authenticate establishes the caller of r from its credential.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (*service.Caller, error) {
	raw, err := credential.FromHeader(r.Header)
	if err == credential.ErrMissing {
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
