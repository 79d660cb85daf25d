package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keyward/keyward"
)

// FindOAuthClient returns an OAuth client. Returns ENOTFOUND.
func (tx *tx) FindOAuthClient(ctx context.Context, id string) (_ *keyward.OAuthClient, err error) {
	defer wrap(&err, "FindOAuthClient(%q)", id)
	var (
		c                keyward.OAuthClient
		uris             sql.NullString
		created, updated int64
	)
	err = tx.tx.QueryRowContext(ctx, `
		SELECT id, kind, name, redirect_uris, created_at, updated_at
		FROM oauth_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.Kind, &c.Name, &uris, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("OAuth client")
	}
	if err != nil {
		return nil, err
	}
	if err := fromJSONColumn(uris, &c.RedirectURIs); err != nil {
		return nil, fmt.Errorf("redirect URIs: %w", err)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// SaveOAuthClient stores a client, or replaces the kind, name, redirect
// URIs and updated_at of the client with its id, keeping its created_at.
func (tx *tx) SaveOAuthClient(ctx context.Context, c *keyward.OAuthClient) (err error) {
	defer wrap(&err, "SaveOAuthClient(%q)", c.ID)
	uris := c.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	j, err := jsonColumn(uris)
	if err != nil {
		return err
	}
	_, err = tx.tx.ExecContext(ctx, `
		INSERT INTO oauth_clients (id, kind, name, redirect_uris, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
			redirect_uris = excluded.redirect_uris, updated_at = excluded.updated_at`,
		c.ID, c.Kind, c.Name, j, micros(c.CreatedAt), micros(c.UpdatedAt))
	return err
}

// CreateOAuthCode stores a new authorization code. Returns ECONFLICT if
// its hash exists, ENOTFOUND if its client, user or org does not.
func (tx *tx) CreateOAuthCode(ctx context.Context, c *keyward.OAuthCode) (err error) {
	defer wrap(&err, "CreateOAuthCode")
	res, err := tx.tx.ExecContext(ctx, `
		INSERT INTO oauth_codes (hash, client_id, user_id, org_id, redirect_uri, code_challenge,
			resource, scope, created_at, expires_at, used_at, token_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT DO NOTHING`,
		c.Hash[:], c.ClientID, c.UserID, c.OrgID, c.RedirectURI, c.CodeChallenge,
		c.Resource, c.Scope, micros(c.CreatedAt), micros(c.ExpiresAt), nullMicros(c.UsedAt), c.TokenID)
	if tx.d.foreignKeyViolation(err) {
		return keyward.Errorf(keyward.ENOTFOUND, "the code's client, user or org was not found")
	}
	return insertedOne(res, err, "an authorization code with this hash already exists")
}

// FindOAuthCode returns the code whose string hashes to h. Returns
// ENOTFOUND.
func (tx *tx) FindOAuthCode(ctx context.Context, h keyward.Hash) (_ *keyward.OAuthCode, err error) {
	defer wrap(&err, "FindOAuthCode")
	var (
		c                keyward.OAuthCode
		hash             []byte
		created, expires int64
		used             sql.NullInt64
	)
	err = tx.tx.QueryRowContext(ctx, `
		SELECT hash, client_id, user_id, org_id, redirect_uri, code_challenge, resource, scope,
			created_at, expires_at, used_at, token_id
		FROM oauth_codes WHERE hash = $1`, h[:]).
		Scan(&hash, &c.ClientID, &c.UserID, &c.OrgID, &c.RedirectURI, &c.CodeChallenge, &c.Resource, &c.Scope,
			&created, &expires, &used, &c.TokenID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("authorization code")
	}
	if err != nil {
		return nil, err
	}
	if len(hash) != len(c.Hash) {
		return nil, fmt.Errorf("stored code hash has %d bytes, want %d", len(hash), len(c.Hash))
	}
	copy(c.Hash[:], hash)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return &c, nil
}

// UseOAuthCode marks an unused code used at usedAt by the exchange that
// issued tokenID: one statement, so two exchanges of one code cannot both
// succeed. Returns ENOTFOUND if there is no such code, ECONFLICT if it was
// used already.
func (tx *tx) UseOAuthCode(ctx context.Context, h keyward.Hash, usedAt time.Time, tokenID string) (err error) {
	defer wrap(&err, "UseOAuthCode")
	res, err := tx.tx.ExecContext(ctx, `
		UPDATE oauth_codes SET used_at = $2, token_id = $3
		WHERE hash = $1 AND used_at IS NULL`, h[:], micros(usedAt), tokenID)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var exists int
	if err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM oauth_codes WHERE hash = $1`, h[:]).Scan(&exists); err != nil {
		return err
	}
	if exists == 0 {
		return keyward.ErrNotFound("authorization code")
	}
	return keyward.Errorf(keyward.ECONFLICT, "authorization code was used already")
}

// DeleteOAuthCodes deletes the codes that expired before before and
// returns how many it deleted.
func (tx *tx) DeleteOAuthCodes(ctx context.Context, before time.Time) (_ int, err error) {
	defer wrap(&err, "DeleteOAuthCodes")
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM oauth_codes WHERE expires_at < $1`, micros(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
