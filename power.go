package keyward

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Power is what a verification of a credential admits: the org it acts in,
// its role, its effective permissions, the entities its scopes allow, the
// addresses its allowlist allows, how long it lasts and how often it may be
// used. It is the measure of the one authorization rule: whatever yields a
// secret or sets a credential's restrictions succeeds only if the caller's
// power covers the resulting credential's power (see Covers).
type Power struct {
	OrgID string
	// Role is the role the credential acts with; "" for kinds without one
	// (agent and probe tokens), which ranks below every role.
	Role Role
	// Permissions is the effective set: the role's or kind's, narrowed by
	// the credential's permission subset.
	Permissions Permissions
	// Scopes narrow the credential to operations on entities; empty means
	// not narrowed by entity.
	Scopes []Scope
	// AllowedCIDRs narrow the addresses that may present it; empty means
	// any address.
	AllowedCIDRs []netip.Prefix
	// ExpiresAt is when it stops working; nil means never.
	ExpiresAt *time.Time
	// RateLimit is its hourly request budget; 0 means unlimited.
	RateLimit int
}

// Shortfall names the first way in which p does not cover q: the
// dimension and, where it helps, the value that exceeds p. It returns ""
// when p covers q, that is when a credential of power q can do nothing
// that one of power p cannot: the same org, a role no higher, permissions
// a subset, every scope of q inside p's scopes (an unscoped q needs an
// unscoped p), every address of q's allowlist inside p's (an unrestricted
// q needs an unrestricted p), an expiry no later (an unexpiring q needs
// an unexpiring p), and a rate limit no higher (an unlimited q needs an
// unlimited p).
func (p Power) Shortfall(q Power) string {
	switch {
	case p.OrgID != q.OrgID:
		return "it would act in another org"
	case q.Role.Rank() > p.Role.Rank():
		return fmt.Sprintf("its role %s is above %s", q.Role, roleName(p.Role))
	}
	for _, perm := range q.Permissions {
		if !p.Permissions.Has(perm) {
			return fmt.Sprintf("it would hold permission %s", perm)
		}
	}
	if len(p.Scopes) > 0 {
		if len(q.Scopes) == 0 {
			return "it would not be narrowed by scopes"
		}
		for _, s := range q.Scopes {
			if op, ok := scopeWithin(s, p.Scopes); !ok {
				return fmt.Sprintf("its scope allows %s on %s %s", op, s.EntityType, s.EntityID)
			}
		}
	}
	if len(p.AllowedCIDRs) > 0 {
		if len(q.AllowedCIDRs) == 0 {
			return "it would be allowed from any address"
		}
		for _, c := range q.AllowedCIDRs {
			if !prefixWithin(c, p.AllowedCIDRs) {
				return fmt.Sprintf("it would be allowed from %s", c)
			}
		}
	}
	if p.ExpiresAt != nil {
		if q.ExpiresAt == nil {
			return "it would never expire"
		}
		if q.ExpiresAt.After(*p.ExpiresAt) {
			return fmt.Sprintf("it would expire after %s", p.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	if p.RateLimit > 0 && (q.RateLimit == 0 || q.RateLimit > p.RateLimit) {
		if q.RateLimit == 0 {
			return "it would have no rate limit"
		}
		return fmt.Sprintf("its rate limit %d is above %d an hour", q.RateLimit, p.RateLimit)
	}
	return ""
}

// Covers reports whether p covers q (see Shortfall).
func (p Power) Covers(q Power) bool { return p.Shortfall(q) == "" }

func roleName(r Role) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

// scopeWithin reports whether every operation s allows is allowed by one
// of scopes on the same entities, and if not, the first operation that is
// not. A scope on every entity ("*") lies only within scopes on every
// entity.
func scopeWithin(s Scope, scopes []Scope) (string, bool) {
	for _, op := range s.Operations {
		ok := slices.ContainsFunc(scopes, func(c Scope) bool {
			return c.EntityType == s.EntityType &&
				(c.EntityID == "*" || c.EntityID == s.EntityID) &&
				slices.Contains(c.Operations, op)
		})
		if !ok {
			return op, false
		}
	}
	return "", true
}

// prefixWithin reports whether every address of p lies in one of ps.
func prefixWithin(p netip.Prefix, ps []netip.Prefix) bool {
	p = p.Masked()
	for _, c := range ps {
		if c.Addr().Is4() == p.Addr().Is4() && c.Bits() <= p.Bits() && c.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
