package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/keyward/keyward"
)

const membershipColumns = `org_id, user_id, role, suspended, created_at`

func scanMembership(row interface{ Scan(...any) error }) (*keyward.Membership, error) {
	var m keyward.Membership
	var created int64
	if err := row.Scan(&m.OrgID, &m.UserID, &m.Role, &m.Suspended, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// FindMembership returns a user's membership of an org. Returns ENOTFOUND.
func (tx *tx) FindMembership(ctx context.Context, orgID, userID string) (_ *keyward.Membership, err error) {
	defer wrap(&err, "FindMembership(%q, %q)", orgID, userID)
	m, err := scanMembership(tx.tx.QueryRowContext(ctx,
		`SELECT `+membershipColumns+` FROM memberships WHERE org_id = $1 AND user_id = $2`, orgID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("member")
	}
	return m, err
}

// FindMemberships lists an org's memberships (when orgID is set) or a
// user's (when only userID is set), oldest first. after continues a list:
// it is the user id of the last membership seen when listing an org, and
// the org id when listing a user's. An after that names no membership of
// the list returns EINVALID. A limit of 0 returns them all.
func (tx *tx) FindMemberships(ctx context.Context, orgID, userID, after string, limit int) (_ []*keyward.Membership, err error) {
	defer wrap(&err, "FindMemberships(%q, %q, %q, %d)", orgID, userID, after, limit)
	var q query
	// key is the column that orders memberships created at the same time,
	// and that after names.
	var key string
	switch {
	case orgID != "":
		key = "user_id"
		q.add("org_id = ?", orgID)
		if userID != "" {
			q.add("user_id = ?", userID)
		}
	case userID != "":
		key = "org_id"
		q.add("user_id = ?", userID)
	default:
		return nil, errors.New("an org or a user is required")
	}
	if after != "" {
		last := query{where: slices.Clone(q.where), args: slices.Clone(q.args)}
		last.add(key+" = ?", after)
		var created int64
		err := tx.tx.QueryRowContext(ctx, `SELECT created_at FROM memberships`+last.clause(), last.args...).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, keyward.Errorf(keyward.EINVALID, "invalid cursor")
		} else if err != nil {
			return nil, err
		}
		q.add("(created_at > ? OR (created_at = ? AND "+key+" > ?))", created, created, after)
	}
	stmt := `SELECT ` + membershipColumns + ` FROM memberships` + q.clause() + ` ORDER BY created_at, ` + key
	if limit > 0 {
		stmt += ` LIMIT ` + q.arg(limit)
	}
	rows, err := tx.tx.QueryContext(ctx, stmt, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*keyward.Membership{}
	for rows.Next() {
		m, err := scanMembership(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CreateMembership stores a membership. Returns ECONFLICT if the user is
// already a member, ENOTFOUND if the org or the user does not exist.
func (tx *tx) CreateMembership(ctx context.Context, m *keyward.Membership) (err error) {
	defer wrap(&err, "CreateMembership(%q, %q)", m.OrgID, m.UserID)
	res, err := tx.tx.ExecContext(ctx, `
		INSERT INTO memberships (org_id, user_id, role, suspended, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`,
		m.OrgID, m.UserID, string(m.Role), m.Suspended, micros(m.CreatedAt))
	if tx.d.foreignKeyViolation(err) {
		return keyward.Errorf(keyward.ENOTFOUND, "org or user not found")
	}
	return insertedOne(res, err, "the user is already a member of the org")
}

// UpdateMembership replaces the role and suspension. Returns ENOTFOUND.
func (tx *tx) UpdateMembership(ctx context.Context, m *keyward.Membership) (err error) {
	defer wrap(&err, "UpdateMembership(%q, %q)", m.OrgID, m.UserID)
	res, err := tx.tx.ExecContext(ctx,
		`UPDATE memberships SET role = $3, suspended = $4 WHERE org_id = $1 AND user_id = $2`,
		m.OrgID, m.UserID, string(m.Role), m.Suspended)
	return affectedOne(res, err, "member")
}

// DeleteMembership removes a membership. Returns ENOTFOUND.
func (tx *tx) DeleteMembership(ctx context.Context, orgID, userID string) (err error) {
	defer wrap(&err, "DeleteMembership(%q, %q)", orgID, userID)
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM memberships WHERE org_id = $1 AND user_id = $2`, orgID, userID)
	return affectedOne(res, err, "member")
}

// CountOwners returns how many owners of an org are not suspended.
func (tx *tx) CountOwners(ctx context.Context, orgID string) (n int, err error) {
	defer wrap(&err, "CountOwners(%q)", orgID)
	err = tx.tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2 AND NOT suspended`,
		orgID, string(keyward.RoleOwner)).Scan(&n)
	return n, err
}
