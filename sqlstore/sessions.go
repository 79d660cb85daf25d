package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keyward/keyward"
)

const sessionColumns = `hash, user_id, org_id, created_at, last_seen_at, expires_at, ip, user_agent`

// CreateSession stores a new dashboard session. Returns ECONFLICT if its
// hash exists.
func (tx *tx) CreateSession(ctx context.Context, s *keyward.Session) (err error) {
	defer wrap(&err, "CreateSession")
	res, err := tx.tx.ExecContext(ctx, `
		INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`,
		s.Hash[:], s.UserID, s.OrgID, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), s.IP, s.UserAgent)
	return insertedOne(res, err, "the session exists")
}

// FindSession returns the session whose id hashes to h. Returns ENOTFOUND.
func (tx *tx) FindSession(ctx context.Context, h keyward.Hash) (_ *keyward.Session, err error) {
	defer wrap(&err, "FindSession")
	var s keyward.Session
	var hash []byte
	var created, seen, expires int64
	err = tx.tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE hash = $1`, h[:]).
		Scan(&hash, &s.UserID, &s.OrgID, &created, &seen, &expires, &s.IP, &s.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("session")
	} else if err != nil {
		return nil, err
	}
	copy(s.Hash[:], hash)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return &s, nil
}

// UpdateSession replaces a session's org and last-seen time. Returns
// ENOTFOUND.
func (tx *tx) UpdateSession(ctx context.Context, s *keyward.Session) (err error) {
	defer wrap(&err, "UpdateSession")
	res, err := tx.tx.ExecContext(ctx, `UPDATE sessions SET org_id = $2, last_seen_at = $3 WHERE hash = $1`,
		s.Hash[:], s.OrgID, micros(s.LastSeenAt))
	return affectedOne(res, err, "session")
}

// DeleteSession removes a session; removing a missing one succeeds.
func (tx *tx) DeleteSession(ctx context.Context, h keyward.Hash) (err error) {
	defer wrap(&err, "DeleteSession")
	_, err = tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1`, h[:])
	return err
}

// DeleteUserSessions removes every session of a user.
func (tx *tx) DeleteUserSessions(ctx context.Context, userID string) (err error) {
	defer wrap(&err, "DeleteUserSessions(%q)", userID)
	_, err = tx.tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return err
}

// CreatePasswordLink stores a one-time set-password link. Returns
// ECONFLICT if its hash exists.
func (tx *tx) CreatePasswordLink(ctx context.Context, l *keyward.PasswordLink) (err error) {
	defer wrap(&err, "CreatePasswordLink(%q)", l.UserID)
	res, err := tx.tx.ExecContext(ctx, `
		INSERT INTO password_links (hash, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`,
		l.Hash[:], l.UserID, micros(l.CreatedAt), micros(l.ExpiresAt))
	return insertedOne(res, err, "the set-password link exists")
}

// FindPasswordLink returns the link whose token hashes to h. Returns
// ENOTFOUND.
func (tx *tx) FindPasswordLink(ctx context.Context, h keyward.Hash) (_ *keyward.PasswordLink, err error) {
	defer wrap(&err, "FindPasswordLink")
	var l keyward.PasswordLink
	var hash []byte
	var created, expires int64
	err = tx.tx.QueryRowContext(ctx, `SELECT hash, user_id, created_at, expires_at FROM password_links WHERE hash = $1`, h[:]).
		Scan(&hash, &l.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("set-password link")
	} else if err != nil {
		return nil, err
	}
	copy(l.Hash[:], hash)
	l.CreatedAt, l.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &l, nil
}

// DeleteUserPasswordLinks removes every set-password link of a user.
func (tx *tx) DeleteUserPasswordLinks(ctx context.Context, userID string) (err error) {
	defer wrap(&err, "DeleteUserPasswordLinks(%q)", userID)
	_, err = tx.tx.ExecContext(ctx, `DELETE FROM password_links WHERE user_id = $1`, userID)
	return err
}

// AddSignInFailure records a failed sign-in under key at a time.
func (tx *tx) AddSignInFailure(ctx context.Context, key string, at time.Time) (err error) {
	defer wrap(&err, "AddSignInFailure")
	_, err = tx.tx.ExecContext(ctx, `INSERT INTO signin_failures (key, time) VALUES ($1, $2)`, key, micros(at))
	return err
}

// CountSignInFailures counts the failures under key at or after since.
func (tx *tx) CountSignInFailures(ctx context.Context, key string, since time.Time) (n int, err error) {
	defer wrap(&err, "CountSignInFailures")
	err = tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signin_failures WHERE key = $1 AND time >= $2`, key, micros(since)).Scan(&n)
	return n, err
}

// ClearSignInFailures forgets the failures under key.
func (tx *tx) ClearSignInFailures(ctx context.Context, key string) (err error) {
	defer wrap(&err, "ClearSignInFailures")
	_, err = tx.tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE key = $1`, key)
	return err
}

// UseNonce records a one-time form nonce. Returns ECONFLICT if it was used
// before.
func (tx *tx) UseNonce(ctx context.Context, h keyward.Hash, expiresAt time.Time) (err error) {
	defer wrap(&err, "UseNonce")
	res, err := tx.tx.ExecContext(ctx, `INSERT INTO used_nonces (hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		h[:], micros(expiresAt))
	return insertedOne(res, err, "this form was already sent")
}

// PruneAuth deletes expired sessions, set-password links and nonces, and
// sign-in failures before failuresBefore.
func (tx *tx) PruneAuth(ctx context.Context, now, idleBefore, failuresBefore time.Time) (err error) {
	defer wrap(&err, "PruneAuth")
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, []any{micros(now), micros(idleBefore)}},
		{`DELETE FROM password_links WHERE expires_at <= $1`, []any{micros(now)}},
		{`DELETE FROM used_nonces WHERE expires_at <= $1`, []any{micros(now)}},
		{`DELETE FROM signin_failures WHERE time < $1`, []any{micros(failuresBefore)}},
	} {
		if _, err := tx.tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return err
		}
	}
	return nil
}
