package service

import (
	"context"
	"net/mail"
	"strings"

	"github.com/keyward/keyward"
)

// Member is a membership with its user.
type Member struct {
	keyward.Membership
	User *keyward.User
}

// MemberRequest invites a member.
type MemberRequest struct {
	Email string
	Name  string
	Role  keyward.Role
}

// MemberUpdate changes a member's role.
type MemberUpdate struct {
	Role keyward.Role
}

// FindMembers lists the caller's org's members, oldest first, after the
// cursor. Returns EFORBIDDEN without members:read.
func (s *Service) FindMembers(ctx context.Context, c *Caller, cursor string, limit int) ([]*Member, string, error) {
	if err := s.require(c, keyward.PermMembersRead); err != nil {
		return nil, "", err
	}
	limit = keyward.PageSize(limit)
	var out []*Member
	var next string
	err := s.store.View(ctx, func(tx Tx) error {
		ms, err := tx.FindMemberships(ctx, c.Org.ID, "", cursor, limit+1)
		if err != nil {
			return err
		}
		if len(ms) > limit {
			ms = ms[:limit]
			next = ms[limit-1].UserID
		}
		out = make([]*Member, 0, len(ms))
		for _, m := range ms {
			u, err := tx.FindUserByID(ctx, m.UserID)
			if err != nil {
				return err
			}
			out = append(out, &Member{Membership: *m, User: u})
		}
		return nil
	})
	return out, next, err
}

// findMember resolves ref (a user id or email) to a member of the caller's
// org. Returns ENOTFOUND.
func (s *Service) findMember(ctx context.Context, tx Tx, c *Caller, ref string) (*Member, error) {
	var u *keyward.User
	var err error
	if strings.HasPrefix(ref, keyward.IDPrefixUser) {
		u, err = tx.FindUserByID(ctx, ref)
	} else {
		u, err = tx.FindUserByEmail(ctx, ref)
	}
	if err != nil {
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return nil, keyward.ErrNotFound("member")
		}
		return nil, err
	}
	m, err := tx.FindMembership(ctx, c.Org.ID, u.ID)
	if err != nil {
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return nil, keyward.ErrNotFound("member")
		}
		return nil, err
	}
	return &Member{Membership: *m, User: u}, nil
}

// FindMember returns one member of the caller's org by user id or email.
func (s *Service) FindMember(ctx context.Context, c *Caller, ref string) (*Member, error) {
	if err := s.require(c, keyward.PermMembersRead); err != nil {
		return nil, err
	}
	var m *Member
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		m, err = s.findMember(ctx, tx, c, ref)
		return err
	})
	return m, err
}

// canManage checks that c may act on a member holding role, or give role:
// only owners touch owners.
func (s *Service) canManage(c *Caller, role keyward.Role) error {
	if err := s.require(c, keyward.PermMembersManage); err != nil {
		return err
	}
	if !c.Operator && role.Rank() > c.Role.Rank() {
		return s.refused(c, keyward.Errorf(keyward.EFORBIDDEN, "only an owner may manage owners"))
	}
	return nil
}

func validateEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", invalid("email is not an email address")
	}
	return strings.ToLower(e), nil
}

// lastOwner refuses a change that would leave the org with no active
// owner.
func lastOwner(ctx context.Context, tx Tx, m *Member) error {
	if m.Role != keyward.RoleOwner || m.Suspended {
		return nil
	}
	n, err := tx.CountOwners(ctx, m.OrgID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return keyward.Errorf(keyward.ECONFLICT, "the org's last owner cannot be removed, demoted or suspended")
	}
	return nil
}

// changeMember runs fn on member ref of the caller's org in one write
// transaction, after the checks every member change shares. fn makes its
// change in tx and returns the audit action and details, or "" when
// nothing changed; changeMember then records the change-feed entry and
// the audit event.
func (s *Service) changeMember(ctx context.Context, c *Caller, ref string, fn func(tx Tx, m *Member) (string, map[string]any, error)) (*Member, error) {
	if err := s.canManage(c, keyward.RoleViewer); err != nil {
		return nil, err
	}
	var out *Member
	err := s.update(ctx, func(tx Tx) error {
		m, err := s.findMember(ctx, tx, c, ref)
		if err != nil {
			return err
		}
		if err := s.canManage(c, m.Role); err != nil {
			return err
		}
		out = m
		action, details, err := fn(tx, m)
		if err != nil || action == "" {
			return err
		}
		if err := s.change(ctx, tx, keyward.ChangeMember, m.OrgID, "", m.UserID, nil); err != nil {
			return err
		}
		details["email"] = m.User.Email
		return s.audit(ctx, tx, c, m.OrgID, action, m.UserID, details)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateMember changes a member's role; it takes effect on the member's
// very next request.
func (s *Service) UpdateMember(ctx context.Context, c *Caller, ref string, upd MemberUpdate) (*Member, error) {
	if !upd.Role.Valid() {
		return nil, invalid("unknown role: want one of owner, admin, member, viewer")
	}
	if err := s.canManage(c, upd.Role); err != nil {
		return nil, err
	}
	if err := s.permitRole(c, upd.Role); err != nil {
		return nil, err
	}
	return s.changeMember(ctx, c, ref, func(tx Tx, m *Member) (string, map[string]any, error) {
		if m.Role == upd.Role {
			return "", nil, nil
		}
		if upd.Role != keyward.RoleOwner {
			if err := lastOwner(ctx, tx, m); err != nil {
				return "", nil, err
			}
		}
		from := m.Role
		m.Role = upd.Role
		if err := tx.UpdateMembership(ctx, &m.Membership); err != nil {
			return "", nil, err
		}
		return keyward.ActionMemberRoleChanged, map[string]any{"from": from, "to": m.Role}, nil
	})
}

// SuspendMember suspends or unsuspends a member in the caller's org. While
// suspended, the member's tokens are blocked.
func (s *Service) SuspendMember(ctx context.Context, c *Caller, ref string, suspend bool) (*Member, error) {
	return s.changeMember(ctx, c, ref, func(tx Tx, m *Member) (string, map[string]any, error) {
		if m.Suspended == suspend {
			return "", nil, nil
		}
		if !suspend {
			// Unsuspending gives the member's role back to their tokens.
			if err := s.permitRole(c, m.Role); err != nil {
				return "", nil, err
			}
		}
		if suspend {
			if c.User != nil && c.User.ID == m.UserID {
				return "", nil, keyward.Errorf(keyward.ECONFLICT, "you cannot suspend yourself")
			}
			if err := lastOwner(ctx, tx, m); err != nil {
				return "", nil, err
			}
		}
		m.Suspended = suspend
		if err := tx.UpdateMembership(ctx, &m.Membership); err != nil {
			return "", nil, err
		}
		if suspend {
			return keyward.ActionMemberSuspended, map[string]any{}, nil
		}
		return keyward.ActionMemberUnsuspended, map[string]any{}, nil
	})
}

// RemoveMember removes a member from the caller's org and, in the same
// transaction, revokes all their PATs and OAuth tokens in that org. Their
// tokens in other orgs and the org keys they created are untouched. It
// returns the member and the ids of the revoked tokens.
func (s *Service) RemoveMember(ctx context.Context, c *Caller, ref string) (*Member, []string, error) {
	var revoked []string
	m, err := s.changeMember(ctx, c, ref, func(tx Tx, m *Member) (string, map[string]any, error) {
		if err := lastOwner(ctx, tx, m); err != nil {
			return "", nil, err
		}
		var err error
		revoked, err = tx.RevokeUserTokens(ctx, m.OrgID, m.UserID, []keyward.Kind{keyward.KindPAT, keyward.KindOAuth}, s.Now(), c.actor(), "member removed")
		if err != nil {
			return "", nil, err
		}
		if revoked == nil {
			revoked = []string{}
		}
		for _, id := range revoked {
			if err := s.change(ctx, tx, keyward.ChangeToken, m.OrgID, id, m.UserID, nil); err != nil {
				return "", nil, err
			}
		}
		if err := tx.DeleteMembership(ctx, m.OrgID, m.UserID); err != nil {
			return "", nil, err
		}
		return keyward.ActionMemberRemoved, map[string]any{"role": m.Role, "revoked_tokens": revoked}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return m, revoked, nil
}

// CountMemberTokens returns how many active personal tokens a member holds
// in the caller's org: what removing them would revoke.
func (s *Service) CountMemberTokens(ctx context.Context, c *Caller, ref string) (int, error) {
	if err := s.require(c, keyward.PermMembersManage); err != nil {
		return 0, err
	}
	n := 0
	err := s.store.View(ctx, func(tx Tx) error {
		m, err := s.findMember(ctx, tx, c, ref)
		if err != nil {
			return err
		}
		f := keyward.TokenFilter{OrgID: m.OrgID, UserID: m.UserID, Kinds: []keyward.Kind{keyward.KindPAT, keyward.KindOAuth}, Status: keyward.StatusActive, Now: s.Now(), Limit: keyward.MaxPageSize}
		for {
			page, next, err := tx.FindTokens(ctx, f)
			if err != nil {
				return err
			}
			n += len(page)
			if next == "" {
				return nil
			}
			f.Cursor = next
		}
	})
	return n, err
}
