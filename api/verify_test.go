package api_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
)

// mintKey creates an org credential as token and returns the answer.
func (e *env) mintKey(token string, req client.TokenRequest) client.TokenSecret {
	e.t.Helper()
	var out client.TokenSecret
	e.as(token, "POST", "/v1/orgs/acme/keys", req).want(e.t, http.StatusCreated, &out)
	return out
}

// verify asks /v1/verify as key and returns the verdict.
func (e *env) verify(key string, req client.VerifyRequest) client.Verification {
	e.t.Helper()
	var out client.Verification
	a := e.as(key, "POST", "/v1/verify", req).want(e.t, http.StatusOK, &out)
	if bytes.Contains(a.body, []byte(req.Token)) && req.Token != "" {
		e.t.Errorf("the verdict echoes the token")
	}
	return out
}

func wantCode(t *testing.T, what string, got client.Verification, code string) {
	t.Helper()
	if got.Code != code || got.Valid != (code == "VALID") || got.Message == "" {
		t.Errorf("%s: got code %s (valid %t, message %q), want %s", what, got.Code, got.Valid, got.Message, code)
	}
}

func TestVerifyCodes(t *testing.T) {
	e := newEnv(t)
	key := e.mintKey(e.owner, client.TokenRequest{Name: "resource server", Role: "admin"}).Secret

	// VALID, with the token, the role in force and the permissions.
	pat := e.mint(e.owner, client.TokenRequest{Name: "cli"})
	got := e.verify(key, client.VerifyRequest{Token: pat.Secret, Permission: "monitors:write"})
	wantCode(t, "active PAT", got, "VALID")
	if got.Token == nil || got.Token.ID != pat.Token.ID || got.Role == nil || *got.Role != "owner" || !slices.Contains(got.Permissions, "monitors:write") {
		t.Errorf("active PAT: got %+v, want its token, role owner and its permissions", got)
	}

	// NOT_FOUND: made up, malformed, well-formed but unknown (deleted).
	gone := e.mint(e.owner, client.TokenRequest{Name: "gone"})
	e.as(e.owner, "DELETE", "/v1/tokens/"+gone.Token.ID, nil).want(t, 204, nil)
	for what, tok := range map[string]string{"made up": "hello", "bad checksum": pat.Secret[:len(pat.Secret)-1] + "x", "deleted": gone.Secret} {
		got := e.verify(key, client.VerifyRequest{Token: tok})
		wantCode(t, what, got, "NOT_FOUND")
		if got.Token != nil || len(got.Permissions) != 0 {
			t.Errorf("%s: got token %v and permissions %v, want none", what, got.Token, got.Permissions)
		}
	}

	// EXPIRED.
	short := e.mint(e.owner, client.TokenRequest{Name: "short", ExpiresIn: "1h"})
	// REVOKED.
	revoked := e.mint(e.owner, client.TokenRequest{Name: "revoked"})
	e.as(e.owner, "POST", "/v1/tokens/"+revoked.Token.ID+"/revoke", nil).want(t, 200, nil)
	got = e.verify(key, client.VerifyRequest{Token: revoked.Secret})
	wantCode(t, "revoked", got, "REVOKED")
	if got.Token == nil || got.Token.Status != "revoked" {
		t.Errorf("revoked: got token %+v, want it with status revoked", got.Token)
	}

	// BLOCKED: the owner is suspended.
	kim := e.member("kim@example.com", "acme", keyward.RoleMember)
	e.as(e.owner, "POST", "/v1/orgs/acme/members/kim@example.com/suspend", nil).want(t, 200, nil)
	wantCode(t, "suspended owner", e.verify(key, client.VerifyRequest{Token: kim}), "BLOCKED")
	e.as(e.owner, "POST", "/v1/orgs/acme/members/kim@example.com/unsuspend", nil).want(t, 200, nil)
	wantCode(t, "unsuspended owner", e.verify(key, client.VerifyRequest{Token: kim}), "VALID")

	// INSUFFICIENT_PERMISSIONS: a viewer cannot write; a subset narrows.
	viewer := e.member("vic@example.com", "acme", keyward.RoleViewer)
	wantCode(t, "viewer writes", e.verify(key, client.VerifyRequest{Token: viewer, Permission: "monitors:write"}), "INSUFFICIENT_PERMISSIONS")
	wantCode(t, "viewer reads", e.verify(key, client.VerifyRequest{Token: viewer, Permission: "monitors:read"}), "VALID")
	narrow := e.mint(e.owner, client.TokenRequest{Name: "narrow", Permissions: []string{"monitors:read"}})
	got = e.verify(key, client.VerifyRequest{Token: narrow.Secret, Permission: "tokens:read"})
	wantCode(t, "subset", got, "INSUFFICIENT_PERMISSIONS")
	if !slices.Equal(got.Permissions, []string{"monitors:read"}) {
		t.Errorf("subset: got permissions %v, want [monitors:read]", got.Permissions)
	}

	// FORBIDDEN: the entity is outside the token's scopes.
	scoped := e.mint(e.owner, client.TokenRequest{Name: "scoped", Scopes: []client.Scope{{EntityType: "monitor", EntityID: "m-1", Operations: []string{"read", "update"}}}})
	entity := func(typ, id, op string) *client.VerifyEntity {
		return &client.VerifyEntity{EntityType: typ, EntityID: id, Operation: op}
	}
	wantCode(t, "in scope", e.verify(key, client.VerifyRequest{Token: scoped.Secret, Entity: entity("monitor", "m-1", "update")}), "VALID")
	wantCode(t, "other entity", e.verify(key, client.VerifyRequest{Token: scoped.Secret, Entity: entity("monitor", "m-2", "read")}), "FORBIDDEN")
	wantCode(t, "other operation", e.verify(key, client.VerifyRequest{Token: scoped.Secret, Entity: entity("monitor", "m-1", "delete")}), "FORBIDDEN")
	wantCode(t, "other type", e.verify(key, client.VerifyRequest{Token: scoped.Secret, Entity: entity("page", "m-1", "read")}), "FORBIDDEN")
	wantCode(t, "unscoped token", e.verify(key, client.VerifyRequest{Token: pat.Secret, Entity: entity("page", "p", "delete")}), "VALID")

	// IP_NOT_ALLOWED: the client's address is the body's ip, or else the
	// verifier's own (127.0.0.1 here).
	fenced := e.mint(e.owner, client.TokenRequest{Name: "fenced", AllowedCIDRs: []string{"10.0.0.0/8"}})
	wantCode(t, "inside the allowlist", e.verify(key, client.VerifyRequest{Token: fenced.Secret, IP: "10.1.2.3"}), "VALID")
	wantCode(t, "outside the allowlist", e.verify(key, client.VerifyRequest{Token: fenced.Secret, IP: "192.0.2.1"}), "IP_NOT_ALLOWED")
	wantCode(t, "no ip: the verifier's", e.verify(key, client.VerifyRequest{Token: fenced.Secret}), "IP_NOT_ALLOWED")

	e.clock.Add(2 * time.Hour)
	wantCode(t, "expired", e.verify(key, client.VerifyRequest{Token: short.Secret}), "EXPIRED")

	// RATE_LIMITED: see TestVerifyAndAuthRateLimited.
}

// A token of another org is NOT_FOUND whatever its state: pinning.
func TestVerifyPinning(t *testing.T) {
	e := newEnv(t)
	key := e.mintKey(e.owner, client.TokenRequest{Name: "rs", Role: "admin"}).Secret
	if _, err := e.svc.AdminCreateOrg(e.ctx, "Globex", "globex", "owner@example.com"); err != nil {
		t.Fatal(err)
	}
	other := e.pat("owner@example.com", "globex")
	revokedOther := e.pat("owner@example.com", "globex")
	otherKey := e.mintKeyIn("globex", revokedOther)
	e.as(revokedOther, "POST", "/v1/tokens/"+e.whoamiToken(revokedOther)+"/revoke", nil).want(t, 200, nil)
	for what, tok := range map[string]string{"active": other, "revoked": revokedOther} {
		got := e.verify(key, client.VerifyRequest{Token: tok})
		wantCode(t, "another org's "+what+" token", got, "NOT_FOUND")
		if got.Token != nil || got.Message != "invalid token" {
			t.Errorf("another org's %s token: got token %v, message %q; want none and the unknown token's message", what, got.Token, got.Message)
		}
	}
	// The other org's key sees its own token.
	wantCode(t, "own org", e.verify(otherKey, client.VerifyRequest{Token: other}), "VALID")
}

// mintKeyIn mints an admin API key in org with a PAT of its owner.
func (e *env) mintKeyIn(org, ownerPAT string) string {
	e.t.Helper()
	var out client.TokenSecret
	e.as(ownerPAT, "POST", "/v1/orgs/"+org+"/keys", client.TokenRequest{Name: "rs", Role: "admin"}).want(e.t, http.StatusCreated, &out)
	return out.Secret
}

// whoamiToken returns the id of the token presented.
func (e *env) whoamiToken(secret string) string {
	e.t.Helper()
	var who client.Whoami
	e.as(secret, "GET", "/v1/whoami", nil).want(e.t, 200, &who)
	return who.Token.ID
}

// Only an org API key with tokens:verify may verify; bad input is 400.
func TestVerifyCaller(t *testing.T) {
	e := newEnv(t)
	pat := e.mint(e.owner, client.TokenRequest{Name: "x"}).Secret
	req := client.VerifyRequest{Token: pat}
	e.do("POST", "/v1/verify", req).wantError(t, 401, "unauthorized")
	b := e.as(e.owner, "POST", "/v1/verify", req).wantError(t, 403, "forbidden")
	if b.Message != "only an org API key may verify tokens" {
		t.Errorf("a PAT verifies: got message %q", b.Message)
	}
	member := e.mintKey(e.owner, client.TokenRequest{Name: "member key", Role: "member"}).Secret
	e.as(member, "POST", "/v1/verify", req).wantError(t, 403, "forbidden")
	agent := e.mintKey(e.owner, client.TokenRequest{Name: "agent", Kind: "agent", AgentID: "a1"}).Secret
	e.as(agent, "POST", "/v1/verify", req).wantError(t, 403, "forbidden")

	key := e.mintKey(e.owner, client.TokenRequest{Name: "rs", Role: "admin"}).Secret
	for what, body := range map[string]any{
		"no token":           client.VerifyRequest{},
		"unknown permission": client.VerifyRequest{Token: pat, Permission: "rockets:launch"},
		"bad operation":      client.VerifyRequest{Token: pat, Entity: &client.VerifyEntity{EntityType: "monitor", EntityID: "m", Operation: "fly"}},
		"bad entity type":    client.VerifyRequest{Token: pat, Entity: &client.VerifyEntity{EntityType: "Monitor!", EntityID: "m", Operation: "read"}},
		"no entity id":       client.VerifyRequest{Token: pat, Entity: &client.VerifyEntity{EntityType: "monitor", Operation: "read"}},
		"bad ip":             client.VerifyRequest{Token: pat, IP: "10.0.0.300"},
		"unknown field":      `{"token": "x", "tokn": "y"}`,
		"no body":            nil,
	} {
		b := e.as(key, "POST", "/v1/verify", body).wantError(t, 400, "invalid_request")
		if bytes.Contains([]byte(b.Message+b.Detail), []byte(pat)) {
			t.Errorf("%s: the error echoes the token", what)
		}
	}
}

// A verification counts as a use of the token, gathered and written in a
// batch like any other.
func TestVerifyCountsAsUse(t *testing.T) {
	e := newEnv(t)
	key := e.mintKey(e.owner, client.TokenRequest{Name: "rs", Role: "admin"}).Secret
	pat := e.mint(e.owner, client.TokenRequest{Name: "used"})
	for range 3 {
		e.verify(key, client.VerifyRequest{Token: pat.Secret, IP: "198.51.100.7"})
	}
	if err := e.svc.FlushUsage(e.ctx); err != nil {
		t.Fatal(err)
	}
	var got client.Token
	e.as(e.owner, "GET", "/v1/tokens/"+pat.Token.ID, nil).want(t, 200, &got)
	if got.LastUsedAt == nil || got.LastUsedIP == nil || *got.LastUsedIP != "198.51.100.7" {
		t.Errorf("after verifying: got last use %v from %v, want one from 198.51.100.7", got.LastUsedAt, got.LastUsedIP)
	}
	if len(got.Usage) != keyward.UsageDays || got.Usage[keyward.UsageDays-1] != 3 {
		t.Errorf("usage: got %v, want 3 uses today", got.Usage)
	}
}

// The Go client's Verify speaks /v1/verify: a refusal is a verdict, a bad
// caller an error.
func TestGoClientVerify(t *testing.T) {
	e := newEnv(t)
	key := e.mintKey(e.owner, client.TokenRequest{Name: "rs", Role: "admin"}).Secret
	c := client.New(e.srv.URL, key)
	v, err := c.Verify(e.ctx, client.VerifyRequest{Token: e.owner, Permission: "monitors:read", IP: "192.0.2.1"})
	if err != nil || !v.Valid || v.Code != "VALID" || v.Token == nil {
		t.Fatalf("Verify: got %+v, %v", v, err)
	}
	if v, err := c.Verify(e.ctx, client.VerifyRequest{Token: "kw_pat_nope"}); err != nil || v.Valid || v.Code != "NOT_FOUND" {
		t.Fatalf("Verify a bad token: got %+v, %v; want NOT_FOUND", v, err)
	}
	if _, err := client.New(e.srv.URL, e.owner).Verify(e.ctx, client.VerifyRequest{Token: key}); client.ErrorCode(err) != "forbidden" {
		t.Fatalf("Verify as a PAT: got %v, want forbidden", err)
	}
}
