package service

import (
	"fmt"
	"slices"

	"github.com/keyward/keyward"
)

// This file holds the one authorization rule of keyward: no credential
// ever gains power. Whatever yields a secret (mint, regenerate, rotate, an
// OAuth token) or sets a credential's role, permissions, scopes,
// allowlist, expiry or rate limit succeeds only if the caller's power
// covers the power of the credential that results (keyward.Power). A
// credential acting on itself is no exception. Every such action of the
// service calls permit or permitRole; the API, the dashboard, MCP, OAuth
// and the CLI all reach those actions through the service alone.

// callerPower is what c may hand on: its org, role and effective
// permissions, and for a token its scopes, allowlist, expiry and rate
// limit. Holding apikeys:manage is the power to make the org's machine
// credentials, so it adds the agent and probe permissions. A dashboard
// session acts with the person's role alone, unrestricted otherwise.
func (s *Service) callerPower(c *Caller) keyward.Power {
	p := keyward.Power{Role: c.Role, Permissions: c.Permissions}
	if c.Org != nil {
		p.OrgID = c.Org.ID
	}
	if t := c.Token; t != nil {
		p.Scopes, p.AllowedCIDRs, p.ExpiresAt = t.Scopes, t.AllowedCIDRs, t.ExpiresAt
		p.RateLimit = s.effectiveRateLimit(t.RateLimit)
	}
	if c.Can(keyward.PermAPIKeysManage) {
		p.Permissions = keyward.NewPermissions(slices.Concat(p.Permissions,
			s.perms.ForKind(keyward.KindAgent, ""), s.perms.ForKind(keyward.KindProbe, ""))...)
	}
	return p
}

// tokenPower is the power a verification of t admits when its owner (for
// a personal token) holds role: the role's or kind's permissions narrowed
// by t's subset, with its scopes, allowlist, expiry and rate limit. The
// token's status does not count: a revoked token regenerated has this
// power again.
func (s *Service) tokenPower(t *keyward.Token, role keyward.Role) keyward.Power {
	if !t.Kind.Personal() {
		role = t.Role
	}
	perms := s.perms.ForKind(t.Kind, role)
	if t.Permissions != nil {
		perms = perms.Intersect(t.Permissions)
	}
	return keyward.Power{
		OrgID: t.OrgID, Role: role, Permissions: perms,
		Scopes: t.Scopes, AllowedCIDRs: t.AllowedCIDRs, ExpiresAt: t.ExpiresAt,
		RateLimit: s.effectiveRateLimit(t.RateLimit),
	}
}

// effectiveRateLimit is the hourly budget of a token whose own limit is
// own: its own, or the installation's default; 0 means unlimited.
func (s *Service) effectiveRateLimit(own int) int {
	if own > 0 {
		return own
	}
	return s.rateLimit
}

// ownerRole is the role t acts with for caller c: a personal token takes
// its owner's role, and a personal token reaches c only in c's own set
// (see TokenSet), so that is c's role.
func ownerRole(c *Caller, t *keyward.Token) keyward.Role {
	if t.Kind.Personal() {
		return c.Role
	}
	return t.Role
}

// permit is the rule for a credential that an action yields or changes:
// it answers EPOWER unless c's power covers t's as it would be stored.
func (s *Service) permit(c *Caller, t *keyward.Token) error {
	if c.Operator {
		return nil
	}
	why := s.callerPower(c).Shortfall(s.tokenPower(t, ownerRole(c, t)))
	if why == "" {
		return nil
	}
	return s.refused(c, powerError(why, c.Token != nil && c.Token.ID == t.ID))
}

// permitRole is the rule for giving a member role (adding, promoting or
// unsuspending them): every token of theirs will act with that role, so
// c's power must cover a credential with the role's permissions and no
// other restriction. A membership sets no rate limit.
func (s *Service) permitRole(c *Caller, role keyward.Role) error {
	if c.Operator {
		return nil
	}
	p := s.callerPower(c)
	q := keyward.Power{OrgID: p.OrgID, Role: role, Permissions: s.perms.ForRole(role), RateLimit: p.RateLimit}
	if why := p.Shortfall(q); why != "" {
		return s.refused(c, &keyward.Error{
			Code:    keyward.EPOWER,
			Message: fmt.Sprintf("the role %s would give more power than the credential you are using has: %s", role, why),
			Detail:  "a member's tokens act with their role; only a credential that holds all of it may give it",
		})
	}
	return nil
}

func powerError(why string, self bool) error {
	if self {
		return &keyward.Error{
			Code:    keyward.EPOWER,
			Message: "a credential may not widen its own restrictions: " + why,
			Detail:  "sign in to the dashboard, or use a credential that already has this power",
		}
	}
	return &keyward.Error{
		Code:    keyward.EPOWER,
		Message: "the result would have more power than the credential you are using: " + why,
		Detail:  "a credential can only hand on power it holds itself",
	}
}

// inherit passes c's own permission subset, scopes, allowlist and rate
// limit on to t where the request to mint it named none: a narrowed caller
// mints narrowed tokens rather than being refused. Expiry is not
// inherited: a request without one asks for a token that never expires,
// which permit refuses to a caller that expires. What the request names
// is checked by permit, never widened here.
func (s *Service) inherit(c *Caller, t *keyward.Token, req TokenRequest) {
	if c.Operator || c.Token == nil {
		return
	}
	p := s.callerPower(c)
	ceiling := s.perms.ForKind(t.Kind, ownerRole(c, t))
	if req.Permissions == nil && len(ceiling.Intersect(p.Permissions)) < len(ceiling) {
		t.Permissions = ceiling.Intersect(p.Permissions)
	}
	if len(req.Scopes) == 0 && len(p.Scopes) > 0 {
		for _, sc := range p.Scopes {
			sc.ID, sc.Operations = keyward.NewID(keyward.IDPrefixScope), slices.Clone(sc.Operations)
			t.Scopes = append(t.Scopes, sc)
		}
	}
	if len(req.AllowedCIDRs) == 0 && len(p.AllowedCIDRs) > 0 {
		t.AllowedCIDRs = slices.Clone(p.AllowedCIDRs)
	}
	if d := s.effectiveRateLimit(0); req.RateLimit == 0 && p.RateLimit > 0 && (d == 0 || d > p.RateLimit) {
		t.RateLimit = p.RateLimit
	}
}
