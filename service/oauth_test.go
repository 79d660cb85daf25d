package service_test

import (
	"encoding/json"
	"slices"
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
	code, err := e.issue(client, e.boot.User, "")
	if err != nil {
		e.t.Fatalf("IssueOAuthCode: %v", err)
	}
	return code
}

// issue asks for a code that user grants client in acme for scope.
func (e *env) issue(client *keyward.OAuthClient, user *keyward.User, scope string) (string, error) {
	return e.svc.IssueOAuthCode(e.ctx, user, service.OAuthGrant{
		Client: client, OrgID: e.boot.Org.ID, RedirectURI: testRedirect,
		CodeChallenge: service.S256(testVerifier), Resource: testResource, Scope: scope,
	})
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
		// No scope asked for: the default, which the owner's role holds whole.
		if want := keyward.NewPermissions(strings.Fields(service.DefaultOAuthScope)...); !slices.Equal(tok.Permissions, want) || !slices.Equal(c.Permissions, want) {
			t.Errorf("OAuth token without a scope: got subset %v, permissions in force %v; want both %v", tok.Permissions, c.Permissions, want)
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
		dev, err := e.svc.OAuthOrgs(e.ctx, &keyward.User{ID: devID}, "")
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
		if c := e.auth(secret); c.Role != keyward.RoleViewer || !slices.Equal(c.Permissions, keyward.Permissions{keyward.PermTokensRead, keyward.PermTokensWrite}) {
			t.Errorf("OAuth token after a role change: got role %s with %v, want viewer with tokens:read, tokens:write", c.Role, c.Permissions)
		}
		if _, revoked, err := e.svc.RemoveMember(e.ctx, owner, "dev@example.com"); err != nil || len(revoked) != 2 {
			t.Fatalf("RemoveMember: got %d revoked, %v; want the PAT and the OAuth token", len(revoked), err)
		}
		if got := e.authCode(secret); got != keyward.EUNAUTHORIZED {
			t.Errorf("OAuth token after removal: got %q, want unauthorized", got)
		}
	})
}

// mintFor has user consent to client in acme for scope and exchanges the
// code, returning the token and its secret.
func (e *env) mintFor(client *keyward.OAuthClient, user *keyward.User, scope string) (*keyward.Token, string) {
	e.t.Helper()
	authz, err := e.issue(client, user, scope)
	if err != nil {
		e.t.Fatalf("IssueOAuthCode for scope %q: %v", scope, err)
	}
	tok, secret, err := e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
	if err != nil {
		e.t.Fatalf("ExchangeOAuthCode for scope %q: %v", scope, err)
	}
	return tok, secret
}

// An OAuth token may do what its scope asks for and the user's role holds,
// nothing more: the scope is its permission subset.
func TestOAuthScopeHonoured(t *testing.T) {
	read := keyward.Permissions{keyward.PermTokensRead}
	forEachBackend(t, func(t *testing.T, e *env) {
		client, err := e.svc.RegisterOAuthClient(e.ctx, service.OAuthRegistration{Name: "c", RedirectURIs: []string{testRedirect}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		tok, secret := e.mintFor(client, e.boot.User, "tokens:read")
		c := e.auth(secret)
		if !slices.Equal(tok.Permissions, read) || !slices.Equal(c.Permissions, read) || c.Role != keyward.RoleOwner {
			t.Fatalf("owner's token for tokens:read: got subset %v, permissions in force %v as %s; want [tokens:read] as owner", tok.Permissions, c.Permissions, c.Role)
		}
		if _, _, err := e.svc.FindAudit(e.ctx, c, keyward.AuditFilter{}); code(err) != keyward.EFORBIDDEN {
			t.Errorf("reading the audit log with a tokens:read token: got %v, want forbidden", err)
		}
		for _, set := range []service.TokenSet{service.OrgKeys, service.Personal} {
			if _, _, err := e.svc.CreateToken(e.ctx, c, set, service.TokenRequest{Name: "more"}); code(err) != keyward.EFORBIDDEN {
				t.Errorf("minting in set %d with a tokens:read token: got %v, want forbidden", set, err)
			}
		}
		if _, _, err := e.svc.FindTokens(e.ctx, c, service.Personal, keyward.TokenFilter{}); err != nil {
			t.Errorf("listing tokens with a tokens:read token: %v", err)
		}

		// The consent is audited with what it grants.
		events, _, err := e.svc.FindAudit(e.ctx, e.auth(e.boot.Secret), keyward.AuditFilter{Action: keyward.ActionOAuthConsentGranted})
		if err != nil || len(events) == 0 {
			t.Fatalf("consent events: got %d, %v", len(events), err)
		}
		var details struct{ Permissions []string }
		if err := json.Unmarshal(events[0].Details, &details); err != nil || !slices.Equal(details.Permissions, []string{"tokens:read"}) {
			t.Errorf("oauth.consent_granted details: got %s (%v), want permissions [tokens:read]", events[0].Details, err)
		}

		// A viewer asking for tokens:read and audit:read gets tokens:read,
		// as the orgs offered to them say.
		viewer := e.auth(e.member("viewer@example.com", "acme", keyward.RoleViewer)).User
		orgs, err := e.svc.OAuthOrgs(e.ctx, viewer, "tokens:read audit:read")
		if err != nil || len(orgs) != 1 || !slices.Equal(orgs[0].Permissions, read) {
			t.Errorf("OAuthOrgs of a viewer for tokens:read audit:read: got %+v, %v; want acme with [tokens:read]", orgs, err)
		}
		tok, secret = e.mintFor(client, viewer, "tokens:read audit:read")
		if c := e.auth(secret); !slices.Equal(tok.Permissions, read) || !slices.Equal(c.Permissions, read) {
			t.Errorf("viewer's token for tokens:read audit:read: got subset %v, in force %v; want [tokens:read]", tok.Permissions, c.Permissions)
		}

		// A member without a scope gets the default their role holds.
		member := e.auth(e.member("member@example.com", "acme", keyward.RoleMember)).User
		tok, _ = e.mintFor(client, member, "")
		if want := (keyward.Permissions{keyward.PermTokensRead, keyward.PermTokensWrite}); !slices.Equal(tok.Permissions, want) {
			t.Errorf("member's token without a scope: got %v, want %v", tok.Permissions, want)
		}
		if got, err := e.svc.OAuthScope("  "); err != nil || !slices.Equal(got, keyward.NewPermissions(strings.Fields(service.DefaultOAuthScope)...)) {
			t.Errorf("OAuthScope of a blank scope: got %v, %v; want the default", got, err)
		}
		// The product's permissions are asked for by name.
		tok, _ = e.mintFor(client, member, "monitors:read monitors:write monitors:read")
		if want := (keyward.Permissions{"monitors:read", "monitors:write"}); !slices.Equal(tok.Permissions, want) {
			t.Errorf("member's token for the product's permissions: got %v, want %v", tok.Permissions, want)
		}
	})
}

// A scope that is no permission of the installation is invalid_scope; a
// scope the role holds none of is access_denied; neither grants anything.
func TestOAuthScopeRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		client, err := e.svc.RegisterOAuthClient(e.ctx, service.OAuthRegistration{Name: "c", RedirectURIs: []string{testRedirect}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, scope := range []string{"mcp", "tokens:read tokens:delete", "TOKENS:READ", "tokens:read\u00a0audit:read", "tokens:read\taudit:read", strings.Repeat("tokens:read ", 100)} {
			if _, err := e.svc.OAuthScope(scope); code(err) != service.OAuthInvalidScope {
				t.Errorf("OAuthScope(%.40q): got %v, want invalid_scope", scope, err)
			}
			if _, err := e.issue(client, e.boot.User, scope); code(err) != service.OAuthInvalidScope {
				t.Errorf("IssueOAuthCode for scope %.40q: got %v, want invalid_scope", scope, err)
			}
			if _, err := e.svc.OAuthOrgs(e.ctx, e.boot.User, scope); code(err) != service.OAuthInvalidScope {
				t.Errorf("OAuthOrgs for scope %.40q: got %v, want invalid_scope", scope, err)
			}
		}
		if _, err := e.issue(client, e.boot.User, "tokens:read\u0000"); code(err) != service.OAuthInvalidScope {
			t.Errorf("IssueOAuthCode for a scope with a control character: got %v, want invalid_scope", err)
		}

		member := e.auth(e.member("member@example.com", "acme", keyward.RoleMember)).User
		const want = "none of the requested permissions (audit:read policy:manage) are held by your role in Acme (member)"
		if _, err := e.svc.OAuthOrgs(e.ctx, member, "policy:manage audit:read"); code(err) != service.OAuthAccessDenied || keyward.ErrorMessage(err) != want {
			t.Errorf("OAuthOrgs of a member for audit:read policy:manage: got %v, want access_denied: %s", err, want)
		}
		if _, err := e.issue(client, member, "policy:manage audit:read"); code(err) != service.OAuthAccessDenied || keyward.ErrorMessage(err) != want {
			t.Errorf("IssueOAuthCode of a member for audit:read policy:manage: got %v, want access_denied: %s", err, want)
		}
		// agent:* and probe:* are known, but no role holds them.
		if _, err := e.issue(client, member, "agent:heartbeat"); code(err) != service.OAuthAccessDenied {
			t.Errorf("IssueOAuthCode for agent:heartbeat: got %v, want access_denied", err)
		}
		events, _, err := e.svc.FindAudit(e.ctx, e.auth(e.boot.Secret), keyward.AuditFilter{Action: keyward.ActionOAuthConsentGranted})
		if err != nil || len(events) != 0 {
			t.Errorf("consent events after refused scopes: got %d, %v; want none", len(events), err)
		}
	})
}

// The exchange grants what was consented to that the role holds at the
// exchange: a role lowered meanwhile narrows it, a role raised meanwhile
// does not widen it, and a role left with none of it gets no token.
func TestOAuthScopeAtExchange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		client, err := e.svc.RegisterOAuthClient(e.ctx, service.OAuthRegistration{Name: "c", RedirectURIs: []string{testRedirect}}, "", "")
		if err != nil {
			t.Fatal(err)
		}
		owner := e.auth(e.boot.Secret)
		dev := e.auth(e.member("dev@example.com", "acme", keyward.RoleAdmin)).User
		setRole := func(r keyward.Role) {
			t.Helper()
			if _, err := e.svc.UpdateMember(e.ctx, owner, "dev@example.com", service.MemberUpdate{Role: r}); err != nil {
				t.Fatal(err)
			}
		}

		// Consented as admin, exchanged as viewer: audit:read is gone.
		authz, err := e.issue(client, dev, "tokens:read audit:read")
		if err != nil {
			t.Fatal(err)
		}
		setRole(keyward.RoleViewer)
		tok, _, err := e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
		if err != nil {
			t.Fatalf("exchange after a demotion to viewer: %v", err)
		}
		if !slices.Equal(tok.Permissions, keyward.Permissions{keyward.PermTokensRead}) {
			t.Errorf("exchange after a demotion to viewer: got %v, want [tokens:read]", tok.Permissions)
		}

		// Consented as viewer, exchanged as admin: still tokens:read only,
		// and the token stays so after the promotion.
		authz, err = e.issue(client, dev, "tokens:read audit:read")
		if err != nil {
			t.Fatal(err)
		}
		setRole(keyward.RoleAdmin)
		tok, secret, err := e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
		if err != nil {
			t.Fatalf("exchange after a promotion to admin: %v", err)
		}
		if !slices.Equal(tok.Permissions, keyward.Permissions{keyward.PermTokensRead}) {
			t.Errorf("exchange after a promotion to admin: got %v, want [tokens:read], what was consented", tok.Permissions)
		}
		if c := e.auth(secret); !slices.Equal(c.Permissions, keyward.Permissions{keyward.PermTokensRead}) {
			t.Errorf("token consented as viewer, used as admin: got %v in force, want [tokens:read]", c.Permissions)
		}

		// Consented as admin for audit:read alone, exchanged as member.
		authz, err = e.issue(client, dev, "audit:read")
		if err != nil {
			t.Fatal(err)
		}
		setRole(keyward.RoleMember)
		_, _, err = e.svc.ExchangeOAuthCode(e.ctx, exchange(client, authz))
		if code(err) != service.OAuthInvalidGrant || !strings.Contains(keyward.ErrorMessage(err), "none of the requested permissions (audit:read) are held by your role in Acme") {
			t.Errorf("exchange by a role that holds none of the consent: got %v, want invalid_grant", err)
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
