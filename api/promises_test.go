package api_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
)

// mint creates a personal token as token and returns the answer.
func (e *env) mint(token string, req client.TokenRequest) client.TokenSecret {
	e.t.Helper()
	var out client.TokenSecret
	e.as(token, "POST", "/v1/tokens", req).want(e.t, http.StatusCreated, &out)
	return out
}

// Promise 1: the secret appears only in the answer that mints,
// regenerates or rotates it: never in a list, a show, an edit, a revoke or
// the audit log and its export.
func TestShownOnce(t *testing.T) {
	e := newEnv(t)
	minted := e.mint(e.owner, client.TokenRequest{Name: "ci", Description: "deploys", ExpiresIn: "30d"})
	if !strings.HasPrefix(minted.Secret, "kw_pat_") || minted.Token.Display != keyward.DisplayToken(minted.Secret) {
		t.Fatalf("mint: got secret prefix %q and display %q", minted.Secret[:7], minted.Token.Display)
	}
	id := minted.Token.ID
	e.as(minted.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
	var regen, rotated client.TokenSecret
	e.as(e.owner, "POST", "/v1/tokens/"+id+"/regenerate", nil).want(t, 200, &regen)
	e.as(e.owner, "POST", "/v1/tokens/"+id+"/rotate", client.RotateRequest{Overlap: "1h"}).want(t, 200, &rotated)
	secrets := map[string]string{minted.Secret: "POST /v1/tokens", regen.Secret: "POST /v1/tokens/" + id + "/regenerate", rotated.Secret: "POST /v1/tokens/" + id + "/rotate"}

	e.as(e.owner, "GET", "/v1/tokens?status=all", nil).want(t, 200, nil)
	e.as(e.owner, "GET", "/v1/tokens/"+id, nil).want(t, 200, nil)
	e.as(e.owner, "GET", "/v1/tokens/"+rotated.Token.ID, nil).want(t, 200, nil)
	e.as(e.owner, "PATCH", "/v1/tokens/"+id, client.TokenUpdate{Name: ptr("renamed")}).want(t, 200, nil)
	e.as(e.owner, "POST", "/v1/tokens/"+rotated.Token.ID+"/scopes", client.Scope{EntityType: "monitor", EntityID: "*", Operations: []string{"read"}}).want(t, 200, nil)
	e.as(rotated.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
	if err := e.svc.FlushUsage(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?limit=200", nil).want(t, 200, nil)
	e.do("GET", "/v1/orgs/acme/audit", nil, bearer(e.owner), header{"Accept", "application/x-ndjson"}).want(t, 200, nil)
	e.as(e.owner, "POST", "/v1/tokens/"+rotated.Token.ID+"/revoke", client.RevokeRequest{Reason: "done"}).want(t, 200, nil)
	e.as(e.owner, "DELETE", "/v1/tokens/"+rotated.Token.ID, nil).want(t, 204, nil)
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?format=jsonl", nil).want(t, 200, nil)

	for secret, where := range secrets {
		for _, a := range e.bodies() {
			if !bytes.Contains(a.body, []byte(secret)) {
				continue
			}
			if got := a.method + " " + a.path; got != where || a.status != 201 && a.status != 200 {
				t.Errorf("secret minted by %s appears in the answer of %s (%d)", where, got, a.status)
			}
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, minted.Secret) || strings.Contains(logs, regen.Secret) || strings.Contains(logs, rotated.Secret) || strings.Contains(logs, e.owner) {
		t.Error("the logs hold a secret")
	}
}

// Promise 2: revocation is immediate: the very next request gets 401.
func TestRevocationImmediate(t *testing.T) {
	e := newEnv(t)
	tok := e.mint(e.owner, client.TokenRequest{Name: "soon revoked"})
	e.as(tok.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
	e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/revoke", nil).want(t, 200, nil)
	a := e.as(tok.Secret, "GET", "/v1/whoami", nil)
	a.wantError(t, 401, "unauthorized")
	if got := a.header.Get("WWW-Authenticate"); got != `Bearer realm="keyward", error="invalid_token"` {
		t.Errorf("got WWW-Authenticate %q", got)
	}
	// A token revoking itself: the revoke is answered, the next request is not.
	self := e.mint(e.owner, client.TokenRequest{Name: "self"})
	e.as(self.Secret, "POST", "/v1/tokens/"+self.Token.ID+"/revoke", nil).want(t, 200, nil)
	e.as(self.Secret, "GET", "/v1/tokens", nil).wantError(t, 401, "unauthorized")
	// Revoking again is idempotent.
	var again client.Token
	e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/revoke", nil).want(t, 200, &again)
	if again.Status != "revoked" || again.RevokedAt == nil {
		t.Errorf("second revoke: got status %s, revoked_at %v", again.Status, again.RevokedAt)
	}
}

// Promise 3: a PAT carries no role of its own: a role change, suspension
// or removal bites on the member's very next request.
func TestMembershipChangesBiteAtOnce(t *testing.T) {
	e := newEnv(t)
	pat := e.member("ann@example.com", "acme", keyward.RoleAdmin)
	e.as(pat, "GET", "/v1/orgs/acme/audit", nil).want(t, 200, nil)

	e.as(e.owner, "PATCH", "/v1/orgs/acme/members/ann@example.com", client.MemberUpdate{Role: "viewer"}).want(t, 200, nil)
	e.as(pat, "GET", "/v1/orgs/acme/audit", nil).wantError(t, 403, "forbidden")
	var who client.Whoami
	e.as(pat, "GET", "/v1/whoami", nil).want(t, 200, &who)
	if who.Role == nil || *who.Role != "viewer" || slices.Contains(who.Permissions, keyward.PermAuditRead) {
		t.Fatalf("after demotion: got role %v and permissions %v", who.Role, who.Permissions)
	}

	e.as(e.owner, "POST", "/v1/orgs/acme/members/ann@example.com/suspend", nil).want(t, 200, nil)
	b := e.as(pat, "GET", "/v1/whoami", nil).wantError(t, 403, "forbidden")
	if !strings.Contains(b.Detail, "suspended") {
		t.Errorf("suspended: got detail %q, want it to say suspended", b.Detail)
	}
	e.as(e.owner, "POST", "/v1/orgs/acme/members/ann@example.com/unsuspend", nil).want(t, 200, nil)
	e.as(pat, "GET", "/v1/whoami", nil).want(t, 200, nil)

	e.as(e.owner, "DELETE", "/v1/orgs/acme/members/ann@example.com", nil).want(t, 200, nil)
	e.as(pat, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
}

// Promise 4: removing a member revokes their PATs in that org and answers
// them; their token in another org and the org API key they created keep
// working.
func TestRemoveMember(t *testing.T) {
	e := newEnv(t)
	pat1 := e.member("bob@example.com", "acme", keyward.RoleAdmin)
	pat2 := e.pat("bob@example.com", "acme")
	if _, err := e.svc.AdminCreateOrg(e.ctx, "Beta", "beta", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	betaPAT := e.pat("bob@example.com", "beta")
	var key client.TokenSecret
	e.as(pat1, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "bob's key", Role: "member"}).want(t, 201, &key)
	var ids []string
	for _, s := range []string{pat1, pat2} {
		var who client.Whoami
		e.as(s, "GET", "/v1/whoami", nil).want(t, 200, &who)
		ids = append(ids, who.Token.ID)
	}

	var removed client.MemberRemoved
	e.as(e.owner, "DELETE", "/v1/orgs/acme/members/bob@example.com", nil).want(t, 200, &removed)
	slices.Sort(ids)
	slices.Sort(removed.RevokedTokens)
	if !slices.Equal(removed.RevokedTokens, ids) {
		t.Errorf("revoked_tokens: got %v, want %v", removed.RevokedTokens, ids)
	}
	if removed.Member.User.Email != "bob@example.com" {
		t.Errorf("member: got %q, want bob@example.com", removed.Member.User.Email)
	}
	for _, s := range []string{pat1, pat2} {
		e.as(s, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	}
	var who client.Whoami
	e.as(betaPAT, "GET", "/v1/whoami", nil).want(t, 200, &who)
	if who.Org.Slug != "beta" {
		t.Errorf("beta token: got org %q, want beta", who.Org.Slug)
	}
	e.as(key.Secret, "GET", "/v1/whoami", nil).want(t, 200, &who)
	if who.User != nil || who.Role == nil || *who.Role != "member" {
		t.Errorf("org key after its creator left: got user %v role %v", who.User, who.Role)
	}
	// The removal is audited, naming the revoked tokens.
	var events client.AuditList
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?action=member.removed", nil).want(t, 200, &events)
	if len(events.Events) != 1 || !strings.Contains(string(events.Events[0].Details), ids[0]) {
		t.Errorf("member.removed events: got %+v", events.Events)
	}
	// The member is gone: 404.
	e.as(e.owner, "GET", "/v1/orgs/acme/members/bob@example.com", nil).wantError(t, 404, "not_found")
}

// Promise 5: a token acts only inside its org: any other org answers 404,
// the same as one that does not exist.
func TestOrgPinning(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.AdminCreateUser(e.ctx, "carol@example.com", "", "", "", ""); err != nil {
		t.Fatal(err)
	}
	beta, err := e.svc.AdminCreateOrg(e.ctx, "Beta", "beta", "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"members", "keys", "policy", "audit", "members/carol@example.com"} {
		missing := e.as(e.owner, "GET", "/v1/orgs/no-such-org/"+path, nil)
		missing.wantError(t, 404, "not_found")
		for _, org := range []string{"beta", beta.ID} {
			a := e.as(e.owner, "GET", "/v1/orgs/"+org+"/"+path, nil)
			if a.status != missing.status || !bytes.Equal(a.body, missing.body) {
				t.Errorf("GET /v1/orgs/%s/%s: got %d %s, want %d %s", org, path, a.status, a.body, missing.status, missing.body)
			}
		}
	}
	e.as(e.owner, "POST", "/v1/orgs/beta/keys", client.TokenRequest{Name: "x"}).wantError(t, 404, "not_found")
	e.as(e.owner, "PUT", "/v1/orgs/beta/policy", client.Policy{RequireExpiry: true}).wantError(t, 404, "not_found")
	// Its own org works by slug and by id.
	e.as(e.owner, "GET", "/v1/orgs/acme/members", nil).want(t, 200, nil)
	e.as(e.owner, "GET", "/v1/orgs/"+e.boot.Org.ID+"/members", nil).want(t, 200, nil)
}

// Promise 6: another user's token answers 404 byte for byte like a token
// that does not exist, for show, revoke, regenerate and delete, and is
// left untouched.
func TestOtherUsersTokenIsNotFound(t *testing.T) {
	e := newEnv(t)
	mine := e.mint(e.owner, client.TokenRequest{Name: "owner's"})
	other := e.member("dan@example.com", "acme", keyward.RoleAdmin)
	tests := []struct{ method, suffix string }{
		{"GET", ""},
		{"PATCH", ""},
		{"POST", "/revoke"},
		{"POST", "/regenerate"},
		{"POST", "/rotate"},
		{"POST", "/scopes"},
		{"DELETE", "/scopes"},
		{"DELETE", ""},
	}
	for _, tt := range tests {
		var body any
		switch tt.suffix {
		case "/scopes":
			if tt.method == "POST" {
				body = client.Scope{EntityType: "monitor", EntityID: "*", Operations: []string{"read"}}
			}
		case "":
			if tt.method == "PATCH" {
				body = client.TokenUpdate{Name: ptr("stolen")}
			}
		}
		missing := e.as(other, tt.method, "/v1/tokens/tok_doesnotexist00000000"+tt.suffix, body)
		got := e.as(other, tt.method, "/v1/tokens/"+mine.Token.ID+tt.suffix, body)
		missing.wantError(t, 404, "not_found")
		if got.status != missing.status || !bytes.Equal(got.body, missing.body) {
			t.Errorf("%s %s: got %d %s, want %d %s", tt.method, tt.suffix, got.status, got.body, missing.status, missing.body)
		}
		// Also through the org keys: a PAT is not an org key.
		got = e.as(other, tt.method, "/v1/orgs/acme/keys/"+mine.Token.ID+tt.suffix, body)
		if got.status != 404 || !bytes.Equal(got.body, missing.body) {
			t.Errorf("%s keys%s: got %d %s, want %d %s", tt.method, tt.suffix, got.status, got.body, missing.status, missing.body)
		}
	}
	var tok client.Token
	e.as(e.owner, "GET", "/v1/tokens/"+mine.Token.ID, nil).want(t, 200, &tok)
	if tok.Status != "active" || tok.Name != "owner's" || tok.Generation != 0 {
		t.Errorf("the owner's token changed: %+v", tok)
	}
	e.as(mine.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
}

// Promise 7: revoked and expired tokens stay listed with their status
// until deleted; deleted ones leave lists but not the audit log.
func TestListedUntilDeleted(t *testing.T) {
	e := newEnv(t)
	expiring := e.mint(e.owner, client.TokenRequest{Name: "expiring", ExpiresIn: "1h"})
	revoked := e.mint(e.owner, client.TokenRequest{Name: "revoked"})
	e.as(e.owner, "POST", "/v1/tokens/"+revoked.Token.ID+"/revoke", client.RevokeRequest{Reason: "leaked"}).want(t, 200, nil)
	e.clock.Add(2 * time.Hour)
	e.as(expiring.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")

	statuses := func(query string) map[string]client.Token {
		t.Helper()
		var list client.TokenList
		e.as(e.owner, "GET", "/v1/tokens"+query, nil).want(t, 200, &list)
		out := map[string]client.Token{}
		for _, tok := range list.Tokens {
			out[tok.ID] = tok
		}
		return out
	}
	all := statuses("?status=all")
	if got := all[expiring.Token.ID].Status; got != "expired" {
		t.Errorf("expired token: got status %q, want expired", got)
	}
	r := all[revoked.Token.ID]
	if r.Status != "revoked" || r.RevokeReason == nil || *r.RevokeReason != "leaked" || r.RevokedBy == nil {
		t.Errorf("revoked token: got %+v", r)
	}
	if len(statuses("")) != 3 {
		t.Errorf("default list: got %d tokens, want 3 (every status)", len(statuses("")))
	}
	if got := statuses("?status=revoked"); len(got) != 1 || got[revoked.Token.ID].ID == "" {
		t.Errorf("status=revoked: got %v", got)
	}
	if got := statuses("?status=expired"); len(got) != 1 || got[expiring.Token.ID].ID == "" {
		t.Errorf("status=expired: got %v", got)
	}
	if got := statuses("?status=active"); len(got) != 1 {
		t.Errorf("status=active: got %d tokens, want 1", len(got))
	}
	e.as(e.owner, "GET", "/v1/tokens?status=dimmed", nil).wantError(t, 400, "invalid_request")

	for _, id := range []string{expiring.Token.ID, revoked.Token.ID} {
		e.as(e.owner, "DELETE", "/v1/tokens/"+id, nil).want(t, 204, nil)
		e.as(e.owner, "GET", "/v1/tokens/"+id, nil).wantError(t, 404, "not_found")
	}
	if got := statuses("?status=all"); len(got) != 1 {
		t.Errorf("after deleting: got %d tokens, want 1", len(got))
	}
	for _, id := range []string{expiring.Token.ID, revoked.Token.ID} {
		var events client.AuditList
		e.as(e.owner, "GET", "/v1/orgs/acme/audit?target="+id, nil).want(t, 200, &events)
		var actions []string
		for _, ev := range events.Events {
			actions = append(actions, ev.Action)
		}
		if !slices.Contains(actions, keyward.ActionTokenCreated) || !slices.Contains(actions, keyward.ActionTokenDeleted) {
			t.Errorf("audit of deleted %s: got %v, want token.created and token.deleted", id, actions)
		}
	}
}

// Promise 8: regenerate keeps id, name, description, permissions and
// scopes, gives a new secret, and kills the old one at once; it works on
// revoked tokens too.
func TestRegenerate(t *testing.T) {
	e := newEnv(t)
	tok := e.mint(e.owner, client.TokenRequest{
		Name: "deploy", Description: "ships", ExpiresIn: "30d",
		Permissions: []string{"tokens:read", "monitors:read"},
		Scopes:      []client.Scope{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read", "update"}}},
	})
	e.clock.Add(24 * time.Hour)
	var regen client.TokenSecret
	e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/regenerate", client.RegenerateRequest{ExpiresIn: "7d"}).want(t, 200, &regen)
	same := func(what string, got, want client.Token) {
		t.Helper()
		if got.ID != want.ID || got.Name != want.Name || got.Description != want.Description ||
			!slices.Equal(got.Permissions, want.Permissions) || len(got.Scopes) != len(want.Scopes) ||
			got.Scopes[0].ID != want.Scopes[0].ID || !slices.Equal(got.Scopes[0].Operations, want.Scopes[0].Operations) {
			t.Errorf("%s: got %+v, want the same id, name, description, permissions and scopes as %+v", what, got, want)
		}
	}
	same("regenerate", regen.Token, tok.Token)
	if regen.Secret == tok.Secret || regen.Token.Generation != 1 {
		t.Errorf("regenerate: got the same secret %t, generation %d", regen.Secret == tok.Secret, regen.Token.Generation)
	}
	if want := e.clock.Now().Add(7 * 24 * time.Hour); regen.Token.ExpiresAt == nil || !regen.Token.ExpiresAt.Equal(want) {
		t.Errorf("regenerate: got expires_at %v, want %v", regen.Token.ExpiresAt, want)
	}
	e.as(tok.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	e.as(regen.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)

	// On a revoked token: it comes back with a new secret.
	e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/revoke", nil).want(t, 200, nil)
	var back client.TokenSecret
	e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/regenerate", nil).want(t, 200, &back)
	same("regenerate revoked", back.Token, tok.Token)
	if back.Token.Status != "active" || back.Token.RevokedAt != nil || back.Token.Generation != 2 {
		t.Errorf("regenerate revoked: got status %s revoked_at %v generation %d", back.Token.Status, back.Token.RevokedAt, back.Token.Generation)
	}
	e.as(regen.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	e.as(back.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)

	// On an expired token.
	e.clock.Add(8 * 24 * time.Hour)
	e.as(back.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	var fresh client.TokenSecret
	e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/regenerate", client.RegenerateRequest{ExpiresIn: "1d"}).want(t, 200, &fresh)
	e.as(fresh.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
}

// Promise 9: rotate keeps the old token for the overlap, then a reuse
// revokes the whole family and is audited; with overlap 0 the old token
// dies at once.
func TestRotate(t *testing.T) {
	t.Run("overlap", func(t *testing.T) {
		e := newEnv(t)
		old := e.mint(e.owner, client.TokenRequest{Name: "rotating", Description: "d", Permissions: []string{"tokens:read"}})
		var rot client.TokenSecret
		e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/rotate", client.RotateRequest{Overlap: "1h"}).want(t, 200, &rot)
		if rot.Token.ID == old.Token.ID || rot.Token.Name != "rotating" || rot.Token.Description != "d" || !slices.Equal(rot.Token.Permissions, []string{"tokens:read"}) {
			t.Fatalf("rotate: got %+v, want a new id with the same settings", rot.Token)
		}
		e.as(old.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
		e.as(rot.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
		var oldTok client.Token
		e.as(e.owner, "GET", "/v1/tokens/"+old.Token.ID, nil).want(t, 200, &oldTok)
		if oldTok.SupersededBy == nil || *oldTok.SupersededBy != rot.Token.ID || oldTok.ExpiresAt == nil {
			t.Errorf("old token: got superseded_by %v expires_at %v", oldTok.SupersededBy, oldTok.ExpiresAt)
		}

		e.clock.Add(61 * time.Minute)
		e.as(old.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
		e.as(rot.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
		var events client.AuditList
		e.as(e.owner, "GET", "/v1/orgs/acme/audit?action=token.reuse_detected", nil).want(t, 200, &events)
		if len(events.Events) != 1 || events.Events[0].Target != old.Token.ID {
			t.Errorf("reuse events: got %+v, want one on %s", events.Events, old.Token.ID)
		}
	})
	t.Run("no overlap", func(t *testing.T) {
		e := newEnv(t)
		old := e.mint(e.owner, client.TokenRequest{Name: "rotating"})
		var rot client.TokenSecret
		e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/rotate", nil).want(t, 200, &rot)
		e.as(old.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
		e.as(rot.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
		var events client.AuditList
		e.as(e.owner, "GET", "/v1/orgs/acme/audit?action=token.reuse_detected", nil).want(t, 200, &events)
		if len(events.Events) != 1 {
			t.Errorf("reuse events: got %d, want 1", len(events.Events))
		}
	})
	t.Run("bad overlap", func(t *testing.T) {
		e := newEnv(t)
		old := e.mint(e.owner, client.TokenRequest{Name: "rotating"})
		for _, o := range []string{"8d", "-1h", "soon"} {
			e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/rotate", client.RotateRequest{Overlap: o}).wantError(t, 400, "invalid_request")
		}
		e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/revoke", nil).want(t, 200, nil)
		e.as(e.owner, "POST", "/v1/tokens/"+old.Token.ID+"/rotate", nil).wantError(t, 409, "conflict")
	})
}

// Promise 10: a policy that requires expiry blocks an existing token
// without one (403, listed as blocked), without revoking it; relaxing the
// policy brings it back.
func TestPolicyBlocksWithoutRevoking(t *testing.T) {
	e := newEnv(t)
	expiring := e.mint(e.owner, client.TokenRequest{Name: "expiring", ExpiresIn: "30d"})
	var pol client.Policy
	// A policy that would block the very token setting it is refused.
	e.as(e.owner, "PUT", "/v1/orgs/acme/policy", client.Policy{RequireExpiry: true}).wantError(t, 409, "conflict")
	e.as(expiring.Secret, "PUT", "/v1/orgs/acme/policy", client.Policy{RequireExpiry: true, MaxLifetime: ptr("90d")}).want(t, 200, &pol)
	if !pol.RequireExpiry || pol.MaxLifetime == nil || *pol.MaxLifetime != "90d" || pol.AllowedKinds == nil {
		t.Errorf("policy: got %+v", pol)
	}
	b := e.as(e.owner, "GET", "/v1/whoami", nil).wantError(t, 403, "forbidden")
	if !strings.Contains(b.Detail, "expiry") {
		t.Errorf("blocked: got detail %q, want the reason", b.Detail)
	}
	var tok client.Token
	e.as(expiring.Secret, "GET", "/v1/tokens/"+e.boot.Token.ID, nil).want(t, 200, &tok)
	if tok.Status != "blocked" || tok.BlockedBy == nil || tok.RevokedAt != nil {
		t.Errorf("blocked token: got status %s reason %v revoked_at %v", tok.Status, tok.BlockedBy, tok.RevokedAt)
	}
	// New tokens must follow the policy.
	e.as(expiring.Secret, "POST", "/v1/tokens", client.TokenRequest{Name: "forever"}).wantError(t, 400, "invalid_request")
	e.as(expiring.Secret, "GET", "/v1/orgs/acme/policy", nil).want(t, 200, &pol)

	e.as(expiring.Secret, "PUT", "/v1/orgs/acme/policy", client.Policy{}).want(t, 200, &pol)
	if pol.RequireExpiry || pol.MaxLifetime != nil || len(pol.AllowedKinds) != 0 {
		t.Errorf("relaxed policy: got %+v", pol)
	}
	e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil)
	var back client.Token
	e.as(e.owner, "GET", "/v1/tokens/"+e.boot.Token.ID, nil).want(t, 200, &back)
	if back.Status != "active" || back.BlockedBy != nil {
		t.Errorf("after relaxing: got status %s reason %v", back.Status, back.BlockedBy)
	}
}

// An API key's role cannot exceed its creator's, and only admins manage
// org keys.
func TestAPIKeyRoleCeiling(t *testing.T) {
	e := newEnv(t)
	admin := e.member("erin@example.com", "acme", keyward.RoleAdmin)
	member := e.member("finn@example.com", "acme", keyward.RoleMember)
	e.as(admin, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "too strong", Role: "owner"}).wantError(t, 403, "power_exceeded")
	var k client.TokenSecret
	e.as(admin, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "default role"}).want(t, 201, &k)
	if k.Token.Kind != "api_key" || k.Token.Role == nil || *k.Token.Role != "admin" || k.Token.UserID != nil || !strings.HasPrefix(k.Secret, "kw_key_") {
		t.Errorf("key: got kind %s role %v user %v", k.Token.Kind, k.Token.Role, k.Token.UserID)
	}
	e.as(admin, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "viewer", Role: "viewer"}).want(t, 201, nil)
	e.as(member, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "nope"}).wantError(t, 403, "forbidden")
	e.as(member, "GET", "/v1/orgs/acme/keys", nil).wantError(t, 403, "forbidden")
	// A key may not mint a key above its own role either.
	var viewerKey client.TokenSecret
	e.as(admin, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "admin key", Role: "admin"}).want(t, 201, &viewerKey)
	e.as(viewerKey.Secret, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "owner key", Role: "owner"}).wantError(t, 403, "power_exceeded")
	// Kinds in the body: agent and probe tokens; a PAT is not an org key.
	var agent client.TokenSecret
	e.as(admin, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "agent", Kind: "agent", AgentID: "agent-1"}).want(t, 201, &agent)
	if agent.Token.Kind != "agent" || !strings.HasPrefix(agent.Secret, "kw_agt_") {
		t.Errorf("agent: got kind %s", agent.Token.Kind)
	}
	e.as(admin, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "pat", Kind: "pat"}).wantError(t, 400, "invalid_request")
}

// 403 for a missing permission.
func TestMissingPermission(t *testing.T) {
	e := newEnv(t)
	viewer := e.member("gus@example.com", "acme", keyward.RoleViewer)
	for _, tt := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/orgs/acme/audit", nil},
		{"GET", "/v1/orgs/acme/keys", nil},
		{"PUT", "/v1/orgs/acme/policy", client.Policy{}},
		{"POST", "/v1/orgs/acme/members", client.MemberRequest{Email: "x@example.com"}},
		{"PATCH", "/v1/orgs/acme/members/owner@example.com", client.MemberUpdate{Role: "viewer"}},
	} {
		b := e.as(viewer, tt.method, tt.path, tt.body).wantError(t, 403, "forbidden")
		if !strings.Contains(b.Message, "permission") {
			t.Errorf("%s %s: got message %q, want it to name the permission", tt.method, tt.path, b.Message)
		}
	}
	// A viewer still reads members and policy, and manages their own tokens.
	e.as(viewer, "GET", "/v1/orgs/acme/members", nil).want(t, 200, nil)
	e.as(viewer, "GET", "/v1/orgs/acme/policy", nil).want(t, 200, nil)
	e.as(viewer, "POST", "/v1/tokens", client.TokenRequest{Name: "mine"}).want(t, 201, nil)
	// A token narrowed to tokens:read cannot write.
	narrow := e.mint(e.owner, client.TokenRequest{Name: "narrow", Permissions: []string{"tokens:read"}})
	e.as(narrow.Secret, "GET", "/v1/tokens", nil).want(t, 200, nil)
	e.as(narrow.Secret, "POST", "/v1/tokens", client.TokenRequest{Name: "x"}).wantError(t, 403, "forbidden")
}
