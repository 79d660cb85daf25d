package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/config"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// BenchmarkForwardAuth is GET /v1/auth in process: every middleware, the
// route policy, the verdict and the identity headers, with the request log
// discarded. bench/auth.sh measures the same over loopback HTTP.
func BenchmarkForwardAuth(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "k.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	cfg, err := config.Parse([]byte(testPolicy))
	if err != nil {
		b.Fatal(err)
	}
	svc, err := service.New(store, service.Options{ProductPermissions: cfg.Permissions})
	if err != nil {
		b.Fatal(err)
	}
	boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "o@example.com", OrgName: "Acme", Password: "correct horse battery"})
	if err != nil {
		b.Fatal(err)
	}
	h := api.NewServer(svc, api.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Routes: cfg.Routes})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/v1/auth", nil)
		r.Header.Set("Authorization", "Bearer "+boot.Secret)
		r.Header.Set("X-Original-Method", "GET")
		r.Header.Set("X-Original-URI", "/monitors/1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("got %d, want 200", w.Code)
		}
	}
}
