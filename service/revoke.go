package service

import (
	"context"

	"github.com/keyward/keyward"
)

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
