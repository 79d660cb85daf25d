package service

import (
	"context"
	"strings"

	"github.com/keyward/keyward"
)

// Operator returns the caller of operator commands, which act directly on
// the database and are audited with the actor "operator".
func Operator() *Caller { return &Caller{Operator: true, Source: keyward.SourceCLI} }

// BootstrapRequest sets up an empty installation.
type BootstrapRequest struct {
	Email   string
	Name    string
	OrgName string
	// Password is the owner's dashboard password; "" generates one.
	Password string
	// TokenName names the first PAT ("bootstrap" when empty).
	TokenName string
}

// BootstrapResult is what bootstrap made. Secret and a generated Password
// are shown once.
type BootstrapResult struct {
	User     *keyward.User
	Org      *keyward.Org
	Token    *keyward.Token
	Secret   string
	Password string // set only when generated
}

// Bootstrap creates the first owner, their org and a PAT on an empty
// database. Returns ECONFLICT, changing nothing, if any user exists.
func (s *Service) Bootstrap(ctx context.Context, req BootstrapRequest) (*BootstrapResult, error) {
	res := &BootstrapResult{}
	password := req.Password
	if password == "" {
		password = NewPassword()
		res.Password = password
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	email, err := validateEmail(req.Email)
	if err != nil {
		return nil, err
	}
	op := Operator()
	err = s.update(ctx, func(tx Tx) error {
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return keyward.Errorf(keyward.ECONFLICT, "keyward is already bootstrapped: this database has an owner")
		}
		org, err := s.createOrg(ctx, tx, op, req.OrgName, "")
		if err != nil {
			return err
		}
		u, err := s.createUser(ctx, tx, op, org.ID, email, req.Name, hash)
		if err != nil {
			return err
		}
		m := &keyward.Membership{OrgID: org.ID, UserID: u.ID, Role: keyward.RoleOwner, CreatedAt: s.Now()}
		if err := tx.CreateMembership(ctx, m); err != nil {
			return err
		}
		res.User, res.Org = u, org
		return s.audit(ctx, tx, op, org.ID, keyward.ActionMemberAdded, u.ID, map[string]any{"email": email, "role": m.Role})
	})
	if err != nil {
		return nil, err
	}
	name := req.TokenName
	if name == "" {
		name = "bootstrap"
	}
	res.Token, res.Secret, err = s.AdminCreateToken(ctx, email, res.Org.ID, TokenRequest{Name: name, Description: "created by keyward bootstrap"})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) createOrg(ctx context.Context, tx Tx, c *Caller, name, slug string) (*keyward.Org, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxNameLen {
		return nil, invalid("org name must be 1 to %d characters", maxNameLen)
	}
	if slug == "" {
		slug = keyward.Slugify(name)
	}
	if !keyward.ValidSlug(slug) {
		return nil, invalid("org slug must be lower-case letters, digits and single dashes")
	}
	o := &keyward.Org{ID: keyward.NewID(keyward.IDPrefixOrg), Slug: slug, Name: name, CreatedAt: s.Now()}
	if err := tx.CreateOrg(ctx, o); err != nil {
		return nil, err
	}
	return o, s.audit(ctx, tx, c, o.ID, keyward.ActionOrgCreated, o.ID, map[string]any{"name": name, "slug": slug})
}

func (s *Service) createUser(ctx context.Context, tx Tx, c *Caller, orgID, email, name, passwordHash string) (*keyward.User, error) {
	name = strings.TrimSpace(name)
	if len(name) > maxNameLen {
		return nil, invalid("name is longer than %d characters", maxNameLen)
	}
	u := &keyward.User{ID: keyward.NewID(keyward.IDPrefixUser), Email: email, Name: name, PasswordHash: passwordHash, CreatedAt: s.Now()}
	if err := tx.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if orgID == "" {
		return u, nil // the audit log is per org; the membership that follows is audited
	}
	return u, s.audit(ctx, tx, c, orgID, keyward.ActionUserCreated, u.ID, map[string]any{"email": email})
}

// AdminCreateOrg creates an org as the operator, with owner (an existing
// user's email) as its first owner when given.
func (s *Service) AdminCreateOrg(ctx context.Context, name, slug, ownerEmail string) (*keyward.Org, error) {
	op := Operator()
	var org *keyward.Org
	err := s.update(ctx, func(tx Tx) error {
		var err error
		if org, err = s.createOrg(ctx, tx, op, name, slug); err != nil {
			return err
		}
		if ownerEmail == "" {
			return nil
		}
		u, err := tx.FindUserByEmail(ctx, ownerEmail)
		if err != nil {
			return err
		}
		m := &keyward.Membership{OrgID: org.ID, UserID: u.ID, Role: keyward.RoleOwner, CreatedAt: s.Now()}
		if err := tx.CreateMembership(ctx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, org.ID, keyward.ActionMemberAdded, u.ID, map[string]any{"email": u.Email, "role": m.Role})
	})
	return org, err
}

// AdminCreateUser creates a user as the operator, with a dashboard
// password when one is given, and adds them to org (id or slug) with role
// when org is given.
func (s *Service) AdminCreateUser(ctx context.Context, email, name, password, orgRef string, role keyward.Role) (*keyward.User, error) {
	email, err := validateEmail(email)
	if err != nil {
		return nil, err
	}
	hash := ""
	if password != "" {
		if hash, err = HashPassword(password); err != nil {
			return nil, err
		}
	}
	if role == "" {
		role = keyward.RoleMember
	}
	if !role.Valid() {
		return nil, invalid("unknown role: want one of owner, admin, member, viewer")
	}
	op := Operator()
	var u *keyward.User
	err = s.update(ctx, func(tx Tx) error {
		var org *keyward.Org
		if orgRef != "" {
			if org, err = findOrg(ctx, tx, orgRef); err != nil {
				return err
			}
		}
		orgID := ""
		if org != nil {
			orgID = org.ID
		}
		if u, err = s.createUser(ctx, tx, op, orgID, email, name, hash); err != nil {
			return err
		}
		if org == nil {
			return nil
		}
		m := &keyward.Membership{OrgID: org.ID, UserID: u.ID, Role: role, CreatedAt: s.Now()}
		if err := tx.CreateMembership(ctx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, op, org.ID, keyward.ActionMemberAdded, u.ID, map[string]any{"email": email, "role": role})
	})
	return u, err
}

// AdminPasswordLink makes a one-time link (/set-password/{token}) that
// lets the user with email set a dashboard password, for the operator to
// pass on: to a user made without a password, or one who forgot it. Only
// the operator receives such a link; an org's members never do. Returns
// ENOTFOUND for an unknown email.
func (s *Service) AdminPasswordLink(ctx context.Context, email string) (string, error) {
	var token string
	err := s.store.Update(ctx, func(tx Tx) error {
		u, err := tx.FindUserByEmail(ctx, strings.TrimSpace(email))
		if err != nil {
			return err
		}
		token, err = s.newPasswordLink(ctx, tx, u.ID)
		return err
	})
	return token, err
}

// AdminCreateToken provisions a PAT for the member email of org (id or
// slug), as GitLab's admin token API does; the token records the operator
// as its creator.
func (s *Service) AdminCreateToken(ctx context.Context, email, orgRef string, req TokenRequest) (*keyward.Token, string, error) {
	c := Operator()
	err := s.store.View(ctx, func(tx Tx) error {
		org, err := findOrg(ctx, tx, orgRef)
		if err != nil {
			return err
		}
		u, err := tx.FindUserByEmail(ctx, email)
		if err != nil {
			return err
		}
		m, err := tx.FindMembership(ctx, org.ID, u.ID)
		if err != nil {
			return keyward.Errorf(keyward.ENOTFOUND, "%s is not a member of %s", email, org.Slug)
		}
		c.Org, c.User, c.Role = org, u, m.Role
		c.Permissions = s.perms.ForRole(m.Role)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return s.CreateToken(ctx, c, Personal, req)
}

// findOrg resolves an org id or slug. Returns ENOTFOUND.
func findOrg(ctx context.Context, tx Tx, ref string) (*keyward.Org, error) {
	if strings.HasPrefix(ref, keyward.IDPrefixOrg) {
		return tx.FindOrgByID(ctx, ref)
	}
	return tx.FindOrgBySlug(ctx, ref)
}
