package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keyward/keyward"
)

// FindPolicy returns an org's policy, or the zero policy (with OrgID set)
// if none was saved.
func (tx *tx) FindPolicy(ctx context.Context, orgID string) (_ *keyward.Policy, err error) {
	defer wrap(&err, "FindPolicy(%q)", orgID)
	p := &keyward.Policy{OrgID: orgID}
	var maxLifetime, updated int64
	var kinds sql.NullString
	err = tx.tx.QueryRowContext(ctx,
		`SELECT require_expiry, max_lifetime, allowed_kinds, updated_at FROM policies WHERE org_id = $1`, orgID).
		Scan(&p.RequireExpiry, &maxLifetime, &kinds, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	} else if err != nil {
		return nil, err
	}
	p.MaxLifetime = time.Duration(maxLifetime) * time.Microsecond
	p.UpdatedAt = fromMicros(updated)
	if err := fromJSONColumn(kinds, &p.AllowedKinds); err != nil {
		return nil, fmt.Errorf("allowed kinds: %w", err)
	}
	return p, nil
}

// SavePolicy stores an org's policy, replacing any before it. The maximum
// lifetime is kept to the microsecond. Returns ENOTFOUND if the org does
// not exist.
func (tx *tx) SavePolicy(ctx context.Context, p *keyward.Policy) (err error) {
	defer wrap(&err, "SavePolicy(%q)", p.OrgID)
	kinds, err := jsonColumn(p.AllowedKinds)
	if err != nil {
		return fmt.Errorf("allowed kinds: %w", err)
	}
	_, err = tx.tx.ExecContext(ctx, `
		INSERT INTO policies (org_id, require_expiry, max_lifetime, allowed_kinds, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_id) DO UPDATE SET
			require_expiry = excluded.require_expiry, max_lifetime = excluded.max_lifetime,
			allowed_kinds = excluded.allowed_kinds, updated_at = excluded.updated_at`,
		p.OrgID, p.RequireExpiry, p.MaxLifetime.Microseconds(), kinds, micros(p.UpdatedAt))
	if tx.d.foreignKeyViolation(err) {
		return keyward.ErrNotFound("org")
	}
	return err
}
