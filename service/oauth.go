package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward"
)

// This file holds the rules of keyward's OAuth 2.1 authorization server:
// client registration, consent (the authorization code), the code's
// exchange for a kw_oat_ token, and revocation. The oauth package speaks
// HTTP; every decision is made here.

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

// OAuthRegistration is what a client asks for at /oauth/register.
type OAuthRegistration struct {
	Name         string
	RedirectURIs []string
}

// RegisterOAuthClient registers a public client (RFC 7591) with an id
// "dcr_..." and audits it as oauth.client_registered (an event of no org:
// the client belongs to none until someone consents). Returns an error
// with code OAuthInvalidRedirectURI or OAuthInvalidClientMetadata for bad
// metadata, changing nothing.
func (s *Service) RegisterOAuthClient(ctx context.Context, reg OAuthRegistration, ip, userAgent string) (*keyward.OAuthClient, error) {
	if len(reg.RedirectURIs) == 0 {
		return nil, keyward.Errorf(OAuthInvalidRedirectURI, "redirect_uris must list at least one URI")
	}
	if len(reg.RedirectURIs) > maxRedirectURIs {
		return nil, keyward.Errorf(OAuthInvalidRedirectURI, "redirect_uris may list at most %d URIs", maxRedirectURIs)
	}
	for _, u := range reg.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			return nil, err
		}
	}
	now := s.Now()
	c := &keyward.OAuthClient{
		ID:           keyward.NewID(keyward.IDPrefixOAuthClient),
		Kind:         keyward.OAuthClientDynamic,
		Name:         CleanClientName(reg.Name),
		RedirectURIs: slices.Clone(reg.RedirectURIs),
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	caller := &Caller{IP: ip, UserAgent: userAgent}
	err := s.update(ctx, func(tx Tx) error {
		if err := tx.SaveOAuthClient(ctx, c); err != nil {
			return err
		}
		return s.audit(ctx, tx, caller, "", keyward.ActionOAuthClientRegistered, c.ID,
			map[string]any{"client_name": c.Name, "redirect_uris": c.RedirectURIs})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// FindOAuthClient returns a registered client, or a client known by its
// metadata document that someone consented to. Returns ENOTFOUND.
func (s *Service) FindOAuthClient(ctx context.Context, id string) (*keyward.OAuthClient, error) {
	var c *keyward.OAuthClient
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		c, err = tx.FindOAuthClient(ctx, id)
		return err
	})
	return c, err
}

// CleanClientName makes a client's self-chosen name fit to show: trimmed,
// without control characters, at most 100 characters, and
// UnnamedOAuthClient when empty.
func CleanClientName(name string) string {
	name = strings.Map(func(r rune) rune {
		if isControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxNameLen {
		name = string([]rune(name)[:maxNameLen])
	}
	if name == "" {
		return UnnamedOAuthClient
	}
	return name
}

// ValidateRedirectURI checks a redirect URI a client registers: an
// absolute https URI, or http on a loopback host (127.0.0.1, [::1],
// localhost) for native clients (RFC 8252); no fragment, no user
// information. Returns an error with code OAuthInvalidRedirectURI.
func ValidateRedirectURI(raw string) error {
	bad := func(why string) error {
		return keyward.Errorf(OAuthInvalidRedirectURI, "a redirect URI %s", why)
	}
	if len(raw) > maxRedirectURILen {
		return keyward.Errorf(OAuthInvalidRedirectURI, "a redirect URI is longer than %d characters", maxRedirectURILen)
	}
	if strings.ContainsFunc(raw, isControl) || strings.ContainsAny(raw, " \\") {
		return bad("holds spaces or control characters")
	}
	if strings.Contains(raw, "#") {
		return bad("has a fragment; a redirect URI may not have one")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return bad("is not an absolute URI")
	}
	if u.User != nil {
		return bad("holds user information")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopbackHost(u.Hostname()) {
			return nil
		}
		return bad("uses http on a host that is not loopback; use https, or http://127.0.0.1, http://[::1] or http://localhost")
	}
	return bad("must use https, or http on a loopback host")
}

func loopbackHost(h string) bool { return h == "127.0.0.1" || h == "::1" || h == "localhost" }

// RedirectURIMatches reports whether requested is one of the client's
// redirect URIs: compared as exact strings, except that a loopback http
// URI registered without a port accepts any port (RFC 8252 section 7.3),
// every other part still exact.
func RedirectURIMatches(c *keyward.OAuthClient, requested string) bool {
	if slices.Contains(c.RedirectURIs, requested) {
		return true
	}
	q, err := url.Parse(requested)
	if err != nil || q.Scheme != "http" || !loopbackHost(q.Hostname()) || q.Port() == "" || strings.Contains(requested, "#") {
		return false
	}
	// The requested URI without its port, in the form it was written.
	portless := strings.Replace(requested, q.Host, hostWithoutPort(q), 1)
	for _, r := range c.RedirectURIs {
		ru, err := url.Parse(r)
		if err == nil && ru.Scheme == "http" && loopbackHost(ru.Hostname()) && ru.Port() == "" && r == portless {
			return true
		}
	}
	return false
}

func hostWithoutPort(u *url.URL) string {
	if strings.Contains(u.Hostname(), ":") {
		return "[" + u.Hostname() + "]"
	}
	return u.Hostname()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
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

// OAuthGrant is what a signed-in user consents to: a client may act as
// them in one org, at one redirect URI, for one resource.
type OAuthGrant struct {
	// Client is the client as resolved: registered, or read from its
	// metadata document (then it is saved, so that lists can name it).
	Client        *keyward.OAuthClient
	OrgID         string
	RedirectURI   string
	CodeChallenge string
	Resource      string
	// Scope is the request's scope, as OAuthScope reads it.
	Scope         string
	IP, UserAgent string
}

// IssueOAuthCode records user's consent to g and returns an authorization
// code, good once for OAuthCodeLifetime; only its SHA-256 is stored. The
// code holds the permissions consented to: the scope's permissions that
// user's role in the org holds now, as OAuthOrgs listed them. It audits
// oauth.consent_granted in the org, naming those permissions.
//
// Returns OAuthInvalidRedirectURI if the redirect URI is not the client's,
// EINVALID for a malformed code challenge, OAuthInvalidTarget for a
// missing resource, OAuthInvalidScope for a malformed or unknown scope,
// and OAuthAccessDenied if user is not an active member of the org, their
// role there holds none of the scope's permissions, or its policy does not
// allow OAuth tokens.
func (s *Service) IssueOAuthCode(ctx context.Context, user *keyward.User, g OAuthGrant) (string, error) {
	if g.Client == nil || !RedirectURIMatches(g.Client, g.RedirectURI) {
		return "", keyward.Errorf(OAuthInvalidRedirectURI, "redirect_uri is not one of the client's redirect URIs")
	}
	if !validChallenge(g.CodeChallenge) {
		return "", invalid("code_challenge must be the 43-character base64url SHA-256 of the code verifier")
	}
	if g.Resource == "" || len(g.Resource) > maxRedirectURILen {
		return "", keyward.Errorf(OAuthInvalidTarget, "resource is required")
	}
	requested, err := s.OAuthScope(g.Scope)
	if err != nil {
		return "", err
	}
	code := newOAuthCode()
	now := s.Now()
	rec := &keyward.OAuthCode{
		Hash: sha256.Sum256([]byte(code)), ClientID: g.Client.ID, UserID: user.ID, OrgID: g.OrgID,
		RedirectURI: g.RedirectURI, CodeChallenge: g.CodeChallenge, Resource: g.Resource,
		CreatedAt: now, ExpiresAt: now.Add(OAuthCodeLifetime),
	}
	c := &Caller{User: user, IP: g.IP, UserAgent: g.UserAgent}
	err = s.update(ctx, func(tx Tx) error {
		m, err := tx.FindMembership(ctx, g.OrgID, user.ID)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND || (err == nil && m.Suspended) {
			return keyward.Errorf(OAuthAccessDenied, "you are not an active member of that org")
		} else if err != nil {
			return err
		}
		org, err := tx.FindOrgByID(ctx, g.OrgID)
		if err != nil {
			return err
		}
		granted, err := s.oauthGrant(requested, org, m.Role)
		if err != nil {
			return err
		}
		rec.Scope = strings.Join(granted, " ")
		if err := s.oauthPolicy(ctx, tx, g.OrgID, now); err != nil {
			return err
		}
		switch g.Client.Kind {
		case keyward.OAuthClientMetadata:
			saved := *g.Client
			saved.CreatedAt, saved.UpdatedAt = now, now
			if err := tx.SaveOAuthClient(ctx, &saved); err != nil {
				return err
			}
		default:
			if _, err := tx.FindOAuthClient(ctx, g.Client.ID); err != nil {
				return err
			}
		}
		if _, err := tx.DeleteOAuthCodes(ctx, now.Add(-oauthCodeRetention)); err != nil {
			return err
		}
		if err := tx.CreateOAuthCode(ctx, rec); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, g.OrgID, keyward.ActionOAuthConsentGranted, g.Client.ID, map[string]any{
			"client_id": g.Client.ID, "client_name": g.Client.Name, "redirect_uri": g.RedirectURI,
			"resource": g.Resource, "role": m.Role, "permissions": granted,
		})
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// oauthPolicy refuses consent where the org's policy would refuse the
// token: a kind it does not allow.
func (s *Service) oauthPolicy(ctx context.Context, tx Tx, orgID string, now time.Time) error {
	p, err := tx.FindPolicy(ctx, orgID)
	if err != nil {
		return err
	}
	exp := now.Add(oauthLifetime(p))
	if breaks, why := p.Breaks(&keyward.Token{Kind: keyward.KindOAuth, CreatedAt: now, ExpiresAt: &exp}); breaks {
		return keyward.Errorf(OAuthAccessDenied, "%s", why)
	}
	return nil
}

// oauthLifetime is an OAuth token's lifetime under policy p.
func oauthLifetime(p *keyward.Policy) time.Duration {
	if p != nil && p.MaxLifetime > 0 && p.MaxLifetime < OAuthTokenLifetime {
		return p.MaxLifetime
	}
	return OAuthTokenLifetime
}

// newOAuthCode returns 256 random bits in base64url.
func newOAuthCode() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("keyward: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// validChallenge reports whether c can be an S256 code challenge: the
// base64url (no padding) of 32 bytes.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

// validVerifier reports whether v is a code verifier of RFC 7636 section
// 4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// S256 is the code challenge of a verifier (RFC 7636 section 4.2).
func S256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// OAuthExchange is a token request of grant type authorization_code.
type OAuthExchange struct {
	Code, ClientID, RedirectURI, Verifier, Resource string
	IP, UserAgent                                   string
}

// ExchangeOAuthCode turns an authorization code into a kw_oat_ token of
// kind oauth, with source "oauth:<client_id>", owned by the user who
// consented, pinned to the org they chose, and acting with their current
// role there, like a PAT, narrowed to a permission subset: the permissions
// consented to that the role holds now. It returns the token and its
// secret.
//
// A code is good once: exchanging it again revokes the token it issued
// (the code leaked) and answers OAuthInvalidGrant. Returns
// OAuthInvalidGrant for an unknown, expired or foreign code, a redirect URI
// or verifier that does not match, a user no longer an active member, or
// one whose role no longer holds any of the permissions consented to;
// OAuthInvalidScope for consented permissions this installation no longer
// knows; OAuthInvalidTarget for a missing or different resource; EINVALID
// for a malformed verifier.
func (s *Service) ExchangeOAuthCode(ctx context.Context, x OAuthExchange) (*keyward.Token, string, error) {
	if x.Code == "" {
		return nil, "", invalid("code is required")
	}
	if x.Verifier == "" {
		return nil, "", invalid("code_verifier is required")
	}
	if !validVerifier(x.Verifier) {
		return nil, "", invalid("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'")
	}
	h := sha256.Sum256([]byte(x.Code))
	var (
		tok    *keyward.Token
		secret string
		// refusal is an answer whose transaction must still commit: the
		// revocation that a reused code causes.
		refusal error
	)
	err := s.update(ctx, func(tx Tx) error {
		tok, secret, refusal = nil, "", nil
		now := s.Now()
		code, err := tx.FindOAuthCode(ctx, h)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return keyward.Errorf(OAuthInvalidGrant, "authorization code is unknown")
		} else if err != nil {
			return err
		}
		if code.UsedAt != nil {
			if err := s.revokeCodeToken(ctx, tx, code, x); err != nil {
				return err
			}
			refusal = keyward.Errorf(OAuthInvalidGrant, "authorization code was already used; the token issued with it is revoked")
			return nil
		}
		switch {
		case code.ClientID != x.ClientID:
			return keyward.Errorf(OAuthInvalidGrant, "authorization code was issued to another client")
		case !now.Before(code.ExpiresAt):
			return keyward.Errorf(OAuthInvalidGrant, "authorization code has expired")
		case code.RedirectURI != x.RedirectURI:
			return keyward.Errorf(OAuthInvalidGrant, "redirect_uri does not match the authorization request")
		case x.Resource == "":
			return keyward.Errorf(OAuthInvalidTarget, "resource is required")
		case x.Resource != code.Resource:
			return keyward.Errorf(OAuthInvalidTarget, "resource does not match the authorization request")
		case subtle.ConstantTimeCompare([]byte(S256(x.Verifier)), []byte(code.CodeChallenge)) != 1:
			return keyward.Errorf(OAuthInvalidGrant, "code_verifier does not match the code_challenge")
		}
		c, err := s.oauthCaller(ctx, tx, code, x)
		if err != nil {
			return err
		}
		// The consent is checked again against the role in force now.
		consented, err := s.OAuthScope(code.Scope)
		if err != nil {
			return err
		}
		granted, err := s.oauthGrant(consented, c.Org, c.Role)
		if err != nil {
			return keyward.Errorf(OAuthInvalidGrant, "%s", keyward.ErrorMessage(err))
		}
		name := code.ClientID
		if client, err := tx.FindOAuthClient(ctx, code.ClientID); err == nil {
			name = client.Name
		} else if keyward.ErrorCode(err) != keyward.ENOTFOUND {
			return err
		}
		p, err := tx.FindPolicy(ctx, code.OrgID)
		if err != nil {
			return err
		}
		exp := now.Add(oauthLifetime(p))
		t, sec, err := s.newToken(c, Personal, TokenRequest{
			Kind: keyward.KindOAuth, Name: CleanClientName(name), ExpiresAt: &exp, Permissions: granted,
			Description: "Issued through OAuth to " + truncate(code.ClientID, 200),
			Source:      keyward.SourceOAuthPrefix + code.ClientID,
		})
		if err != nil {
			return err
		}
		if err := tx.UseOAuthCode(ctx, h, now, t.ID); err != nil {
			if keyward.ErrorCode(err) == keyward.ECONFLICT {
				return keyward.Errorf(OAuthInvalidGrant, "authorization code was already used")
			}
			return err
		}
		if err := s.insertToken(ctx, tx, c, t); err != nil {
			if keyward.ErrorCode(err) == keyward.EINVALID {
				return keyward.Errorf(OAuthInvalidGrant, "%s", keyward.ErrorMessage(err))
			}
			return err
		}
		t.State, t.SourceName = keyward.StatusActive, keyward.SourceLabel(t.Source, t.Name)
		tok, secret = t, sec
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if refusal != nil {
		return nil, "", refusal
	}
	return tok, secret, nil
}

// oauthCaller is the user of code acting in its org with their current
// role, as a token minted for them will.
func (s *Service) oauthCaller(ctx context.Context, tx Tx, code *keyward.OAuthCode, x OAuthExchange) (*Caller, error) {
	m, err := tx.FindMembership(ctx, code.OrgID, code.UserID)
	if keyward.ErrorCode(err) == keyward.ENOTFOUND || (err == nil && m.Suspended) {
		return nil, keyward.Errorf(OAuthInvalidGrant, "the user is no longer an active member of the org")
	} else if err != nil {
		return nil, err
	}
	org, err := tx.FindOrgByID(ctx, code.OrgID)
	if err != nil {
		return nil, err
	}
	user, err := tx.FindUserByID(ctx, code.UserID)
	if err != nil {
		return nil, err
	}
	return &Caller{
		User: user, Org: org, Role: m.Role, Permissions: s.perms.ForRole(m.Role),
		IP: x.IP, UserAgent: x.UserAgent, Source: keyward.SourceOAuthPrefix + code.ClientID,
	}, nil
}

// revokeCodeToken revokes the token that a reused code issued.
func (s *Service) revokeCodeToken(ctx context.Context, tx Tx, code *keyward.OAuthCode, x OAuthExchange) error {
	if code.TokenID == "" {
		return nil
	}
	t, err := tx.FindTokenByID(ctx, code.TokenID)
	if keyward.ErrorCode(err) == keyward.ENOTFOUND {
		return nil // deleted since
	} else if err != nil {
		return err
	}
	if t.RevokedAt != nil {
		return nil
	}
	return s.revokeOAuth(ctx, tx, &Caller{IP: x.IP, UserAgent: x.UserAgent}, t, "system", "authorization code reused")
}

// revokeOAuth revokes t in tx, with its change-feed entry and audit event.
func (s *Service) revokeOAuth(ctx context.Context, tx Tx, c *Caller, t *keyward.Token, by, reason string) error {
	now := s.Now()
	t.RevokedAt, t.RevokedBy, t.RevokeReason = &now, by, reason
	if err := tx.UpdateToken(ctx, t); err != nil {
		return err
	}
	if err := s.change(ctx, tx, keyward.ChangeToken, t.OrgID, t.ID, t.UserID, t.Hash[:]); err != nil {
		return err
	}
	return s.audit(ctx, tx, c, t.OrgID, keyward.ActionTokenRevoked, t.ID,
		map[string]any{"name": t.Name, "display": t.Display, "reason": reason})
}

// RevokeOAuthToken revokes an OAuth access token at its client's request
// (RFC 7009). A string that is no token of this installation, or an
// unknown or already revoked token, changes nothing and succeeds, as RFC
// 7009 section 2.2 asks. Returns EINVALID without a client id,
// OAuthUnsupportedTokenType for a token that is not an OAuth token, and
// OAuthInvalidClient for one issued to another client.
func (s *Service) RevokeOAuthToken(ctx context.Context, raw, clientID, ip, userAgent string) error {
	if clientID == "" {
		return invalid("client_id is required")
	}
	if _, err := s.format.Parse(raw); err != nil {
		return nil
	}
	h := keyward.HashToken(raw)
	return s.update(ctx, func(tx Tx) error {
		t, err := tx.FindTokenByHash(ctx, h)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if t.Kind != keyward.KindOAuth {
			return keyward.Errorf(OAuthUnsupportedTokenType, "only OAuth access tokens are revoked here")
		}
		if t.Source != keyward.SourceOAuthPrefix+clientID {
			return keyward.Errorf(OAuthInvalidClient, "the token was not issued to this client")
		}
		if t.RevokedAt != nil {
			return nil
		}
		return s.revokeOAuth(ctx, tx, &Caller{Token: t, IP: ip, UserAgent: userAgent}, t, t.ID, "revoked by its OAuth client")
	})
}

// nameSources sets SourceName on tokens, naming each OAuth token's client
// (one look-up per client).
func (s *Service) nameSources(ctx context.Context, tx Tx, tokens []*keyward.Token) error {
	names := map[string]string{}
	for _, t := range tokens {
		id, ok := strings.CutPrefix(t.Source, keyward.SourceOAuthPrefix)
		if !ok {
			t.SourceName = t.Source
			continue
		}
		name, seen := names[id]
		if !seen {
			c, err := tx.FindOAuthClient(ctx, id)
			switch {
			case err == nil:
				name = c.Name
			case keyward.ErrorCode(err) != keyward.ENOTFOUND:
				return err
			}
			names[id] = name
		}
		t.SourceName = keyward.SourceLabel(t.Source, name)
	}
	return nil
}
