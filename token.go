package keyward

import (
	"net/netip"
	"slices"
	"time"
)

// Status is a token's state, derived from its fields and its owner's and
// org's state at the time of asking; it is never stored.
type Status string

// The statuses of a token.
const (
	StatusActive  Status = "active"
	StatusExpired Status = "expired"
	StatusRevoked Status = "revoked"
	// StatusBlocked: the owner is suspended or the token breaks org policy.
	// It lasts only while that is so.
	StatusBlocked Status = "blocked"
)

// Sources of a token: where it was minted.
const (
	SourceDashboard = "dashboard"
	SourceCLI       = "cli"
	SourceAPI       = "api"
	SourceUnknown   = "unknown"
	// SourceOAuthPrefix is followed by the OAuth client id.
	SourceOAuthPrefix = "oauth:"
)

// UsageDays is how many days of daily use counts a token's Usage holds.
const UsageDays = 30

// Token is a credential's record. It never holds the secret: only its
// SHA-256 and its display form.
type Token struct {
	ID          string
	Kind        Kind
	OrgID       string
	UserID      string // owner for PATs and OAuth tokens; "" for org credentials
	CreatedBy   string // user id, or "operator"
	Name        string
	Description string
	Source      string
	Hash        Hash
	Display     string

	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	LastUsedIP string

	RevokedAt    *time.Time
	RevokedBy    string
	RevokeReason string

	Generation int

	// Role is the fixed role of an org API key; "" for other kinds.
	Role Role
	// AgentID names the agent entity an agent token is bound to.
	AgentID string
	// Permissions, when not nil, narrows what the token may do to this
	// subset.
	Permissions  Permissions
	Scopes       []Scope
	AllowedCIDRs []netip.Prefix
	// RateLimit overrides the per-token hourly rate limit when above 0.
	RateLimit int

	// FamilyID groups a token with the tokens rotated from it.
	FamilyID string
	// SupersededBy is the id of the token that rotated this one out.
	SupersededBy string

	// Usage is the count of uses per UTC day over the last UsageDays days,
	// oldest first and today last; nil where the reader did not load it.
	Usage []int

	// State is derived when the token is read for a caller (see
	// BaseStatus and service.Service); it is never stored.
	State Status
	// BlockedReason says why State is StatusBlocked.
	BlockedReason string
	// SourceName is how lists show Source (see SourceLabel), naming an
	// OAuth token's client; derived when the service reads tokens for a
	// caller, never stored.
	SourceName string
}

// Operations that a scope may allow.
var Operations = []string{"create", "read", "list", "update", "delete", "share", "unshare", "publish", "subscribe"}

// Scope narrows a token to operations on entities of one type: one entity,
// or all ("*").
type Scope struct {
	ID         string   `json:"id"`
	EntityType string   `json:"entity_type"`
	EntityID   string   `json:"entity_id"`
	Operations []string `json:"operations"`
}

// Allows reports whether the scope allows op on the entity.
func (s Scope) Allows(entityType, entityID, op string) bool {
	return s.EntityType == entityType &&
		(s.EntityID == "*" || s.EntityID == entityID) &&
		slices.Contains(s.Operations, op)
}

// BaseStatus derives the token's status at now from its own fields, before
// its owner and its org's policy are considered.
func (t *Token) BaseStatus(now time.Time) Status {
	switch {
	case t.RevokedAt != nil:
		return StatusRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}

// IPAllowed reports whether ip may present the token.
func (t *Token) IPAllowed(ip netip.Addr) bool {
	if len(t.AllowedCIDRs) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, p := range t.AllowedCIDRs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// TokenFilter selects tokens. Zero fields do not filter.
type TokenFilter struct {
	OrgID  string
	UserID string
	// Kinds limits the kinds; empty means all.
	Kinds []Kind
	// Status filters by derived status; "" or "all" means every status.
	// Blocked tokens count as active here.
	Status Status
	// Now is the time against which expiry is judged.
	Now time.Time

	// Cursor continues after the page that returned it.
	Cursor string
	// Limit is the page size.
	Limit int
}

// Page limits for lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// PageSize applies the page limits to a requested size: 0 or less means
// DefaultPageSize, more than MaxPageSize means MaxPageSize.
func PageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// TokenUse is what the verifier gathered about a token's use since its last
// flush.
type TokenUse struct {
	TokenID string
	At      time.Time
	IP      string
	Count   int
}
