package service

import (
	"context"
	"slices"
	"time"

	"github.com/keyward/keyward"
)

// TokenSet says which credentials an operation addresses: the caller's own
// personal tokens (/v1/tokens) or the org's credentials
// (/v1/orgs/{org}/keys). A token outside the set answers ENOTFOUND, byte
// for byte like one that does not exist.
type TokenSet int

// The token sets.
const (
	// Personal: the caller's own PATs and OAuth tokens in the caller's org.
	// Needs tokens:read to see, tokens:write to change.
	Personal TokenSet = iota
	// OrgKeys: the org's API keys, agent and probe tokens. Needs
	// apikeys:manage.
	OrgKeys
)

func (set TokenSet) perms(write bool) string {
	switch {
	case set == OrgKeys:
		return keyward.PermAPIKeysManage
	case write:
		return keyward.PermTokensWrite
	}
	return keyward.PermTokensRead
}

func (set TokenSet) kinds() []keyward.Kind {
	if set == OrgKeys {
		return keyward.OrgKinds
	}
	return []keyward.Kind{keyward.KindPAT, keyward.KindOAuth}
}

// holds reports whether t belongs to the set as seen by c.
func (set TokenSet) holds(c *Caller, t *keyward.Token) bool {
	if c.Org == nil || t.OrgID != c.Org.ID || !slices.Contains(set.kinds(), t.Kind) {
		return false
	}
	if set == Personal {
		return c.User != nil && t.UserID == c.User.ID
	}
	return true
}

// findInSet reads token id if it is in set for c; ENOTFOUND otherwise.
func (s *Service) findInSet(ctx context.Context, tx Tx, c *Caller, set TokenSet, id string) (*keyward.Token, error) {
	t, err := tx.FindTokenByID(ctx, id)
	if err != nil {
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return nil, keyward.ErrNotFound("token")
		}
		return nil, err
	}
	if !set.holds(c, t) {
		return nil, keyward.ErrNotFound("token")
	}
	return t, nil
}

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

// FindTokens lists the tokens of set, newest first, filtered by status,
// with each token's derived status and daily usage. Returns EFORBIDDEN without the
// permission and EINVALID for a bad cursor or status.
func (s *Service) FindTokens(ctx context.Context, c *Caller, set TokenSet, f keyward.TokenFilter) ([]*keyward.Token, string, error) {
	if err := s.require(c, set.perms(false)); err != nil {
		return nil, "", err
	}
	switch f.Status {
	case "", "all", keyward.StatusActive, keyward.StatusExpired, keyward.StatusRevoked:
	default:
		return nil, "", invalid("unknown status: want active, expired, revoked or all")
	}
	if set == Personal && c.User == nil {
		return []*keyward.Token{}, "", nil
	}
	f.OrgID, f.UserID = c.Org.ID, ""
	if set == Personal {
		f.UserID = c.User.ID
	}
	kinds := set.kinds()
	if len(f.Kinds) > 0 {
		for _, k := range f.Kinds {
			if !slices.Contains(kinds, k) {
				return nil, "", invalid("a kind asked for is not listed here; want %v", kinds)
			}
		}
	} else {
		f.Kinds = kinds
	}
	f.Now, f.Limit = s.Now(), keyward.PageSize(f.Limit)
	var tokens []*keyward.Token
	var next string
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if tokens, next, err = tx.FindTokens(ctx, f); err != nil {
			return err
		}
		if err := s.nameSources(ctx, tx, tokens); err != nil {
			return err
		}
		if err := s.fillUsage(ctx, tx, tokens, f.Now); err != nil {
			return err
		}
		return s.deriveStatuses(ctx, tx, tokens, f.Now)
	})
	return tokens, next, err
}

// FindTokenByID returns one token of set, with its daily usage. Returns ENOTFOUND if it does not
// exist or is not in the set, EFORBIDDEN without the permission.
func (s *Service) FindTokenByID(ctx context.Context, c *Caller, set TokenSet, id string) (*keyward.Token, error) {
	if err := s.require(c, set.perms(false)); err != nil {
		return nil, err
	}
	var t *keyward.Token
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if t, err = s.findInSet(ctx, tx, c, set, id); err != nil {
			return err
		}
		if err := s.nameSources(ctx, tx, []*keyward.Token{t}); err != nil {
			return err
		}
		now := s.Now()
		if err := s.fillUsage(ctx, tx, []*keyward.Token{t}, now); err != nil {
			return err
		}
		return s.deriveStatus(ctx, tx, t, now)
	})
	return t, err
}

// modify runs fn on token id of set in one write transaction, then derives
// its status. fn returns the audit action and details, or "" for none.
func (s *Service) modify(ctx context.Context, c *Caller, set TokenSet, id string, fn func(tx Tx, t *keyward.Token) (action string, details any, err error)) (*keyward.Token, error) {
	if err := s.require(c, set.perms(true)); err != nil {
		return nil, err
	}
	var t *keyward.Token
	err := s.update(ctx, func(tx Tx) error {
		var err error
		if t, err = s.findInSet(ctx, tx, c, set, id); err != nil {
			return err
		}
		if err := s.nameSources(ctx, tx, []*keyward.Token{t}); err != nil {
			return err
		}
		oldHash := t.Hash
		action, details, err := fn(tx, t)
		if err != nil || action == "" {
			return err
		}
		if err := tx.UpdateToken(ctx, t); err != nil {
			return err
		}
		if err := s.change(ctx, tx, keyward.ChangeToken, t.OrgID, t.ID, t.UserID, t.Hash[:]); err != nil {
			return err
		}
		if t.Hash != oldHash {
			// A new secret: nodes must also forget the old one.
			if err := s.change(ctx, tx, keyward.ChangeToken, t.OrgID, t.ID, t.UserID, oldHash[:]); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, c, t.OrgID, action, t.ID, details); err != nil {
			return err
		}
		return s.deriveStatus(ctx, tx, t, s.Now())
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateToken renames a token or changes its description.
func (s *Service) UpdateToken(ctx context.Context, c *Caller, set TokenSet, id string, upd TokenUpdate) (*keyward.Token, error) {
	return s.modify(ctx, c, set, id, func(tx Tx, t *keyward.Token) (string, any, error) {
		changed := map[string]any{}
		if upd.Name != nil {
			name, err := validateName(*upd.Name)
			if err != nil {
				return "", nil, err
			}
			if name != t.Name {
				changed["name"] = map[string]string{"from": t.Name, "to": name}
				t.Name = name
			}
		}
		if upd.Description != nil {
			d, err := validateDescription(*upd.Description)
			if err != nil {
				return "", nil, err
			}
			if d != t.Description {
				changed["description"] = true
				t.Description = d
			}
		}
		if len(changed) == 0 {
			return "", nil, s.deriveStatus(ctx, tx, t, s.Now())
		}
		return keyward.ActionTokenUpdated, changed, nil
	})
}

// RevokeToken revokes a token at once. Revoking a revoked token changes
// nothing and succeeds.
func (s *Service) RevokeToken(ctx context.Context, c *Caller, set TokenSet, id, reason string) (*keyward.Token, error) {
	if len(reason) > maxDescriptionLen {
		return nil, invalid("reason is longer than %d characters", maxDescriptionLen)
	}
	return s.modify(ctx, c, set, id, func(tx Tx, t *keyward.Token) (string, any, error) {
		if t.RevokedAt != nil {
			return "", nil, s.deriveStatus(ctx, tx, t, s.Now())
		}
		now := s.Now()
		t.RevokedAt, t.RevokedBy, t.RevokeReason = &now, c.actor(), reason
		return keyward.ActionTokenRevoked, map[string]any{"name": t.Name, "display": t.Display, "reason": reason}, nil
	})
}

// RegenerateRequest gives the new validity of a regenerated token.
type RegenerateRequest struct {
	ExpiresIn string
	ExpiresAt *time.Time
	// NoExpiry asks for a token that does not expire, where policy allows;
	// otherwise an empty request keeps the token's former lifetime.
	NoExpiry bool
}

// RegenerateToken gives a token a new secret and a new validity, keeping
// its id, name, description, permissions and scopes; the old secret dies at
// once. It works on active, revoked and expired tokens, and returns the new
// secret. Returns ECONFLICT for a token rotated out (it keeps its place in
// its family), EPOWER if the regenerated token would have more power than
// the caller.
func (s *Service) RegenerateToken(ctx context.Context, c *Caller, set TokenSet, id string, req RegenerateRequest) (*keyward.Token, string, error) {
	var secret string
	t, err := s.modify(ctx, c, set, id, func(tx Tx, t *keyward.Token) (string, any, error) {
		if err := superseded(t); err != nil {
			return "", nil, err
		}
		now := s.Now()
		exp, err := expiry(req.ExpiresIn, req.ExpiresAt, now)
		if err != nil {
			return "", nil, err
		}
		if exp == nil && !req.NoExpiry && t.ExpiresAt != nil {
			e := keptLifetime(now, t.CreatedAt, *t.ExpiresAt)
			exp = &e
		}
		oldDisplay := t.Display
		secret = s.format.New(t.Kind)
		t.Hash, t.Display = keyward.HashToken(secret), keyward.DisplayToken(secret)
		t.ExpiresAt = exp
		t.CreatedAt = now
		t.RevokedAt, t.RevokedBy, t.RevokeReason = nil, "", ""
		t.Generation++
		if err := s.permit(c, t); err != nil {
			return "", nil, err
		}
		if err := s.checkPolicy(ctx, tx, t); err != nil {
			return "", nil, err
		}
		return keyward.ActionTokenRegenerated, map[string]any{
			"name": t.Name, "old_display": oldDisplay, "display": t.Display,
			"generation": t.Generation, "expires_at": t.ExpiresAt,
		}, nil
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// superseded refuses to give a rotated-out token a new secret or a second
// successor: a family has one live head.
func superseded(t *keyward.Token) error {
	if t.SupersededBy == "" {
		return nil
	}
	return &keyward.Error{
		Code:    keyward.ECONFLICT,
		Message: "this token was rotated out and has a successor; rotate or regenerate " + t.SupersededBy + " instead",
		Detail:  "a token has at most one successor",
	}
}

// RotateToken mints a new token with the old one's settings; the old one
// keeps working for overlap (0 to 7 days), then expires. Using it after
// that revokes the whole family. Returns the new token and its secret;
// ECONFLICT if the token is not active or already has a successor (of
// concurrent rotations exactly one wins: the store serialises them), and
// EPOWER if the new token would have more power than the caller.
func (s *Service) RotateToken(ctx context.Context, c *Caller, set TokenSet, id string, overlap time.Duration, req RegenerateRequest) (*keyward.Token, string, error) {
	if overlap < 0 || overlap > MaxRotateOverlap {
		return nil, "", invalid("overlap must be between 0 and 7d")
	}
	var secret string
	var fresh *keyward.Token
	_, err := s.modify(ctx, c, set, id, func(tx Tx, old *keyward.Token) (string, any, error) {
		now := s.Now()
		if err := s.deriveStatus(ctx, tx, old, now); err != nil {
			return "", nil, err
		}
		if err := superseded(old); err != nil {
			return "", nil, err
		}
		if old.State != keyward.StatusActive && old.State != keyward.StatusBlocked {
			return "", nil, keyward.Errorf(keyward.ECONFLICT, "only an active token can be rotated; regenerate a %s one instead", old.State)
		}
		exp, err := expiry(req.ExpiresIn, req.ExpiresAt, now)
		if err != nil {
			return "", nil, err
		}
		if exp == nil && !req.NoExpiry && old.ExpiresAt != nil {
			e := keptLifetime(now, old.CreatedAt, *old.ExpiresAt)
			exp = &e
		}
		n := *old
		n.ID = keyward.NewID(keyward.IDPrefixToken)
		n.CreatedAt, n.CreatedBy, n.ExpiresAt = now, c.actor(), exp
		n.LastUsedAt, n.LastUsedIP, n.Generation, n.SupersededBy = nil, "", 0, ""
		n.Scopes = slices.Clone(old.Scopes)
		secret = s.format.New(n.Kind)
		n.Hash, n.Display = keyward.HashToken(secret), keyward.DisplayToken(secret)
		if err := s.permit(c, &n); err != nil {
			return "", nil, err
		}
		if err := s.checkPolicy(ctx, tx, &n); err != nil {
			return "", nil, err
		}
		if err := tx.CreateToken(ctx, &n); err != nil {
			return "", nil, err
		}
		if err := s.change(ctx, tx, keyward.ChangeToken, n.OrgID, n.ID, n.UserID, n.Hash[:]); err != nil {
			return "", nil, err
		}
		end := now.Add(overlap)
		if old.ExpiresAt == nil || end.Before(*old.ExpiresAt) {
			old.ExpiresAt = &end
		}
		old.SupersededBy = n.ID
		fresh = &n
		return keyward.ActionTokenRotated, map[string]any{
			"name": old.Name, "new_token": n.ID, "display": n.Display,
			"overlap": keyward.FormatDuration(overlap), "old_expires_at": old.ExpiresAt,
		}, nil
	})
	if err != nil {
		return nil, "", err
	}
	fresh.State = keyward.StatusActive
	fresh.Usage = make([]int, keyward.UsageDays)
	return fresh, secret, nil
}

// DeleteToken removes a token from lists; the audit log keeps its history.
func (s *Service) DeleteToken(ctx context.Context, c *Caller, set TokenSet, id string) error {
	if err := s.require(c, set.perms(true)); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx) error {
		t, err := s.findInSet(ctx, tx, c, set, id)
		if err != nil {
			return err
		}
		return s.deleteToken(ctx, tx, c, t)
	})
}

func (s *Service) deleteToken(ctx context.Context, tx Tx, c *Caller, t *keyward.Token) error {
	if err := tx.DeleteToken(ctx, t.ID); err != nil {
		return err
	}
	if err := s.change(ctx, tx, keyward.ChangeToken, t.OrgID, t.ID, t.UserID, t.Hash[:]); err != nil {
		return err
	}
	return s.audit(ctx, tx, c, t.OrgID, keyward.ActionTokenDeleted, t.ID, map[string]any{"name": t.Name, "display": t.Display, "kind": t.Kind})
}

// DeleteAllTokens deletes every token of set in the caller's org and
// returns their ids.
func (s *Service) DeleteAllTokens(ctx context.Context, c *Caller, set TokenSet) ([]string, error) {
	if err := s.require(c, set.perms(true)); err != nil {
		return nil, err
	}
	if set == Personal && c.User == nil {
		return []string{}, nil
	}
	deleted := []string{}
	err := s.update(ctx, func(tx Tx) error {
		f := keyward.TokenFilter{OrgID: c.Org.ID, Kinds: set.kinds(), Limit: keyward.MaxPageSize, Now: s.Now()}
		if set == Personal {
			f.UserID = c.User.ID
		}
		for {
			page, next, err := tx.FindTokens(ctx, f)
			if err != nil {
				return err
			}
			for _, t := range page {
				if err := s.deleteToken(ctx, tx, c, t); err != nil {
					return err
				}
				deleted = append(deleted, t.ID)
			}
			if next == "" {
				return nil
			}
			f.Cursor = next
		}
	})
	return deleted, err
}

// AddScope adds a scope to a token and returns the token.
func (s *Service) AddScope(ctx context.Context, c *Caller, set TokenSet, id string, r ScopeRequest) (*keyward.Token, error) {
	sc, err := validateScope(r)
	if err != nil {
		return nil, err
	}
	return s.modify(ctx, c, set, id, func(tx Tx, t *keyward.Token) (string, any, error) {
		if len(t.Scopes) >= maxScopes {
			return "", nil, invalid("at most %d scopes", maxScopes)
		}
		t.Scopes = append(t.Scopes, sc)
		if err := s.permit(c, t); err != nil {
			return "", nil, err
		}
		return keyward.ActionTokenScopeAdded, map[string]any{"scope": sc}, nil
	})
}

// RemoveScope removes one scope by id, or every scope when scopeID is "".
// Returns ENOTFOUND for a scope the token does not have.
func (s *Service) RemoveScope(ctx context.Context, c *Caller, set TokenSet, id, scopeID string) (*keyward.Token, error) {
	return s.modify(ctx, c, set, id, func(tx Tx, t *keyward.Token) (string, any, error) {
		var removed []keyward.Scope
		kept := []keyward.Scope{}
		for _, sc := range t.Scopes {
			if scopeID == "" || sc.ID == scopeID {
				removed = append(removed, sc)
			} else {
				kept = append(kept, sc)
			}
		}
		if scopeID != "" && len(removed) == 0 {
			return "", nil, keyward.ErrNotFound("scope")
		}
		if len(removed) == 0 {
			return "", nil, s.deriveStatus(ctx, tx, t, s.Now())
		}
		t.Scopes = kept
		if err := s.permit(c, t); err != nil {
			return "", nil, err
		}
		return keyward.ActionTokenScopeRemoved, map[string]any{"scopes": removed}, nil
	})
}
