package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/config"
	"github.com/keyward/keyward/internal/clientip"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/internal/response"
	"github.com/keyward/keyward/metrics"
	"github.com/keyward/keyward/service"
)

// Options are the dependencies and settings of the API server beside the
// service.
type Options struct {
	// Logger receives one line per request and every internal error. It
	// never receives a token nor an Authorization header. Nil discards.
	Logger *slog.Logger
	// BaseURL is the public URL the API is reached at, such as
	// "https://keys.example.com"; it is announced as the server of the
	// OpenAPI document. Empty leaves the document's servers out.
	BaseURL string
	// RateLimit sets the limiter and the budgets; its zero value serves
	// without rate limits.
	RateLimit httplimit.Options
	// TrustedProxies are the networks whose X-Forwarded-For (or X-Real-IP)
	// gives the client's address; from any other peer only the socket's
	// address counts.
	TrustedProxies []netip.Prefix
	// Routes is the route policy of GET /v1/auth; nil admits any active
	// token on any route.
	Routes *config.RoutePolicy
	// IdentityHeaders names the identity headers of a 200 from GET
	// /v1/auth (config.IdentityFields); nil means
	// config.DefaultIdentityHeaders.
	IdentityHeaders []string
	// Metrics receives request and verification metrics and serves
	// /metrics; nil makes a registry of the server's own.
	Metrics *metrics.Metrics
}

// server holds what the handlers share.
type server struct {
	svc     *service.Service
	log     *slog.Logger
	openapi []byte
	limits  httplimit.Options
	// ip reads client addresses past the trusted proxies.
	ip     *clientip.Resolver
	policy *config.RoutePolicy
	// identity is the identity headers a 200 from GET /v1/auth carries,
	// as indexes into identityHeaders.
	identity []int
	metrics  *metrics.Metrics
	baseURL  string
}

// NewServer returns the HTTP API over svc: every route of routes.go, each
// behind the request id, metrics, logging, recovery and security header
// middleware (see chain); each route's handler refuses a token in the URL
// and counts the request against its rate limit itself (see authed).
func NewServer(svc *service.Service, opts Options) http.Handler {
	s := &server{svc: svc, log: opts.Logger, ip: clientip.New(opts.TrustedProxies), policy: opts.Routes, metrics: opts.Metrics, baseURL: opts.BaseURL}
	s.identity = identityIndexes(opts.IdentityHeaders)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.limits = opts.RateLimit
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	doc, err := openAPIDocument(opts.BaseURL)
	if err != nil {
		// The document is embedded and checked by the tests; a failure here
		// is a build mistake, not a runtime condition.
		panic(fmt.Sprintf("api: embedded openapi.json: %v", err))
	}
	s.openapi = doc
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.chain(rt.handler))
	}
	f := &fallback{mux: mux, s: s}
	f.unmatched = s.chain(s.public(f.answerUnmatched))
	return &front{full: f, auth: s.authChain()}
}

// chain puts a route's handler behind the middleware every answer of the
// API needs. It runs inside the ServeMux, so r.Pattern is the route's
// pattern for the metrics and the log ("" for no route).
func (s *server) chain(h http.Handler) http.Handler {
	h = response.SecurityHeaders(h)
	h = recoverPanics(s, h)
	h = logRequests(s, h)
	h = countRequests(s, h)
	return requestID(h)
}

// front sends GET /v1/auth, which a reverse proxy asks before every request
// of the product it guards, through authChain, and every other request
// through the whole chain.
type front struct {
	full, auth http.Handler
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/v1/auth" {
		f.auth.ServeHTTP(w, r)
		return
	}
	f.full.ServeHTTP(w, r)
}

// authChain serves GET /v1/auth with only the middleware its answers
// need: recovery (forwardAuth refuses a token in the URL and counts the
// rate limits itself). It has no request id, request log line nor request
// metric: the proxy in front logs every request, the verification metrics
// count each verdict, and its refusals carry the security headers as
// every error does.
func (s *server) authChain() http.Handler {
	return recoverPanics(s, http.HandlerFunc(s.forwardAuth))
}

// fallback serves the mux, answering unknown routes (404) and wrong methods
// (405) with the error body instead of the mux's plain text.
type fallback struct {
	mux *http.ServeMux
	s   *server
	// unmatched is answerUnmatched behind the chain, counted against the
	// client address as a public route is.
	unmatched http.Handler
}

func (f *fallback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := f.mux.Handler(r)
	// A path that needs cleaning gets the mux's redirect, though the mux
	// names the pattern it would match.
	if pattern != "" && !needsCleaning(r.URL.EscapedPath()) {
		f.mux.ServeHTTP(w, r)
		return
	}
	f.unmatched.ServeHTTP(w, r)
}

// answerUnmatched answers a request that no route serves as it is.
func (f *fallback) answerUnmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := f.mux.Handler(r)
	// Let the mux decide between 404, 405 and a redirect, but keep only its
	// status and headers.
	capture := &statusCapture{header: http.Header{}}
	h.ServeHTTP(capture, r)
	switch capture.status {
	case http.StatusMethodNotAllowed:
		allow := capture.header.Get("Allow")
		w.Header().Set("Allow", allow)
		f.s.error(w, r, keyward.Errorf(codeMethodNotAllowed, "method %s is not allowed here; allowed: %s", r.Method, allow))
	case http.StatusNotFound, 0:
		f.s.error(w, r, keyward.Errorf(keyward.ENOTFOUND, "no such endpoint"))
	default:
		// Redirects of unclean paths: pass them on as the mux made them.
		for k, v := range capture.header {
			if k != "Content-Type" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(capture.status)
	}
}

// needsCleaning reports whether the mux would redirect p to a clean path
// ("//", "/./", "/../").
func needsCleaning(p string) bool {
	if p == "" || p[0] != '/' {
		return true
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c != p
}

// statusCapture records the status and headers a handler writes and drops
// its body.
type statusCapture struct {
	header http.Header
	status int
}

func (c *statusCapture) Header() http.Header { return c.header }

func (c *statusCapture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *statusCapture) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return len(b), nil
}

// writeJSON answers v as JSON with status.
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.error(w, r, fmt.Errorf("encoding the answer: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
