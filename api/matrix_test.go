package api_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// The authorization matrix: every route of routes.go, called by every kind
// of caller on every kind of target, over the real HTTP API on SQLite and
// PostgreSQL. Whatever the answer, the oracle holds: a secret answered has
// no more power than the caller; a credential or membership changed has no
// more power after than the caller; a refusal changes nothing.

// matrixCallers are the kinds of caller, each minted fresh for every row.
var matrixCallers = []string{
	"owner PAT", "admin PAT", "member PAT", "viewer PAT",
	"narrowed PAT", "scoped PAT", "allowlisted PAT", "expiring PAT",
	"owner key", "admin key", "member key", "narrowed admin key",
	"agent token", "probe token", "OAuth token (tokens:read)",
	"other org's PAT", "expired PAT", "revoked PAT",
}

// matrixTokenTargets are the kinds of {id}, minted fresh for every row.
var matrixTokenTargets = []string{"itself", "broader sibling", "narrower sibling", "owner key", "admin key", "another user's PAT", "another org's key"}

// matrixUserTargets are the kinds of {user}.
var matrixUserTargets = []string{"self", "owner", "admin", "member", "another org's user", "nobody"}

// matrixInvitationTargets are the kinds of {invitation}.
var matrixInvitationTargets = []string{"member invitation", "owner invitation", "another org's invitation", "no invitation"}

// matrixBodies are the request bodies tried on each route: the plain one
// and those that try for more power.
func matrixBodies(pattern string) ([]string, bool) {
	switch pattern {
	case "GET /healthz", "GET /readyz", "GET /openapi.json", "GET /metrics", "GET /v1/whoami", "GET /v1/auth",
		"GET /v1/tokens", "GET /v1/tokens/{id}", "DELETE /v1/tokens", "DELETE /v1/tokens/{id}",
		"GET /v1/orgs/{org}/keys", "GET /v1/orgs/{org}/keys/{id}", "DELETE /v1/orgs/{org}/keys", "DELETE /v1/orgs/{org}/keys/{id}",
		"DELETE /v1/tokens/{id}/scopes", "DELETE /v1/tokens/{id}/scopes/{scope_id}",
		"DELETE /v1/orgs/{org}/keys/{id}/scopes", "DELETE /v1/orgs/{org}/keys/{id}/scopes/{scope_id}",
		"GET /v1/orgs/{org}/members", "GET /v1/orgs/{org}/members/{user}", "DELETE /v1/orgs/{org}/members/{user}",
		"POST /v1/orgs/{org}/members/{user}/suspend", "POST /v1/orgs/{org}/members/{user}/unsuspend",
		"GET /v1/orgs/{org}/policy", "GET /v1/orgs/{org}/audit",
		"GET /v1/orgs/{org}/invitations", "DELETE /v1/orgs/{org}/invitations/{invitation}":
		return []string{""}, true
	case "POST /v1/verify":
		return []string{`{"token": "{secret}"}`}, true
	case "POST /v1/tokens":
		return []string{`{"name": "m"}`, `{"name": "m", "permissions": ["tokens:read", "tokens:write", "audit:read", "monitors:write"]}`,
			`{"name": "m", "allowed_cidrs": ["0.0.0.0/0"], "rate_limit": 100000}`}, true
	case "POST /v1/orgs/{org}/keys":
		return []string{`{"name": "m"}`, `{"name": "m", "role": "owner"}`, `{"name": "m", "role": "admin"}`,
			`{"name": "m", "kind": "agent", "agent_id": "a-1"}`}, true
	case "PATCH /v1/tokens/{id}", "PATCH /v1/orgs/{org}/keys/{id}":
		return []string{`{"name": "renamed"}`}, true
	case "POST /v1/tokens/{id}/revoke", "POST /v1/orgs/{org}/keys/{id}/revoke":
		return []string{`{}`}, true
	case "POST /v1/tokens/{id}/regenerate", "POST /v1/orgs/{org}/keys/{id}/regenerate":
		return []string{`{}`, `{"expires_in": "365d"}`}, true
	case "POST /v1/tokens/{id}/rotate", "POST /v1/orgs/{org}/keys/{id}/rotate":
		return []string{`{"overlap": "1h"}`}, true
	case "POST /v1/tokens/{id}/scopes", "POST /v1/orgs/{org}/keys/{id}/scopes":
		return []string{`{"entity_type": "monitor", "entity_id": "*", "operations": ["read", "update", "delete"]}`,
			`{"entity_type": "monitor", "entity_id": "m1", "operations": ["read"]}`}, true
	case "POST /v1/orgs/{org}/members":
		return []string{`{"email": "new@example.com", "role": "owner"}`, `{"email": "new@example.com", "role": "viewer"}`,
			`{"email": "oscar@example.com", "role": "member"}`}, true
	case "PATCH /v1/orgs/{org}/members/{user}":
		return []string{`{"role": "owner"}`, `{"role": "admin"}`, `{"role": "viewer"}`}, true
	case "PUT /v1/orgs/{org}/policy":
		return []string{`{}`}, true
	}
	return nil, false
}

// matrixEnv is one API server with the fixtures every row draws on.
type matrixEnv struct {
	*env
	store  service.Store
	owner  *service.Caller // the owner's unrestricted caller, for minting
	other  *service.Caller // the owner of the other org
	client *keyward.OAuthClient
}

func TestAuthorizationMatrix(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) service.Store
	}{
		{"sqlite", func(t *testing.T) service.Store {
			db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
		{"postgres", func(t *testing.T) service.Store {
			db, err := postgres.Open(t.Context(), testenv.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
	}
	for _, b := range stores {
		t.Run(b.name, func(t *testing.T) {
			patterns := api.Patterns()
			var rows, failed atomic.Int64
			for _, pattern := range patterns {
				if _, ok := matrixBodies(pattern); !ok {
					t.Errorf("route %s has no row in the authorization matrix", pattern)
				}
			}
			t.Cleanup(func() {
				t.Logf("matrix: %d API routes and %d MCP tools x %d callers, and the dashboard's forms x %d people: %d rows, %d failed",
					len(patterns), len(mcpArguments), len(matrixCallers), len(matrixSessions), rows.Load(), failed.Load())
			})
			for _, caller := range matrixCallers {
				t.Run(caller, func(t *testing.T) {
					t.Parallel()
					m := newMatrixEnv(t, b.open(t))
					for _, pattern := range patterns {
						bodies, _ := matrixBodies(pattern)
						for _, target := range targetsOf(pattern) {
							for _, body := range bodies {
								rows.Add(1)
								if _, ok := m.row(t, caller, pattern, target, body); !ok {
									failed.Add(1)
								}
							}
						}
					}
					n, bad := m.mcpRows(t, caller)
					rows.Add(int64(n))
					failed.Add(int64(bad))
				})
			}
			for session := range matrixSessions {
				t.Run(session, func(t *testing.T) {
					t.Parallel()
					m := newMatrixEnv(t, b.open(t))
					n, bad := m.webRows(t, session)
					rows.Add(int64(n))
					failed.Add(int64(bad))
				})
			}
		})
	}
}

func targetsOf(pattern string) []string {
	switch {
	case strings.Contains(pattern, "{id}"):
		return matrixTokenTargets
	case strings.Contains(pattern, "{user}"):
		return matrixUserTargets
	case strings.Contains(pattern, "{invitation}"):
		return matrixInvitationTargets
	}
	return []string{""}
}

func newMatrixEnv(t *testing.T, store service.Store) *matrixEnv {
	t.Helper()
	m := &matrixEnv{env: newEnvOn(t, store, api.Options{}), store: store}
	m.owner = m.authed(m.boot.Secret)
	for email, role := range map[string]keyward.Role{"ann@example.com": keyward.RoleAdmin, "mo@example.com": keyward.RoleMember, "vic@example.com": keyward.RoleViewer} {
		if _, err := m.svc.AdminCreateUser(m.ctx, email, "", "", "acme", role); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.svc.AdminCreateUser(m.ctx, "oscar@example.com", "", "", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m.svc.AdminCreateOrg(m.ctx, "Other", "other", "oscar@example.com"); err != nil {
		t.Fatal(err)
	}
	m.other = m.authed(m.pat("oscar@example.com", "other"))
	var err error
	m.client, err = m.svc.RegisterOAuthClient(m.ctx, service.OAuthRegistration{Name: "Agent", RedirectURIs: []string{"http://127.0.0.1:9/cb"}}, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *matrixEnv) authed(secret string) *service.Caller {
	m.t.Helper()
	c, err := m.svc.Authenticate(m.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test")
	if err != nil {
		m.t.Fatalf("Authenticate: %v", err)
	}
	return c
}

// mintAs mints a token in set as c, failing the test on error.
func (m *matrixEnv) mintAs(c *service.Caller, set service.TokenSet, req service.TokenRequest) (*keyward.Token, string) {
	m.t.Helper()
	if req.Name == "" {
		req.Name = "fixture"
	}
	tok, secret, err := m.svc.CreateToken(m.ctx, c, set, req)
	if err != nil {
		m.t.Fatalf("minting a fixture %+v: %v", req, err)
	}
	return tok, secret
}

func (m *matrixEnv) operatorPAT(email, org string, req service.TokenRequest) (*keyward.Token, string) {
	m.t.Helper()
	if req.Name == "" {
		req.Name = "fixture"
	}
	tok, secret, err := m.svc.AdminCreateToken(m.ctx, email, org, req)
	if err != nil {
		m.t.Fatalf("AdminCreateToken(%s): %v", email, err)
	}
	return tok, secret
}

// caller mints a fresh credential of kind and returns its secret, its
// token, and the email of its user ("" for org credentials).
func (m *matrixEnv) caller(kind string) (string, *keyward.Token, string) {
	m.t.Helper()
	scope := []service.ScopeRequest{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}}
	owner := "owner@example.com"
	switch kind {
	case "owner PAT", "admin PAT", "member PAT", "viewer PAT":
		email := map[string]string{"owner PAT": owner, "admin PAT": "ann@example.com", "member PAT": "mo@example.com", "viewer PAT": "vic@example.com"}[kind]
		tok, s := m.operatorPAT(email, "acme", service.TokenRequest{})
		return s, tok, email
	case "narrowed PAT":
		tok, s := m.operatorPAT(owner, "acme", service.TokenRequest{Permissions: []string{"tokens:read", "tokens:write"}})
		return s, tok, owner
	case "scoped PAT":
		tok, s := m.operatorPAT(owner, "acme", service.TokenRequest{Scopes: scope})
		return s, tok, owner
	case "allowlisted PAT":
		tok, s := m.operatorPAT(owner, "acme", service.TokenRequest{AllowedCIDRs: []string{"127.0.0.0/8"}})
		return s, tok, owner
	case "expiring PAT":
		tok, s := m.operatorPAT(owner, "acme", service.TokenRequest{ExpiresIn: "1d"})
		return s, tok, owner
	case "owner key", "admin key", "member key":
		role := keyward.Role(strings.TrimSuffix(kind, " key"))
		tok, s := m.mintAs(m.owner, service.OrgKeys, service.TokenRequest{Role: role})
		return s, tok, ""
	case "narrowed admin key":
		tok, s := m.mintAs(m.owner, service.OrgKeys, service.TokenRequest{Role: keyward.RoleAdmin, Permissions: []string{"apikeys:manage", "members:manage", "members:read"}})
		return s, tok, ""
	case "agent token":
		tok, s := m.mintAs(m.owner, service.OrgKeys, service.TokenRequest{Kind: keyward.KindAgent, AgentID: "a-1"})
		return s, tok, ""
	case "probe token":
		tok, s := m.mintAs(m.owner, service.OrgKeys, service.TokenRequest{Kind: keyward.KindProbe})
		return s, tok, ""
	case "OAuth token (tokens:read)":
		verifier := strings.Repeat("v", 43)
		code, err := m.svc.IssueOAuthCode(m.ctx, m.boot.User, service.OAuthGrant{
			Client: m.client, OrgID: m.boot.Org.ID, RedirectURI: "http://127.0.0.1:9/cb",
			CodeChallenge: service.S256(verifier), Resource: "https://keys.example.com/mcp", Scope: "tokens:read",
		})
		if err != nil {
			m.t.Fatal(err)
		}
		tok, s, err := m.svc.ExchangeOAuthCode(m.ctx, service.OAuthExchange{Code: code, ClientID: m.client.ID,
			RedirectURI: "http://127.0.0.1:9/cb", Verifier: verifier, Resource: "https://keys.example.com/mcp"})
		if err != nil {
			m.t.Fatal(err)
		}
		return s, tok, owner
	case "other org's PAT":
		tok, s := m.operatorPAT("oscar@example.com", "other", service.TokenRequest{})
		return s, tok, "oscar@example.com"
	case "expired PAT":
		tok, s := m.operatorPAT(owner, "acme", service.TokenRequest{ExpiresAt: ptr(m.clock.Now().Add(time.Minute + time.Second))})
		m.clock.Add(2 * time.Minute)
		return s, tok, owner
	case "revoked PAT":
		tok, s := m.operatorPAT(owner, "acme", service.TokenRequest{})
		if _, err := m.svc.RevokeToken(m.ctx, m.owner, service.Personal, tok.ID, ""); err != nil {
			m.t.Fatal(err)
		}
		return s, tok, owner
	}
	m.t.Fatalf("unknown caller kind %s", kind)
	return "", nil, ""
}

// target mints a fresh token of kind for a caller of user email (or the
// owner's, for org credentials) and returns its id.
func (m *matrixEnv) target(kind string, self *keyward.Token, email string) string {
	m.t.Helper()
	if email == "" || email == "oscar@example.com" {
		email = "owner@example.com"
	}
	scope := []service.ScopeRequest{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}}
	switch kind {
	case "itself":
		return self.ID
	case "broader sibling":
		tok, _ := m.operatorPAT(email, "acme", service.TokenRequest{})
		return tok.ID
	case "narrower sibling":
		tok, _ := m.operatorPAT(email, "acme", service.TokenRequest{Permissions: []string{"tokens:read"}, Scopes: scope})
		return tok.ID
	case "owner key", "admin key":
		tok, _ := m.mintAs(m.owner, service.OrgKeys, service.TokenRequest{Role: keyward.Role(strings.TrimSuffix(kind, " key"))})
		return tok.ID
	case "another user's PAT":
		other := "vic@example.com"
		if email == other {
			other = "mo@example.com"
		}
		tok, _ := m.operatorPAT(other, "acme", service.TokenRequest{})
		return tok.ID
	case "another org's key":
		tok, _ := m.mintAs(m.other, service.OrgKeys, service.TokenRequest{Role: keyward.RoleOwner})
		return tok.ID
	}
	m.t.Fatalf("unknown target kind %s", kind)
	return ""
}

// invitation makes a fresh invitation of kind and returns its id.
func (m *matrixEnv) invitation(kind string) string {
	m.t.Helper()
	by, role := m.owner, keyward.RoleMember
	switch kind {
	case "no invitation":
		return "inv_missing"
	case "owner invitation":
		role = keyward.RoleOwner
	case "another org's invitation":
		by = m.other
	}
	inv, err := m.svc.AddMember(m.ctx, by, service.MemberRequest{Email: keyward.NewID("inv") + "@example.com", Role: role})
	if err != nil {
		m.t.Fatalf("inviting a fixture: %v", err)
	}
	return inv.ID
}

// row runs one cell of the matrix and returns the answer and whether the
// oracle held.
func (m *matrixEnv) row(t *testing.T, callerKind, pattern, targetKind, body string) (*answer, bool) {
	t.Helper()
	secret, self, email := m.caller(callerKind)
	method, path, _ := strings.Cut(pattern, " ")
	org := "acme"
	if callerKind == "other org's PAT" {
		org = "other"
	}
	path = strings.ReplaceAll(path, "{org}", org)
	if strings.Contains(path, "{id}") {
		id := m.target(targetKind, self, email)
		path = strings.ReplaceAll(path, "{id}", id)
		scopeID := "scp_missing"
		if tok, err := m.findToken(id); err == nil && len(tok.Scopes) > 0 {
			scopeID = tok.Scopes[0].ID
		}
		path = strings.ReplaceAll(path, "{scope_id}", scopeID)
	}
	if strings.Contains(path, "{user}") {
		user := map[string]string{"self": email, "owner": "owner@example.com", "admin": "ann@example.com", "member": "mo@example.com",
			"another org's user": "oscar@example.com", "nobody": "nobody@example.com"}[targetKind]
		if user == "" {
			user = "owner@example.com"
		}
		path = strings.ReplaceAll(path, "{user}", user)
	}
	if strings.Contains(path, "{invitation}") {
		path = strings.ReplaceAll(path, "{invitation}", m.invitation(targetKind))
	}
	body = strings.ReplaceAll(body, "{secret}", m.boot.Secret)
	power := m.powerOf(secret)
	before := m.snapshot()
	var bodyArg any
	if body != "" {
		bodyArg = body
	}
	hdrs := []header{bearer(secret)}
	if pattern == "GET /v1/auth" {
		hdrs = append(hdrs, header{"X-Forwarded-Method", "GET"}, header{"X-Forwarded-Uri", "/monitors/1"})
	}
	a := m.do(method, path, bodyArg, hdrs...)
	after := m.snapshot()
	var out struct {
		Secret string `json:"secret"`
	}
	_ = json.Unmarshal(a.body, &out)
	name := fmt.Sprintf("%s: %s %s on %s with %s", callerKind, method, path, targetKind, body)
	refused := ""
	if a.status >= 400 {
		refused = fmt.Sprint(a.status)
	}
	return a, m.judge(t, name, power, before, after, refused, out.Secret)
}

// powerOf is the power of the credential secret, judged as a verification
// of it admits it now; nil when it does not verify.
func (m *matrixEnv) powerOf(secret string) *keyward.Power {
	c, err := m.svc.Authenticate(m.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test")
	if err != nil {
		return nil
	}
	p := m.callerPower(c)
	return &p
}

// judge is the oracle of every row, whatever front end ran it: a refused
// call (refused names how) changed nothing; an answered secret verifies
// and has no more power than the caller; every token, membership and
// invitation the call changed has no more power than the caller.
func (m *matrixEnv) judge(t *testing.T, name string, power *keyward.Power, before, after snapshot, refused, secret string) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Errorf("%s: "+format, append([]any{name}, args...)...)
		ok = false
	}
	if refused != "" {
		if d := diff(before, after); d != "" {
			fail("refused (%s), yet changed %s", refused, d)
		}
		return ok
	}
	if secret != "" {
		c, err := m.svc.Authenticate(m.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test")
		switch {
		case err != nil:
			fail("answered a secret that does not verify: %v", err)
		case power == nil:
			fail("answered a secret to a caller that does not verify")
		default:
			if why := power.Shortfall(m.callerPower(c)); why != "" {
				fail("answered a secret with more power than the caller: %s", why)
			}
		}
	}
	for id, now := range after.tokens {
		was, existed := before.tokens[id]
		if existed && was.equal(now) || now.revoked {
			continue
		}
		if power == nil {
			fail("a caller that does not verify changed token %s", id)
			continue
		}
		if why := power.Shortfall(now.power); why != "" {
			fail("token %s has, after the call, more power than the caller: %s", id, why)
		}
	}
	for id, now := range after.invitations {
		if was, existed := before.invitations[id]; existed && was == now {
			continue
		}
		if power == nil {
			fail("a caller that does not verify made invitation %s", id)
			continue
		}
		q := keyward.Power{OrgID: now.org, Role: now.role, Permissions: m.svc.Permissions().ForRole(now.role), RateLimit: power.RateLimit}
		if why := power.Shortfall(q); why != "" {
			fail("invitation %s offers more power than the caller's: %s", id, why)
		}
	}
	for key, now := range after.members {
		was, existed := before.members[key]
		if now.suspended || existed && !was.suspended && now.role.Rank() <= was.role.Rank() {
			continue // unchanged, suspended or demoted: no more power
		}
		if power == nil {
			fail("a caller that does not verify changed membership %s", key)
			continue
		}
		q := keyward.Power{OrgID: now.org, Role: now.role, Permissions: m.svc.Permissions().ForRole(now.role), RateLimit: power.RateLimit}
		if why := power.Shortfall(q); why != "" {
			fail("membership %s has, after the call, more power than the caller: %s", key, why)
		}
	}
	return ok
}

// callerPower is the test's own statement of what a caller holds: its
// role and effective permissions (with the machine credentials' own
// permissions for a holder of apikeys:manage), and its token's scopes,
// allowlist, expiry and rate limit.
func (m *matrixEnv) callerPower(c *service.Caller) keyward.Power {
	p := keyward.Power{OrgID: c.Org.ID, Role: c.Role, Permissions: c.Permissions}
	if c.Can(keyward.PermAPIKeysManage) {
		perms := m.svc.Permissions()
		p.Permissions = keyward.NewPermissions(slices.Concat(p.Permissions, perms.ForKind(keyward.KindAgent, ""), perms.ForKind(keyward.KindProbe, ""))...)
	}
	if t := c.Token; t != nil {
		p.Scopes, p.AllowedCIDRs, p.ExpiresAt, p.RateLimit = t.Scopes, t.AllowedCIDRs, t.ExpiresAt, t.RateLimit
	}
	return p
}

func (m *matrixEnv) findToken(id string) (*keyward.Token, error) {
	var tok *keyward.Token
	err := m.store.View(m.ctx, func(tx service.Tx) error {
		var err error
		tok, err = tx.FindTokenByID(m.ctx, id)
		return err
	})
	return tok, err
}

// tokenState is what the oracle compares of a token: its power and
// whether it can still be used, and its secret's hash.
type tokenState struct {
	power   keyward.Power
	revoked bool
	hash    keyward.Hash
	key     string // the power in comparable form
}

type memberState struct {
	org       string
	role      keyward.Role
	suspended bool
}

type snapshot struct {
	tokens      map[string]tokenState
	members     map[string]memberState
	invitations map[string]memberState
}

// snapshot reads every token and membership of both orgs.
func (m *matrixEnv) snapshot() snapshot {
	m.t.Helper()
	s := snapshot{tokens: map[string]tokenState{}, members: map[string]memberState{}, invitations: map[string]memberState{}}
	perms := m.svc.Permissions()
	err := m.store.View(m.ctx, func(tx service.Tx) error {
		for _, org := range []string{m.boot.Org.ID, m.other.Org.ID} {
			roles := map[string]keyward.Role{}
			ms, err := tx.FindMemberships(m.ctx, org, "", "", 0)
			if err != nil {
				return err
			}
			for _, mb := range ms {
				roles[mb.UserID] = mb.Role
				s.members[org+"/"+mb.UserID] = memberState{org: org, role: mb.Role, suspended: mb.Suspended}
			}
			invs, err := tx.FindInvitations(m.ctx, org, "", 0)
			if err != nil {
				return err
			}
			for _, inv := range invs {
				s.invitations[inv.ID] = memberState{org: org, role: inv.Role}
			}
			f := keyward.TokenFilter{OrgID: org, Limit: keyward.MaxPageSize, Now: m.clock.Now()}
			for {
				page, next, err := tx.FindTokens(m.ctx, f)
				if err != nil {
					return err
				}
				for _, t := range page {
					role := t.Role
					if t.Kind.Personal() {
						role = roles[t.UserID]
					}
					p := keyward.Power{OrgID: t.OrgID, Role: role, Permissions: perms.ForKind(t.Kind, role),
						Scopes: t.Scopes, AllowedCIDRs: t.AllowedCIDRs, ExpiresAt: t.ExpiresAt, RateLimit: t.RateLimit}
					if t.Permissions != nil {
						p.Permissions = p.Permissions.Intersect(t.Permissions)
					}
					s.tokens[t.ID] = tokenState{power: p, hash: t.Hash, key: powerKey(p),
						revoked: t.RevokedAt != nil || t.ExpiresAt != nil && !m.clock.Now().Before(*t.ExpiresAt)}
				}
				if next == "" {
					break
				}
				f.Cursor = next
			}
		}
		return nil
	})
	if err != nil {
		m.t.Fatal(err)
	}
	return s
}

func powerKey(p keyward.Power) string {
	scopes := make([]string, 0, len(p.Scopes))
	for _, s := range p.Scopes {
		scopes = append(scopes, fmt.Sprintf("%s/%s/%v", s.EntityType, s.EntityID, s.Operations))
	}
	sort.Strings(scopes)
	exp := ""
	if p.ExpiresAt != nil {
		exp = p.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s|%s|%v|%v|%v|%s|%d", p.OrgID, p.Role, p.Permissions, scopes, p.AllowedCIDRs, exp, p.RateLimit)
}

// equal compares the comparable parts of two token states.
func (a tokenState) equal(b tokenState) bool {
	return a.key == b.key && a.revoked == b.revoked && a.hash == b.hash
}

// diff says what differs between two snapshots; "" when nothing does.
func diff(a, b snapshot) string {
	var out []string
	for id, x := range a.tokens {
		y, ok := b.tokens[id]
		switch {
		case !ok:
			out = append(out, "deleted token "+id)
		case !x.equal(y):
			out = append(out, "token "+id)
		}
	}
	for id := range b.tokens {
		if _, ok := a.tokens[id]; !ok {
			out = append(out, "new token "+id)
		}
	}
	for k, x := range a.members {
		if y, ok := b.members[k]; !ok || x != y {
			out = append(out, "membership "+k)
		}
	}
	for k := range b.members {
		if _, ok := a.members[k]; !ok {
			out = append(out, "new membership "+k)
		}
	}
	for k, x := range a.invitations {
		if y, ok := b.invitations[k]; !ok || x != y {
			out = append(out, "invitation "+k)
		}
	}
	for k := range b.invitations {
		if _, ok := a.invitations[k]; !ok {
			out = append(out, "new invitation "+k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
