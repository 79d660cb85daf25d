package oauth

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"github.com/keyward/keyward/internal/response"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/clientip"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/service"
)

// Sessions tells who is signed in to the dashboard.
type Sessions interface {
	// SignedIn returns the signed-in user of r (nil if none).
	SignedIn(r *http.Request) (*keyward.User, error)
	// SignInURL returns where to send a person to sign in, coming back to
	// next (a path with its query on this server).
	SignInURL(next string) string
}

// Options configure the authorization server.
type Options struct {
	// Issuer is the public base URL of this server, such as
	// "https://keys.example.com" (no path): the issuer of RFC 8414 and the
	// base of every endpoint. Required.
	Issuer string
	// MCPResource is the one resource tokens are issued for, the MCP
	// endpoint's URL; empty means Issuer + "/mcp".
	MCPResource string
	// AllowPrivateMetadataHosts lets Client ID Metadata Documents be
	// fetched from loopback, private and other non-public addresses. For
	// tests only: in production it opens a server-side request forgery.
	AllowPrivateMetadataHosts bool
	// MetadataRootCAs, when set, are the only roots trusted when fetching
	// metadata documents (tests serve them with a test certificate); nil
	// means the system's roots.
	MetadataRootCAs *x509.CertPool
	// Logger receives internal errors; never a code, verifier or token.
	// Nil discards.
	Logger *slog.Logger
	// RateLimit, when set, counts every request to the authorization,
	// token, registration and revocation endpoints against its client
	// address (a budget for each of authorize, token and revoke, and
	// register); nil leaves them unlimited.
	RateLimit *httplimit.AddressLimiter
	// TrustedProxies are the networks whose X-Forwarded-For (or X-Real-IP)
	// names the client, as for the API: the audit log records the client's
	// address, not the proxy's.
	TrustedProxies []netip.Prefix
}

// handler is the authorization server.
type handler struct {
	svc      *service.Service
	sessions Sessions
	issuer   string
	resource string
	secure   bool // the issuer is https: cookies are Secure
	log      *slog.Logger
	fetcher  *metadataFetcher
	limiter  *httplimit.AddressLimiter
	ip       *clientip.Resolver // client addresses past the trusted proxies
	mux      *http.ServeMux
}

// NewHandler returns the authorization server's endpoints:
//
//	GET  /.well-known/oauth-authorization-server  RFC 8414 metadata
//	GET  /oauth/authorize                         sign-in, then the consent page
//	POST /oauth/authorize                         the user's decision
//	POST /oauth/token                             authorization_code only
//	POST /oauth/register                          RFC 7591
//	POST /oauth/revoke                            RFC 7009
func NewHandler(svc *service.Service, sessions Sessions, opts Options) (http.Handler, error) {
	u, err := url.Parse(opts.Issuer)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("oauth: issuer %q must be an http(s) URL with no path, query or fragment", opts.Issuer)
	}
	h := &handler{
		svc:      svc,
		sessions: sessions,
		issuer:   strings.TrimSuffix(opts.Issuer, "/"),
		resource: opts.MCPResource,
		secure:   u.Scheme == "https",
		log:      opts.Logger,
		limiter:  opts.RateLimit,
		ip:       clientip.New(opts.TrustedProxies),
	}
	if h.resource == "" {
		h.resource = h.issuer + "/mcp"
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.fetcher = newMetadataFetcher(opts.AllowPrivateMetadataHosts, opts.MetadataRootCAs)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", cors(h.metadata))
	mux.HandleFunc("OPTIONS /.well-known/oauth-authorization-server", cors(nil))
	mux.HandleFunc("GET /oauth/authorize", h.limit("oauth-authorize", true, h.authorize))
	mux.HandleFunc("POST /oauth/authorize", h.limit("oauth-authorize", true, h.decide))
	mux.HandleFunc("POST /oauth/token", cors(h.limit("oauth-token", false, h.token)))
	mux.HandleFunc("OPTIONS /oauth/token", cors(nil))
	mux.HandleFunc("POST /oauth/register", cors(h.limit("oauth-register", false, h.register)))
	mux.HandleFunc("OPTIONS /oauth/register", cors(nil))
	mux.HandleFunc("POST /oauth/revoke", cors(h.limit("oauth-token", false, h.revoke)))
	mux.HandleFunc("OPTIONS /oauth/revoke", cors(nil))
	h.mux = mux
	return h, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.mux.ServeHTTP(w, r)
}

// slowDown is the error code of a 429 from the JSON endpoints. RFC 6749
// names none for a rate limit; RFC 8628 names "slow_down" for a client
// that asks the token endpoint too often, and clients that know it back
// off.
const slowDown = "slow_down"

// limit counts each request of fn against the budget of its client
// address in bucket. A spent budget answers 429 with Retry-After: the
// error page on the authorization endpoint, which a person's browser
// shows, and an RFC 6749 error body of slow_down on the JSON endpoints.
func (h *handler) limit(bucket string, page bool, fn http.HandlerFunc) http.HandlerFunc {
	if h.limiter == nil {
		return fn
	}
	return func(w http.ResponseWriter, r *http.Request) {
		err := h.limiter.Allow(w, r, bucket)
		if err == nil {
			fn(w, r)
			return
		}
		desc := keyward.ErrorMessage(err)
		if d := keyward.ErrorDetail(err); d != "" {
			desc += ": " + d
		}
		if page {
			h.errorPage(w, &pageError{status: http.StatusTooManyRequests, message: desc})
			return
		}
		writeJSON(w, http.StatusTooManyRequests, oauthError{Error: slowDown, Description: desc})
	}
}

// cors lets browser-based clients call the JSON endpoints: they carry no
// cookie and no ambient authority, so any origin may. A nil fn answers a
// preflight.
func cors(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Expose-Headers", "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset")
		if fn == nil {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization, MCP-Protocol-Version")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		fn(w, r)
	}
}

// maxBody bounds every request body.
const maxBody = 64 << 10

// oauthError is the JSON error body of RFC 6749 section 5.2.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// errorCode maps a service error to its OAuth error code and description;
// internal errors are logged and described as "internal error".
func (h *handler) errorCode(r *http.Request, err error) (string, string) {
	code := keyward.ErrorCode(err)
	switch code {
	case keyward.EINVALID, service.OAuthInvalidClient, service.OAuthInvalidGrant, service.OAuthInvalidTarget,
		service.OAuthInvalidScope, service.OAuthAccessDenied, service.OAuthInvalidRedirectURI, service.OAuthInvalidClientMetadata,
		service.OAuthUnsupportedTokenType:
		return code, keyward.ErrorMessage(err)
	case keyward.ENOTFOUND:
		return keyward.EINVALID, keyward.ErrorMessage(err)
	case keyward.EUNAVAILABLE:
		// RFC 6749 section 4.1.2.1's code for a server that cannot answer now.
		return "temporarily_unavailable", keyward.ErrorMessage(err)
	}
	h.log.Error("oauth: internal error", "path", r.URL.Path, "err", err)
	return "server_error", "internal error"
}

// jsonError answers an OAuth error as JSON: 401 for invalid_client, 500
// for server_error, 400 otherwise.
func (h *handler) jsonError(w http.ResponseWriter, r *http.Request, err error) {
	code, desc := h.errorCode(r, err)
	status := http.StatusBadRequest
	switch code {
	case service.OAuthInvalidClient:
		status = http.StatusUnauthorized
	case "server_error":
		status = http.StatusInternalServerError
	case "temporarily_unavailable":
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", response.RetryAfter)
	}
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

// writeJSON answers v, never to be cached (RFC 6749 section 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// oauthErr makes an error with an OAuth code.
func oauthErr(code, format string, args ...any) error { return keyward.Errorf(code, format, args...) }

// single returns the one value of name in v, "" when absent, and an
// invalid_request error when it is given more than once (RFC 6749 section
// 3.1).
func single(v url.Values, name string) (string, error) {
	switch vs := v[name]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", oauthErr(keyward.EINVALID, "%s is given more than once", name)
}
