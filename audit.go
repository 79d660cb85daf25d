package keyward

import (
	"encoding/json"
	"time"
)

// Audit actions.
const (
	ActionTokenCreated          = "token.created"
	ActionTokenUsed             = "token.used"
	ActionTokenRevoked          = "token.revoked"
	ActionTokenRegenerated      = "token.regenerated"
	ActionTokenRotated          = "token.rotated"
	ActionTokenReuseDetected    = "token.reuse_detected"
	ActionTokenDeleted          = "token.deleted"
	ActionTokenUpdated          = "token.updated"
	ActionTokenScopeAdded       = "token.scope_added"
	ActionTokenScopeRemoved     = "token.scope_removed"
	ActionMemberInvited         = "member.invited"
	ActionInvitationCancelled   = "member.invitation_cancelled"
	ActionMemberAdded           = "member.added"
	ActionMemberRoleChanged     = "member.role_changed"
	ActionMemberSuspended       = "member.suspended"
	ActionMemberUnsuspended     = "member.unsuspended"
	ActionMemberRemoved         = "member.removed"
	ActionPolicyChanged         = "policy.changed"
	ActionOrgCreated            = "org.created"
	ActionUserCreated           = "user.created"
	ActionOAuthClientRegistered = "oauth.client_registered"
	ActionOAuthConsentGranted   = "oauth.consent_granted"
	ActionAuthDenied            = "auth.denied"
)

// ActorOperator is the actor of operator commands that act on the database
// directly.
const ActorOperator = "operator"

// AuditEvent is one append-only entry of an org's audit log. It never
// holds a secret.
type AuditEvent struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	OrgID  string    `json:"org_id"`
	Action string    `json:"action"`
	// Actor is a user id, "operator", or "" for anonymous callers.
	Actor string `json:"actor"`
	// ActorToken is the id of the token the actor presented, if any.
	ActorToken string `json:"actor_token"`
	// Target is the id of what the action touched.
	Target    string          `json:"target"`
	IP        string          `json:"ip"`
	UserAgent string          `json:"user_agent"`
	Details   json.RawMessage `json:"details"`
}

// AuditFilter selects audit events, newest first. Zero fields do not
// filter.
type AuditFilter struct {
	OrgID  string
	Action string
	Actor  string
	Target string
	Since  time.Time
	Until  time.Time
	Cursor string
	Limit  int
}
