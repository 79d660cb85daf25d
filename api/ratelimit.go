package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/ratelimit"
	"github.com/keyward/keyward/service"
)

// Limiter counts requests against budgets: ratelimit.Memory keeps the
// counts of one node, ratelimit.Redis shares them between nodes.
type Limiter interface {
	// Allow counts one request for key against a budget of limit requests
	// per window, if the budget allows it.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ratelimit.Result, error)
}

// The limits of SPEC section 4, for callers that want them.
const (
	// DefaultTokenRateLimit is the budget of a token an hour.
	DefaultTokenRateLimit = 1000
	// DefaultIPRateLimit is the budget an hour of a client address for the
	// requests it makes without a valid token.
	DefaultIPRateLimit = 100
)

// RateLimitOptions set the API's rate limits.
type RateLimitOptions struct {
	// Limiter counts the requests; nil serves without rate limits and
	// without rate limit headers.
	Limiter Limiter
	// Token is the budget of each token per window, unless the token has
	// its own (keyward.Token.RateLimit); 0 leaves tokens without one.
	Token int
	// IP is the budget per window of each client address (each /64 for
	// IPv6) for requests without a token or with one that fails
	// authentication; 0 leaves them unlimited.
	IP int
	// Window is the period of both budgets; 0 means an hour.
	Window time.Duration
}

func (o RateLimitOptions) window() time.Duration {
	if o.Window <= 0 {
		return time.Hour
	}
	return o.Window
}

// Headers of rate limited answers, as GitHub's API sends them.
const (
	headerLimit      = "X-RateLimit-Limit"
	headerRemaining  = "X-RateLimit-Remaining"
	headerReset      = "X-RateLimit-Reset"
	headerRetryAfter = "Retry-After"
)

// The canonical forms of the headers (as http.Header keys them).
var (
	canonLimit     = http.CanonicalHeaderKey(headerLimit)
	canonRemaining = http.CanonicalHeaderKey(headerRemaining)
	canonReset     = http.CanonicalHeaderKey(headerReset)
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
	return countRequest(r, h, s.limits.Limiter, tokenRateKey(id), s.tokenRateLimit(own), s.limits.window(), "this token", s.log)
}

// countAddress counts a request that presents no valid token against its
// client address.
func (s *server) countAddress(h http.Header, r *http.Request) error {
	return countRequest(r, h, s.limits.Limiter, ipRateKey(s.ip.Addr(r)), s.limits.IP, s.limits.window(), "this address without a valid token", s.log)
}

// tokenRateLimit is a token's budget per window: own, its own, or the
// default.
func (s *server) tokenRateLimit(own int) int {
	if own > 0 {
		return own
	}
	return s.limits.Token
}

// tokenRateKey is the key of a token's budget: its id, which regeneration
// keeps.
func tokenRateKey(id string) string { return "token:" + id }

// ipRateKey is the key of an address's budget: IPv4 addresses one by one,
// IPv6 by /64, the block a single host is usually given.
func ipRateKey(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "ip:unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + ip.String()
}

// countRequest counts r against key's budget of limit per window and sets
// the rate limit headers in h. It returns a rate_limited error, with
// Retry-After set, when the budget is spent. A limiter failure lets the
// request through, logged: rate limits guard the service, they must not
// stop it.
func countRequest(r *http.Request, h http.Header, l Limiter, key string, limit int, window time.Duration, who string, log *slog.Logger) error {
	if limit <= 0 || l == nil {
		return nil
	}
	res, err := l.Allow(r.Context(), key, limit, window)
	if err != nil {
		if r.Context().Err() == nil {
			log.LogAttrs(r.Context(), slog.LevelWarn, "rate limit not checked",
				slog.String("request_id", requestIDFrom(r.Context())),
				slog.String("path", r.URL.Path),
				slog.String("err", err.Error()))
		}
		return nil
	}
	// Every answer carries these: the header names are canonical, the
	// three numbers are one string, and one array holds the values.
	var b [64]byte
	n := strconv.AppendInt(b[:0], int64(res.Limit), 10)
	i := len(n)
	n = strconv.AppendInt(n, int64(res.Remaining), 10)
	j := len(n)
	n = strconv.AppendInt(n, ceilUnix(res.Reset), 10)
	all := string(n)
	vals := [3]string{all[:i], all[i:j], all[j:]}
	h[canonLimit], h[canonRemaining], h[canonReset] = vals[0:1:1], vals[1:2:2], vals[2:3:3]
	if res.Allowed {
		return nil
	}
	retry := ceilSeconds(res.RetryAfter)
	h.Set(headerRetryAfter, strconv.FormatInt(retry, 10))
	return &keyward.Error{
		Code:    keyward.ERATELIMITED,
		Message: "rate limit exceeded",
		Detail:  fmt.Sprintf("%s may make %d requests %s; retry after %d seconds", who, limit, per(window), retry),
	}
}

// ceilUnix is t in Unix seconds, rounded up: the budget is whole by then.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// ceilSeconds is d in whole seconds, rounded up, at least 1.
func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// per names a window for messages: "an hour", "every 10m0s".
func per(window time.Duration) string {
	switch window {
	case time.Hour:
		return "an hour"
	case time.Minute:
		return "a minute"
	case 24 * time.Hour:
		return "a day"
	}
	return "every " + window.String()
}
