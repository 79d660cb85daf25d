package service

import (
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward"
)

// TokenRequest is what a caller asks for when minting a credential.
type TokenRequest struct {
	// Kind is the kind to mint; "" means a PAT for personal tokens and an
	// API key for org credentials.
	Kind        keyward.Kind
	Name        string
	Description string
	// ExpiresIn ("90d", "12h") and ExpiresAt are alternatives; neither
	// means no expiry, where policy allows.
	ExpiresIn string
	ExpiresAt *time.Time
	// Permissions narrows the token to a subset; nil means no subset.
	Permissions []string
	Scopes      []ScopeRequest
	// AllowedCIDRs limits the addresses that may present the token.
	AllowedCIDRs []string
	// Role is the fixed role of an API key; "" means the creator's role.
	Role keyward.Role
	// AgentID binds an agent token to its agent.
	AgentID string
	// RateLimit overrides the hourly rate limit when above 0.
	RateLimit int
	// Source overrides the caller's source (the dashboard and OAuth set it).
	Source string
}

// ScopeRequest is a scope to add.
type ScopeRequest struct {
	EntityType string   `json:"entity_type"`
	EntityID   string   `json:"entity_id"`
	Operations []string `json:"operations"`
}

// TokenUpdate holds the fields PATCH may change; nil leaves a field alone.
type TokenUpdate struct {
	Name        *string
	Description *string
}

// Limits on input.
const (
	maxNameLen        = 100
	maxDescriptionLen = 1000
	maxScopes         = 100
	maxCIDRs          = 100
	maxEntityLen      = 200
	// MaxRotateOverlap is the longest overlap a rotation may keep the old
	// token for.
	MaxRotateOverlap = 7 * 24 * time.Hour
	// MaxExpiryYears bounds an expiry: expires_in and expires_at reach at
	// most this many years past now. Every front end mints through the
	// service, so each gets the bound; no expiry at all stays a choice
	// the org's policy makes.
	MaxExpiryYears = 10
)

func invalid(format string, args ...any) error {
	return keyward.Errorf(keyward.EINVALID, format, args...)
}

func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalid("name is required")
	case utf8.RuneCountInString(name) > maxNameLen:
		return "", invalid("name is longer than %d characters", maxNameLen)
	case strings.ContainsFunc(name, isControl):
		return "", invalid("name may not hold control characters")
	}
	return name, nil
}

func validateDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > maxDescriptionLen {
		return "", invalid("description is longer than %d characters", maxDescriptionLen)
	}
	return d, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// expiry resolves ExpiresIn/ExpiresAt against now. A nil result means none.
func expiry(in string, at *time.Time, now time.Time) (*time.Time, error) {
	switch {
	case in != "" && at != nil:
		return nil, invalid("give expires_in or expires_at, not both")
	case in != "":
		d, err := keyward.ParseDuration(in)
		if err != nil {
			return nil, invalid("expires_in: %s", keyward.ErrorMessage(err))
		}
		if d < time.Minute {
			return nil, invalid("expires_in must be at least one minute")
		}
		t := now.Add(d)
		if t.After(maxExpiry(now)) {
			return nil, invalid("expires_in may be at most %d years", MaxExpiryYears)
		}
		return &t, nil
	case at != nil:
		t := at.UTC().Truncate(time.Microsecond)
		if !t.After(now) {
			return nil, invalid("expires_at must be in the future")
		}
		if t.After(maxExpiry(now)) {
			return nil, invalid("expires_at may be at most %d years from now", MaxExpiryYears)
		}
		return &t, nil
	}
	return nil, nil
}

// maxExpiry is the latest expiry a token minted at now may have.
func maxExpiry(now time.Time) time.Time { return now.AddDate(MaxExpiryYears, 0, 0) }

// keptLifetime is the expiry of a token made at now with the lifetime of
// one made at created to expire at expires, within MaxExpiryYears.
func keptLifetime(now, created, expires time.Time) time.Time {
	e := now.Add(expires.Sub(created))
	if limit := maxExpiry(now); e.After(limit) {
		return limit
	}
	return e
}

func validateScope(r ScopeRequest) (keyward.Scope, error) {
	sc := keyward.Scope{ID: keyward.NewID(keyward.IDPrefixScope), EntityType: strings.TrimSpace(r.EntityType), EntityID: strings.TrimSpace(r.EntityID)}
	if !keyward.ValidIdentifier(sc.EntityType) {
		return sc, invalid("scope entity_type must be 1 to 64 of a-z, 0-9, '_', '-', '.'")
	}
	if sc.EntityID == "" || len(sc.EntityID) > maxEntityLen || strings.ContainsFunc(sc.EntityID, isControl) {
		return sc, invalid("scope entity_id must be \"*\" or an id of 1 to %d characters", maxEntityLen)
	}
	if len(r.Operations) == 0 {
		return sc, invalid("scope needs at least one operation, of %s", strings.Join(keyward.Operations, " "))
	}
	for _, op := range r.Operations {
		if !slices.Contains(keyward.Operations, op) {
			return sc, invalid("unknown scope operation: want one of %s", strings.Join(keyward.Operations, " "))
		}
		if !slices.Contains(sc.Operations, op) {
			sc.Operations = append(sc.Operations, op)
		}
	}
	return sc, nil
}

func validateCIDRs(in []string) ([]netip.Prefix, error) {
	if len(in) > maxCIDRs {
		return nil, invalid("at most %d allowed_cidrs", maxCIDRs)
	}
	var out []netip.Prefix
	for i, s := range in {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, invalid("allowed_cidrs[%d] is not an address or CIDR", i)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
