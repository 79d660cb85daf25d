package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
)

// TestKnownEscalations holds one named row for each way, found by trying
// the API as an attacker would, in which a credential once gained power.
// The matrix (TestAuthorizationMatrix) covers them among thousands of
// rows; these say each by name.
func TestKnownEscalations(t *testing.T) {
	monitorScope := []client.Scope{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}}

	t.Run("admin PAT regenerates or rotates an owner key", func(t *testing.T) {
		e := newEnv(t)
		ownerKey := e.mintKey(e.owner, client.TokenRequest{Name: "owner key", Role: "owner"})
		admin := e.member("ann@example.com", "acme", keyward.RoleAdmin)
		for _, op := range []string{"regenerate", "rotate"} {
			e.as(admin, "POST", "/v1/orgs/acme/keys/"+ownerKey.Token.ID+"/"+op, `{}`).wantError(t, 403, keyward.EPOWER)
		}
		e.as(ownerKey.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
	})

	t.Run("admin key regenerates an owner key, then demotes an owner", func(t *testing.T) {
		e := newEnv(t)
		ownerKey := e.mintKey(e.owner, client.TokenRequest{Name: "owner key", Role: "owner"})
		adminKey := e.mintKey(e.owner, client.TokenRequest{Name: "admin key", Role: "admin"})
		e.as(adminKey.Secret, "POST", "/v1/orgs/acme/keys/"+ownerKey.Token.ID+"/regenerate", `{}`).wantError(t, 403, keyward.EPOWER)
		e.as(adminKey.Secret, "PATCH", "/v1/orgs/acme/members/owner@example.com", client.MemberUpdate{Role: "member"}).wantError(t, 403, keyward.EFORBIDDEN)
	})

	t.Run("scoped token deletes its own scopes or adds itself a wildcard", func(t *testing.T) {
		e := newEnv(t)
		scoped := e.mint(e.owner, client.TokenRequest{Name: "scoped", Scopes: monitorScope})
		self := "/v1/tokens/" + scoped.Token.ID
		e.as(scoped.Secret, "DELETE", self+"/scopes", nil).wantError(t, 403, keyward.EPOWER)
		e.as(scoped.Secret, "DELETE", self+"/scopes/"+scoped.Token.Scopes[0].ID, nil).wantError(t, 403, keyward.EPOWER)
		e.as(scoped.Secret, "POST", self+"/scopes", client.Scope{EntityType: "monitor", EntityID: "*", Operations: []string{"read", "update", "delete"}}).wantError(t, 403, keyward.EPOWER)
		verifier := e.mintKey(e.owner, client.TokenRequest{Name: "verifier", Role: "admin", ExpiresIn: "1d"})
		got := e.verify(verifier.Secret, client.VerifyRequest{Token: scoped.Secret, Entity: &client.VerifyEntity{EntityType: "monitor", EntityID: "m2", Operation: "read"}})
		if got.Valid {
			t.Errorf("the scoped token is valid on an entity outside its scope")
		}
	})

	t.Run("narrowed token regenerates or rotates a broader sibling", func(t *testing.T) {
		e := newEnv(t)
		narrow := e.mint(e.owner, client.TokenRequest{Name: "narrow", Permissions: []string{"tokens:read", "tokens:write"}})
		broad := e.mint(e.owner, client.TokenRequest{Name: "broad"})
		for _, op := range []string{"regenerate", "rotate"} {
			e.as(narrow.Secret, "POST", "/v1/tokens/"+broad.Token.ID+"/"+op, `{}`).wantError(t, 403, keyward.EPOWER)
		}
		// What it mints inherits its narrowing.
		var minted client.TokenSecret
		e.as(narrow.Secret, "POST", "/v1/tokens", client.TokenRequest{Name: "child"}).want(t, 201, &minted)
		if len(minted.Token.Permissions) != 2 {
			t.Errorf("a narrowed token minted %v, want its own two permissions", minted.Token.Permissions)
		}
	})

	t.Run("owner adds another org's user and takes over the account", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.svc.AdminCreateOrg(e.ctx, "Globex", "globex", ""); err != nil {
			t.Fatal(err)
		}
		victim, err := e.svc.AdminCreateUser(e.ctx, "victim@example.com", "Victim", "", "globex", keyward.RoleOwner)
		if err != nil {
			t.Fatal(err)
		}
		a := e.as(e.owner, "POST", "/v1/orgs/acme/members", client.MemberRequest{Email: "victim@example.com", Role: "member"})
		a.want(t, 201, nil)
		for _, leak := range []string{"set-password", "set_password", victim.ID, "Victim"} {
			if strings.Contains(string(a.body), leak) {
				t.Errorf("the answer shows %q", leak)
			}
		}
		var inv client.Invite
		a.want(t, 201, &inv)
		_, token, _ := strings.Cut(inv.InviteURL, "/invite/")
		if _, err := e.svc.AcceptInvitationNewAccount(e.ctx, token, "", "the attacker's password", "", ""); keyward.ErrorCode(err) != keyward.ECONFLICT {
			t.Errorf("setting the victim's password through the invitation: got %v, want conflict", err)
		}
		if _, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: "victim@example.com", Password: "the attacker's password"}); keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
			t.Errorf("signing in as the victim: got %v, want unauthorized", err)
		}
		e.as(e.owner, "GET", "/v1/orgs/acme/members/victim@example.com", nil).wantError(t, 404, keyward.ENOTFOUND)
	})

	t.Run("parallel rotations give one successor", func(t *testing.T) {
		e := newEnv(t)
		tok := e.mint(e.owner, client.TokenRequest{Name: "rotating"})
		var wg sync.WaitGroup
		statuses := make([]int, 6)
		for i := range statuses {
			wg.Go(func() {
				statuses[i] = e.do("POST", "/v1/tokens/"+tok.Token.ID+"/rotate", `{"overlap": "1h"}`, bearer(e.owner)).status
			})
		}
		wg.Wait()
		won := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				won++
			}
		}
		if won != 1 {
			t.Errorf("6 parallel rotations: statuses %v, want exactly one 200", statuses)
		}
	})

	t.Run("superseded token rotated again, or regenerated out of its family", func(t *testing.T) {
		e := newEnv(t)
		old := e.mint(e.owner, client.TokenRequest{Name: "rotating"})
		var next client.TokenSecret
		e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/rotate", `{"overlap": "1h"}`).want(t, 200, &next)
		e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/rotate", `{"overlap": "1h"}`).wantError(t, 409, keyward.ECONFLICT)
		e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/regenerate", `{}`).wantError(t, 409, keyward.ECONFLICT)
		var regen client.TokenSecret
		e.as(e.owner, "POST", "/v1/tokens/"+next.Token.ID+"/regenerate", `{}`).want(t, 200, &regen)
		// The old secret used after the overlap is a reuse: it revokes the
		// family, the regenerated successor too.
		e.clock.Add(61 * time.Minute)
		e.as(old.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, keyward.EUNAUTHORIZED)
		e.as(regen.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, keyward.EUNAUTHORIZED)
	})

	t.Run("OAuth token consented for tokens:read reads the audit log or mints an owner key", func(t *testing.T) {
		e := newEnv(t)
		secret := e.oauthToken(t, "tokens:read")
		e.as(secret, "GET", "/v1/tokens", nil).want(t, 200, nil)
		e.as(secret, "GET", "/v1/orgs/acme/audit", nil).wantError(t, 403, keyward.EFORBIDDEN)
		e.as(secret, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "k", Role: "owner"}).wantError(t, 403, keyward.EFORBIDDEN)
		e.as(secret, "POST", "/v1/tokens", client.TokenRequest{Name: "k"}).wantError(t, 403, keyward.EFORBIDDEN)
	})
}

// oauthToken runs the authorization code flow in the service for the
// bootstrap owner with scope and returns the access token.
func (e *env) oauthToken(t *testing.T, scope string) string {
	t.Helper()
	cl, err := e.svc.RegisterOAuthClient(e.ctx, service.OAuthRegistration{Name: "Agent", RedirectURIs: []string{"http://127.0.0.1:9/cb"}}, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("v", 43)
	code, err := e.svc.IssueOAuthCode(e.ctx, e.boot.User, service.OAuthGrant{
		Client: cl, OrgID: e.boot.Org.ID, RedirectURI: "http://127.0.0.1:9/cb",
		CodeChallenge: service.S256(verifier), Resource: "https://keys.example.com/mcp", Scope: scope,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := e.svc.ExchangeOAuthCode(e.ctx, service.OAuthExchange{Code: code, ClientID: cl.ID,
		RedirectURI: "http://127.0.0.1:9/cb", Verifier: verifier, Resource: "https://keys.example.com/mcp"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
