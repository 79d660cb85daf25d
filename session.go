package keyward

import "time"

// Session is a person's signed-in dashboard session. The session id lives
// only in the browser's cookie; keyward stores its SHA-256.
type Session struct {
	// Hash is the SHA-256 of the session id.
	Hash   Hash
	UserID string
	// OrgID is the org the person is acting in; the org switcher changes it.
	OrgID      string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time
	IP        string
	UserAgent string
}

// PasswordLink is a one-time link that lets a user set their dashboard
// password. The link's token lives only in the link; keyward stores its
// SHA-256.
type PasswordLink struct {
	// Hash is the SHA-256 of the link's token.
	Hash      Hash
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}
