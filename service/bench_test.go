package service_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/keyward/keyward/service"
)

// BenchmarkCreateToken mints PATs one after another through the whole
// service path (validation, policy, token, audit event and change entry in
// one durable transaction) on every backend present; it reports tokens/s.
func BenchmarkCreateToken(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			store := be.open(b)
			svc, err := service.New(store, service.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", OrgName: "Acme", Password: "correct horse battery staple"})
			if err != nil {
				b.Fatal(err)
			}
			owner, err := svc.Authenticate(ctx, boot.Secret, netip.Addr{}, "bench")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, _, err := svc.CreateToken(ctx, owner, service.Personal, service.TokenRequest{Name: "bench", ExpiresIn: "30d"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
