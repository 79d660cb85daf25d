package service

import (
	"context"
	"slices"
	"time"

	"github.com/keyward/keyward"
)

// PolicyRequest replaces an org's policy.
type PolicyRequest struct {
	RequireExpiry bool
	// MaxLifetime such as "90d"; "" means no cap.
	MaxLifetime  string
	AllowedKinds []keyward.Kind
}

// FindPolicy returns the caller's org's policy. Any member may read it.
func (s *Service) FindPolicy(ctx context.Context, c *Caller) (*keyward.Policy, error) {
	if err := s.require(c, keyward.PermMembersRead); err != nil {
		return nil, err
	}
	var p *keyward.Policy
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		p, err = tx.FindPolicy(ctx, c.Org.ID)
		return err
	})
	return p, err
}

// SavePolicy replaces the caller's org's policy. Tokens that break the new
// policy are blocked, not revoked. Returns EFORBIDDEN without
// policy:manage.
func (s *Service) SavePolicy(ctx context.Context, c *Caller, req PolicyRequest) (*keyward.Policy, error) {
	if err := s.require(c, keyward.PermPolicyManage); err != nil {
		return nil, err
	}
	p := &keyward.Policy{OrgID: c.Org.ID, RequireExpiry: req.RequireExpiry, UpdatedAt: s.Now()}
	if req.MaxLifetime != "" {
		d, err := keyward.ParseDuration(req.MaxLifetime)
		if err != nil {
			return nil, invalid("max_lifetime: %s", keyward.ErrorMessage(err))
		}
		if d < time.Hour {
			return nil, invalid("max_lifetime must be at least 1h")
		}
		p.MaxLifetime = d
	}
	for i, k := range req.AllowedKinds {
		if !k.Valid() {
			return nil, invalid("allowed_kinds[%d] is an unknown kind: want pat, oauth, api_key, agent or probe", i)
		}
		if !slices.Contains(p.AllowedKinds, k) {
			p.AllowedKinds = append(p.AllowedKinds, k)
		}
	}
	if c.Token != nil {
		// Refuse to lock the caller out through the very token it uses.
		if breaks, why := p.Breaks(c.Token); breaks {
			return nil, &keyward.Error{Code: keyward.ECONFLICT, Message: "this policy would block the token you are using; mint a token that complies with it first", Detail: why}
		}
	}
	err := s.update(ctx, func(tx Tx) error {
		old, err := tx.FindPolicy(ctx, c.Org.ID)
		if err != nil {
			return err
		}
		if err := tx.SavePolicy(ctx, p); err != nil {
			return err
		}
		if err := s.change(ctx, tx, keyward.ChangePolicy, p.OrgID, "", "", nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, p.OrgID, keyward.ActionPolicyChanged, p.OrgID, map[string]any{"from": policyDetails(old), "to": policyDetails(p)})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func policyDetails(p *keyward.Policy) map[string]any {
	d := map[string]any{"require_expiry": p.RequireExpiry, "max_lifetime": nil, "allowed_kinds": p.AllowedKinds}
	if p.MaxLifetime > 0 {
		d["max_lifetime"] = keyward.FormatDuration(p.MaxLifetime)
	}
	return d
}
