package api_test

import (
	"net/http"
	"testing"

	"github.com/keyward/keyward/client"
)

// A verified token spends its own budget: /v1/verify answers RATE_LIMITED
// and /v1/auth 429 once it is spent, while the verifying key and other
// tokens keep theirs.
func TestVerifyAndAuthRateLimited(t *testing.T) {
	e := newLimitedEnv(t, 1000, 1000)
	key := e.mintKey(e.owner, client.TokenRequest{Name: "resource server", Role: "admin"}).Secret
	three := e.mint(e.owner, client.TokenRequest{Name: "three", RateLimit: 3})
	for range 3 {
		wantCode(t, "within the budget", e.verify(key, client.VerifyRequest{Token: three.Secret}), "VALID")
	}
	got := e.verify(key, client.VerifyRequest{Token: three.Secret})
	wantCode(t, "spent budget", got, "RATE_LIMITED")
	if got.Token == nil || got.Token.ID != three.Token.ID {
		t.Errorf("spent budget: got token %+v, want the token", got.Token)
	}
	other := e.mint(e.owner, client.TokenRequest{Name: "other"})
	wantCode(t, "another token", e.verify(key, client.VerifyRequest{Token: other.Secret}), "VALID")

	// Forward-auth counts the original request against the same budget.
	a := e.auth(three.Secret, "GET", "/")
	a.wantError(t, http.StatusTooManyRequests, "rate_limited")
	if a.header.Get("Retry-After") == "" || a.header.Get("X-Keyward-Code") != "RATE_LIMITED" {
		t.Errorf("/v1/auth over budget: got Retry-After %q and code %q, want both set", a.header.Get("Retry-After"), a.header.Get("X-Keyward-Code"))
	}
	e.auth(other.Secret, "GET", "/").wantAuth(t, 200, "VALID")
}
