package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/keyward/keyward/internal/clientip"
	"github.com/keyward/keyward/internal/response"
	"github.com/keyward/keyward/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options are the dashboard's settings beside the service.
type Options struct {
	// Logger receives internal errors; never a secret, a cookie or a
	// set-password link. Nil discards.
	Logger *slog.Logger
	// BaseURL is the public URL of this server, such as
	// "https://keys.example.com". It fills the snippets of the Connect page
	// and set-password links; empty derives it from each request. An
	// https:// base URL also marks cookies Secure, as a TLS connection
	// does.
	BaseURL string
	// TrustedProxies are the networks whose X-Forwarded-For (or X-Real-IP)
	// names the client, as for the API: sign-in throttling and the
	// sessions list see the client's address, not the proxy's.
	TrustedProxies []netip.Prefix
}

// server holds what the page handlers share.
type server struct {
	svc     *service.Service
	log     *slog.Logger
	baseURL string
	pages   *pages
	// ip reads client addresses past the trusted proxies.
	ip *clientip.Resolver
}

// NewHandler returns the dashboard over svc. It serves its own routes
// only (see routes.go), so it can be mounted at "/" beside the API.
func NewHandler(svc *service.Service, opts Options) http.Handler {
	s := &server{svc: svc, log: opts.Logger, baseURL: strings.TrimSuffix(opts.BaseURL, "/"), ip: clientip.New(opts.TrustedProxies)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.pages = mustParsePages(templateFS)
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))
	// Browsers' Sec-Fetch-Site refuses cross-site form posts; where a
	// browser sends only Origin, the public URL counts as this origin even
	// behind a proxy that changes Host.
	cop := http.NewCrossOriginProtection()
	if s.baseURL != "" {
		if err := cop.AddTrustedOrigin(s.baseURL); err != nil {
			s.log.Warn("the public URL is not an origin; cross-origin checks use the Host header only", "err", err)
		}
	}
	var h http.Handler = mux
	h = cop.Handler(h)
	h = securityHeaders(h)
	h = s.logRequests(h)
	return h
}

// logRequests logs one line per page or form: method, path (a
// set-password link's token hidden), status and duration. It never logs a
// query, a cookie, a header or a form value.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &response.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if strings.HasPrefix(r.URL.Path, "/static/") {
			return
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "dashboard",
			slog.String("method", r.Method),
			slog.String("path", redactPath(r.URL.Path)),
			slog.Int("status", sw.Status),
			slog.Duration("duration", time.Since(start)))
	})
}

// contentSecurityPolicy allows this origin's own script, style and images
// only, with no inline script or style, and no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders sets the headers every dashboard answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			// Pages hold CSRF tokens and personal data: never cache them.
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// staticFiles lets browsers cache the stylesheet and script for an hour.
func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
