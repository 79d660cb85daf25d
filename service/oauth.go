package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward"
)

// The oauth*.go files hold the rules of keyward's OAuth 2.1 authorization
// server: scopes and the orgs a user may grant (this file), client
// registration (oauth_clients.go), consent (the authorization code,
// oauth_codes.go), the code's exchange for a kw_oat_ token, and revocation
// (oauth_tokens.go). The oauth package speaks HTTP; every decision is made
// here.

// Error codes of OAuth (RFC 6749 sections 4.1.2.1 and 5.2, RFC 7591
// section 3.2.2, RFC 7009 section 2.2.1, RFC 8707 section 2). The OAuth
// methods return keyward.Errors with these codes beside keyward's own
// EINVALID ("invalid_request", the same string as OAuth's).
const (
	OAuthInvalidClient         = "invalid_client"
	OAuthInvalidGrant          = "invalid_grant"
	OAuthInvalidTarget         = "invalid_target"
	OAuthInvalidScope          = "invalid_scope"
	OAuthAccessDenied          = "access_denied"
	OAuthInvalidRedirectURI    = "invalid_redirect_uri"
	OAuthInvalidClientMetadata = "invalid_client_metadata"
	OAuthUnsupportedTokenType  = "unsupported_token_type"
)

// Limits of the authorization server.
const (
	// OAuthCodeLifetime is how long an authorization code may be
	// exchanged.
	OAuthCodeLifetime = 60 * time.Second
	// OAuthTokenLifetime is the validity of an OAuth access token, or the
	// org's maximum lifetime when that is shorter. There are no refresh
	// tokens: the client asks the user again.
	OAuthTokenLifetime = 30 * 24 * time.Hour
	// oauthCodeRetention is how long a code is kept after it expires, so
	// that its reuse is still recognised (and its token revoked).
	oauthCodeRetention = 24 * time.Hour
	maxRedirectURIs    = 10
	maxRedirectURILen  = 2000
	maxScopeLen        = 1000
	// UnnamedOAuthClient names a client that gave no name.
	UnnamedOAuthClient = "Unnamed client"
)

// DefaultOAuthScope is the scope of an authorization request that names
// none: the permissions keyward's own MCP tools use (list_tokens needs
// tokens:read; create_token, revoke_token and regenerate_token need
// tokens:write; list_audit needs audit:read; whoami needs none). Like any
// scope it is intersected with the user's role in the chosen org, so that
// a member's or viewer's token gets tokens:read and tokens:write, and an
// admin's or owner's the three; never members:manage, apikeys:manage,
// policy:manage or the product's permissions, which a client must ask for
// by name.
const DefaultOAuthScope = keyward.PermTokensRead + " " + keyward.PermTokensWrite + " " + keyward.PermAuditRead

// OAuthScope returns the permissions that scope, the space-separated
// scope of an authorization request, asks for: keyward's permission
// strings, sorted, without repeats; DefaultOAuthScope's when scope is
// empty or blank. Returns an error with code OAuthInvalidScope for a scope
// that is too long, holds control characters, or names a value that is
// not a permission of this installation.
func (s *Service) OAuthScope(scope string) (keyward.Permissions, error) {
	if len(scope) > maxScopeLen || strings.ContainsFunc(scope, isControl) {
		return nil, keyward.Errorf(OAuthInvalidScope, "scope is longer than %d characters or holds control characters", maxScopeLen)
	}
	// RFC 6749 section 3.3: values delimited by spaces (a repeated space is
	// forgiven; any other separator makes an unknown value).
	values := slices.DeleteFunc(strings.Split(scope, " "), func(v string) bool { return v == "" })
	if len(values) == 0 {
		values = strings.Fields(DefaultOAuthScope)
	}
	for _, v := range values {
		if !s.perms.Known(v) {
			return nil, keyward.Errorf(OAuthInvalidScope, "unknown scope value: a scope is a space-separated list of this installation's permissions, such as %q", DefaultOAuthScope)
		}
	}
	return keyward.NewPermissions(values...), nil
}

// OAuthScopesSupported returns the scope values an OAuth token can be
// granted: every permission that some role holds. (The agent:* and probe:*
// permissions are known too, so asking for them is no error, but no role
// holds them and they are never granted.)
func (s *Service) OAuthScopesSupported() keyward.Permissions {
	var all []string
	for _, r := range keyward.Roles {
		all = append(all, s.perms.ForRole(r)...)
	}
	return keyward.NewPermissions(all...)
}

// oauthGrant is what a token consented for the permissions requested gets
// in org, where the user has role: the requested permissions that role
// holds. Returns OAuthAccessDenied when the role holds none of them.
func (s *Service) oauthGrant(requested keyward.Permissions, org *keyward.Org, role keyward.Role) (keyward.Permissions, error) {
	granted := requested.Intersect(s.perms.ForRole(role))
	if len(granted) == 0 {
		return nil, keyward.Errorf(OAuthAccessDenied, "none of the requested permissions (%s) are held by your role in %s (%s)",
			strings.Join(requested, " "), org.Name, role)
	}
	return granted, nil
}

// OAuthOrg is an org the signed-in user may grant a client access to, with
// the role the token will act with and the permissions it will get.
type OAuthOrg struct {
	Org  *keyward.Org
	Role keyward.Role
	// Permissions are what a token consented in this org gets: the
	// scope's permissions that Role holds, never empty.
	Permissions keyward.Permissions
}

// OAuthOrgs lists the orgs in which user is an active (not suspended)
// member and in which their role holds at least one permission of scope
// (DefaultOAuthScope's when empty), oldest membership first, each with the
// permissions a token consented there gets. An empty list means user is
// an active member of no org.
//
// Returns OAuthInvalidScope for a malformed or unknown scope, and
// OAuthAccessDenied when user's role in every one of their orgs holds none
// of the scope's permissions.
func (s *Service) OAuthOrgs(ctx context.Context, user *keyward.User, scope string) ([]OAuthOrg, error) {
	requested, err := s.OAuthScope(scope)
	if err != nil {
		return nil, err
	}
	var (
		out    []OAuthOrg
		denied error
	)
	err = s.store.View(ctx, func(tx Tx) error {
		out, denied = nil, nil
		ms, err := tx.FindMemberships(ctx, "", user.ID, "", 0)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Suspended {
				continue
			}
			org, err := tx.FindOrgByID(ctx, m.OrgID)
			if err != nil {
				return err
			}
			granted, err := s.oauthGrant(requested, org, m.Role)
			if err != nil {
				denied = err
				continue
			}
			out = append(out, OAuthOrg{Org: org, Role: m.Role, Permissions: granted})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 && denied != nil {
		return nil, denied
	}
	return out, nil
}
