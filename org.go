package keyward

import "time"

// Org is an organisation: it owns org credentials and its members' tokens
// are pinned to it.
type Org struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// User is a person who signs in and belongs to orgs through memberships.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	// PasswordHash is the argon2id hash of the dashboard password, "" when
	// none is set.
	PasswordHash string `json:"-"`
}

// Membership places a user in an org with one role.
type Membership struct {
	OrgID     string
	UserID    string
	Role      Role
	Suspended bool
	CreatedAt time.Time
}

// Policy is an org's token policy.
type Policy struct {
	OrgID         string
	RequireExpiry bool
	// MaxLifetime caps a token's lifetime when above 0.
	MaxLifetime time.Duration
	// AllowedKinds limits the kinds that may be minted and used; empty
	// means all.
	AllowedKinds []Kind
	UpdatedAt    time.Time
}

// Breaks reports whether t breaks the policy, and why.
func (p *Policy) Breaks(t *Token) (bool, string) {
	if p == nil {
		return false, ""
	}
	if len(p.AllowedKinds) > 0 && !containsKind(p.AllowedKinds, t.Kind) {
		return true, "org policy does not allow tokens of kind " + string(t.Kind)
	}
	if p.RequireExpiry && t.ExpiresAt == nil {
		return true, "org policy requires an expiry"
	}
	if p.MaxLifetime > 0 && (t.ExpiresAt == nil || t.ExpiresAt.Sub(t.CreatedAt) > p.MaxLifetime+time.Minute) {
		return true, "token outlives the org's maximum lifetime"
	}
	return false, ""
}

func containsKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}
