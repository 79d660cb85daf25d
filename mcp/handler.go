package mcp

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/clientip"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/internal/response"
	"github.com/keyward/keyward/service"
	"github.com/modelcontextprotocol/go-sdk/auth"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Paths served by the handler.
const (
	// Path is the MCP endpoint.
	Path = "/mcp"
	// MetadataPath is the root protected resource metadata document; the
	// same document is served at MetadataPath + Path, the location RFC 9728
	// derives from the resource identifier <public URL>/mcp.
	MetadataPath = "/.well-known/oauth-protected-resource"
)

// maxBodyBytes bounds a request body to /mcp. keyward's tool arguments
// are small; a larger body is refused before it is parsed.
const maxBodyBytes = 1 << 20

// Options are the settings of the MCP handler beside the service.
type Options struct {
	// PublicURL is the URL clients reach keyward at, such as
	// "https://keys.example.com", without a path. The MCP resource is
	// PublicURL + "/mcp", and PublicURL is the authorization server named
	// in the metadata. Empty takes both from each request's Host.
	PublicURL string
	// Version is the version of keyward announced to clients; "" is "dev".
	Version string
	// Logger receives one line per request and every internal error; never
	// a token nor a header. Nil discards.
	Logger *slog.Logger
	// Audience, when set, returns the resource (RFC 8707) an OAuth token was
	// issued for, "" if unknown. An OAuth token issued for any other
	// resource than this server's MCP URL, or for an unknown one, is
	// refused. Nil means every OAuth token keyward holds was issued for its
	// own MCP URL, the only resource its authorization server issues
	// tokens for.
	Audience func(t *keyward.Token) string
	// RateLimit, when set, counts each request whose credential is
	// missing or refused (a 401) against its client address, and answers
	// 429 once that budget is spent; nil leaves them unlimited.
	RateLimit *httplimit.AddressLimiter
	// TrustedProxies are the networks whose X-Forwarded-For (or X-Real-IP)
	// names the client, as for the API: a token's IP allowlist is judged
	// by the client's address, not the proxy's.
	TrustedProxies []netip.Prefix
}

// handler serves /mcp and the protected resource metadata.
type handler struct {
	svc     *service.Service
	log     *slog.Logger
	public  *url.URL // nil: from each request
	aud     func(t *keyward.Token) string
	version string
	limiter *httplimit.AddressLimiter
	ip      *clientip.Resolver // client addresses past the trusted proxies
	mux     *http.ServeMux
	root    http.Handler // mux behind the security headers
	sdk     http.Handler
}

// NewHandler returns the handler of /mcp and of the protected resource
// metadata documents (MetadataPath and MetadataPath + Path) over svc. It
// panics if opts.PublicURL is not an absolute http or https URL without a
// query; serve checks the flag before.
func NewHandler(svc *service.Service, opts Options) http.Handler {
	h := &handler{svc: svc, log: opts.Logger, aud: opts.Audience, version: opts.Version, limiter: opts.RateLimit, ip: clientip.New(opts.TrustedProxies)}
	if h.version == "" {
		h.version = "dev"
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if opts.PublicURL != "" {
		u, err := ParsePublicURL(opts.PublicURL)
		if err != nil {
			panic("mcp: " + err.Error())
		}
		h.public = u
	}
	server := newServer(h)
	streamable := mcpsdk.NewStreamableHTTPHandler(func(*http.Request) *mcpsdk.Server { return server }, &mcpsdk.StreamableHTTPOptions{
		// Stateless: any node answers any request; no session to share.
		Stateless:    true,
		JSONResponse: true,
		Logger:       quiet(h.log),
		// checkOrigin replaces the SDK's loopback-only rule, which would
		// refuse keyward behind a reverse proxy on the same host.
		DisableLocalhostProtection: true,
		MaxRequestBodyBytes:        maxBodyBytes,
	})
	h.sdk = auth.RequireBearerToken(tokenInfo, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(streamable)
	h.mux = http.NewServeMux()
	h.root = response.SecurityHeaders(h.mux)
	h.mux.Handle(Path, http.HandlerFunc(h.serveMCP))
	h.mux.Handle(MetadataPath, http.HandlerFunc(h.serveMetadata))
	h.mux.Handle(MetadataPath+Path, http.HandlerFunc(h.serveMetadata))
	return h
}

// ParsePublicURL checks a public URL: absolute http or https with a host,
// and nothing after it but an optional "/": keyward's paths are absolute,
// and RFC 9728 places the metadata right after the host.
func ParsePublicURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return nil, keyward.Errorf(keyward.EINVALID, "public URL %q must be http(s)://HOST[:PORT] with no path, query or fragment", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

// ServeHTTP logs the request and serves it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &response.StatusWriter{ResponseWriter: w}
	h.root.ServeHTTP(sw, r)
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", sw.Status),
		slog.Duration("duration", time.Since(start)))
}

// baseURL is the public URL of keyward for r: the configured one, or
// the request's scheme and Host.
func (h *handler) baseURL(r *http.Request) string {
	if h.public != nil {
		return h.public.String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// resourceURL is the MCP server's canonical URL: the resource identifier.
func (h *handler) resourceURL(r *http.Request) string { return h.baseURL(r) + Path }

// metadataURL is where the resource's protected resource metadata is.
func (h *handler) metadataURL(r *http.Request) string {
	return h.baseURL(r) + MetadataPath + Path
}

// quiet passes on only warnings and errors of the SDK, which logs every
// stateless request's session at the info level.
func quiet(l *slog.Logger) *slog.Logger { return slog.New(warnOnly{l.Handler()}) }

// warnOnly is a handler that drops records below warnings.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && w.Handler.Enabled(ctx, level)
}

func (w warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{w.Handler.WithAttrs(attrs)}
}

func (w warnOnly) WithGroup(name string) slog.Handler { return warnOnly{w.Handler.WithGroup(name)} }
