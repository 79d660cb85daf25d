package service

import (
	"context"
	"net/netip"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

// Authenticate establishes the caller who presents raw from ip. It checks
// the string's form and checksum before any look-up, then, from this
// node's verification cache (reading the store on a miss), the token's
// status, its owner's current membership and role, the org's policy and
// the token's IP allowlist, and gathers the use in memory.
//
// Returns EUNAUTHORIZED for a malformed, unknown, revoked or expired token
// (and revokes a rotated-out token's whole family when it is used after
// its overlap), EFORBIDDEN when the token is blocked, and EIPNOTALLOWED
// when ip is outside its allowlist.
func (s *Service) Authenticate(ctx context.Context, raw string, ip netip.Addr, userAgent string) (*Caller, error) {
	v, err := s.Verdict(ctx, raw, ip, userAgent)
	if err != nil && v.Code != verify.Malformed {
		return nil, err
	}
	if err := v.Code.Err(v.Reason); err != nil {
		return nil, err
	}
	return callerOf(&v, ip, userAgent), nil
}

// callerOf is the caller a valid verdict establishes.
func callerOf(v *verify.Verdict, ip netip.Addr, userAgent string) *Caller {
	return &Caller{
		IP:          addrString(ip),
		UserAgent:   userAgent,
		Token:       v.Token(),
		Org:         v.Org(),
		User:        v.User(),
		Role:        v.Role,
		Permissions: v.Permissions,
		Source:      keyward.SourceAPI,
	}
}

// Verdict answers for the token string raw presented from ip, from this
// node's verification cache: the verdict's Code says whether the token is
// valid, and if not why. It does what a verdict calls for: a rotated-out
// token used after its overlap revokes its whole family (Code Reused), and
// the use of a valid token is gathered in memory. The error is set for a
// malformed string (EUNAUTHORIZED, saying what is wrong, as the verdict's
// Reason does) and a storage failure.
func (s *Service) Verdict(ctx context.Context, raw string, ip netip.Addr, userAgent string) (verify.Verdict, error) {
	now := s.Now()
	v, err := s.cache.Verify(ctx, raw, ip, now)
	if err != nil {
		return v, err
	}
	switch v.Code {
	case verify.Reused:
		c := &Caller{IP: addrString(ip), UserAgent: userAgent}
		if err := s.revokeFamily(ctx, v.Token(), c); err != nil {
			return v, err
		}
	case verify.Valid:
		s.usage.Record(v.TokenID(), v.OrgID(), v.UserID(), v.NeverUsed(), now, ip)
	}
	return v, nil
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
	return s.update(ctx, func(tx Tx) error {
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
			if err := s.change(ctx, tx, keyward.ChangeToken, t.OrgID, t.ID, t.UserID, t.Hash[:]); err != nil {
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
