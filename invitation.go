package keyward

import "time"

// IDPrefixInvitation starts the id of every invitation.
const IDPrefixInvitation = "inv_"

// Invitation offers an email address a role in an org. It makes no
// account and no membership: the person at that address accepts it from
// the dashboard, signed in as the account with that address, or by
// choosing a password when no account has it. An accepted or cancelled
// invitation is deleted; the audit log keeps its story.
type Invitation struct {
	ID    string
	OrgID string
	Email string
	// Name is the name a new account starts with; the invitee may change it.
	Name string
	Role Role
	// InvitedBy is the user or token that made the invitation.
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// Hash is the SHA-256 of the token in the invitation's link; the token
	// itself is shown once, to the inviter.
	Hash Hash
}
