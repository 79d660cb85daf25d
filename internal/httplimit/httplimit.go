// Package httplimit applies rate limits to HTTP requests, for every front
// end: the budgets of SPEC section 4, the X-RateLimit-* headers every
// counted answer carries (as GitHub's API sends them), the refusal a
// spent budget gives, and a limiter per client address for the handlers
// beside the API. The counting itself is package ratelimit's, or a shared
// one's behind the Limiter interface; this package links neither Redis
// nor anything else outside the standard library.
package httplimit

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
)

// Limiter counts requests against budgets: ratelimit.Memory keeps the
// counts of one node, redislimit.Limiter shares them between nodes.
type Limiter interface {
	// Allow counts one request for key against a budget of limit requests
	// per window, if the budget allows it.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ratelimit.Result, error)
}

// The limits of SPEC section 4, for callers that want them.
const (
	// DefaultToken is the budget of a token an hour.
	DefaultToken = 1000
	// DefaultIP is the budget an hour of a client address for the
	// requests it makes without a valid token.
	DefaultIP = 100
)

// Options set the rate limits of a front end.
type Options struct {
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
	// Refused, if set, is told of each request a spent budget refuses,
	// with the budget's Kind, for metrics.
	Refused func(kind string)
}

// Period is the window of both budgets.
func (o Options) Period() time.Duration {
	if o.Window <= 0 {
		return time.Hour
	}
	return o.Window
}

// TokenLimit is a token's budget per window: own, its own, when it has
// one, the default otherwise.
func (o Options) TokenLimit(own int) int {
	if own > 0 {
		return own
	}
	return o.Token
}

// TokenKey is the key of a token's budget: its id, which regeneration
// keeps.
func TokenKey(id string) string { return "token:" + id }

// AddrKey is the key of an address's budget: IPv4 addresses one by one,
// IPv6 by /64, the block a single host is usually given.
func AddrKey(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "ip:unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + ip.String()
}

// Budget is one budget a request is counted against.
type Budget struct {
	// Kind names the budget's kind for metrics: "token", "address", or an
	// address budget's bucket.
	Kind string
	// Key names the budget in the limiter (TokenKey, AddrKey, with a
	// bucket's prefix where one address has several).
	Key string
	// Limit is its requests per Window; 0 or less counts nothing.
	Limit  int
	Window time.Duration
	// Who names the budget's holder in the refusal: "this token".
	Who string
}

// Headers of rate limited answers, as GitHub's API sends them.
const (
	HeaderLimit      = "X-RateLimit-Limit"
	HeaderRemaining  = "X-RateLimit-Remaining"
	HeaderReset      = "X-RateLimit-Reset"
	HeaderRetryAfter = "Retry-After"
)

// The canonical forms of the headers (as http.Header keys them).
var (
	canonLimit     = http.CanonicalHeaderKey(HeaderLimit)
	canonRemaining = http.CanonicalHeaderKey(HeaderRemaining)
	canonReset     = http.CanonicalHeaderKey(HeaderReset)
)

// Count counts one request against b in o's limiter and sets the rate
// limit headers in h. It returns a keyward.Error with code ERATELIMITED, whose message
// and detail may be shown to the client, with Retry-After set, when the
// budget is spent; the caller answers 429 in its own format. A limiter
// failure lets the request through, logged at WARN to log with attrs
// (unless ctx has ended): rate limits guard the service, they must not
// stop it.
func (o Options) Count(ctx context.Context, h http.Header, b Budget, log *slog.Logger, attrs ...slog.Attr) error {
	if b.Limit <= 0 || o.Limiter == nil {
		return nil
	}
	res, err := o.Limiter.Allow(ctx, b.Key, b.Limit, b.Window)
	if err != nil {
		if ctx.Err() == nil && log != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "rate limit not checked", append(attrs, slog.String("err", err.Error()))...)
		}
		return nil
	}
	// Every answer carries these: the header names are canonical, the
	// three numbers are one string, and one array holds the values.
	var buf [64]byte
	n := strconv.AppendInt(buf[:0], int64(res.Limit), 10)
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
	if o.Refused != nil {
		o.Refused(b.Kind)
	}
	retry := RetrySeconds(res.RetryAfter)
	h.Set(HeaderRetryAfter, strconv.FormatInt(retry, 10))
	return &keyward.Error{
		Code:    keyward.ERATELIMITED,
		Message: "rate limit exceeded",
		Detail:  fmt.Sprintf("%s may make %d requests %s; retry after %d seconds", b.Who, b.Limit, Per(b.Window), retry),
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

// RetrySeconds is d in whole seconds, rounded up, at least 1: the value
// of Retry-After.
func RetrySeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Per names a window for messages: "an hour", "every 10m0s".
func Per(window time.Duration) string {
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
