package service

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/keyward/keyward"
)

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
