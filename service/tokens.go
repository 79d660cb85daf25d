package service

import (
	"context"
	"slices"

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
