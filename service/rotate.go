package service

import (
	"context"
	"slices"
	"time"

	"github.com/keyward/keyward"
)

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
