package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// clock is a controllable time for tests.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration // every wait Sleep was asked for
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Sleep is the service's wait: it records d and moves the clock on by it.
func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

// Slept returns the waits asked for since the last call, and forgets them.
func (c *clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slept
	c.slept = nil
	return s
}

// env is one service over one fresh store, with a bootstrapped owner.
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *service.Service
	clock *clock
	boot  *service.BootstrapResult
	store service.Store
}

// forEachBackend runs fn on a fresh service over every backend present.
func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			ck := &clock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
			svc, err := service.New(store, service.Options{Now: ck.Now, Sleep: ck.Sleep, ProductPermissions: []string{"monitors:read", "monitors:write", "agent:heartbeat", "probe:report"}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", OrgName: "Acme"})
			if err != nil {
				t.Fatalf("Bootstrap: %v", err)
			}
			fn(t, &env{t: t, ctx: ctx, svc: svc, clock: ck, boot: boot, store: store})
		})
	}
}

// auth authenticates secret, failing the test on error.
func (e *env) auth(secret string) *service.Caller {
	e.t.Helper()
	c, err := e.svc.Authenticate(e.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test")
	if err != nil {
		e.t.Fatalf("Authenticate: got %v, want success", err)
	}
	return c
}

// authCode authenticates secret and returns the error code ("" on success).
func (e *env) authCode(secret string) string {
	e.t.Helper()
	_, err := e.svc.Authenticate(e.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test")
	return keyward.ErrorCode(err)
}

// member adds a user to org with role and returns a PAT secret for them.
func (e *env) member(email, org string, role keyward.Role) string {
	e.t.Helper()
	if _, err := e.svc.AdminCreateUser(e.ctx, email, "", "", org, role); err != nil {
		if keyward.ErrorCode(err) != keyward.ECONFLICT {
			e.t.Fatalf("AdminCreateUser: %v", err)
		}
		owner := e.auth(e.boot.Secret)
		if owner.Org.Slug != org {
			e.t.Fatalf("member: cannot add an existing user to %s in this helper", org)
		}
	}
	_, secret, err := e.svc.AdminCreateToken(e.ctx, email, org, service.TokenRequest{Name: "t"})
	if err != nil {
		e.t.Fatalf("AdminCreateToken: %v", err)
	}
	return secret
}

func code(err error) string { return keyward.ErrorCode(err) }

func TestBootstrapOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if e.boot.Password == "" || !strings.HasPrefix(e.boot.Secret, "kw_pat_") {
			t.Fatalf("bootstrap: got password %t, secret prefix %q", e.boot.Password != "", e.boot.Secret[:7])
		}
		c := e.auth(e.boot.Secret)
		if c.Role != keyward.RoleOwner || c.Org.ID != e.boot.Org.ID {
			t.Fatalf("bootstrap caller: got role %s org %s, want owner of %s", c.Role, c.Org.ID, e.boot.Org.ID)
		}
		_, err := e.svc.Bootstrap(e.ctx, service.BootstrapRequest{Email: "second@example.com", OrgName: "Other"})
		if code(err) != keyward.ECONFLICT {
			t.Fatalf("second bootstrap: got %v, want conflict", err)
		}
		if _, _, err := e.svc.AdminCreateToken(e.ctx, "second@example.com", "other", service.TokenRequest{Name: "x"}); code(err) != keyward.ENOTFOUND {
			t.Fatalf("second bootstrap left something behind: %v", err)
		}
	})
}

// Promise 1: the secret appears only in the mint or regenerate response.
func TestShownOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "ci", ExpiresIn: "30d"})
		if err != nil {
			t.Fatal(err)
		}
		_, secret2, err := e.svc.RegenerateToken(e.ctx, owner, service.Personal, tok.ID, service.RegenerateRequest{})
		if err != nil {
			t.Fatal(err)
		}
		e.auth(secret2)
		if err := e.svc.FlushUsage(e.ctx); err != nil {
			t.Fatal(err)
		}
		list, _, err := e.svc.FindTokens(e.ctx, owner, service.Personal, keyward.TokenFilter{})
		if err != nil {
			t.Fatal(err)
		}
		events, _, err := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		blob, _ := json.Marshal([]any{list, events})
		for _, s := range []string{secret, secret2, e.boot.Secret} {
			if strings.Contains(string(blob), s) || strings.Contains(string(blob), s[7:]) {
				t.Fatalf("a secret appears in a list or the audit log")
			}
		}
	})
}

// Promise 2: revocation is immediate on the node that revoked.
func TestRevokeImmediate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "x"})
		if err != nil {
			t.Fatal(err)
		}
		e.auth(secret)
		if _, err := e.svc.RevokeToken(e.ctx, owner, service.Personal, tok.ID, "leaked"); err != nil {
			t.Fatal(err)
		}
		if got := e.authCode(secret); got != keyward.EUNAUTHORIZED {
			t.Fatalf("after revoke: got %q, want unauthorized", got)
		}
		again, err := e.svc.RevokeToken(e.ctx, owner, service.Personal, tok.ID, "")
		if err != nil || again.RevokeReason != "leaked" {
			t.Fatalf("second revoke: got %v, reason %q; want idempotent success keeping the first reason", err, again.RevokeReason)
		}
	})
}

// Promise 3: PATs carry no role of their own.
func TestRoleChangeBitesNextRequest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		secret := e.member("bob@example.com", "acme", keyward.RoleMember)
		if _, _, err := e.svc.FindAudit(e.ctx, e.auth(secret), keyward.AuditFilter{}); code(err) != keyward.EFORBIDDEN {
			t.Fatalf("member reads audit: got %v, want forbidden", err)
		}
		if _, err := e.svc.UpdateMember(e.ctx, owner, "bob@example.com", service.MemberUpdate{Role: keyward.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.FindAudit(e.ctx, e.auth(secret), keyward.AuditFilter{}); err != nil {
			t.Fatalf("admin reads audit: got %v, want success", err)
		}
		if _, err := e.svc.UpdateMember(e.ctx, owner, "bob@example.com", service.MemberUpdate{Role: keyward.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		if c := e.auth(secret); c.Can("monitors:write") || !c.Can("monitors:read") {
			t.Fatalf("viewer: got monitors:write %t, monitors:read %t; want false, true", c.Can("monitors:write"), c.Can("monitors:read"))
		}
		if _, err := e.svc.SuspendMember(e.ctx, owner, "bob@example.com", true); err != nil {
			t.Fatal(err)
		}
		if got := e.authCode(secret); got != keyward.EFORBIDDEN {
			t.Fatalf("suspended: got %q, want forbidden", got)
		}
		if _, _, err := e.svc.FindTokens(e.ctx, service.Operator(), service.OrgKeys, keyward.TokenFilter{}); code(err) != keyward.EFORBIDDEN {
			t.Fatalf("a caller in no org lists keys: got %v, want forbidden", err)
		}
		if _, err := e.svc.SuspendMember(e.ctx, owner, "bob@example.com", false); err != nil {
			t.Fatal(err)
		}
		e.auth(secret)
	})
}

// Promise 4: removing a member revokes their personal tokens in that org,
// in one transaction, and nothing else.
func TestRemoveMember(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		secret := e.member("carol@example.com", "acme", keyward.RoleAdmin)
		carol := e.auth(secret)
		key, keySecret, err := e.svc.CreateToken(e.ctx, carol, service.OrgKeys, service.TokenRequest{Name: "deploy"})
		if err != nil {
			t.Fatal(err)
		}
		if key.Role != keyward.RoleAdmin {
			t.Fatalf("key role: got %s, want admin (the creator's)", key.Role)
		}
		if _, err := e.svc.AdminCreateOrg(e.ctx, "Other", "other", "carol@example.com"); err != nil {
			t.Fatal(err)
		}
		_, otherSecret, err := e.svc.AdminCreateToken(e.ctx, "carol@example.com", "other", service.TokenRequest{Name: "elsewhere"})
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.svc.CountMemberTokens(e.ctx, owner, "carol@example.com")
		if err != nil || n != 1 {
			t.Fatalf("CountMemberTokens: got %d, %v; want 1", n, err)
		}
		m, revoked, err := e.svc.RemoveMember(e.ctx, owner, "carol@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if m.User.Email != "carol@example.com" || len(revoked) != 1 || revoked[0] != carol.Token.ID {
			t.Fatalf("RemoveMember: got %s, %v; want carol and [%s]", m.User.Email, revoked, carol.Token.ID)
		}
		if got := e.authCode(secret); got != keyward.EUNAUTHORIZED {
			t.Fatalf("removed member's PAT: got %q, want unauthorized", got)
		}
		e.auth(otherSecret)
		if c := e.auth(keySecret); c.Role != keyward.RoleAdmin {
			t.Fatalf("API key after creator's removal: got role %s, want admin", c.Role)
		}
		events, _, err := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Action: keyward.ActionMemberRemoved})
		if err != nil || len(events) != 1 || !strings.Contains(string(events[0].Details), carol.Token.ID) {
			t.Fatalf("member.removed event: got %d events, %v; want one naming the revoked token", len(events), err)
		}
	})
}

// Promise 5 and 6: org pinning, and another user's token is not found.
func TestPinningAndOthersTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		bob := e.auth(e.member("bob@example.com", "acme", keyward.RoleMember))
		if err := owner.PinOrg("acme"); err != nil {
			t.Fatalf("PinOrg(own slug): %v", err)
		}
		if err := owner.PinOrg(owner.Org.ID); err != nil {
			t.Fatalf("PinOrg(own id): %v", err)
		}
		if err := owner.PinOrg("other"); code(err) != keyward.ENOTFOUND {
			t.Fatalf("PinOrg(other): got %v, want not found", err)
		}
		ownerTok := owner.Token.ID
		_, missing := e.svc.FindTokenByID(e.ctx, bob, service.Personal, "tok_doesnotexist")
		for name, op := range map[string]func() error{
			"show":   func() error { _, err := e.svc.FindTokenByID(e.ctx, bob, service.Personal, ownerTok); return err },
			"revoke": func() error { _, err := e.svc.RevokeToken(e.ctx, bob, service.Personal, ownerTok, ""); return err },
			"regenerate": func() error {
				_, _, err := e.svc.RegenerateToken(e.ctx, bob, service.Personal, ownerTok, service.RegenerateRequest{})
				return err
			},
			"delete": func() error { return e.svc.DeleteToken(e.ctx, bob, service.Personal, ownerTok) },
		} {
			if err := op(); err == nil || err.Error() != missing.Error() {
				t.Errorf("%s another user's token: got %v, want %v", name, err, missing)
			}
		}
		e.auth(e.boot.Secret)
	})
}

// Promise 7: revoked and expired tokens stay listed until deleted.
func TestListedUntilDeleted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		short, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "short", ExpiresIn: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		gone, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "gone"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RevokeToken(e.ctx, owner, service.Personal, gone.ID, ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(2 * time.Hour)
		owner = e.auth(e.boot.Secret)
		want := map[keyward.Status][]string{
			keyward.StatusExpired: {short.ID},
			keyward.StatusRevoked: {gone.ID},
			keyward.StatusActive:  {e.boot.Token.ID},
		}
		for status, ids := range want {
			list, _, err := e.svc.FindTokens(e.ctx, owner, service.Personal, keyward.TokenFilter{Status: status})
			if err != nil || len(list) != 1 || list[0].ID != ids[0] || list[0].State != status {
				t.Fatalf("status %s: got %d tokens, %v; want %v", status, len(list), err, ids)
			}
		}
		if err := e.svc.DeleteToken(e.ctx, owner, service.Personal, gone.ID); err != nil {
			t.Fatal(err)
		}
		all, _, _ := e.svc.FindTokens(e.ctx, owner, service.Personal, keyward.TokenFilter{Status: "all"})
		if len(all) != 2 {
			t.Fatalf("after delete: got %d tokens listed, want 2", len(all))
		}
		events, _, _ := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Target: gone.ID})
		if len(events) != 3 { // created, revoked, deleted
			t.Fatalf("audit of a deleted token: got %d events, want 3", len(events))
		}
	})
}

// Promise 8: regenerate keeps the id and settings and kills the old secret.
func TestRegenerate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, old, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{
			Name: "ci", Description: "deploys", ExpiresIn: "7d", Permissions: []string{"monitors:read"},
			Scopes: []service.ScopeRequest{{EntityType: "monitor", EntityID: "*", Operations: []string{"read"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RevokeToken(e.ctx, owner, service.Personal, tok.ID, ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(24 * time.Hour)
		re, fresh, err := e.svc.RegenerateToken(e.ctx, owner, service.Personal, tok.ID, service.RegenerateRequest{ExpiresIn: "30d"})
		if err != nil {
			t.Fatal(err)
		}
		if re.ID != tok.ID || re.Name != "ci" || re.Description != "deploys" || len(re.Scopes) != 1 || !re.Permissions.Has("monitors:read") || re.Generation != 1 {
			t.Fatalf("regenerated token lost its settings: %+v", re)
		}
		if re.State != keyward.StatusActive || re.ExpiresAt == nil || !re.ExpiresAt.Equal(e.clock.Now().Add(30*24*time.Hour)) {
			t.Fatalf("regenerated validity: got %s until %v", re.State, re.ExpiresAt)
		}
		if got := e.authCode(old); got != keyward.EUNAUTHORIZED {
			t.Fatalf("old secret: got %q, want unauthorized", got)
		}
		if c := e.auth(fresh); c.Token.ID != tok.ID || c.Can("tokens:read") {
			t.Fatalf("new secret: got token %s, tokens:read %t; want %s, false", c.Token.ID, c.Can("tokens:read"), tok.ID)
		}
	})
}

// Promise 9: rotation keeps the old token for its overlap; reuse after it
// revokes the family.
func TestRotate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, old, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "svc", ExpiresIn: "30d"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.RotateToken(e.ctx, owner, service.Personal, tok.ID, 8*24*time.Hour, service.RegenerateRequest{}); code(err) != keyward.EINVALID {
			t.Fatalf("overlap 8d: got %v, want invalid", err)
		}
		next, fresh, err := e.svc.RotateToken(e.ctx, owner, service.Personal, tok.ID, time.Hour, service.RegenerateRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if next.ID == tok.ID || next.Name != "svc" || next.ExpiresAt == nil {
			t.Fatalf("rotated token: got %+v", next)
		}
		e.auth(old)
		e.auth(fresh)
		e.clock.Add(2 * time.Hour)
		if got := e.authCode(old); got != keyward.EUNAUTHORIZED {
			t.Fatalf("old token after overlap: got %q, want unauthorized", got)
		}
		if got := e.authCode(fresh); got != keyward.EUNAUTHORIZED {
			t.Fatalf("new token after reuse of the old: got %q, want unauthorized (family revoked)", got)
		}
		events, _, _ := e.svc.FindAudit(e.ctx, e.auth(e.boot.Secret), keyward.AuditFilter{Action: keyward.ActionTokenReuseDetected})
		if len(events) != 1 || events[0].Target != tok.ID {
			t.Fatalf("reuse_detected events: got %d, want 1 for %s", len(events), tok.ID)
		}
	})
}

// Promise 10: tokens that break a new policy are blocked, not revoked.
func TestPolicyBlocks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, forever, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "forever"})
		if err != nil {
			t.Fatal(err)
		}
		_, bounded, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "bounded", ExpiresIn: "30d"})
		if err != nil {
			t.Fatal(err)
		}
		_, adminSecret, err := e.svc.CreateToken(e.ctx, owner, service.OrgKeys, service.TokenRequest{Name: "admin key", Role: keyward.RoleAdmin, ExpiresIn: "30d"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SavePolicy(e.ctx, owner, service.PolicyRequest{RequireExpiry: true}); code(err) != keyward.ECONFLICT {
			t.Fatalf("policy that blocks the caller's own token: got %v, want conflict", err)
		}
		if _, err := e.svc.SavePolicy(e.ctx, e.auth(bounded), service.PolicyRequest{RequireExpiry: true, MaxLifetime: "90d"}); err != nil {
			t.Fatal(err)
		}
		admin := e.auth(adminSecret)
		if got := e.authCode(forever); got != keyward.EFORBIDDEN {
			t.Fatalf("token breaking policy: got %q, want forbidden", got)
		}
		owner = e.auth(bounded)
		got, err := e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
		if err != nil || got.State != keyward.StatusBlocked || got.RevokedAt != nil {
			t.Fatalf("blocked token: got %v revoked %v, %v; want blocked, not revoked", got.State, got.RevokedAt, err)
		}
		if _, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "x"}); code(err) != keyward.EINVALID {
			t.Fatalf("mint without expiry under policy: got %v, want invalid", err)
		}
		if _, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "x", ExpiresIn: "91d"}); code(err) != keyward.EINVALID {
			t.Fatalf("mint past max lifetime: got %v, want invalid", err)
		}
		if _, err := e.svc.SavePolicy(e.ctx, admin, service.PolicyRequest{}); code(err) != keyward.EFORBIDDEN {
			t.Fatalf("admin saves policy: got %v, want forbidden", err)
		}
		if _, err := e.svc.SavePolicy(e.ctx, owner, service.PolicyRequest{}); err != nil {
			t.Fatal(err)
		}
		e.auth(forever)
	})
}

func TestAPIKeyRoleCeiling(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		admin := e.auth(e.member("ann@example.com", "acme", keyward.RoleAdmin))
		if _, _, err := e.svc.CreateToken(e.ctx, admin, service.OrgKeys, service.TokenRequest{Name: "k", Role: keyward.RoleOwner}); code(err) != keyward.EPOWER {
			t.Fatalf("admin mints an owner key: got %v, want power_exceeded", err)
		}
		key, secret, err := e.svc.CreateToken(e.ctx, admin, service.OrgKeys, service.TokenRequest{Name: "k", Role: keyward.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		if c := e.auth(secret); c.Role != keyward.RoleViewer || c.User != nil || c.Token.ID != key.ID {
			t.Fatalf("viewer key: got role %s", c.Role)
		}
		member := e.auth(e.member("mo@example.com", "acme", keyward.RoleMember))
		if _, _, err := e.svc.CreateToken(e.ctx, member, service.OrgKeys, service.TokenRequest{Name: "k"}); code(err) != keyward.EFORBIDDEN {
			t.Fatalf("member mints an org key: got %v, want forbidden", err)
		}
		_, agent, err := e.svc.CreateToken(e.ctx, admin, service.OrgKeys, service.TokenRequest{Kind: keyward.KindAgent, Name: "a", AgentID: "agent-1"})
		if err != nil {
			t.Fatal(err)
		}
		if c := e.auth(agent); len(c.Permissions) != 1 || !c.Can("agent:heartbeat") {
			t.Fatalf("agent token permissions: got %v, want [agent:heartbeat]", c.Permissions)
		}
	})
}

// Promise 12: bad input gets a clear error and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		before, _, _ := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{})
		past := e.clock.Now().Add(-time.Hour)
		bad := []service.TokenRequest{
			{Name: ""},
			{Name: strings.Repeat("n", 101)},
			{Name: "x", ExpiresIn: "soon"},
			{Name: "x", ExpiresAt: &past},
			{Name: "x", ExpiresIn: "1d", ExpiresAt: &past},
			{Name: "x", Permissions: []string{"nope:nope"}},
			{Name: "x", Permissions: []string{"policy:manage"}, Kind: keyward.KindAPIKey},
			{Name: "x", Scopes: []service.ScopeRequest{{EntityType: "monitor", EntityID: "1", Operations: []string{"fly"}}}},
			{Name: "x", AllowedCIDRs: []string{"10.0.0.0/33"}},
			{Name: "x", Kind: keyward.KindProbe},
		}
		for i, req := range bad {
			_, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, req)
			if c := code(err); c != keyward.EINVALID && c != keyward.EFORBIDDEN {
				t.Errorf("bad request %d: got %v, want invalid_request", i, err)
			}
		}
		list, _, _ := e.svc.FindTokens(e.ctx, owner, service.Personal, keyward.TokenFilter{})
		after, _, _ := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{})
		if len(list) != 1 || len(after) != len(before) {
			t.Fatalf("bad input changed something: %d tokens, %d events (want 1, %d)", len(list), len(after), len(before))
		}
	})
}

func TestUsageGatheredAndAudited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "u"})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			e.auth(secret)
		}
		got, _ := e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
		if got.LastUsedAt != nil {
			t.Fatal("last_used_at written synchronously")
		}
		if n := e.svc.UnwrittenUsage(); n != 2 {
			t.Fatalf("before the flush: %d tokens' use unwritten, want 2 (the owner's and the new token's)", n)
		}
		if err := e.svc.FlushUsage(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := e.svc.UnwrittenUsage(); n != 0 {
			t.Fatalf("after the flush: %d tokens' use unwritten, want 0", n)
		}
		got, _ = e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
		if got.LastUsedAt == nil || got.LastUsedIP != "127.0.0.1" {
			t.Fatalf("after flush: got last used %v from %q", got.LastUsedAt, got.LastUsedIP)
		}
		used := func() int {
			ev, _, _ := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Action: keyward.ActionTokenUsed, Target: tok.ID})
			return len(ev)
		}
		if n := used(); n != 1 {
			t.Fatalf("token.used after first use: got %d, want 1", n)
		}
		e.clock.Add(10 * time.Minute)
		e.auth(secret)
		e.svc.FlushUsage(e.ctx)
		if n := used(); n != 1 {
			t.Fatalf("token.used within the hour: got %d, want 1", n)
		}
		e.clock.Add(time.Hour)
		e.auth(secret)
		e.svc.FlushUsage(e.ctx)
		if n := used(); n != 2 {
			t.Fatalf("token.used after an hour: got %d, want 2 (aggregated)", n)
		}
		// The first event is the first use; the hour's aggregate is not,
		// though the cache still holds the token as read before its use.
		ev, _, _ := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Action: keyward.ActionTokenUsed, Target: tok.ID})
		for i, want := range []struct {
			count int
			first bool
		}{{2, false}, {5, true}} { // newest first
			var d struct {
				Count int  `json:"count"`
				First bool `json:"first_use"`
			}
			if err := json.Unmarshal(ev[i].Details, &d); err != nil {
				t.Fatal(err)
			}
			if d.Count != want.count || d.First != want.first {
				t.Errorf("event %d: %d uses, first use %v; want %d, %v", i, d.Count, d.First, want.count, want.first)
			}
		}
	})
}

// A token's last use is written at its first use, then at most every 10
// minutes while it is used from one address, and at once from another
// address; its hourly counts are written at every flush.
func TestLastUseWrittenEveryTenMinutes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "busy"})
		if err != nil {
			t.Fatal(err)
		}
		use := func(ip string) {
			t.Helper()
			if _, err := e.svc.Authenticate(e.ctx, secret, netip.MustParseAddr(ip), "test"); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.FlushUsage(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
		lastUse := func() (time.Time, string, int) {
			t.Helper()
			got, err := e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
			if err != nil || got.LastUsedAt == nil {
				t.Fatalf("got %v, %v; want a last use", got, err)
			}
			sum := 0
			for _, d := range got.Usage {
				sum += d
			}
			return *got.LastUsedAt, got.LastUsedIP, sum
		}
		use("192.0.2.1")
		first, ip, n := lastUse()
		if ip != "192.0.2.1" || n != 1 {
			t.Fatalf("first use: got %s from %s, %d uses; want from 192.0.2.1, 1 use", first, ip, n)
		}
		e.clock.Add(time.Minute)
		use("192.0.2.1")
		if at, ip, n := lastUse(); !at.Equal(first) || ip != "192.0.2.1" || n != 2 {
			t.Fatalf("a minute later, same address: got %s from %s, %d uses; want %s still, 2 uses", at, ip, n, first)
		}
		e.clock.Add(time.Minute)
		use("198.51.100.9")
		second, ip, n := lastUse()
		if !second.After(first) || ip != "198.51.100.9" || n != 3 {
			t.Fatalf("from another address: got %s from %s, %d uses; want a later use from 198.51.100.9, 3 uses", second, ip, n)
		}
		e.clock.Add(10 * time.Minute)
		use("198.51.100.9")
		if at, ip, n := lastUse(); !at.After(second) || ip != "198.51.100.9" || n != 4 {
			t.Fatalf("10 minutes later: got %s from %s, %d uses; want a use after %s, 4 uses", at, ip, n, second)
		}
	})
}

// A flush larger than one transaction's share writes every token's use,
// count and event, chunk after chunk.
func TestUsageFlushedInChunks(t *testing.T) {
	defer service.SetFlushChunk(2)()
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		var ids []string
		for i := range 5 {
			tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: fmt.Sprintf("c%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			for range i + 1 {
				e.auth(secret)
			}
			ids = append(ids, tok.ID)
		}
		if err := e.svc.FlushUsage(e.ctx); err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			got, err := e.svc.FindTokenByID(e.ctx, owner, service.Personal, id)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for _, n := range got.Usage {
				sum += n
			}
			if got.LastUsedAt == nil || sum != i+1 {
				t.Errorf("token %d: last used %v, %d uses counted; want a last use and %d", i, got.LastUsedAt, sum, i+1)
			}
			ev, _, _ := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Action: keyward.ActionTokenUsed, Target: id})
			if len(ev) != 1 {
				t.Errorf("token %d: %d token.used events, want 1", i, len(ev))
			}
		}
	})
}

// A usage flush that fails loses nothing and writes nothing twice: the
// next flush writes the last uses, hourly counts and token.used events the
// failed one did not. A trigger makes the database refuse one token's row
// of one kind; the flush writes 2 rows a transaction, so that some of its
// transactions commit before the one that fails.
func TestFailedFlushRequeued(t *testing.T) {
	defer service.SetFlushChunk(2)()
	for _, kind := range []struct{ name, event, table, row string }{
		{"last use", "UPDATE OF last_used_at", "tokens", "NEW.id = '%s'"},
		{"count", "INSERT", "token_usage", "NEW.token_id = '%s'"},
		{"event", "INSERT", "audit_events", "NEW.target = '%s' AND NEW.action = 'token.used'"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, e *env) {
				owner := e.auth(e.boot.Secret)
				if err := e.svc.FlushUsage(e.ctx); err != nil {
					t.Fatal(err)
				}
				var ids, secrets []string
				for i := range 5 {
					tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: fmt.Sprintf("f%d", i)})
					if err != nil {
						t.Fatal(err)
					}
					for range i + 1 {
						e.auth(secret)
					}
					ids, secrets = append(ids, tok.ID), append(secrets, secret)
				}
				used := e.clock.Now()
				refuse(t, e, kind.event, kind.table, fmt.Sprintf(kind.row, ids[2]))
				if err := e.svc.FlushUsage(e.ctx); err == nil {
					t.Fatal("flush with a refused row: got no error")
				} else if strings.Contains(err.Error(), secrets[2]) {
					t.Fatal("the flush error holds a secret")
				}
				if n := e.svc.UnwrittenUsage(); n == 0 {
					t.Fatal("after the failed flush: no use left to write")
				}
				allow(t, e, kind.table)
				e.clock.Add(time.Minute)
				e.auth(secrets[0])
				if err := e.svc.FlushUsage(e.ctx); err != nil {
					t.Fatal(err)
				}
				if n := e.svc.UnwrittenUsage(); n != 0 {
					t.Fatalf("after the second flush: %d tokens' use unwritten, want 0", n)
				}
				for i, id := range ids {
					got, err := e.svc.FindTokenByID(e.ctx, owner, service.Personal, id)
					if err != nil {
						t.Fatal(err)
					}
					sum, want := 0, i+1
					for _, n := range got.Usage {
						sum += n
					}
					if i == 0 {
						want++
					}
					if got.LastUsedAt == nil || got.LastUsedAt.Before(used) || sum != want {
						t.Errorf("token %d: last used %v, %d uses counted; want a use at %s or later, %d uses", i, got.LastUsedAt, sum, used, want)
					}
					ev, _, err := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Action: keyward.ActionTokenUsed, Target: id})
					if err != nil || len(ev) != 1 {
						t.Fatalf("token %d: %d token.used events (%v), want 1", i, len(ev), err)
					}
					var d struct {
						Count int  `json:"count"`
						First bool `json:"first_use"`
					}
					if err := json.Unmarshal(ev[0].Details, &d); err != nil {
						t.Fatal(err)
					}
					// Token 0's second use counts in its event only if its
					// first event was refused with the failed flush.
					if !d.First || d.Count != i+1 && !(i == 0 && d.Count == 2) {
						t.Errorf("token %d: event of %d uses, first use %v; want %d uses, the first", i, d.Count, d.First, i+1)
					}
				}
			})
		})
	}
}

// refuse makes e's database refuse to write the rows of table that cond
// selects, by a trigger, until allow.
func refuse(t *testing.T, e *env, event, table, cond string) {
	t.Helper()
	db := e.store.(interface{ Writer() *sql.DB }).Writer()
	stmts := []string{fmt.Sprintf("CREATE TRIGGER refuse BEFORE %s ON %s WHEN %s BEGIN SELECT RAISE(ABORT, 'refused by the test'); END", event, table, cond)}
	if strings.HasSuffix(t.Name(), "postgres") {
		stmts = []string{
			"CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
			fmt.Sprintf("CREATE TRIGGER refuse BEFORE %s ON %s FOR EACH ROW WHEN (%s) EXECUTE FUNCTION refuse()", event, table, cond),
		}
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(e.ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// allow drops refuse's trigger on table.
func allow(t *testing.T, e *env, table string) {
	t.Helper()
	db := e.store.(interface{ Writer() *sql.DB }).Writer()
	q := "DROP TRIGGER refuse"
	if strings.HasSuffix(t.Name(), "postgres") {
		q += " ON " + table
	}
	if _, err := db.ExecContext(e.ctx, q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestLastOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		if _, _, err := e.svc.RemoveMember(e.ctx, owner, "owner@example.com"); code(err) != keyward.ECONFLICT {
			t.Fatalf("remove last owner: got %v, want conflict", err)
		}
		if _, err := e.svc.UpdateMember(e.ctx, owner, "owner@example.com", service.MemberUpdate{Role: keyward.RoleAdmin}); code(err) != keyward.ECONFLICT {
			t.Fatalf("demote last owner: got %v, want conflict", err)
		}
		admin := e.auth(e.member("ad@example.com", "acme", keyward.RoleAdmin))
		if _, err := e.svc.SuspendMember(e.ctx, admin, "owner@example.com", true); code(err) != keyward.EFORBIDDEN {
			t.Fatalf("admin suspends owner: got %v, want forbidden", err)
		}
		if _, err := e.svc.AddMember(e.ctx, admin, service.MemberRequest{Email: "o2@example.com", Role: keyward.RoleOwner}); code(err) != keyward.EFORBIDDEN {
			t.Fatalf("admin adds owner: got %v, want forbidden", err)
		}
	})
}
