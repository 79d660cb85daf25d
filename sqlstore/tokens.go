package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/keyward/keyward"
)

// tokenColumns lists every stored field of a token, in the order of
// scanToken and of CreateToken's values.
const tokenColumns = `id, kind, org_id, user_id, created_by, name, description, source, hash, display,
	created_at, expires_at, last_used_at, last_used_ip, revoked_at, revoked_by, revoke_reason,
	generation, role, agent_id, permissions, scopes, allowed_cidrs, rate_limit, family_id, superseded_by`

// tokenJSON holds the stored forms of a token's JSON columns.
type tokenJSON struct {
	permissions, scopes, cidrs any
}

func encodeTokenJSON(t *keyward.Token) (j tokenJSON, err error) {
	var perms []string
	if t.Permissions != nil {
		perms = []string(t.Permissions)
	}
	if j.permissions, err = jsonColumn(perms); err != nil {
		return j, fmt.Errorf("permissions: %w", err)
	}
	if j.scopes, err = jsonColumn(t.Scopes); err != nil {
		return j, fmt.Errorf("scopes: %w", err)
	}
	if j.cidrs, err = jsonColumn(t.AllowedCIDRs); err != nil {
		return j, fmt.Errorf("allowed CIDRs: %w", err)
	}
	return j, nil
}

func scanToken(row interface{ Scan(...any) error }) (*keyward.Token, error) {
	var (
		t                          keyward.Token
		userID                     sql.NullString
		hash                       []byte
		created                    int64
		expires, lastUsed, revoked sql.NullInt64
		perms, scopes, cidrs       sql.NullString
	)
	err := row.Scan(&t.ID, &t.Kind, &t.OrgID, &userID, &t.CreatedBy, &t.Name, &t.Description, &t.Source, &hash, &t.Display,
		&created, &expires, &lastUsed, &t.LastUsedIP, &revoked, &t.RevokedBy, &t.RevokeReason,
		&t.Generation, &t.Role, &t.AgentID, &perms, &scopes, &cidrs, &t.RateLimit, &t.FamilyID, &t.SupersededBy)
	if err != nil {
		return nil, err
	}
	t.UserID = userID.String
	if len(hash) != len(t.Hash) {
		return nil, fmt.Errorf("token %q: stored hash has %d bytes, want %d", t.ID, len(hash), len(t.Hash))
	}
	copy(t.Hash[:], hash)
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromNullMicros(expires), fromNullMicros(lastUsed), fromNullMicros(revoked)
	var ps []string
	if err := fromJSONColumn(perms, &ps); err != nil {
		return nil, fmt.Errorf("token %q: permissions: %w", t.ID, err)
	}
	if ps != nil {
		t.Permissions = keyward.Permissions(ps)
	}
	if err := fromJSONColumn(scopes, &t.Scopes); err != nil {
		return nil, fmt.Errorf("token %q: scopes: %w", t.ID, err)
	}
	if err := fromJSONColumn[netip.Prefix](cidrs, &t.AllowedCIDRs); err != nil {
		return nil, fmt.Errorf("token %q: allowed CIDRs: %w", t.ID, err)
	}
	return &t, nil
}

func (tx *tx) queryTokens(ctx context.Context, stmt string, args ...any) ([]*keyward.Token, error) {
	rows, err := tx.tx.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*keyward.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// FindTokenByID returns a token. Returns ENOTFOUND.
func (tx *tx) FindTokenByID(ctx context.Context, id string) (_ *keyward.Token, err error) {
	defer wrap(&err, "FindTokenByID(%q)", id)
	t, err := scanToken(tx.tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("token")
	}
	return t, err
}

// FindTokenByHash returns the token whose string hashes to h. Returns
// ENOTFOUND.
func (tx *tx) FindTokenByHash(ctx context.Context, h keyward.Hash) (_ *keyward.Token, err error) {
	defer wrap(&err, "FindTokenByHash")
	t, err := scanToken(tx.tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, h[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("token")
	}
	return t, err
}

// FindTokens lists tokens matching f, newest first (by created_at, then
// id), one page of f.Limit (DefaultPageSize when 0, at most MaxPageSize)
// after f.Cursor, and the cursor of the next page ("" on the last page).
// f.Status "revoked" selects revoked tokens, "expired" unrevoked ones whose
// expiry is at or before f.Now (or db.Now when f.Now is zero), "active" the
// other unrevoked ones, and "" or "all" every token. Returns EINVALID for a
// malformed cursor or an unknown status.
func (tx *tx) FindTokens(ctx context.Context, f keyward.TokenFilter) (_ []*keyward.Token, _ string, err error) {
	defer wrap(&err, "FindTokens")
	var q query
	if f.OrgID != "" {
		q.add("org_id = ?", f.OrgID)
	}
	if f.UserID != "" {
		q.add("user_id = ?", f.UserID)
	}
	if len(f.Kinds) > 0 {
		args := make([]any, len(f.Kinds))
		for i, k := range f.Kinds {
			args[i] = string(k)
		}
		q.add(in("kind", len(args)), args...)
	}
	now := f.Now
	if now.IsZero() {
		now = tx.now()
	}
	switch f.Status {
	case "", "all":
	case keyward.StatusRevoked:
		q.add("revoked_at IS NOT NULL")
	case keyward.StatusExpired:
		q.add("revoked_at IS NULL AND expires_at <= ?", micros(now))
	case keyward.StatusActive:
		q.add("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", micros(now))
	default:
		return nil, "", keyward.Errorf(keyward.EINVALID, "unknown status %q: want active, expired, revoked or all", f.Status)
	}
	if f.Cursor != "" {
		created, id, err := parseTokenCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q.add("(created_at, id) < (?, ?)", created, id)
	}
	limit := keyward.PageSize(f.Limit)
	tokens, err := tx.queryTokens(ctx, `SELECT `+tokenColumns+` FROM tokens`+q.clause()+
		` ORDER BY created_at DESC, id DESC LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return nil, "", err
	}
	var next string
	if len(tokens) > limit {
		tokens = tokens[:limit]
		next = tokenCursor(tokens[limit-1])
	}
	return tokens, next, nil
}

// CreateToken stores a new token. Returns ECONFLICT if its id or hash
// exists, ENOTFOUND if its org or owner does not.
func (tx *tx) CreateToken(ctx context.Context, t *keyward.Token) (err error) {
	defer wrap(&err, "CreateToken(%q)", t.ID)
	j, err := encodeTokenJSON(t)
	if err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
		ON CONFLICT DO NOTHING`,
		t.ID, string(t.Kind), t.OrgID, nullString(t.UserID), t.CreatedBy, t.Name, t.Description, t.Source, t.Hash[:], t.Display,
		micros(t.CreatedAt), nullMicros(t.ExpiresAt), nullMicros(t.LastUsedAt), t.LastUsedIP, nullMicros(t.RevokedAt), t.RevokedBy, t.RevokeReason,
		t.Generation, string(t.Role), t.AgentID, j.permissions, j.scopes, j.cidrs, t.RateLimit, t.FamilyID, t.SupersededBy)
	if tx.d.foreignKeyViolation(err) {
		return keyward.Errorf(keyward.ENOTFOUND, "the token's org or owner was not found")
	}
	return insertedOne(res, err, "a token with this id or secret already exists")
}

// UpdateToken replaces every mutable field of a token: everything but its
// id, kind, org, owner, creator and family. created_at is mutable because
// regenerating a token restarts its clock (docs/decisions.md, 4). Returns
// ENOTFOUND, or ECONFLICT if the new hash is another token's.
func (tx *tx) UpdateToken(ctx context.Context, t *keyward.Token) (err error) {
	defer wrap(&err, "UpdateToken(%q)", t.ID)
	j, err := encodeTokenJSON(t)
	if err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, `
		UPDATE tokens SET
			name = $2, description = $3, source = $4, hash = $5, display = $6,
			created_at = $7, expires_at = $8, last_used_at = $9, last_used_ip = $10,
			revoked_at = $11, revoked_by = $12, revoke_reason = $13, generation = $14,
			role = $15, agent_id = $16, permissions = $17, scopes = $18, allowed_cidrs = $19,
			rate_limit = $20, superseded_by = $21
		WHERE id = $1`,
		t.ID, t.Name, t.Description, t.Source, t.Hash[:], t.Display,
		micros(t.CreatedAt), nullMicros(t.ExpiresAt), nullMicros(t.LastUsedAt), t.LastUsedIP,
		nullMicros(t.RevokedAt), t.RevokedBy, t.RevokeReason, t.Generation,
		string(t.Role), t.AgentID, j.permissions, j.scopes, j.cidrs,
		t.RateLimit, t.SupersededBy)
	if tx.d.uniqueViolation(err) {
		return keyward.Errorf(keyward.ECONFLICT, "a token with this secret already exists")
	}
	return affectedOne(res, err, "token")
}

// DeleteToken removes a token's row and its use counts: it leaves lists
// and look-ups, and only the audit log remembers it. Returns ENOTFOUND.
func (tx *tx) DeleteToken(ctx context.Context, id string) (err error) {
	defer wrap(&err, "DeleteToken(%q)", id)
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM tokens WHERE id = $1`, id)
	if err := affectedOne(res, err, "token"); err != nil {
		return err
	}
	_, err = tx.tx.ExecContext(ctx, `DELETE FROM token_usage WHERE token_id = $1`, id)
	return err
}

// RevokeUserTokens revokes the org's unrevoked tokens of user with the
// given kinds (every kind when kinds is empty) at now, and returns their
// ids, newest first.
func (tx *tx) RevokeUserTokens(ctx context.Context, orgID, userID string, kinds []keyward.Kind, now time.Time, by, reason string) (_ []string, err error) {
	defer wrap(&err, "RevokeUserTokens(%q, %q)", orgID, userID)
	var q query
	set := `revoked_at = ` + q.arg(micros(now)) + `, revoked_by = ` + q.arg(by) + `, revoke_reason = ` + q.arg(reason)
	q.add("org_id = ? AND user_id = ? AND revoked_at IS NULL", orgID, userID)
	if len(kinds) > 0 {
		args := make([]any, len(kinds))
		for i, k := range kinds {
			args[i] = string(k)
		}
		q.add(in("kind", len(args)), args...)
	}
	rows, err := tx.tx.QueryContext(ctx, `UPDATE tokens SET `+set+q.clause()+` RETURNING id, created_at`, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type revoked struct {
		id      string
		created int64
	}
	var rs []revoked
	for rows.Next() {
		var r revoked
		if err := rows.Scan(&r.id, &r.created); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(rs, func(a, b revoked) int {
		return cmp.Or(cmp.Compare(b.created, a.created), cmp.Compare(b.id, a.id))
	})
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.id
	}
	return ids, nil
}

// FindTokenFamily returns the tokens of one rotation family, oldest first.
// An empty familyID has no family.
func (tx *tx) FindTokenFamily(ctx context.Context, familyID string) (_ []*keyward.Token, err error) {
	defer wrap(&err, "FindTokenFamily(%q)", familyID)
	if familyID == "" {
		return []*keyward.Token{}, nil
	}
	return tx.queryTokens(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE family_id = $1 ORDER BY created_at, id`, familyID)
}

// TouchTokens records the last use of tokens: a token's last_used_at and
// last_used_ip change only for a use later than the one recorded, so
// last_used_at never moves back. Uses of tokens that no longer exist are
// ignored.
func (tx *tx) TouchTokens(ctx context.Context, uses []keyward.TokenUse) (err error) {
	defer wrap(&err, "TouchTokens(%d uses)", len(uses))
	if len(uses) == 0 {
		return nil
	}
	// One order for every writer, so that concurrent batches on
	// PostgreSQL take row locks in the same order and cannot deadlock.
	// One row per token, its latest use: a statement that joins a token
	// to several rows would take any one of them.
	uses = slices.Clone(uses)
	slices.SortFunc(uses, func(a, b keyward.TokenUse) int {
		return cmp.Or(cmp.Compare(a.TokenID, b.TokenID), b.At.Compare(a.At))
	})
	uses = slices.CompactFunc(uses, func(a, b keyward.TokenUse) bool { return a.TokenID == b.TokenID })
	rows := make([][]any, len(uses))
	for i, u := range uses {
		rows[i] = []any{u.TokenID, micros(u.At), u.IP}
	}
	// VALUES names its columns column1, column2, ... on both backends.
	return tx.writeRows(ctx, `
		UPDATE tokens SET last_used_at = $2, last_used_ip = $3
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, `
		UPDATE tokens SET last_used_at = v.column2, last_used_ip = v.column3
		FROM (VALUES %s) AS v
		WHERE tokens.id = v.column1 AND (tokens.last_used_at IS NULL OR tokens.last_used_at < v.column2)`,
		[]string{"TEXT", "BIGINT", "TEXT"}, rows)
}
