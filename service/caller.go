package service

import (
	"github.com/keyward/keyward"
)

// Caller is who makes a request, as established by Authenticate (a token),
// by a dashboard session, or by an operator command.
type Caller struct {
	// User is the person, nil for org credentials and the operator.
	User *keyward.User
	// Org is the org the caller acts in: a token acts only inside its org.
	Org *keyward.Org
	// Role is the role in force: the user's current role for PATs, OAuth
	// tokens and sessions, the fixed role of an API key; "" for agent and
	// probe tokens.
	Role keyward.Role
	// Token is the credential presented, nil for sessions and the operator.
	Token *keyward.Token
	// Permissions is what the caller may do now.
	Permissions keyward.Permissions
	// IP and UserAgent are recorded in audit events.
	IP        string
	UserAgent string
	// Source is what tokens minted by this caller record as their source.
	Source string
	// Operator marks operator commands acting directly on the database.
	Operator bool
}

// Can reports whether the caller holds perm.
func (c *Caller) Can(perm string) bool { return c.Operator || c.Permissions.Has(perm) }

// actor is the audit actor: the user, the operator, or the org credential.
func (c *Caller) actor() string {
	switch {
	case c.Operator:
		return keyward.ActorOperator
	case c.User != nil:
		return c.User.ID
	case c.Token != nil:
		return c.Token.ID
	}
	return ""
}

func (c *Caller) tokenID() string {
	if c.Token != nil {
		return c.Token.ID
	}
	return ""
}

func (c *Caller) require(perm string) error {
	if c.Org == nil {
		return keyward.Errorf(keyward.EFORBIDDEN, "this caller acts in no org")
	}
	if c.Can(perm) {
		return nil
	}
	return &keyward.Error{Code: keyward.EFORBIDDEN, Message: "missing permission " + perm}
}

// PinOrg checks that ref (an org id or slug) names the caller's org: a
// credential acts only inside its org. Any other org answers ENOTFOUND.
func (c *Caller) PinOrg(ref string) error {
	if c.Org != nil && (ref == c.Org.ID || ref == c.Org.Slug) {
		return nil
	}
	return keyward.ErrNotFound("org")
}
