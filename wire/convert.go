package wire

import (
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
)

// This file is the one place where domain values become wire values: times
// in RFC 3339 UTC, absent values null, empty lists [], and never a hash or
// a secret.

// TokenOut is a token as the API shows it.
func TokenOut(t *keyward.Token) client.Token {
	out := client.Token{
		ID:           t.ID,
		Kind:         string(t.Kind),
		OrgID:        t.OrgID,
		UserID:       OptString(t.UserID),
		CreatedBy:    t.CreatedBy,
		Name:         t.Name,
		Description:  t.Description,
		Display:      t.Display,
		Status:       string(t.State),
		Source:       t.Source,
		CreatedAt:    t.CreatedAt.UTC(),
		ExpiresAt:    OptTime(t.ExpiresAt),
		LastUsedAt:   OptTime(t.LastUsedAt),
		LastUsedIP:   OptString(t.LastUsedIP),
		RevokedAt:    OptTime(t.RevokedAt),
		RevokedBy:    OptString(t.RevokedBy),
		RevokeReason: OptString(t.RevokeReason),
		Generation:   t.Generation,
		Role:         OptString(string(t.Role)),
		AgentID:      OptString(t.AgentID),
		Scopes:       make([]client.Scope, 0, len(t.Scopes)),
		AllowedCIDRs: make([]string, 0, len(t.AllowedCIDRs)),
		SupersededBy: OptString(t.SupersededBy),
	}
	out.SourceName = t.SourceName
	if out.SourceName == "" {
		out.SourceName = keyward.SourceLabel(t.Source, "")
	}
	if out.Status == "" {
		out.Status = string(t.BaseStatus(time.Now()))
	}
	if t.State == keyward.StatusBlocked {
		out.BlockedBy = OptString(t.BlockedReason)
	}
	if t.Permissions != nil {
		out.Permissions = append([]string{}, t.Permissions...)
	}
	for _, sc := range t.Scopes {
		out.Scopes = append(out.Scopes, ScopeOut(sc))
	}
	for _, p := range t.AllowedCIDRs {
		out.AllowedCIDRs = append(out.AllowedCIDRs, p.String())
	}
	if t.RateLimit > 0 {
		n := t.RateLimit
		out.RateLimit = &n
	}
	if t.Usage != nil {
		out.Usage = append([]int{}, t.Usage...)
	}
	return out
}

func ScopeOut(sc keyward.Scope) client.Scope {
	return client.Scope{ID: sc.ID, EntityType: sc.EntityType, EntityID: sc.EntityID, Operations: append([]string{}, sc.Operations...)}
}

// TokensOut converts a page of tokens; never null.
func TokensOut(ts []*keyward.Token) []client.Token {
	out := make([]client.Token, 0, len(ts))
	for _, t := range ts {
		out = append(out, TokenOut(t))
	}
	return out
}

// SecretOut is the answer of mint, regenerate and rotate: the only answer
// that holds a secret.
func SecretOut(t *keyward.Token, secret string) client.TokenSecret {
	return client.TokenSecret{Token: TokenOut(t), Secret: secret}
}

// UserOut is a user as the API shows it.
func UserOut(u *keyward.User) client.User {
	return client.User{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt.UTC()}
}

// OrgOut is an org as the API shows it.
func OrgOut(o *keyward.Org) client.Org {
	return client.Org{ID: o.ID, Slug: o.Slug, Name: o.Name, CreatedAt: o.CreatedAt.UTC()}
}

func MemberOut(m *service.Member) client.Member {
	return client.Member{
		User:      UserOut(m.User),
		OrgID:     m.OrgID,
		Role:      string(m.Role),
		Suspended: m.Suspended,
		CreatedAt: m.CreatedAt.UTC(),
	}
}

func MembersOut(ms []*service.Member) []client.Member {
	out := make([]client.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, MemberOut(m))
	}
	return out
}

// InvitationOut is an invitation as the API shows it at now.
func InvitationOut(inv *keyward.Invitation, now time.Time) client.Invitation {
	state := "pending"
	if !now.Before(inv.ExpiresAt) {
		state = "expired"
	}
	return client.Invitation{
		ID: inv.ID, Email: inv.Email, Name: inv.Name, Role: string(inv.Role), InvitedBy: inv.InvitedBy,
		CreatedAt: inv.CreatedAt.UTC(), ExpiresAt: inv.ExpiresAt.UTC(), State: state,
	}
}

func PolicyOut(p *keyward.Policy) client.Policy {
	out := client.Policy{RequireExpiry: p.RequireExpiry, AllowedKinds: make([]string, 0, len(p.AllowedKinds))}
	if p.MaxLifetime > 0 {
		s := keyward.FormatDuration(p.MaxLifetime)
		out.MaxLifetime = &s
	}
	for _, k := range p.AllowedKinds {
		out.AllowedKinds = append(out.AllowedKinds, string(k))
	}
	return out
}

// AuditOut is an audit event as the API and its JSON lines export show it.
func AuditOut(e *keyward.AuditEvent) client.AuditEvent {
	out := client.AuditEvent{
		ID:         e.ID,
		Time:       e.Time.UTC(),
		OrgID:      e.OrgID,
		Action:     e.Action,
		Actor:      e.Actor,
		ActorToken: OptString(e.ActorToken),
		Target:     e.Target,
		IP:         e.IP,
		UserAgent:  e.UserAgent,
		Details:    e.Details,
	}
	if len(out.Details) == 0 {
		out.Details = nil // encodes as null
	}
	return out
}

func AuditsOut(es []*keyward.AuditEvent) []client.AuditEvent {
	out := make([]client.AuditEvent, 0, len(es))
	for _, e := range es {
		out = append(out, AuditOut(e))
	}
	return out
}

func WhoamiOut(c *service.Caller) client.Whoami {
	out := client.Whoami{Org: OrgOut(c.Org), Role: OptString(string(c.Role)), Permissions: append([]string{}, c.Permissions...)}
	if c.User != nil {
		u := UserOut(c.User)
		out.User = &u
	}
	if c.Token != nil {
		t := TokenOut(c.Token)
		out.Token = &t
	}
	return out
}

// CursorOut is a list's next_cursor: null on the last page.
func CursorOut(next string) *string { return OptString(next) }

func OptString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func OptTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Wire requests become service requests.

func TokenRequestIn(in client.TokenRequest) service.TokenRequest {
	out := service.TokenRequest{
		Kind:         keyward.Kind(in.Kind),
		Name:         in.Name,
		Description:  in.Description,
		ExpiresIn:    in.ExpiresIn,
		ExpiresAt:    in.ExpiresAt,
		Permissions:  in.Permissions,
		AllowedCIDRs: in.AllowedCIDRs,
		Role:         keyward.Role(in.Role),
		AgentID:      in.AgentID,
		RateLimit:    in.RateLimit,
	}
	for _, sc := range in.Scopes {
		out.Scopes = append(out.Scopes, ScopeIn(sc))
	}
	return out
}

func ScopeIn(sc client.Scope) service.ScopeRequest {
	return service.ScopeRequest{EntityType: sc.EntityType, EntityID: sc.EntityID, Operations: sc.Operations}
}

func PolicyIn(in client.Policy) service.PolicyRequest {
	out := service.PolicyRequest{RequireExpiry: in.RequireExpiry}
	if in.MaxLifetime != nil {
		out.MaxLifetime = *in.MaxLifetime
	}
	for _, k := range in.AllowedKinds {
		out.AllowedKinds = append(out.AllowedKinds, keyward.Kind(k))
	}
	return out
}
