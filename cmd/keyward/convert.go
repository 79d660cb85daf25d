package main

import (
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
)

// Operator commands act on the service directly and print what the API
// would: these turn domain values into the API's wire types, as the api
// package does for its answers.

func tokenOut(t *keyward.Token) client.Token {
	out := client.Token{
		ID:           t.ID,
		Kind:         string(t.Kind),
		OrgID:        t.OrgID,
		UserID:       optString(t.UserID),
		CreatedBy:    t.CreatedBy,
		Name:         t.Name,
		Description:  t.Description,
		Display:      t.Display,
		Status:       string(t.State),
		Source:       t.Source,
		CreatedAt:    t.CreatedAt.UTC(),
		ExpiresAt:    optTime(t.ExpiresAt),
		LastUsedAt:   optTime(t.LastUsedAt),
		LastUsedIP:   optString(t.LastUsedIP),
		RevokedAt:    optTime(t.RevokedAt),
		RevokedBy:    optString(t.RevokedBy),
		RevokeReason: optString(t.RevokeReason),
		Generation:   t.Generation,
		Role:         optString(string(t.Role)),
		AgentID:      optString(t.AgentID),
		Scopes:       make([]client.Scope, 0, len(t.Scopes)),
		AllowedCIDRs: make([]string, 0, len(t.AllowedCIDRs)),
		SupersededBy: optString(t.SupersededBy),
	}
	if out.Status == "" {
		out.Status = string(t.BaseStatus(time.Now()))
	}
	if t.Permissions != nil {
		out.Permissions = append([]string{}, t.Permissions...)
	}
	for _, sc := range t.Scopes {
		out.Scopes = append(out.Scopes, client.Scope{ID: sc.ID, EntityType: sc.EntityType, EntityID: sc.EntityID, Operations: append([]string{}, sc.Operations...)})
	}
	for _, p := range t.AllowedCIDRs {
		out.AllowedCIDRs = append(out.AllowedCIDRs, p.String())
	}
	if t.RateLimit > 0 {
		n := t.RateLimit
		out.RateLimit = &n
	}
	return out
}

func userOut(u *keyward.User) client.User {
	return client.User{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt.UTC()}
}

func orgOut(o *keyward.Org) client.Org {
	return client.Org{ID: o.ID, Slug: o.Slug, Name: o.Name, CreatedAt: o.CreatedAt.UTC()}
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
