package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/keyward/keyward"
)

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
