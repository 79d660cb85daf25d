package client

import (
	"context"
	"net/http"
)

// VerifyRequest asks POST /v1/verify about a token presented to a
// resource server.
type VerifyRequest struct {
	// Token is the presented token string.
	Token string `json:"token"`
	// Permission, if set, must be held by the token.
	Permission string `json:"permission,omitempty"`
	// Entity, if set, must be allowed by the token's scopes.
	Entity *VerifyEntity `json:"entity,omitempty"`
	// IP is the address of the client that presented the token; when left
	// out, the allowlist is checked against the verifying server's address.
	IP string `json:"ip,omitempty"`
}

// VerifyEntity is an operation on an entity.
type VerifyEntity struct {
	EntityType string `json:"entity_type"`
	EntityID   string `json:"entity_id"`
	Operation  string `json:"operation"`
}

// Verification is the verdict of POST /v1/verify.
type Verification struct {
	// Valid is true when Code is VALID.
	Valid bool `json:"valid"`
	// Code is one of VALID, NOT_FOUND, EXPIRED, REVOKED, BLOCKED,
	// FORBIDDEN, INSUFFICIENT_PERMISSIONS, RATE_LIMITED, IP_NOT_ALLOWED.
	Code string `json:"code"`
	// Message says why, for people.
	Message string `json:"message"`
	// Token is the verified token; null for NOT_FOUND.
	Token *Token `json:"token"`
	// Role is the role in force (a PAT's owner's current role, an API
	// key's fixed role); null when none.
	Role *string `json:"role"`
	// Permissions is what the token may do now; empty unless it is active.
	Permissions []string `json:"permissions"`
}

// Verify asks whether a token presented to a resource server is valid and
// may do what it asks. The client's own token must be an org API key with
// tokens:verify. A refused token is a Verification with Valid false, not
// an error.
func (c *Client) Verify(ctx context.Context, req VerifyRequest) (*Verification, error) {
	var out Verification
	return &out, c.do(ctx, request{method: http.MethodPost, path: []string{"/v1/verify"}, body: req}, &out)
}
