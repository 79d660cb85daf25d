package web

import (
	"net/http"
	"net/url"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// Sessions tells other parts of keyward who is signed in to the dashboard:
// the OAuth consent page asks it, so that a person signs in once for both.
type Sessions struct {
	svc *service.Service
}

// NewSessions returns the dashboard's sessions over svc.
func NewSessions(svc *service.Service) Sessions { return Sessions{svc: svc} }

// SignedIn returns the person signed in to the dashboard in r's browser,
// or nil when nobody is (no session, or one that has ended).
func (s Sessions) SignedIn(r *http.Request) (*keyward.User, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	state, err := s.svc.SessionCaller(r.Context(), c.Value, clientIP(r), r.UserAgent())
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
