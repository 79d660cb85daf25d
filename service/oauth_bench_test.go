package service_test

import (
	"context"
	"testing"

	"github.com/keyward/keyward/service"
)

// BenchmarkOAuthGrant runs the service's part of one OAuth authorization
// on every backend present: the consent that issues a code (one durable
// transaction) and its exchange for a token (another); it reports
// grants/s.
func BenchmarkOAuthGrant(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			svc, boot := benchBoot(b, be.open)
			ctx := context.Background()
			client, err := svc.RegisterOAuthClient(ctx, service.OAuthRegistration{Name: "bench", RedirectURIs: []string{testRedirect}}, "", "")
			if err != nil {
				b.Fatal(err)
			}
			grant := service.OAuthGrant{Client: client, OrgID: boot.Org.ID, RedirectURI: testRedirect, CodeChallenge: service.S256(testVerifier), Resource: testResource}
			for b.Loop() {
				code, err := svc.IssueOAuthCode(ctx, boot.User, grant)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := svc.ExchangeOAuthCode(ctx, exchange(client, code)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
		})
	}
}
