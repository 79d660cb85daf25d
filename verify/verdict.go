package verify

import (
	"net/netip"
	"time"

	"github.com/keyward/keyward"
)

// Verdict is what the cache says of one presented token. It is a value:
// building one allocates nothing. Its accessors read the cached entry,
// which is immutable; Token, User and Org return records the caller must
// not change.
type Verdict struct {
	// Code is the outcome.
	Code Code
	// Reason says why a token is blocked, or what is wrong with a
	// malformed string; "" otherwise. It is the detail of the refusal.
	Reason string
	// Hash is the presented string's SHA-256 (zero when Malformed).
	Hash keyward.Hash
	// Kind is the token's kind (also for Malformed strings with a known
	// prefix: "" otherwise).
	Kind keyward.Kind
	// Role is the role in force: the owner's current role for personal
	// tokens, the key's fixed role for API keys, "" for agent and probe
	// tokens.
	Role keyward.Role
	// Permissions is what the token may do now: its role's (or kind's)
	// permissions narrowed by its permission subset. Shared: do not
	// change it.
	Permissions keyward.Permissions
	// PermissionList is Permissions joined with commas.
	PermissionList string

	// e is a copy of the cached entry (the cache's own may change once
	// its lock is let go), and h what it names, resolved under that lock;
	// found says there is one.
	e     entry
	h     held
	found bool
}

// Found reports whether the verdict is about a stored token (every code
// but Malformed and NotFound).
func (v *Verdict) Found() bool { return v.found }

// TokenID returns the token's id; "" when not found.
func (v *Verdict) TokenID() string {
	if !v.found {
		return ""
	}
	return v.e.field(v.h.text, fieldID)
}

// OrgID returns the token's org; "" when not found.
func (v *Verdict) OrgID() string {
	if !v.found {
		return ""
	}
	return v.h.org.org.ID
}

// UserID returns the owner of a personal token; "" for org credentials
// and when not found.
func (v *Verdict) UserID() string {
	if !v.found || v.h.member == nil {
		return ""
	}
	return v.h.member.userID
}

// Org returns the token's org (shared; do not change it), nil when not
// found.
func (v *Verdict) Org() *keyward.Org {
	if !v.found {
		return nil
	}
	return v.h.org.org
}

// User returns the owner of a personal token (shared, without its
// password hash; do not change it), nil for org credentials, for a former
// member, and when not found.
func (v *Verdict) User() *keyward.User {
	if !v.found || v.h.member == nil {
		return nil
	}
	return v.h.member.user
}

// AgentID returns the agent an agent token acts for; "" otherwise.
func (v *Verdict) AgentID() string {
	if !v.found || v.h.extra == nil {
		return ""
	}
	return v.h.extra.agentID
}

// ExpiresAt returns when the token expires; the zero time when it does
// not.
func (v *Verdict) ExpiresAt() time.Time {
	if !v.found || v.e.expires == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v.e.expires).UTC()
}

// RateLimit returns the token's own hourly rate limit, 0 when it has none.
func (v *Verdict) RateLimit() int {
	if !v.found {
		return 0
	}
	return int(v.e.rateLimit)
}

// AllowedCIDRs returns the token's IP allowlist; empty means any address.
func (v *Verdict) AllowedCIDRs() []netip.Prefix {
	if !v.found || v.h.extra == nil {
		return nil
	}
	return v.h.extra.cidrs
}

// Scopes returns the token's scopes; empty means no narrowing by entity.
func (v *Verdict) Scopes() []keyward.Scope {
	if !v.found || v.h.extra == nil {
		return nil
	}
	return v.h.extra.scopes
}

// Can reports whether a valid token holds perm.
func (v *Verdict) Can(perm string) bool {
	return v.Code == Valid && v.Permissions.Has(perm)
}

// ScopeAllows reports whether the token's scopes allow op on the entity:
// a token without scopes is not narrowed by entity.
func (v *Verdict) ScopeAllows(entityType, entityID, op string) bool {
	scopes := v.Scopes()
	if len(scopes) == 0 {
		return true
	}
	for _, s := range scopes {
		if s.Allows(entityType, entityID, op) {
			return true
		}
	}
	return false
}

// Token returns a fresh copy of the token's record as it was read (its
// last use as of that read), with State derived from the verdict; nil when
// not found. It allocates: the hot path needs it only where a full record
// is shown.
func (v *Verdict) Token() *keyward.Token {
	if !v.found {
		return nil
	}
	t := v.e.token(&v.h)
	t.Hash = v.Hash
	switch v.Code {
	case Valid, IPNotAllowed:
		t.State = keyward.StatusActive
	case Revoked:
		t.State = keyward.StatusRevoked
	case Expired, Reused:
		t.State = keyward.StatusExpired
	case Blocked:
		t.State, t.BlockedReason = keyward.StatusBlocked, v.Reason
	default:
		t.State = t.BaseStatus(time.Now())
	}
	return t
}

// NeverUsed reports whether the token had no recorded use when it was
// read.
func (v *Verdict) NeverUsed() bool { return v.found && v.e.lastUsed == 0 }

// judge derives the verdict at now (microseconds) from ip, from the copy
// of the entry the verdict holds.
func (v *Verdict) judge(now int64, ip netip.Addr) {
	e, x := &v.e, v.h.extra
	v.Kind = keyward.Kinds[e.kind]
	v.Role = roles[e.role]
	if p := v.h.perms; p != nil {
		v.Permissions, v.PermissionList = p.list, p.joined
	}
	v.Code = e.code
	switch {
	case e.code == Revoked:
		return
	case e.expires != 0 && now >= e.expires:
		v.Code = Expired
		if x != nil && x.supersededBy != "" {
			v.Code = Reused
		}
		return
	case e.code == Blocked:
		v.Reason = x.blocked
		return
	case e.code != Valid:
		return
	}
	if x != nil && len(x.cidrs) > 0 && ip.IsValid() && !ipAllowed(x.cidrs, ip) {
		v.Code = IPNotAllowed
	}
}

func ipAllowed(cidrs []netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range cidrs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
