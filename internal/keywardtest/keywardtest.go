// Package keywardtest runs a real keyward server in-process for the tests
// of resource servers (the guard package, examples/statusboard): the
// service over SQLite or PostgreSQL behind api.NewServer on a loopback
// port, with the org "acme" bootstrapped and the statusboard's product
// permissions.
package keywardtest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// Org is the slug of the bootstrapped org.
const Org = "acme"

// Permissions are the product permissions the server knows.
var Permissions = []string{"monitors:read", "monitors:write", "agent:heartbeat", "probe:report"}

// Server is a keyward server for a test.
type Server struct {
	// URL is the server's base URL.
	URL string
	// Svc is the service behind it.
	Svc *service.Service
	// Owner is the PAT of the org's owner.
	Owner string
	srv   *httptest.Server
}

// Backends are the stores a test can run on: "sqlite", and "postgres"
// (skipped without KEYWARD_TEST_POSTGRES_URL, failed under
// KEYWARD_TEST_STRICT=1).
var Backends = []string{"sqlite", "postgres"}

// Store opens a fresh store of the backend named, closed when the test
// ends.
func Store(tb testing.TB, backend string) service.Store {
	tb.Helper()
	return Database(tb, backend)(tb)
}

// Database makes a fresh database of the backend named and returns what
// opens a store on it, each store closed when the test ends: as many as
// there are nodes sharing it.
func Database(tb testing.TB, backend string) func(testing.TB) service.Store {
	tb.Helper()
	var open func() (service.Store, error)
	switch backend {
	case "sqlite":
		path := filepath.Join(tb.TempDir(), "keyward.db")
		open = func() (service.Store, error) { return sqlite.Open(context.Background(), path) }
	case "postgres":
		url := testenv.PostgresURL(tb)
		open = func() (service.Store, error) { return postgres.Open(context.Background(), url) }
	default:
		tb.Fatalf("unknown backend %q", backend)
	}
	return func(tb testing.TB) service.Store {
		tb.Helper()
		db, err := open()
		if err != nil {
			tb.Fatalf("opening %s: %v", backend, err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		return db
	}
}

// Start starts a keyward server over a fresh store of backend.
func Start(tb testing.TB, backend string) *Server {
	tb.Helper()
	return StartOn(tb, Store(tb, backend))
}

// StartOn starts a keyward server over store, bootstrapping its org.
func StartOn(tb testing.TB, store service.Store) *Server {
	tb.Helper()
	svc, err := service.New(store, service.Options{ProductPermissions: Permissions})
	if err != nil {
		tb.Fatal(err)
	}
	boot, err := svc.Bootstrap(context.Background(), service.BootstrapRequest{Email: "owner@example.com", Name: "Owner", OrgName: "Acme"})
	if err != nil {
		tb.Fatalf("Bootstrap: %v", err)
	}
	srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
	tb.Cleanup(func() {
		srv.Close()
		_ = svc.Close(context.Background())
	})
	return &Server{URL: srv.URL, Svc: svc, Owner: boot.Secret, srv: srv}
}

// Stop stops the server: it can no longer be reached.
func (s *Server) Stop() { s.srv.Close() }

// Client returns a client of the server presenting token.
func (s *Server) Client(token string) *client.Client { return client.New(s.URL, token) }

// Member adds a member of the org with role and returns a PAT of theirs.
func (s *Server) Member(tb testing.TB, email string, role keyward.Role) string {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.Svc.AdminCreateUser(ctx, email, "", "", Org, role); err != nil {
		tb.Fatalf("AdminCreateUser(%s): %v", email, err)
	}
	_, secret, err := s.Svc.AdminCreateToken(ctx, email, Org, service.TokenRequest{Name: "t"})
	if err != nil {
		tb.Fatalf("AdminCreateToken(%s): %v", email, err)
	}
	return secret
}

// Key mints an org credential (API key, agent or probe token) as the
// owner.
func (s *Server) Key(tb testing.TB, req client.TokenRequest) *client.TokenSecret {
	tb.Helper()
	out, err := s.Client(s.Owner).Keys(Org).Create(context.Background(), req)
	if err != nil {
		tb.Fatalf("minting %s %q: %v", req.Kind, req.Name, err)
	}
	return out
}

// VerifierKey mints the org API key a resource server verifies with: an
// admin key, which holds tokens:verify.
func (s *Server) VerifierKey(tb testing.TB) string {
	tb.Helper()
	return s.Key(tb, client.TokenRequest{Name: "resource server", Role: "admin"}).Secret
}

// Revoke revokes a token of the owner's or of the org's by id.
func (s *Server) Revoke(tb testing.TB, set *client.TokenSet, id string) {
	tb.Helper()
	if _, err := set.Revoke(context.Background(), id, "test"); err != nil {
		tb.Fatalf("revoking %s: %v", id, err)
	}
}
