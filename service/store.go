package service

import (
	"context"
	"time"

	"github.com/keyward/keyward"
)

// Store is the storage the service needs. sqlstore implements it for
// SQLite and PostgreSQL; storetest checks that both keep it the same way.
type Store interface {
	// Update runs fn in a read-write transaction and commits it durably if
	// fn returns nil. Concurrent Updates are serialised as the backend
	// requires; fn may be retried and must not have side effects outside
	// tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only snapshot.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Tx is one transaction. Find* methods return a keyward.Error with code
// ENOTFOUND when nothing matches; Create* return ECONFLICT on a duplicate
// key (an email, a slug, a token hash).
type Tx interface {
	// FindUserByID returns a user. Returns ENOTFOUND.
	FindUserByID(ctx context.Context, id string) (*keyward.User, error)
	// FindUserByEmail returns a user by email, compared case-insensitively.
	// Returns ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*keyward.User, error)
	// CreateUser stores a new user. Returns ECONFLICT if the email is taken.
	CreateUser(ctx context.Context, u *keyward.User) error
	// UpdateUser replaces a user's name, email and password hash. Returns
	// ENOTFOUND.
	UpdateUser(ctx context.Context, u *keyward.User) error
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)

	// FindOrgByID returns an org. Returns ENOTFOUND.
	FindOrgByID(ctx context.Context, id string) (*keyward.Org, error)
	// FindOrgBySlug returns an org. Returns ENOTFOUND.
	FindOrgBySlug(ctx context.Context, slug string) (*keyward.Org, error)
	// CreateOrg stores a new org. Returns ECONFLICT if the slug is taken.
	CreateOrg(ctx context.Context, o *keyward.Org) error

	// FindMembership returns a user's membership of an org. Returns
	// ENOTFOUND.
	FindMembership(ctx context.Context, orgID, userID string) (*keyward.Membership, error)
	// FindMemberships lists an org's memberships (when orgID is set) or a
	// user's (when userID is set), oldest first, after the cursor (the
	// user id of the last one seen) and at most limit of them (0: all).
	FindMemberships(ctx context.Context, orgID, userID, after string, limit int) ([]*keyward.Membership, error)
	// CreateMembership stores a membership. Returns ECONFLICT if the user is
	// already a member.
	CreateMembership(ctx context.Context, m *keyward.Membership) error
	// UpdateMembership replaces the role and suspension. Returns ENOTFOUND.
	UpdateMembership(ctx context.Context, m *keyward.Membership) error
	// DeleteMembership removes a membership. Returns ENOTFOUND.
	DeleteMembership(ctx context.Context, orgID, userID string) error
	// CountOwners returns how many active owners an org has.
	CountOwners(ctx context.Context, orgID string) (int, error)

	// FindTokenByID returns a token. Returns ENOTFOUND.
	FindTokenByID(ctx context.Context, id string) (*keyward.Token, error)
	// FindTokenByHash returns the token whose string hashes to h, deleted
	// tokens excluded. Returns ENOTFOUND.
	FindTokenByHash(ctx context.Context, h keyward.Hash) (*keyward.Token, error)
	// FindTokens lists tokens matching f, newest first (by created_at, then
	// id), one page of f.Limit after f.Cursor, and the cursor of the next
	// page ("" on the last page). Status filters on the token's own
	// fields at f.Now (revoked, expired, active).
	FindTokens(ctx context.Context, f keyward.TokenFilter) ([]*keyward.Token, string, error)
	// CreateToken stores a new token. Returns ECONFLICT if its id or hash
	// exists.
	CreateToken(ctx context.Context, t *keyward.Token) error
	// UpdateToken replaces every mutable field of a token (everything but
	// id, kind, org, user, created_by, created_at and family). Returns
	// ENOTFOUND.
	UpdateToken(ctx context.Context, t *keyward.Token) error
	// DeleteToken removes a token from lists and look-ups, with its use
	// counts. Returns ENOTFOUND.
	DeleteToken(ctx context.Context, id string) error
	// RevokeUserTokens revokes the org's unrevoked tokens of user with
	// the given kinds at now, and returns their ids.
	RevokeUserTokens(ctx context.Context, orgID, userID string, kinds []keyward.Kind, now time.Time, by, reason string) ([]string, error)
	// FindTokenFamily returns the ids of the tokens of one rotation family.
	FindTokenFamily(ctx context.Context, familyID string) ([]*keyward.Token, error)
	// TouchTokens records last use of tokens, never moving last_used_at
	// back. It may be called outside any other transaction.
	TouchTokens(ctx context.Context, uses []keyward.TokenUse) error
	// AddTokenUsage adds hourly use counts to the stored ones.
	AddTokenUsage(ctx context.Context, counts []keyward.UsageCount) error
	// FindTokenUsage returns the hourly counts of the given tokens from
	// since on, ordered by token and hour.
	FindTokenUsage(ctx context.Context, ids []string, since time.Time) ([]keyward.UsageCount, error)
	// PruneTokenUsage deletes the counts of hours before before and returns
	// how many it deleted.
	PruneTokenUsage(ctx context.Context, before time.Time) (int64, error)

	// FindPolicy returns an org's policy, or the zero policy (with OrgID
	// set) if none was saved.
	FindPolicy(ctx context.Context, orgID string) (*keyward.Policy, error)
	// SavePolicy stores an org's policy.
	SavePolicy(ctx context.Context, p *keyward.Policy) error

	// AppendAudit appends an event, setting its ID.
	AppendAudit(ctx context.Context, e *keyward.AuditEvent) error
	// FindAudit lists events matching f, newest first, one page after
	// f.Cursor, and the next page's cursor ("" on the last page).
	FindAudit(ctx context.Context, f keyward.AuditFilter) ([]*keyward.AuditEvent, string, error)

	// FindOAuthClient returns an OAuth client. Returns ENOTFOUND.
	FindOAuthClient(ctx context.Context, id string) (*keyward.OAuthClient, error)
	// SaveOAuthClient stores a client, or replaces the kind, name, redirect
	// URIs and updated_at of the client with its id (keeping created_at).
	SaveOAuthClient(ctx context.Context, c *keyward.OAuthClient) error
	// CreateOAuthCode stores a new authorization code. Returns ECONFLICT if
	// its hash exists, ENOTFOUND if its client, user or org does not.
	CreateOAuthCode(ctx context.Context, c *keyward.OAuthCode) error
	// FindOAuthCode returns the code whose string hashes to h. Returns
	// ENOTFOUND.
	FindOAuthCode(ctx context.Context, h keyward.Hash) (*keyward.OAuthCode, error)
	// UseOAuthCode marks an unused code used at usedAt by the exchange
	// that issued tokenID. Returns ENOTFOUND if there is no such code,
	// ECONFLICT if it was used already.
	UseOAuthCode(ctx context.Context, h keyward.Hash, usedAt time.Time, tokenID string) error
	// DeleteOAuthCodes deletes the codes that expired before before and
	// returns how many it deleted.
	DeleteOAuthCodes(ctx context.Context, before time.Time) (int, error)

	// AppendChange appends a change-feed entry, setting its Seq.
	AppendChange(ctx context.Context, c *keyward.Change) error
	// FindChanges returns the entries after seq, oldest first, at most
	// limit of them.
	FindChanges(ctx context.Context, after int64, limit int) ([]*keyward.Change, error)
	// LastChangeSeq returns the sequence number of the newest entry, 0
	// when there never was one; when every entry has been pruned, the
	// highest pruned one.
	LastChangeSeq(ctx context.Context) (int64, error)
	// PrunedChangeSeq returns the highest sequence number PruneChanges
	// deleted, 0 before the first prune. A follower whose position is
	// below it has missed entries.
	PrunedChangeSeq(ctx context.Context) (int64, error)
	// PruneChanges deletes the oldest entries, at most limit of them, up
	// to the first one written at or after before; raises the pruned
	// sequence number to the last one it deleted; and returns how many it
	// deleted. Every entry left is newer than the pruned sequence number.
	PruneChanges(ctx context.Context, before time.Time, limit int) (int64, error)

	// CreateSession stores a new dashboard session. Returns ECONFLICT if
	// its hash exists.
	CreateSession(ctx context.Context, s *keyward.Session) error
	// FindSession returns the session whose id hashes to h. Returns
	// ENOTFOUND.
	FindSession(ctx context.Context, h keyward.Hash) (*keyward.Session, error)
	// UpdateSession replaces a session's org and last-seen time. Returns
	// ENOTFOUND.
	UpdateSession(ctx context.Context, s *keyward.Session) error
	// DeleteSession removes a session; removing a missing one succeeds.
	DeleteSession(ctx context.Context, h keyward.Hash) error
	// DeleteUserSessions removes every session of a user.
	DeleteUserSessions(ctx context.Context, userID string) error

	// CreatePasswordLink stores a one-time set-password link. Returns
	// ECONFLICT if its hash exists.
	CreatePasswordLink(ctx context.Context, l *keyward.PasswordLink) error
	// FindPasswordLink returns the link whose token hashes to h. Returns
	// ENOTFOUND.
	FindPasswordLink(ctx context.Context, h keyward.Hash) (*keyward.PasswordLink, error)
	// DeleteUserPasswordLinks removes every set-password link of a user.
	DeleteUserPasswordLinks(ctx context.Context, userID string) error

	// CreateInvitation stores an invitation. Returns ECONFLICT if its org
	// already has one for the email, or its hash exists.
	CreateInvitation(ctx context.Context, inv *keyward.Invitation) error
	// FindInvitation returns an org's invitation by id. Returns ENOTFOUND.
	FindInvitation(ctx context.Context, orgID, id string) (*keyward.Invitation, error)
	// FindInvitationByHash returns the invitation whose link token hashes
	// to h. Returns ENOTFOUND.
	FindInvitationByHash(ctx context.Context, h keyward.Hash) (*keyward.Invitation, error)
	// FindInvitations lists an org's invitations, oldest first, after the
	// invitation id after; a limit of 0 returns them all. An after that
	// names no invitation of the org returns EINVALID.
	FindInvitations(ctx context.Context, orgID, after string, limit int) ([]*keyward.Invitation, error)
	// DeleteInvitation removes an invitation; removing a missing one
	// succeeds.
	DeleteInvitation(ctx context.Context, id string) error
	// DeleteEmailInvitation removes an org's invitation for email, if any.
	DeleteEmailInvitation(ctx context.Context, orgID, email string) error

	// AddSignInFailure records a failed sign-in under key (an account or
	// a client address) at a time.
	AddSignInFailure(ctx context.Context, key string, at time.Time) error
	// CountSignInFailures counts the failures under key at or after since.
	CountSignInFailures(ctx context.Context, key string, since time.Time) (int, error)
	// ClearSignInFailures forgets the failures under key.
	ClearSignInFailures(ctx context.Context, key string) error

	// UseNonce records a one-time form nonce by its hash, kept until
	// expiresAt. Returns ECONFLICT if it was used before.
	UseNonce(ctx context.Context, h keyward.Hash, expiresAt time.Time) error

	// PruneAuth deletes what sign-in no longer needs: sessions past their
	// absolute end at now or last seen before idleBefore, set-password
	// links and nonces past their end, and sign-in failures before
	// failuresBefore.
	PruneAuth(ctx context.Context, now, idleBefore, failuresBefore time.Time) error
}
