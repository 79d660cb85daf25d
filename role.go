package keyward

import (
	"slices"
	"strings"
)

// Role is a member's role in an org. Built-in roles, highest first: owner,
// admin, member, viewer.
type Role string

// The built-in roles.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Roles lists the roles, highest first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember, RoleViewer}

// Rank orders roles: a higher rank may do more. Unknown roles rank 0.
func (r Role) Rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleMember:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Valid reports whether r is a built-in role.
func (r Role) Valid() bool { return r.Rank() > 0 }

// Permissions of keyward itself.
const (
	PermTokensRead    = "tokens:read"
	PermTokensWrite   = "tokens:write"
	PermMembersRead   = "members:read"
	PermMembersManage = "members:manage"
	PermAPIKeysManage = "apikeys:manage"
	PermAuditRead     = "audit:read"
	PermTokensVerify  = "tokens:verify"
	PermPolicyManage  = "policy:manage"
)

// builtinPerms lists keyward's own permissions with the lowest role that
// holds each.
var builtinPerms = []struct {
	perm string
	min  Role
}{
	{PermTokensRead, RoleViewer},
	{PermTokensWrite, RoleViewer},
	{PermMembersRead, RoleViewer},
	{PermMembersManage, RoleAdmin},
	{PermAPIKeysManage, RoleAdmin},
	{PermAuditRead, RoleAdmin},
	{PermTokensVerify, RoleAdmin},
	{PermPolicyManage, RoleOwner},
}

// Permissions is a sorted set of permission strings "resource:action".
type Permissions []string

// Has reports whether p holds perm.
func (p Permissions) Has(perm string) bool {
	_, ok := slices.BinarySearch(p, perm)
	return ok
}

// Intersect returns the permissions in both p and q.
func (p Permissions) Intersect(q Permissions) Permissions {
	out := Permissions{}
	for _, s := range p {
		if q.Has(s) {
			out = append(out, s)
		}
	}
	return out
}

// NewPermissions returns the sorted set of the given strings.
func NewPermissions(perms ...string) Permissions {
	out := slices.Clone(perms)
	slices.Sort(out)
	return slices.Compact(out)
}

// PermissionModel holds every permission an installation knows: keyward's
// own and the guarded product's, declared in configuration, and answers
// which of them each role and kind holds.
type PermissionModel struct {
	product Permissions
	byRole  map[Role]Permissions
	agent   Permissions
	probe   Permissions
	all     Permissions
}

// NewPermissionModel returns the model for the product's permissions (for
// example "monitors:read", "agent:heartbeat"). Each must be
// "resource:action" in lower case; the product may not redeclare one of
// keyward's own.
func NewPermissionModel(product []string) (*PermissionModel, error) {
	m := &PermissionModel{byRole: map[Role]Permissions{}}
	var all []string
	for _, b := range builtinPerms {
		all = append(all, b.perm)
		for _, r := range Roles {
			if r.Rank() >= b.min.Rank() {
				m.byRole[r] = append(m.byRole[r], b.perm)
			}
		}
	}
	for _, p := range product {
		if !ValidPermissionName(p) {
			return nil, Errorf(EINVALID, "permission %q is not of the form resource:action", p)
		}
		if slices.Contains(all, p) {
			return nil, Errorf(EINVALID, "permission %q is keyward's own", p)
		}
		all = append(all, p)
		m.product = append(m.product, p)
		resource, action, _ := strings.Cut(p, ":")
		switch {
		case resource == "agent":
			m.agent = append(m.agent, p)
		case resource == "probe":
			m.probe = append(m.probe, p)
		case action == "read":
			for _, r := range Roles {
				m.byRole[r] = append(m.byRole[r], p)
			}
		default:
			for _, r := range []Role{RoleOwner, RoleAdmin, RoleMember} {
				m.byRole[r] = append(m.byRole[r], p)
			}
		}
	}
	for r, ps := range m.byRole {
		m.byRole[r] = NewPermissions(ps...)
	}
	m.product = NewPermissions(m.product...)
	m.agent = NewPermissions(m.agent...)
	m.probe = NewPermissions(m.probe...)
	m.all = NewPermissions(all...)
	return m, nil
}

// ValidPermissionName reports whether s has the form "resource:action" with
// lower-case letters, digits, '_', '-' and '.' on both sides.
func ValidPermissionName(s string) bool {
	resource, action, ok := strings.Cut(s, ":")
	return ok && ValidIdentifier(resource) && ValidIdentifier(action)
}

// ValidIdentifier reports whether s is 1 to 64 of a-z, 0-9, '_', '-' and
// '.': the alphabet of permission parts and scope entity types.
func ValidIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// All returns every permission the installation knows.
func (m *PermissionModel) All() Permissions { return m.all }

// Product returns the guarded product's permissions.
func (m *PermissionModel) Product() Permissions { return m.product }

// Known reports whether perm is a permission of this installation.
func (m *PermissionModel) Known(perm string) bool { return m.all.Has(perm) }

// ForRole returns what a role holds.
func (m *PermissionModel) ForRole(r Role) Permissions { return m.byRole[r] }

// ForKind returns the permissions a credential of kind k could hold at most
// before its subset narrows them: a role's for PATs, OAuth tokens and API
// keys, the agent:* or probe:* permissions for agent and probe tokens.
func (m *PermissionModel) ForKind(k Kind, role Role) Permissions {
	switch k {
	case KindAgent:
		return m.agent
	case KindProbe:
		return m.probe
	}
	return m.byRole[role]
}
