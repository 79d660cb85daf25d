package service

import (
	"context"
	"slices"

	"github.com/keyward/keyward"
)

// CreateToken mints a credential in set: a PAT (or OAuth token) for the
// caller, or an org API key, agent or probe token. It returns the token and
// its secret, which is never stored nor shown again.
//
// Returns EFORBIDDEN without the permission, EINVALID for bad input or a
// request that org policy does not allow.
func (s *Service) CreateToken(ctx context.Context, c *Caller, set TokenSet, req TokenRequest) (*keyward.Token, string, error) {
	t, secret, err := s.newToken(c, set, req)
	if err != nil {
		return nil, "", err
	}
	err = s.update(ctx, func(tx Tx) error { return s.insertToken(ctx, tx, c, t) })
	if err != nil {
		return nil, "", err
	}
	t.State = keyward.StatusActive
	return t, secret, nil
}

// newToken checks a request to mint in set and returns the token it would
// make, and its secret; nothing is stored yet.
func (s *Service) newToken(c *Caller, set TokenSet, req TokenRequest) (*keyward.Token, string, error) {
	if err := s.require(c, set.perms(true)); err != nil {
		return nil, "", err
	}
	kind := req.Kind
	if kind == "" {
		kind = set.kinds()[0]
	}
	if !slices.Contains(set.kinds(), kind) {
		return nil, "", invalid("this kind cannot be minted here; want one of %v", set.kinds())
	}
	if set == Personal && c.User == nil {
		return nil, "", s.refused(c, keyward.Errorf(keyward.EFORBIDDEN, "org credentials have no personal tokens"))
	}
	now := s.Now()
	t := &keyward.Token{
		ID:        keyward.NewID(keyward.IDPrefixToken),
		Kind:      kind,
		OrgID:     c.Org.ID,
		CreatedBy: c.actor(),
		Source:    c.Source,
		CreatedAt: now,
		AgentID:   req.AgentID,
		RateLimit: req.RateLimit,
	}
	t.FamilyID = t.ID
	if req.Source != "" {
		t.Source = req.Source
	}
	if t.Source == "" {
		t.Source = keyward.SourceUnknown
	}
	if set == Personal {
		t.UserID = c.User.ID
	}
	var err error
	if t.Name, err = validateName(req.Name); err != nil {
		return nil, "", err
	}
	if t.Description, err = validateDescription(req.Description); err != nil {
		return nil, "", err
	}
	if t.ExpiresAt, err = expiry(req.ExpiresIn, req.ExpiresAt, now); err != nil {
		return nil, "", err
	}
	if err := s.checkGrant(c, t, req); err != nil {
		return nil, "", err
	}
	for _, r := range req.Scopes {
		sc, err := validateScope(r)
		if err != nil {
			return nil, "", err
		}
		t.Scopes = append(t.Scopes, sc)
	}
	if len(t.Scopes) > maxScopes {
		return nil, "", invalid("at most %d scopes", maxScopes)
	}
	if t.AllowedCIDRs, err = validateCIDRs(req.AllowedCIDRs); err != nil {
		return nil, "", err
	}
	if err := s.checkRateLimit(c, req.RateLimit); err != nil {
		return nil, "", err
	}
	s.inherit(c, t, req)
	secret := s.format.New(kind)
	t.Hash, t.Display = keyward.HashToken(secret), keyward.DisplayToken(secret)
	t.Usage = make([]int, keyward.UsageDays)
	return t, secret, nil
}

// insertToken stores a token from newToken in tx, with its change-feed
// entry and its audit event, if its org's policy allows it and c's power
// covers it.
func (s *Service) insertToken(ctx context.Context, tx Tx, c *Caller, t *keyward.Token) error {
	if err := s.checkPolicy(ctx, tx, t); err != nil {
		return err
	}
	if err := s.permit(c, t); err != nil {
		return err
	}
	if err := tx.CreateToken(ctx, t); err != nil {
		return err
	}
	if err := s.change(ctx, tx, keyward.ChangeToken, t.OrgID, t.ID, t.UserID, t.Hash[:]); err != nil {
		return err
	}
	return s.audit(ctx, tx, c, t.OrgID, keyward.ActionTokenCreated, t.ID, tokenDetails(t))
}

// checkGrant reads the new token's role and permission subset from the
// request and checks them against what its kind (and, for a personal
// token, its owner's role) can hold at all; permit then checks the result
// against the caller's power.
func (s *Service) checkGrant(c *Caller, t *keyward.Token, req TokenRequest) error {
	switch t.Kind {
	case keyward.KindAPIKey:
		role := req.Role
		if role == "" {
			role = c.Role
			if c.Operator {
				role = keyward.RoleMember
			}
		}
		if !role.Valid() {
			return invalid("unknown role: want one of owner, admin, member, viewer")
		}
		t.Role = role
	case keyward.KindAgent:
		if req.AgentID == "" {
			return invalid("agent_id is required for an agent token")
		}
	}
	if req.Role != "" && t.Kind != keyward.KindAPIKey {
		return invalid("only API keys have a role of their own")
	}
	if t.Kind != keyward.KindAgent && req.AgentID != "" {
		return invalid("only agent tokens have an agent_id")
	}
	ceiling := s.perms.ForKind(t.Kind, ownerRole(c, t))
	if req.Permissions == nil {
		return nil
	}
	for i, p := range req.Permissions {
		if !s.perms.Known(p) {
			return invalid("unknown permission: permissions[%d] is not a permission of this installation", i)
		}
		if !ceiling.Has(p) {
			return s.refused(c, keyward.Errorf(keyward.EFORBIDDEN, "permission %q is beyond what this %s may hold", p, t.Kind))
		}
	}
	t.Permissions = keyward.NewPermissions(req.Permissions...)
	return nil
}

// checkPolicy refuses a token that its org's policy does not allow.
func (s *Service) checkPolicy(ctx context.Context, tx Tx, t *keyward.Token) error {
	p, err := tx.FindPolicy(ctx, t.OrgID)
	if err != nil {
		return err
	}
	if breaks, why := p.Breaks(t); breaks {
		return invalid("%s", why)
	}
	return nil
}

// tokenDetails is what the audit log records of a token: never its secret
// nor its hash.
func tokenDetails(t *keyward.Token) map[string]any {
	d := map[string]any{"name": t.Name, "kind": t.Kind, "display": t.Display, "source": t.Source}
	if t.ExpiresAt != nil {
		d["expires_at"] = t.ExpiresAt
	}
	if t.Permissions != nil {
		d["permissions"] = t.Permissions
	}
	if t.Role != "" {
		d["role"] = t.Role
	}
	return d
}
