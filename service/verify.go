package service

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

// Entity is an operation on an entity that a verification asks about; a
// token with scopes may do it only if one of its scopes allows it.
type Entity struct {
	Type      string
	ID        string
	Operation string
}

// Need is what a verification asks of a token beyond being active.
type Need struct {
	// Permission, if set, must be one the token holds now.
	Permission string
	// Entity, if set, must be allowed by the token's scopes (a token
	// without scopes is not narrowed by them).
	Entity *Entity
	// Kinds, if set, are the kinds admitted.
	Kinds []keyward.Kind
	// OrgID, if set, pins the verification to one org: a token of any
	// other org is NOT_FOUND, whatever its state.
	OrgID string
}

// Verdict is the answer on a presented token. It holds what the
// verification cache said; Caller and Token build records from it on
// demand, and Identity reads it without allocating, for the answer given
// before every request of a guarded product.
type Verdict struct {
	// Code is the outcome; Code.Outcome says what every front end
	// answers for it.
	Code verify.Code
	// Message says why, for people: the table's message and the detail;
	// it never holds the token.
	Message string

	cv verify.Verdict
	// detail is what the table's message leaves out (which permission,
	// why blocked); found: the token exists (in the pinned org); active:
	// it acts as a caller (Valid, and the refusals of what was asked of
	// an active token).
	detail        string
	found, active bool
	ip            netip.Addr
	userAgent     string
}

// Valid reports whether the token passed.
func (v *Verdict) Valid() bool { return v.Code == verify.Valid }

// Err returns the error that refuses the request, nil when valid: the
// code's error of the one table (EUNAUTHORIZED for a token that is not
// accepted at all, EFORBIDDEN, EIPNOTALLOWED or ERATELIMITED for one that
// may not do this), with the detail.
func (v *Verdict) Err() error { return v.Code.Err(v.detail) }

// Caller returns who the token acts as, nil when it is not active. It
// allocates a fresh Caller with a fresh copy of the token's record.
func (v *Verdict) Caller() *Caller {
	if !v.active {
		return nil
	}
	return callerOf(&v.cv, v.ip, v.userAgent)
}

// Token returns a fresh copy of the token's record when it exists (in the
// pinned org); nil for NOT_FOUND.
func (v *Verdict) Token() *keyward.Token {
	if !v.found {
		return nil
	}
	return v.cv.Token()
}

// Identity is who an active token acts as, in the strings a reverse proxy
// passes on. Its strings are shared with the verification cache.
type Identity struct {
	TokenID string
	Kind    keyward.Kind
	OrgID   string
	OrgSlug string
	// UserID is the owner of a personal token; "" for org credentials.
	UserID string
	// Role is the role in force; "" for agent and probe tokens.
	Role    keyward.Role
	AgentID string
	// Permissions is what the token may do now, comma-separated.
	Permissions string
	// RateLimit is the token's own hourly budget; 0 means the default.
	RateLimit int
}

// Identity returns who the token acts as, without allocating; ok is
// false when it is not active.
func (v *Verdict) Identity() (id Identity, ok bool) {
	if !v.active {
		return id, false
	}
	cv := &v.cv
	org := cv.Org()
	return Identity{
		TokenID:     cv.TokenID(),
		Kind:        cv.Kind,
		OrgID:       org.ID,
		OrgSlug:     org.Slug,
		UserID:      cv.UserID(),
		Role:        cv.Role,
		AgentID:     cv.AgentID(),
		Permissions: cv.PermissionList,
		RateLimit:   cv.RateLimit(),
	}, true
}

// Judge verifies the token raw presented from ip for need: the one place
// where a verdict is reached, for /v1/verify and /v1/auth alike. It asks
// this node's verification cache (so the verification counts as a use of
// a valid token), then checks the org, kind, permission and scopes.
// Refusals are verdicts; the error is only for a failure to reach one.
func (s *Service) Judge(ctx context.Context, raw string, ip netip.Addr, userAgent string, need Need) (Verdict, error) {
	cv, err := s.Verdict(ctx, raw, ip, userAgent)
	if err != nil && cv.Code != verify.Malformed {
		return Verdict{}, err
	}
	switch {
	case cv.Code == verify.Malformed:
		return refusal(verify.Malformed, cv.Reason), nil
	case !cv.Found() || (need.OrgID != "" && cv.OrgID() != need.OrgID):
		// Unknown, or another org's: the same answer, whatever its state.
		return refusal(verify.NotFound, ""), nil
	}
	v := Verdict{Code: cv.Code, cv: cv, found: true, ip: ip, userAgent: userAgent}
	if cv.Code != verify.Valid {
		v.detail = cv.Reason
		v.Message = cv.Code.Message(v.detail)
		return v, nil
	}
	v.active = true
	switch {
	case len(need.Kinds) > 0 && !slices.Contains(need.Kinds, cv.Kind):
		v.refuse(verify.KindNotAdmitted, string(cv.Kind))
	case need.Permission != "" && !cv.Permissions.Has(need.Permission):
		v.refuse(verify.MissingPermission, need.Permission)
	case need.Entity != nil && !cv.ScopeAllows(need.Entity.Type, need.Entity.ID, need.Entity.Operation):
		v.refuse(verify.OutOfScope, fmt.Sprintf("%s on %s %s", need.Entity.Operation, need.Entity.Type, need.Entity.ID))
	default:
		v.Message = verify.Valid.Message("")
	}
	return v, nil
}

// refusal is the verdict on a string that names no token here.
func refusal(code verify.Code, detail string) Verdict {
	return Verdict{Code: code, Message: code.Message(detail), detail: detail}
}

// RateLimit turns the verdict into RateLimited, with detail: the token
// has spent its budget. The rate limits are counted by the caller of
// Judge or Verify.
func (v *Verdict) RateLimit(detail string) {
	v.refuse(verify.RateLimited, detail)
}

func (v *Verdict) refuse(code verify.Code, detail string) {
	v.Code, v.detail, v.Message = code, detail, code.Message(detail)
}

// VerifyRequest is what a resource server asks of /v1/verify.
type VerifyRequest struct {
	// Token is the presented token string.
	Token string
	// Permission, if set, must be held by the token.
	Permission string
	// Entity, if set, must be allowed by the token's scopes.
	Entity *Entity
	// IP is the address of the client that presented the token, as the
	// resource server saw it; when invalid, the verifying caller's address
	// is checked against the token's allowlist instead.
	IP netip.Addr
}

// Verify answers a resource server's question about a token presented to
// it. The caller must be an org API key with tokens:verify, and only tokens
// of its own org are found (any other is NOT_FOUND). The verification
// counts as a use of the token.
//
// Returns EFORBIDDEN when the caller is not such a key, EINVALID for a
// missing token, an unknown permission or a malformed entity.
func (s *Service) Verify(ctx context.Context, c *Caller, req VerifyRequest) (Verdict, error) {
	if c.Token == nil || c.Token.Kind != keyward.KindAPIKey {
		return Verdict{}, s.refused(c, &keyward.Error{Code: keyward.EFORBIDDEN, Message: "only an org API key may verify tokens", Detail: "create one with tokens:verify under /v1/orgs/{org}/keys"})
	}
	if err := s.require(c, keyward.PermTokensVerify); err != nil {
		return Verdict{}, err
	}
	if strings.TrimSpace(req.Token) == "" {
		return Verdict{}, invalid("token is required")
	}
	if req.Permission != "" && !s.perms.Known(req.Permission) {
		return Verdict{}, invalid("unknown permission: permission is not a permission of this installation")
	}
	if e := req.Entity; e != nil {
		if !keyward.ValidIdentifier(e.Type) {
			return Verdict{}, invalid("entity.entity_type must be 1 to 64 of a-z, 0-9, '_', '-', '.'")
		}
		if e.ID == "" || len(e.ID) > maxEntityLen || strings.ContainsFunc(e.ID, isControl) {
			return Verdict{}, invalid("entity.entity_id must be an id of 1 to %d characters", maxEntityLen)
		}
		if !slices.Contains(keyward.Operations, e.Operation) {
			return Verdict{}, invalid("unknown entity.operation: want one of %s", strings.Join(keyward.Operations, " "))
		}
	}
	ip := req.IP
	if !ip.IsValid() {
		ip, _ = netip.ParseAddr(c.IP)
	}
	return s.Judge(ctx, req.Token, ip, c.UserAgent, Need{Permission: req.Permission, Entity: req.Entity, OrgID: c.Org.ID})
}
