package service

import (
	"context"
	"net/netip"
	"time"

	"github.com/keyward/keyward"
)

// Authenticate establishes the caller who presents raw from ip. It checks
// the string's form and checksum before any look-up, then the token's
// status, its owner's current membership and role, the org's policy and the
// token's IP allowlist, and gathers the use in memory.
//
// Returns EUNAUTHORIZED for a malformed, unknown, revoked or expired token
// (and revokes a rotated-out token's whole family when it is used after
// its overlap), EFORBIDDEN when the token is blocked, and EIPNOTALLOWED
// when ip is outside its allowlist.
func (s *Service) Authenticate(ctx context.Context, raw string, ip netip.Addr, userAgent string) (*Caller, error) {
	if _, err := s.format.Parse(raw); err != nil {
		return nil, err
	}
	hash := keyward.HashToken(raw)
	now := s.Now()
	c := &Caller{IP: addrString(ip), UserAgent: userAgent}
	var reuse *keyward.Token
	err := s.store.View(ctx, func(tx Tx) error {
		t, err := tx.FindTokenByHash(ctx, hash)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return keyward.Errorf(keyward.EUNAUTHORIZED, "invalid token")
		} else if err != nil {
			return err
		}
		switch t.BaseStatus(now) {
		case keyward.StatusRevoked:
			return keyward.Errorf(keyward.EUNAUTHORIZED, "token has been revoked")
		case keyward.StatusExpired:
			if t.SupersededBy != "" {
				reuse = t
				return nil
			}
			return keyward.Errorf(keyward.EUNAUTHORIZED, "token has expired")
		}
		c.Token = t
		return s.fillCaller(ctx, tx, c)
	})
	if err != nil {
		return nil, err
	}
	if reuse != nil {
		if err := s.revokeFamily(ctx, reuse, c); err != nil {
			return nil, err
		}
		return nil, keyward.Errorf(keyward.EUNAUTHORIZED, "token was rotated out; reuse detected, every token of its family is revoked")
	}
	if ip.IsValid() && !c.Token.IPAllowed(ip) {
		return nil, keyward.Errorf(keyward.EIPNOTALLOWED, "token may not be used from this address")
	}
	s.usage.record(c.Token, now, c.IP)
	return c, nil
}

// fillCaller completes c from c.Token: org, owner, role in force, blocked
// state and permissions.
func (s *Service) fillCaller(ctx context.Context, tx Tx, c *Caller) error {
	t := c.Token
	org, err := tx.FindOrgByID(ctx, t.OrgID)
	if err != nil {
		return err
	}
	c.Org = org
	if err := s.deriveStatus(ctx, tx, t, s.Now()); err != nil {
		return err
	}
	if t.State == keyward.StatusBlocked {
		return &keyward.Error{Code: keyward.EFORBIDDEN, Message: "token is blocked", Detail: t.BlockedReason}
	}
	role := t.Role
	if t.Kind.Personal() {
		m, err := tx.FindMembership(ctx, t.OrgID, t.UserID)
		if err != nil {
			return keyward.Errorf(keyward.EUNAUTHORIZED, "token owner is no longer a member")
		}
		if c.User, err = tx.FindUserByID(ctx, t.UserID); err != nil {
			return err
		}
		role = m.Role
	}
	c.Role = role
	c.Permissions = s.effective(t, role)
	c.Source = keyward.SourceAPI
	return nil
}

// effective returns what t may do with role in force.
func (s *Service) effective(t *keyward.Token, role keyward.Role) keyward.Permissions {
	p := s.perms.ForKind(t.Kind, role)
	if t.Permissions != nil {
		p = p.Intersect(t.Permissions)
	}
	return p
}

// deriveStatus sets t.State and t.BlockedReason from t, its owner's
// membership and its org's policy at now.
func (s *Service) deriveStatus(ctx context.Context, tx Tx, t *keyward.Token, now time.Time) error {
	return s.deriveStatuses(ctx, tx, []*keyward.Token{t}, now)
}

// deriveStatuses derives the status of each token, reading each owner's
// membership and each org's policy once for the whole list.
func (s *Service) deriveStatuses(ctx context.Context, tx Tx, tokens []*keyward.Token, now time.Time) error {
	suspended := map[string]bool{}           // org/user -> suspended
	policies := map[string]*keyward.Policy{} // org -> policy
	for _, t := range tokens {
		t.State, t.BlockedReason = t.BaseStatus(now), ""
		if t.State != keyward.StatusActive {
			continue
		}
		if t.Kind.Personal() {
			key := t.OrgID + "/" + t.UserID
			susp, ok := suspended[key]
			if !ok {
				m, err := tx.FindMembership(ctx, t.OrgID, t.UserID)
				if err != nil && keyward.ErrorCode(err) != keyward.ENOTFOUND {
					return err
				}
				susp = m != nil && m.Suspended
				suspended[key] = susp
			}
			if susp {
				t.State, t.BlockedReason = keyward.StatusBlocked, "token owner is suspended"
				continue
			}
		}
		p, ok := policies[t.OrgID]
		if !ok {
			var err error
			if p, err = tx.FindPolicy(ctx, t.OrgID); err != nil {
				return err
			}
			policies[t.OrgID] = p
		}
		if breaks, why := p.Breaks(t); breaks {
			t.State, t.BlockedReason = keyward.StatusBlocked, why
		}
	}
	return nil
}

// revokeFamily answers the use of a rotated-out token after its overlap:
// every token of its family is revoked and the reuse is audited.
func (s *Service) revokeFamily(ctx context.Context, used *keyward.Token, c *Caller) error {
	return s.store.Update(ctx, func(tx Tx) error {
		family, err := tx.FindTokenFamily(ctx, used.FamilyID)
		if err != nil {
			return err
		}
		now := s.Now()
		var revoked []string
		for _, t := range family {
			if t.RevokedAt != nil {
				continue
			}
			t.RevokedAt, t.RevokedBy, t.RevokeReason = &now, "system", "rotated-out token reused"
			if err := tx.UpdateToken(ctx, t); err != nil {
				return err
			}
			if err := s.change(ctx, tx, keyward.ChangeToken, t.OrgID, t.ID, t.UserID, nil); err != nil {
				return err
			}
			revoked = append(revoked, t.ID)
		}
		return s.audit(ctx, tx, c, used.OrgID, keyward.ActionTokenReuseDetected, used.ID,
			map[string]any{"revoked_tokens": revoked, "superseded_by": used.SupersededBy})
	})
}

func addrString(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.Unmap().String()
}
