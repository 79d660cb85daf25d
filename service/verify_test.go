package service_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/verify"
)

// Judge reaches every verdict it can on both backends, and Verify pins it
// to the verifying key's org.
func TestJudgeAndVerify(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		ip := netip.MustParseAddr("192.0.2.1")
		judge := func(what, secret string, need service.Need, want verify.Code) service.Verdict {
			t.Helper()
			v, err := e.svc.Judge(e.ctx, secret, ip, "test", need)
			if err != nil {
				t.Fatalf("%s: Judge: %v", what, err)
			}
			if v.Code != want || v.Valid() != (want == verify.Valid) || (v.Err() == nil) != v.Valid() {
				t.Errorf("%s: got %s (err %v), want %s", what, v.Code, v.Err(), want)
			}
			return v
		}
		mint := func(set service.TokenSet, req service.TokenRequest) string {
			t.Helper()
			_, secret, err := e.svc.CreateToken(e.ctx, owner, set, req)
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
		pat := mint(service.Personal, service.TokenRequest{Name: "p", Scopes: []service.ScopeRequest{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}}})
		v := judge("valid", pat, service.Need{Permission: "monitors:write"}, verify.Valid)
		c := v.Caller()
		if c == nil || c.Role != keyward.RoleOwner || v.Token() == nil || c.Token.ID != v.Token().ID {
			t.Fatalf("valid: got caller %+v", c)
		}
		// The identity a reverse proxy is given is the caller's.
		wantID := service.Identity{
			TokenID: c.Token.ID, Kind: keyward.KindPAT, OrgID: c.Org.ID, OrgSlug: c.Org.Slug, UserID: c.User.ID,
			Role: keyward.RoleOwner, Permissions: strings.Join(c.Permissions, ","),
		}
		if id, ok := v.Identity(); !ok || id != wantID || !strings.Contains(id.Permissions, "monitors:write,") {
			t.Errorf("valid: got identity %+v (%v), want %+v", id, ok, wantID)
		}
		judge("kind not admitted", pat, service.Need{Kinds: []keyward.Kind{keyward.KindAgent}}, verify.KindNotAdmitted)
		judge("outside scopes", pat, service.Need{Entity: &service.Entity{Type: "monitor", ID: "m2", Operation: "read"}}, verify.OutOfScope)
		judge("inside scopes", pat, service.Need{Entity: &service.Entity{Type: "monitor", ID: "m1", Operation: "read"}}, verify.Valid)
		judge("malformed", "kw_pat_nope", service.Need{}, verify.Malformed)
		agent := mint(service.OrgKeys, service.TokenRequest{Kind: keyward.KindAgent, Name: "a", AgentID: "a1"})
		judge("agent lacks product permissions", agent, service.Need{Permission: "monitors:read"}, verify.MissingPermission)
		v = judge("agent admitted", agent, service.Need{Kinds: []keyward.Kind{keyward.KindAgent}, Permission: "agent:heartbeat"}, verify.Valid)
		if id, ok := v.Identity(); !ok || id.AgentID != "a1" || id.Kind != keyward.KindAgent || id.UserID != "" || id.Role != "" || id.Permissions == "" {
			t.Errorf("agent: got identity %+v (%v)", id, ok)
		}
		fenced := mint(service.Personal, service.TokenRequest{Name: "f", AllowedCIDRs: []string{"10.0.0.0/8"}})
		judge("outside the allowlist", fenced, service.Need{}, verify.IPNotAllowed)

		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "r"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RevokeToken(e.ctx, owner, service.Personal, tok.ID, "test"); err != nil {
			t.Fatal(err)
		}
		v = judge("revoked", secret, service.Need{}, verify.Revoked)
		if code(v.Err()) != keyward.EUNAUTHORIZED || v.Token() == nil || v.Token().ID != tok.ID || v.Caller() != nil {
			t.Errorf("revoked: got error %v, token %v, caller %v", v.Err(), v.Token(), v.Caller())
		}
		if id, ok := v.Identity(); ok {
			t.Errorf("revoked: got identity %+v", id)
		}
		member := e.member("kim@example.com", "acme", keyward.RoleMember)
		if _, err := e.svc.SuspendMember(e.ctx, owner, "kim@example.com", true); err != nil {
			t.Fatal(err)
		}
		if v := judge("suspended", member, service.Need{}, verify.Blocked); code(v.Err()) != keyward.EFORBIDDEN {
			t.Errorf("suspended: got error %v, want forbidden", v.Err())
		}
		short := mint(service.Personal, service.TokenRequest{Name: "s", ExpiresIn: "1h"})

		// Verify: only an API key with tokens:verify; pinned to its org.
		key := e.auth(mint(service.OrgKeys, service.TokenRequest{Name: "rs", Role: keyward.RoleAdmin}))
		if _, err := e.svc.Verify(e.ctx, owner, service.VerifyRequest{Token: pat}); code(err) != keyward.EFORBIDDEN {
			t.Errorf("a PAT verifies: got %v, want forbidden", err)
		}
		if v, err := e.svc.Verify(e.ctx, key, service.VerifyRequest{Token: pat, IP: ip}); err != nil || !v.Valid() {
			t.Errorf("key verifies: got %v, %v", v.Code, err)
		}
		if _, err := e.svc.AdminCreateOrg(e.ctx, "Globex", "globex", "owner@example.com"); err != nil {
			t.Fatal(err)
		}
		_, foreign, err := e.svc.AdminCreateToken(e.ctx, "owner@example.com", "globex", service.TokenRequest{Name: "g"})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := e.svc.Verify(e.ctx, key, service.VerifyRequest{Token: foreign, IP: ip}); err != nil || v.Code != verify.NotFound || v.Token() != nil || v.Caller() != nil {
			t.Errorf("another org's token: got %s, %v; want NOT_FOUND without the token", v.Code, err)
		}
		e.clock.Add(2 * time.Hour)
		judge("expired", short, service.Need{}, verify.Expired)
	})
}
