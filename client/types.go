package client

import (
	"encoding/json"
	"time"
)

// Token is a credential as the API shows it. It never holds the secret.
type Token struct {
	ID          string  `json:"id"`
	Kind        string  `json:"kind"`
	OrgID       string  `json:"org_id"`
	UserID      *string `json:"user_id"`
	CreatedBy   string  `json:"created_by"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Display     string  `json:"display"`
	Status      string  `json:"status"`
	BlockedBy   *string `json:"blocked_reason,omitempty"`
	Source      string  `json:"source"`
	// SourceName is how to show Source: an OAuth token's names its client,
	// "OAuth: <client name> (<client id>)".
	SourceName   string     `json:"source_name"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	LastUsedIP   *string    `json:"last_used_ip"`
	RevokedAt    *time.Time `json:"revoked_at"`
	RevokedBy    *string    `json:"revoked_by"`
	RevokeReason *string    `json:"revoke_reason"`
	Generation   int        `json:"generation"`
	// Role is an API key's fixed role; null for other kinds.
	Role *string `json:"role"`
	// AgentID is an agent token's agent; null for other kinds.
	AgentID *string `json:"agent_id"`
	// Permissions is the token's subset, null when it has none.
	Permissions  []string `json:"permissions"`
	Scopes       []Scope  `json:"scopes"`
	AllowedCIDRs []string `json:"allowed_cidrs"`
	RateLimit    *int     `json:"rate_limit"`
	// SupersededBy is the id of the token that rotated this one out.
	SupersededBy *string `json:"superseded_by"`
	// Usage counts the token's uses per UTC day over the last 30 days,
	// oldest first and today last; null in answers that do not load it.
	Usage []int `json:"usage"`
}

// Scope narrows a token to operations on entities of one type.
type Scope struct {
	ID         string   `json:"id,omitempty"`
	EntityType string   `json:"entity_type"`
	EntityID   string   `json:"entity_id"`
	Operations []string `json:"operations"`
}

// TokenRequest mints a token: POST /v1/tokens and POST /v1/orgs/{org}/keys.
type TokenRequest struct {
	// Kind is for org credentials: api_key (default), agent or probe.
	Kind         string     `json:"kind,omitempty"`
	Name         string     `json:"name"`
	Description  string     `json:"description,omitempty"`
	ExpiresIn    string     `json:"expires_in,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	Permissions  []string   `json:"permissions,omitempty"`
	Scopes       []Scope    `json:"scopes,omitempty"`
	AllowedCIDRs []string   `json:"allowed_cidrs,omitempty"`
	// Role is an API key's fixed role, at most the creator's.
	Role      string `json:"role,omitempty"`
	AgentID   string `json:"agent_id,omitempty"`
	RateLimit int    `json:"rate_limit,omitempty"`
}

// TokenUpdate renames a token or changes its description: PATCH.
type TokenUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// RevokeRequest optionally says why a token is revoked.
type RevokeRequest struct {
	Reason string `json:"reason,omitempty"`
}

// RegenerateRequest gives a regenerated token's new validity; empty keeps
// its former lifetime.
type RegenerateRequest struct {
	ExpiresIn string     `json:"expires_in,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	NoExpiry  bool       `json:"no_expiry,omitempty"`
}

// RotateRequest rotates a token: Overlap ("0" to "7d") is how long the old
// one keeps working.
type RotateRequest struct {
	Overlap   string     `json:"overlap,omitempty"`
	ExpiresIn string     `json:"expires_in,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	NoExpiry  bool       `json:"no_expiry,omitempty"`
}

// TokenSecret is the answer of mint, regenerate and rotate: the only
// answer that ever holds a secret.
type TokenSecret struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// TokenList is a page of tokens.
type TokenList struct {
	Tokens     []Token `json:"tokens"`
	NextCursor *string `json:"next_cursor"`
}

// KeyList is a page of org credentials.
type KeyList struct {
	Keys       []Token `json:"keys"`
	NextCursor *string `json:"next_cursor"`
}

// DeletedTokens answers a delete-all.
type DeletedTokens struct {
	Deleted []string `json:"deleted"`
}

// User is a person.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Org is an organisation.
type Org struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Whoami describes the caller: GET /v1/whoami.
type Whoami struct {
	User *User `json:"user"`
	Org  Org   `json:"org"`
	// Role is the role in force; null for agent and probe tokens.
	Role        *string  `json:"role"`
	Token       *Token   `json:"token"`
	Permissions []string `json:"permissions"`
}

// Member is a user's membership of an org.
type Member struct {
	User      User      `json:"user"`
	OrgID     string    `json:"org_id"`
	Role      string    `json:"role"`
	Suspended bool      `json:"suspended"`
	CreatedAt time.Time `json:"created_at"`
}

// Invitation offers an email address a role in an org until the person
// accepts it from the dashboard.
type Invitation struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// Name is the name a new account starts with.
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	InvitedBy string    `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// State is "pending", or "expired" once ExpiresAt has passed.
	State string `json:"state"`
}

// Invite answers POST /v1/orgs/{org}/members: the invitation and its
// one-time link, shown this once, the same for an address that has an
// account and one that has none.
type Invite struct {
	Invitation Invitation `json:"invitation"`
	InviteURL  string     `json:"invite_url"`
}

// InvitationList is a page of an org's pending invitations.
type InvitationList struct {
	Invitations []Invitation `json:"invitations"`
	NextCursor  *string      `json:"next_cursor"`
}

// MemberRequest invites a member: POST /v1/orgs/{org}/members.
type MemberRequest struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role,omitempty"`
}

// MemberUpdate changes a member's role: PATCH /v1/orgs/{org}/members/{user}.
type MemberUpdate struct {
	Role string `json:"role"`
}

// MemberList is a page of members.
type MemberList struct {
	Members    []Member `json:"members"`
	NextCursor *string  `json:"next_cursor"`
}

// MemberRemoved answers DELETE /v1/orgs/{org}/members/{user}.
type MemberRemoved struct {
	Member        Member   `json:"member"`
	RevokedTokens []string `json:"revoked_tokens"`
}

// Policy is an org's token policy: GET and PUT /v1/orgs/{org}/policy.
type Policy struct {
	RequireExpiry bool     `json:"require_expiry"`
	MaxLifetime   *string  `json:"max_lifetime"`
	AllowedKinds  []string `json:"allowed_kinds"`
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	OrgID      string          `json:"org_id"`
	Action     string          `json:"action"`
	Actor      string          `json:"actor"`
	ActorToken *string         `json:"actor_token"`
	Target     string          `json:"target"`
	IP         string          `json:"ip"`
	UserAgent  string          `json:"user_agent"`
	Details    json.RawMessage `json:"details"`
}

// AuditList is a page of audit events.
type AuditList struct {
	Events     []AuditEvent `json:"events"`
	NextCursor *string      `json:"next_cursor"`
}

// Health answers /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
}

// ErrorBody is every error's body.
type ErrorBody struct {
	Error   bool   `json:"error"`
	Message string `json:"message"`
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Detail  string `json:"detail,omitempty"`
}
