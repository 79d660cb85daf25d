package httplimit

import (
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/keyward/keyward/internal/clientip"
)

// AddressLimiter counts requests that come without a valid token, per
// client address, for the handlers beside the API: the OAuth endpoints and
// failed authentication on /mcp. It shares the API's limiter, budget per
// address (Options.IP per window) and trusted proxies, and keeps a
// separate budget for each bucket, so that one endpoint's traffic does not
// spend another's. A nil *AddressLimiter allows everything.
type AddressLimiter struct {
	limits Options
	ip     *clientip.Resolver
	log    *slog.Logger
}

// NewAddressLimiter returns a limiter with the API's rate limits and
// trusted proxies; log receives limiter failures (nil discards them). It
// returns nil, which allows everything, when limits has no limiter or no
// budget per address.
func NewAddressLimiter(limits Options, trustedProxies []netip.Prefix, log *slog.Logger) *AddressLimiter {
	if limits.Limiter == nil || limits.IP <= 0 {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AddressLimiter{limits: limits, ip: clientip.New(trustedProxies), log: log}
}

// Allow counts r against the budget of its client address in bucket (a
// short name such as "oauth-register") and sets X-RateLimit-Limit,
// -Remaining and -Reset on w. When the budget is spent it sets
// Retry-After and returns a keyward.Error with code ERATELIMITED, whose
// message and detail may be shown to the client; the caller answers 429
// in its own format.
func (l *AddressLimiter) Allow(w http.ResponseWriter, r *http.Request, bucket string) error {
	if l == nil {
		return nil
	}
	b := Budget{Kind: bucket, Key: bucket + ":" + AddrKey(l.ip.Addr(r)), Limit: l.limits.IP, Window: l.limits.Period(), Who: "this address"}
	return l.limits.Count(r.Context(), w.Header(), b, l.log, slog.String("path", r.URL.Path))
}
