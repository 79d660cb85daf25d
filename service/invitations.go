package service

import (
	"context"
	"strings"
	"time"

	"github.com/keyward/keyward"
)

// InvitationTTL is how long an invitation's link can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Invite is an invitation as AddMember made it, with the token of its
// link (/invite/{token}), shown this once.
type Invite struct {
	*keyward.Invitation
	Token string
}

// AddMember invites an email address into the caller's org with a role.
// It makes no account and no membership, whether or not an account has
// the address: the person accepts from the dashboard (AcceptInvitation,
// AcceptInvitationNewAccount), so that nobody receives a link that acts
// on an account outside their org, and the answer is the same for an
// address with an account and one without. Inviting an address again
// replaces its pending invitation and its link.
//
// Returns ECONFLICT if the address is already a member, EFORBIDDEN or
// EPOWER when the caller may not give the role.
func (s *Service) AddMember(ctx context.Context, c *Caller, req MemberRequest) (*Invite, error) {
	if req.Role == "" {
		req.Role = keyward.RoleMember
	}
	if !req.Role.Valid() {
		return nil, invalid("unknown role: want one of owner, admin, member, viewer")
	}
	if err := s.canManage(c, req.Role); err != nil {
		return nil, err
	}
	if err := s.permitRole(c, req.Role); err != nil {
		return nil, err
	}
	email, err := validateEmail(req.Email)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(req.Name)
	if len(name) > maxNameLen {
		return nil, invalid("name is longer than %d characters", maxNameLen)
	}
	token := newSecret()
	now := s.Now()
	inv := &keyward.Invitation{
		ID: keyward.NewID(keyward.IDPrefixInvitation), OrgID: c.Org.ID, Email: email, Name: name, Role: req.Role,
		InvitedBy: c.actor(), CreatedAt: now, ExpiresAt: now.Add(InvitationTTL), Hash: keyward.HashToken(token),
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if _, err := s.findMember(ctx, tx, c, email); err == nil {
			return keyward.Errorf(keyward.ECONFLICT, "%s is already a member", email)
		} else if keyward.ErrorCode(err) != keyward.ENOTFOUND {
			return err
		}
		if err := tx.DeleteEmailInvitation(ctx, c.Org.ID, email); err != nil {
			return err
		}
		if err := tx.CreateInvitation(ctx, inv); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, c.Org.ID, keyward.ActionMemberInvited, inv.ID, map[string]any{"email": email, "role": req.Role})
	})
	if err != nil {
		return nil, err
	}
	return &Invite{Invitation: inv, Token: token}, nil
}

// FindInvitations lists the caller's org's pending invitations, oldest
// first, after the cursor; expired ones stay listed until cancelled or
// replaced. Returns EFORBIDDEN without members:read.
func (s *Service) FindInvitations(ctx context.Context, c *Caller, cursor string, limit int) ([]*keyward.Invitation, string, error) {
	if err := s.require(c, keyward.PermMembersRead); err != nil {
		return nil, "", err
	}
	limit = keyward.PageSize(limit)
	var out []*keyward.Invitation
	var next string
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if out, err = tx.FindInvitations(ctx, c.Org.ID, cursor, limit+1); err != nil {
			return err
		}
		if len(out) > limit {
			out = out[:limit]
			next = out[limit-1].ID
		}
		return nil
	})
	return out, next, err
}

// CancelInvitation withdraws a pending invitation of the caller's org; its
// link stops working. Returns ENOTFOUND, and EFORBIDDEN when the caller
// may not manage members of the invitation's role.
func (s *Service) CancelInvitation(ctx context.Context, c *Caller, id string) (*keyward.Invitation, error) {
	if err := s.require(c, keyward.PermMembersManage); err != nil {
		return nil, err
	}
	var inv *keyward.Invitation
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		if inv, err = tx.FindInvitation(ctx, c.Org.ID, id); err != nil {
			return err
		}
		if err := s.canManage(c, inv.Role); err != nil {
			return err
		}
		if err := tx.DeleteInvitation(ctx, inv.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, c.Org.ID, keyward.ActionInvitationCancelled, inv.ID, map[string]any{"email": inv.Email, "role": inv.Role})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// OpenInvitation is an invitation as its link shows it.
type OpenInvitation struct {
	Invitation *keyward.Invitation
	Org        *keyward.Org
}

// errBadInvitation is the one answer for an invitation link that is
// unknown, used, cancelled or expired.
func errBadInvitation() error {
	return &keyward.Error{Code: keyward.ENOTFOUND, Message: "this invitation is invalid, used, cancelled or expired",
		Detail: "ask an admin of the org for a new one"}
}

// findInvitation returns the live invitation token names and its org.
func (s *Service) findInvitation(ctx context.Context, tx Tx, token string) (*OpenInvitation, error) {
	inv, err := tx.FindInvitationByHash(ctx, keyward.HashToken(token))
	if keyward.ErrorCode(err) == keyward.ENOTFOUND {
		return nil, errBadInvitation()
	} else if err != nil {
		return nil, err
	}
	if !s.Now().Before(inv.ExpiresAt) {
		return nil, errBadInvitation()
	}
	org, err := tx.FindOrgByID(ctx, inv.OrgID)
	if err != nil {
		return nil, err
	}
	return &OpenInvitation{Invitation: inv, Org: org}, nil
}

// Invitation returns the live invitation a link's token names. Returns
// ENOTFOUND for an unknown, used, cancelled or expired one.
func (s *Service) Invitation(ctx context.Context, token string) (*OpenInvitation, error) {
	var out *OpenInvitation
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = s.findInvitation(ctx, tx, token)
		return err
	})
	return out, err
}

// AcceptInvitation makes user, signed in to the dashboard, a member of the
// invitation's org with its role, and uses the invitation up. Only the
// account with the invited address may accept. Returns ENOTFOUND for a
// dead link, EFORBIDDEN when user's address is not the invited one and
// ECONFLICT when user is already a member.
func (s *Service) AcceptInvitation(ctx context.Context, token string, user *keyward.User, ip, userAgent string) (*Member, error) {
	var out *Member
	err := s.update(ctx, func(tx Tx) error {
		open, err := s.findInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if !strings.EqualFold(user.Email, open.Invitation.Email) {
			return &keyward.Error{Code: keyward.EFORBIDDEN, Message: "this invitation is for another address",
				Detail: "sign in as the account with the invited address to accept it"}
		}
		out, err = s.join(ctx, tx, open, user, ip, userAgent)
		return err
	})
	return out, err
}

// AcceptInvitationNewAccount accepts an invitation for an address that has
// no account yet: it makes the account with name and password, and the
// membership. Returns ENOTFOUND for a dead link, ECONFLICT when an
// account has the address (its owner signs in to accept), and EINVALID
// for a bad name or password.
func (s *Service) AcceptInvitationNewAccount(ctx context.Context, token, name, password, ip, userAgent string) (*Member, error) {
	name = strings.TrimSpace(name)
	if len(name) > maxNameLen {
		return nil, invalid("name is longer than %d characters", maxNameLen)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	var out *Member
	err = s.update(ctx, func(tx Tx) error {
		open, err := s.findInvitation(ctx, tx, token)
		if err != nil {
			return err
		}
		if _, err := tx.FindUserByEmail(ctx, open.Invitation.Email); err == nil {
			return &keyward.Error{Code: keyward.ECONFLICT, Message: "an account with this address exists",
				Detail: "sign in to it to accept the invitation"}
		} else if keyward.ErrorCode(err) != keyward.ENOTFOUND {
			return err
		}
		if name == "" {
			name = open.Invitation.Name
		}
		u := &keyward.User{ID: keyward.NewID(keyward.IDPrefixUser), Email: open.Invitation.Email, Name: name, PasswordHash: hash, CreatedAt: s.Now()}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		out, err = s.join(ctx, tx, open, u, ip, userAgent)
		return err
	})
	return out, err
}

// join makes u a member by the open invitation, in tx, and uses it up.
func (s *Service) join(ctx context.Context, tx Tx, open *OpenInvitation, u *keyward.User, ip, userAgent string) (*Member, error) {
	inv := open.Invitation
	m := &keyward.Membership{OrgID: inv.OrgID, UserID: u.ID, Role: inv.Role, CreatedAt: s.Now()}
	if err := tx.CreateMembership(ctx, m); err != nil {
		if keyward.ErrorCode(err) == keyward.ECONFLICT {
			return nil, keyward.Errorf(keyward.ECONFLICT, "you are already a member of %s", open.Org.Name)
		}
		return nil, err
	}
	if err := tx.DeleteInvitation(ctx, inv.ID); err != nil {
		return nil, err
	}
	// Nodes may remember the user's tokens in this org as a former
	// member's.
	if err := s.change(ctx, tx, keyward.ChangeMember, m.OrgID, "", m.UserID, nil); err != nil {
		return nil, err
	}
	c := &Caller{User: u, Org: open.Org, Role: inv.Role, IP: ip, UserAgent: clip(userAgent, 500), Source: keyward.SourceDashboard}
	details := map[string]any{"email": u.Email, "role": inv.Role, "invitation": inv.ID, "invited_by": inv.InvitedBy}
	if err := s.audit(ctx, tx, c, inv.OrgID, keyward.ActionMemberAdded, u.ID, details); err != nil {
		return nil, err
	}
	return &Member{Membership: *m, User: u}, nil
}
