package storetest

import (
	"context"
	"testing"

	"github.com/keyward/keyward/service"
)

// Run runs the conformance suite on the stores that open returns. open is
// called once per subtest and must return an empty, migrated store that it
// closes when the test ends (with t.Cleanup). Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) service.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s service.Store)
	}{
		{"Users", testUsers},
		{"Orgs", testOrgs},
		{"Memberships", testMemberships},
		{"MembershipsPaging", testMembershipsPaging},
		{"CountOwners", testCountOwners},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenConflicts", testTokenConflicts},
		{"UpdateToken", testUpdateToken},
		{"DeleteToken", testDeleteToken},
		{"FindTokensPaging", testFindTokensPaging},
		{"FindTokensFilters", testFindTokensFilters},
		{"FindTokensStatus", testFindTokensStatus},
		{"FindTokensBadCursor", testFindTokensBadCursor},
		{"RevokeUserTokens", testRevokeUserTokens},
		{"TokenFamily", testTokenFamily},
		{"TouchTokens", testTouchTokens},
		{"TokenUsage", testTokenUsage},
		{"Policy", testPolicy},
		{"Audit", testAudit},
		{"AuditPaging", testAuditPaging},
		{"OAuthClients", testOAuthClients},
		{"OAuthCodes", testOAuthCodes},
		{"Changes", testChanges},
		{"PruneChanges", testPruneChanges},
		{"Rollback", testRollback},
		{"PanicRollsBack", testPanicRollsBack},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Ping", testPing},
		{"Sessions", testSessions},
		{"PasswordLinks", testPasswordLinks},
		{"SignInFailures", testSignInFailures},
		{"Nonces", testNonces},
		{"PruneAuth", testPruneAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// update runs fn in an Update that must succeed.
func update(t testing.TB, s service.Store, fn func(ctx context.Context, tx service.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx service.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View that must succeed.
func view(t testing.TB, s service.Store, fn func(ctx context.Context, tx service.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.View(ctx, func(tx service.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// tryUpdate runs fn in an Update and returns its error.
func tryUpdate(t *testing.T, s service.Store, fn func(ctx context.Context, tx service.Tx) error) error {
	t.Helper()
	ctx := t.Context()
	return s.Update(ctx, func(tx service.Tx) error { return fn(ctx, tx) })
}
