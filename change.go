package keyward

import "time"

// Change kinds of the change feed: every write that may alter a verdict
// records one in the same transaction.
const (
	ChangeToken  = "token"  // a token was created, revoked, regenerated, rotated, deleted or edited
	ChangeMember = "member" // a membership changed role, was suspended, unsuspended or removed
	ChangePolicy = "policy" // an org's policy changed
)

// Change is one entry of the change feed that nodes follow to keep their
// verification state true.
type Change struct {
	Seq     int64
	Time    time.Time
	Kind    string
	OrgID   string
	TokenID string
	UserID  string
	// Hash is the token's hash where a token entry changed hash (regenerate)
	// or was created, so a node can drop a remembered miss.
	Hash []byte
}
