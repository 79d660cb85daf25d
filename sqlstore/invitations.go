package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/keyward/keyward"
)

const invitationColumns = `id, org_id, email, name, role, invited_by, created_at, expires_at, hash`

func scanInvitation(row interface{ Scan(...any) error }) (*keyward.Invitation, error) {
	var inv keyward.Invitation
	var created, expires int64
	var hash []byte
	if err := row.Scan(&inv.ID, &inv.OrgID, &inv.Email, &inv.Name, &inv.Role, &inv.InvitedBy, &created, &expires, &hash); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt = fromMicros(created), fromMicros(expires)
	copy(inv.Hash[:], hash)
	return &inv, nil
}

// CreateInvitation stores an invitation. Returns ECONFLICT if its org
// already has one for the email, or its hash exists.
func (tx *tx) CreateInvitation(ctx context.Context, inv *keyward.Invitation) (err error) {
	defer wrap(&err, "CreateInvitation(%q)", inv.OrgID)
	res, err := tx.tx.ExecContext(ctx, `
		INSERT INTO invitations (`+invitationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING`,
		inv.ID, inv.OrgID, inv.Email, inv.Name, string(inv.Role), inv.InvitedBy, micros(inv.CreatedAt), micros(inv.ExpiresAt), inv.Hash[:])
	if tx.d.foreignKeyViolation(err) {
		return keyward.ErrNotFound("org")
	}
	return insertedOne(res, err, "the org already has an invitation for this address")
}

// FindInvitation returns an org's invitation by id. Returns ENOTFOUND.
func (tx *tx) FindInvitation(ctx context.Context, orgID, id string) (_ *keyward.Invitation, err error) {
	defer wrap(&err, "FindInvitation(%q, %q)", orgID, id)
	inv, err := scanInvitation(tx.tx.QueryRowContext(ctx,
		`SELECT `+invitationColumns+` FROM invitations WHERE org_id = $1 AND id = $2`, orgID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("invitation")
	}
	return inv, err
}

// FindInvitationByHash returns the invitation whose link token hashes to
// h. Returns ENOTFOUND.
func (tx *tx) FindInvitationByHash(ctx context.Context, h keyward.Hash) (_ *keyward.Invitation, err error) {
	defer wrap(&err, "FindInvitationByHash")
	inv, err := scanInvitation(tx.tx.QueryRowContext(ctx,
		`SELECT `+invitationColumns+` FROM invitations WHERE hash = $1`, h[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("invitation")
	}
	return inv, err
}

// FindInvitations lists an org's invitations, oldest first, after the
// invitation id after; a limit of 0 returns them all. An after that names
// no invitation of the org returns EINVALID.
func (tx *tx) FindInvitations(ctx context.Context, orgID, after string, limit int) (_ []*keyward.Invitation, err error) {
	defer wrap(&err, "FindInvitations(%q, %q, %d)", orgID, after, limit)
	var q query
	q.add("org_id = ?", orgID)
	if after != "" {
		var created int64
		err := tx.tx.QueryRowContext(ctx, `SELECT created_at FROM invitations WHERE org_id = $1 AND id = $2`, orgID, after).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, keyward.Errorf(keyward.EINVALID, "invalid cursor")
		} else if err != nil {
			return nil, err
		}
		q.add("(created_at > ? OR (created_at = ? AND id > ?))", created, created, after)
	}
	stmt := `SELECT ` + invitationColumns + ` FROM invitations` + q.clause() + ` ORDER BY created_at, id`
	if limit > 0 {
		stmt += ` LIMIT ` + q.arg(limit)
	}
	rows, err := tx.tx.QueryContext(ctx, stmt, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*keyward.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// DeleteInvitation removes an invitation; removing a missing one succeeds.
func (tx *tx) DeleteInvitation(ctx context.Context, id string) (err error) {
	defer wrap(&err, "DeleteInvitation(%q)", id)
	_, err = tx.tx.ExecContext(ctx, `DELETE FROM invitations WHERE id = $1`, id)
	return err
}

// DeleteEmailInvitation removes an org's invitation for email, if any.
func (tx *tx) DeleteEmailInvitation(ctx context.Context, orgID, email string) (err error) {
	defer wrap(&err, "DeleteEmailInvitation(%q)", orgID)
	_, err = tx.tx.ExecContext(ctx, `DELETE FROM invitations WHERE org_id = $1 AND email = $2`, orgID, email)
	return err
}
