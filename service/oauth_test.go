package service_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

const (
	testRedirect = "http://127.0.0.1:8765/callback"
	testResource = "https://keys.example.com/mcp"
	testVerifier = "verifier-verifier-verifier-verifier-verifier-0123"
)

// oauthCode registers a client and returns it with a code that the owner
// granted it in acme.
func (e *env) oauthCode() (*keyward.OAuthClient, string) {
	e.t.Helper()
	client, err := e.svc.RegisterOAuthClient(e.ctx, service.OAuthRegistration{Name: "Claude Code", RedirectURIs: []string{testRedirect}}, "127.0.0.1", "test")
	if err != nil {
		e.t.Fatalf("RegisterOAuthClient: %v", err)
	}
	return client, e.grant(client)
}

// grant returns a code that the owner granted client in acme.
func (e *env) grant(client *keyward.OAuthClient) string {
	e.t.Helper()
	code, err := e.svc.IssueOAuthCode(e.ctx, e.boot.User, service.OAuthGrant{
		Client: client, OrgID: e.boot.Org.ID, RedirectURI: testRedirect,
		CodeChallenge: service.S256(testVerifier), Resource: testResource,
	})
	if err != nil {
		e.t.Fatalf("IssueOAuthCode: %v", err)
	}
	return code
}

func exchange(client *keyward.OAuthClient, code string) service.OAuthExchange {
	return service.OAuthExchange{Code: code, ClientID: client.ID, RedirectURI: testRedirect, Verifier: testVerifier, Resource: testResource}
}

// An OAuth token is a kw_oat_ token of the user, in the org consented to,
// with the user's current role; a reused code revokes it.
func TestOAuthExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		client, authz := e.oauthCode()
		tok, secret, err := e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
		if err != nil {
			t.Fatalf("ExchangeOAuthCode: %v", err)
		}
		if !strings.HasPrefix(secret, "kw_oat_") || tok.Kind != keyward.KindOAuth || tok.Source != "oauth:"+client.ID ||
			tok.UserID != e.boot.User.ID || tok.OrgID != e.boot.Org.ID || tok.ExpiresAt == nil || tok.ExpiresAt.Sub(tok.CreatedAt) != service.OAuthTokenLifetime {
			t.Fatalf("OAuth token: got kind %s, source %s, user %s, org %s, expires %v; want oauth, oauth:%s, the owner, acme, in 30 days",
				tok.Kind, tok.Source, tok.UserID, tok.OrgID, tok.ExpiresAt, client.ID)
		}
		if want := "OAuth: Claude Code (" + client.ID + ")"; tok.SourceName != want {
			t.Errorf("SourceName: got %q, want %q", tok.SourceName, want)
		}
		c := e.auth(secret)
		if c.Role != keyward.RoleOwner || c.Token.ID != tok.ID {
			t.Errorf("OAuth caller: got role %s, want owner", c.Role)
		}

		_, _, err = e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
		if code(err) != service.OAuthInvalidGrant || keyward.ErrorMessage(err) != "authorization code was already used; the token issued with it is revoked" {
			t.Errorf("second exchange: got %v, want invalid_grant, token revoked", err)
		}
		if got := e.authCode(secret); got != keyward.EUNAUTHORIZED {
			t.Errorf("token after its code's reuse: got %q, want unauthorized", got)
		}
		events, _, err := e.svc.FindAudit(e.ctx, e.auth(e.boot.Secret), keyward.AuditFilter{Target: tok.ID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, ev := range events {
			actions = append(actions, ev.Action)
		}
		if strings.Join(actions, ",") != "token.revoked,token.created" {
			t.Errorf("audit of the OAuth token: got %v, want token.revoked, token.created", actions)
		}
	})
}

// Two exchanges of one code at once: exactly one gets a token.
func TestOAuthConcurrentExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		client, authz := e.oauthCode()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, _, errs[i] = e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz)) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch code(err) {
			case "":
				ok++
			case service.OAuthInvalidGrant:
			default:
				t.Errorf("concurrent exchange: got %v, want success or invalid_grant", err)
			}
		}
		if ok != 1 {
			t.Errorf("concurrent exchanges of one code: got %d successes, want 1", ok)
		}
	})
}

// Consent and exchange follow the org: its policy, the user's membership,
// their current role.
func TestOAuthFollowsTheOrg(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		_, short, err := e.svc.CreateToken(e.ctx, e.auth(e.boot.Secret), service.Personal, service.TokenRequest{Name: "short", ExpiresIn: "1d"})
		if err != nil {
			t.Fatal(err)
		}
		owner := e.auth(short)
		if _, err := e.svc.SavePolicy(e.ctx, owner, service.PolicyRequest{MaxLifetime: "7d"}); err != nil {
			t.Fatal(err)
		}
		client, authz := e.oauthCode()
		tok, _, err := e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.ExpiresAt.Sub(tok.CreatedAt); got != 7*24*time.Hour {
			t.Errorf("OAuth token under a 7d policy: got lifetime %s, want 168h", got)
		}

		if _, err := e.svc.SavePolicy(e.ctx, owner, service.PolicyRequest{MaxLifetime: "7d", AllowedKinds: []keyward.Kind{keyward.KindPAT}}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.IssueOAuthCode(e.ctx, e.boot.User, service.OAuthGrant{
			Client: client, OrgID: e.boot.Org.ID, RedirectURI: testRedirect, CodeChallenge: service.S256(testVerifier), Resource: testResource,
		})
		if code(err) != service.OAuthAccessDenied || keyward.ErrorMessage(err) != "org policy does not allow tokens of kind oauth" {
			t.Errorf("consent where policy allows PATs only: got %v, want access_denied", err)
		}

		// Not a member: no code.
		other, err := e.svc.AdminCreateOrg(e.ctx, "Other", "other", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.IssueOAuthCode(e.ctx, e.boot.User, service.OAuthGrant{
			Client: client, OrgID: other.ID, RedirectURI: testRedirect, CodeChallenge: service.S256(testVerifier), Resource: testResource,
		})
		if code(err) != service.OAuthAccessDenied {
			t.Errorf("consent in an org of which the user is no member: got %v, want access_denied", err)
		}
	})
}

// The token carries the user's current role, and removing the member
// revokes it (promises 3 and 4).
func TestOAuthTokenHasNoRoleOfItsOwn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		devID := e.auth(e.member("dev@example.com", "acme", keyward.RoleAdmin)).User.ID
		client, err := e.svc.RegisterOAuthClient(e.ctx, service.OAuthRegistration{Name: "c", RedirectURIs: []string{testRedirect}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		dev, err := e.svc.OAuthOrgs(e.ctx, &keyward.User{ID: devID})
		if err != nil || len(dev) != 1 || dev[0].Role != keyward.RoleAdmin {
			t.Fatalf("OAuthOrgs of dev: got %v, %v; want acme as admin", dev, err)
		}
		authz, err := e.svc.IssueOAuthCode(e.ctx, &keyward.User{ID: devID}, service.OAuthGrant{
			Client: client, OrgID: e.boot.Org.ID, RedirectURI: testRedirect, CodeChallenge: service.S256(testVerifier), Resource: testResource,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
		if err != nil {
			t.Fatal(err)
		}
		owner := e.auth(e.boot.Secret)
		if _, err := e.svc.UpdateMember(e.ctx, owner, "dev@example.com", service.MemberUpdate{Role: keyward.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		if c := e.auth(secret); c.Role != keyward.RoleViewer {
			t.Errorf("OAuth token after a role change: got role %s, want viewer", c.Role)
		}
		if _, revoked, err := e.svc.RemoveMember(e.ctx, owner, "dev@example.com"); err != nil || len(revoked) != 2 {
			t.Fatalf("RemoveMember: got %d revoked, %v; want the PAT and the OAuth token", len(revoked), err)
		}
		if got := e.authCode(secret); got != keyward.EUNAUTHORIZED {
			t.Errorf("OAuth token after removal: got %q, want unauthorized", got)
		}
	})
}

func TestRedirectURIMatches(t *testing.T) {
	c := &keyward.OAuthClient{RedirectURIs: []string{"http://127.0.0.1:8765/cb", "http://localhost/native", "http://[::1]/v6", "https://app.example.com/cb?x=1"}}
	for uri, want := range map[string]bool{
		"http://127.0.0.1:8765/cb":           true,
		"http://127.0.0.1:8766/cb":           false, // registered with a port: that port only
		"http://localhost:5000/native":       true,  // registered without: any port (RFC 8252 section 7.3)
		"http://localhost/native":            true,
		"http://localhost:5000/native/x":     false,
		"http://localhost:5000/native?a":     false,
		"http://localhost:5000/native#a":     false,
		"http://127.0.0.1:5000/native":       false, // another loopback host is another URI
		"http://[::1]:4000/v6":               true,
		"https://app.example.com/cb?x=1":     true,
		"https://app.example.com/cb?x=2":     false,
		"https://app.example.com:443/cb?x=1": false,
		"https://APP.example.com/cb?x=1":     false,
	} {
		if got := service.RedirectURIMatches(c, uri); got != want {
			t.Errorf("RedirectURIMatches(%q): got %t, want %t", uri, got, want)
		}
	}
}
