package api

import (
	"log/slog"
	"net/http"

	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/service"
)

// countCaller counts a request once authentication has decided, before
// its handler runs: against the token c presents when err is nil, against
// the client address otherwise (no credential, or one that failed). A
// dashboard session's caller has no token and is not counted here. It
// returns a rate_limited error when the budget is spent.
func (s *server) countCaller(h http.Header, r *http.Request, c *service.Caller, err error) error {
	switch {
	case err != nil:
		return s.countAddress(h, r)
	case c.Token != nil:
		return s.countToken(h, r, c.Token.ID, c.Token.RateLimit)
	}
	return nil
}

// countToken counts a request against the budget of the token with id,
// whose own limit is own (0: the default).
func (s *server) countToken(h http.Header, r *http.Request, id string, own int) error {
	return s.count(h, r, httplimit.Budget{Kind: "token", Key: httplimit.TokenKey(id), Limit: s.limits.TokenLimit(own), Window: s.limits.Period(), Who: "this token"})
}

// countAddress counts a request that presents no valid token against its
// client address.
func (s *server) countAddress(h http.Header, r *http.Request) error {
	return s.count(h, r, httplimit.Budget{Kind: "address", Key: httplimit.AddrKey(s.ip.Addr(r)), Limit: s.limits.IP, Window: s.limits.Period(), Who: "this address without a valid token"})
}

func (s *server) count(h http.Header, r *http.Request, b httplimit.Budget) error {
	return s.limits.Count(r.Context(), h, b, s.log,
		slog.String("request_id", requestIDFrom(r.Context())), slog.String("path", r.URL.Path))
}
