package service

import (
	"context"

	"github.com/keyward/keyward"
)

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
