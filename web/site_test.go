package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
	"github.com/keyward/keyward/web"
)

// ownerPassword is the bootstrapped owner's dashboard password.
const ownerPassword = "correct horse battery staple"

// clock is a controllable time for tests of expiry.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.off += d; c.mu.Unlock() }

// site is keyward's API and dashboard over a real SQLite store, served as
// keyward serve composes them.
type site struct {
	t     testing.TB
	srv   *httptest.Server
	URL   string
	svc   *service.Service
	boot  *service.BootstrapResult
	clock *clock
	// ownerSession is a session of the owner for owner().
	ownerSession string
}

// newSite starts a site with a bootstrapped owner (owner@example.com in
// Acme). tls serves it over HTTPS.
func newSite(t testing.TB, tls bool) *site {
	t.Helper()
	return newLoggedSite(t, tls, nil)
}

// newLoggedSite is newSite with the API's and the dashboard's logs going
// to log.
func newLoggedSite(t testing.TB, tls bool, log *slog.Logger) *site {
	t.Helper()
	return newSiteWith(t, siteConfig{tls: tls, log: log})
}

// siteConfig is how newSiteWith composes a site.
type siteConfig struct {
	tls            bool
	log            *slog.Logger
	trustedProxies []netip.Prefix // for the API and the dashboard
}

// newSiteWith starts a site as cfg says.
func newSiteWith(t testing.TB, cfg siteConfig) *site {
	t.Helper()
	tls, log := cfg.tls, cfg.log
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ck := &clock{}
	svc, err := service.New(store, service.Options{Now: ck.Now, ProductPermissions: []string{"monitors:read", "monitors:write"}})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := svc.Bootstrap(context.Background(), service.BootstrapRequest{Email: "owner@example.com", Name: "Olive Owner", OrgName: "Acme", Password: ownerPassword})
	if err != nil {
		t.Fatal(err)
	}
	apiHandler := api.NewServer(svc, api.Options{Logger: log, TrustedProxies: cfg.trustedProxies})
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/", "/openapi.json", "/healthz", "/readyz"} {
		mux.Handle(p, apiHandler)
	}
	mux.Handle("/", web.NewHandler(svc, web.Options{Logger: log, TrustedProxies: cfg.trustedProxies}))
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(mux)
	} else {
		srv = httptest.NewServer(mux)
	}
	t.Cleanup(srv.Close)
	return &site{t: t, srv: srv, URL: srv.URL, svc: svc, boot: boot, clock: ck}
}

// owner is the owner's caller, through a session of their own (their
// bootstrap token has no expiry, which a test's policy may block).
func (s *site) owner() *service.Caller {
	s.t.Helper()
	if s.ownerSession == "" {
		id, err := s.svc.SignIn(context.Background(), service.SignInRequest{Email: "owner@example.com", Password: ownerPassword})
		if err != nil {
			s.t.Fatal(err)
		}
		s.ownerSession = id
	}
	st, err := s.svc.SessionCaller(context.Background(), s.ownerSession, "127.0.0.1", "test")
	if err != nil {
		s.t.Fatal(err)
	}
	return st.Caller
}

// mint mints a PAT for the owner and returns it with its secret.
func (s *site) mint(name string) (*keyward.Token, string) {
	s.t.Helper()
	tok, secret, err := s.svc.CreateToken(context.Background(), s.owner(), service.Personal, service.TokenRequest{Name: name, ExpiresIn: "30d"})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok, secret
}

// whoami answers the status of GET /v1/whoami with secret.
func (s *site) whoami(secret string) int {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
