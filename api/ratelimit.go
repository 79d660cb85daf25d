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

// unlimited reports whether path is for infrastructure (probes and
// scrapers, which call often from one address) and so is neither counted
// nor given rate limit headers.
func unlimited(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

type rateCtxKey struct{}

// rateLimit counts every request against one budget, once: a request that
// authenticates with a token against the token (see countAuthentication);
// any other (no credential, or one that fails) against its client
// address. A request with no credential is counted before it is served;
// one with a credential that no handler authenticates is counted when its
// answer starts. Every counted answer carries X-RateLimit-Limit,
// -Remaining and -Reset; a spent budget answers 429 rate_limited with
// Retry-After.
func (s *server) rateLimit(next http.Handler) http.Handler {
	return s.limitRate(next, true)
}

// limitRate is rateLimit. The handler it serves finds the request's
// counting in its request's context when inContext is set (it may be
// wrapped in other writers), or as its ResponseWriter otherwise (saving
// the context's copy of the request on GET /v1/auth).
func (s *server) limitRate(next http.Handler, inContext bool) http.Handler {
	if s.limits.Limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unlimited(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		rw := &rateWriter{ResponseWriter: w, s: s}
		if inContext {
			r = r.WithContext(context.WithValue(r.Context(), rateCtxKey{}, rw))
		}
		rw.r = r
		if !hasCredential(r.Header) {
			if err := rw.countIP(); err != nil {
				s.error(w, r, err)
				return
			}
		}
		next.ServeHTTP(rw, r)
	})
}

// hasCredential reports whether the request presents a credential, well
// formed or not.
func hasCredential(h http.Header) bool {
	_, auth := h["Authorization"]
	_, key := h["X-Api-Key"]
	return auth || key
}

// countAuthentication counts a request once authentication has decided:
// against the token c presents when err is nil, against the client
// address otherwise. It returns the caller and error authentication gave,
// or a rate_limited error when the budget is spent.
func (s *server) countAuthentication(w http.ResponseWriter, r *http.Request, c *service.Caller, err error) (*service.Caller, error) {
	rw := rateWriterOf(w, r)
	if err != nil {
		if lerr := s.countFailure(rw); lerr != nil {
			return nil, lerr
		}
		return nil, err
	}
	if c.Token == nil {
		if rw != nil {
			rw.counted = true
		}
		return c, nil
	}
	if lerr := s.countToken(rw, c.Token.ID, c.Token.RateLimit); lerr != nil {
		return nil, lerr
	}
	return c, nil
}

// rateWriterOf returns the writer through which the request's rate limits
// are counted; nil when it has none.
func rateWriterOf(w http.ResponseWriter, r *http.Request) *rateWriter {
	if rw, ok := w.(*rateWriter); ok {
		return rw
	}
	rw, _ := r.Context().Value(rateCtxKey{}).(*rateWriter)
	return rw
}

// countToken counts a request against the budget of the token with id,
// whose own limit is own (0: the default), unless it has been counted.
func (s *server) countToken(rw *rateWriter, id string, own int) error {
	if rw == nil || rw.counted {
		return nil
	}
	return rw.count(tokenRateKey(id), s.tokenRateLimit(own), "this token")
}

// countFailure counts a request whose credential failed against its
// client address, unless it has been counted.
func (s *server) countFailure(rw *rateWriter) error {
	if rw == nil || rw.counted {
		return nil
	}
	return rw.countIP()
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

// rateWriter carries a request's counting: whether it is counted yet, and,
// for a request counted only when its answer starts, whether that answer
// was replaced by a 429.
type rateWriter struct {
	http.ResponseWriter
	s       *server
	r       *http.Request
	counted bool
	refused bool
}

// countIP counts the request against its client address.
func (rw *rateWriter) countIP() error {
	return rw.count(ipRateKey(rw.s.ip.Addr(rw.r)), rw.s.limits.IP, "this address without a valid token")
}

// count marks the request counted and counts it against key's budget of
// limit per window (see countRequest).
func (rw *rateWriter) count(key string, limit int, who string) error {
	rw.counted = true
	return countRequest(rw.r, rw.Header(), rw.s.limits.Limiter, key, limit, rw.s.limits.window(), who, rw.s.log)
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

// settle counts, against the client address, a request that no handler
// counted, as its answer starts; a spent budget replaces the answer with
// the 429.
func (rw *rateWriter) settle() {
	if rw.counted {
		return
	}
	if err := rw.countIP(); err != nil {
		rw.refused = true
		h := rw.Header()
		for _, k := range []string{"Allow", "Location", "WWW-Authenticate", "Content-Length"} {
			h.Del(k)
		}
		rw.s.error(rw.ResponseWriter, rw.r, err)
	}
}

func (rw *rateWriter) WriteHeader(status int) {
	rw.settle()
	if !rw.refused {
		rw.ResponseWriter.WriteHeader(status)
	}
}

func (rw *rateWriter) Write(b []byte) (int, error) {
	rw.settle()
	if rw.refused {
		return len(b), nil
	}
	return rw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *rateWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

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
