package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/keyward/keyward"
)

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
