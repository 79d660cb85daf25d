package service_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// BenchmarkCreateToken mints PATs one after another through the whole
// service path (validation, policy, token, audit event and change entry in
// one durable transaction) on every backend present; it reports tokens/s.
func BenchmarkCreateToken(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			svc, owner := benchOwner(b, be.open)
			ctx := context.Background()
			for b.Loop() {
				if _, _, err := svc.CreateToken(ctx, owner, service.Personal, service.TokenRequest{Name: "bench", ExpiresIn: "30d"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// BenchmarkAuthenticate authenticates one PAT through the service on every
// backend present: "hit" from the node's cache (building the Caller and
// its Token), "miss" after evicting it each time, so that every call
// reads the token, org, policy, membership and user from the store.
func BenchmarkAuthenticate(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			svc, boot := benchBoot(b, be.open)
			ctx := context.Background()
			ip := netip.MustParseAddr("10.0.0.1")
			evict := &keyward.Change{Kind: keyward.ChangeToken, Hash: boot.Token.Hash[:]}
			b.Run("hit", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := svc.Authenticate(ctx, boot.Secret, ip, "bench"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("miss", func(b *testing.B) {
				b.ReportAllocs()
				before := svc.VerifyStats().Misses
				for b.Loop() {
					svc.Verifier().Apply(evict)
					if _, err := svc.Authenticate(ctx, boot.Secret, ip, "bench"); err != nil {
						b.Fatal(err)
					}
				}
				if got := svc.VerifyStats().Misses - before; got < uint64(b.N) {
					b.Fatalf("got %d misses in %d calls", got, b.N)
				}
			})
		})
	}
}

// BenchmarkFlushUsage writes the use of 1,000 tokens, each used since the
// last flush, as a node under steady traffic does every few seconds, on
// every backend present; it reports the cost per token written. In
// "counts" the tokens are used from one address, so a flush writes their
// hourly counts alone (a last use is written at most every 10 minutes
// from one address); in "last-uses" each round comes from a new address,
// so every token's last use is written too.
func BenchmarkFlushUsage(b *testing.B) {
	const tokens = 1000
	for _, be := range backends {
		for _, newAddress := range []bool{false, true} {
			name := be.name + "/counts"
			if newAddress {
				name = be.name + "/last-uses"
			}
			b.Run(name, func(b *testing.B) {
				svc, owner := benchOwner(b, be.open)
				ctx := context.Background()
				secrets := make([]string, tokens)
				for i := range secrets {
					var err error
					if _, secrets[i], err = svc.CreateToken(ctx, owner, service.Personal, service.TokenRequest{Name: "bench"}); err != nil {
						b.Fatal(err)
					}
				}
				ip := netip.MustParseAddr("10.0.0.1")
				use := func() {
					if newAddress {
						ip = ip.Next()
					}
					for _, s := range secrets {
						if _, err := svc.Authenticate(ctx, s, ip, "bench"); err != nil {
							b.Fatal(err)
						}
					}
				}
				// The first flush also writes each token's first-use audit
				// event and last use.
				use()
				if err := svc.FlushUsage(ctx); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					b.StopTimer()
					use()
					b.StartTimer()
					if err := svc.FlushUsage(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*tokens), "µs/token")
			})
		}
	}
}

// benchBoot returns a service over a fresh store that open makes, and
// what bootstrapping it returned.
func benchBoot(b *testing.B, open func(testing.TB) service.Store) (*service.Service, *service.BootstrapResult) {
	b.Helper()
	svc, err := service.New(open(b), service.Options{})
	if err != nil {
		b.Fatal(err)
	}
	boot, err := svc.Bootstrap(context.Background(), service.BootstrapRequest{Email: "owner@example.com", OrgName: "Acme", Password: "correct horse battery staple"})
	if err != nil {
		b.Fatal(err)
	}
	return svc, boot
}

// benchOwner returns a service over a fresh store that open makes, and
// its bootstrapped owner as a caller.
func benchOwner(b *testing.B, open func(testing.TB) service.Store) (*service.Service, *service.Caller) {
	b.Helper()
	svc, boot := benchBoot(b, open)
	owner, err := svc.Authenticate(context.Background(), boot.Secret, netip.Addr{}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return svc, owner
}
