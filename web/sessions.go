package web

import (
	"net/http"
	"net/netip"
	"net/url"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/clientip"
	"github.com/keyward/keyward/service"
)

// Sessions tells other parts of keyward who is signed in to the dashboard:
// the OAuth consent page asks it, so that a person signs in once for both.
type Sessions struct {
	svc *service.Service
	ip  *clientip.Resolver
}

// NewSessions returns the dashboard's sessions over svc, reading client
// addresses past trustedProxies as the dashboard does.
func NewSessions(svc *service.Service, trustedProxies []netip.Prefix) Sessions {
	return Sessions{svc: svc, ip: clientip.New(trustedProxies)}
}

// SignedIn returns the person signed in to the dashboard in r's browser,
// or nil when nobody is (no session, or one that has ended).
func (s Sessions) SignedIn(r *http.Request) (*keyward.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	state, err := s.svc.SessionCaller(r.Context(), c.Value, s.ip.String(r), r.UserAgent())
	if keyward.ErrorCode(err) == keyward.EUNAUTHORIZED {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return state.User, nil
}

// SignInURL is the dashboard's sign-in page, which sends the person on to
// the local path next once signed in.
func (Sessions) SignInURL(next string) string { return "/signin?next=" + url.QueryEscape(next) }
