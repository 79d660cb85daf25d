package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/keyward/keyward"
)

const orgColumns = `id, slug, name, created_at`

func scanOrg(row interface{ Scan(...any) error }) (*keyward.Org, error) {
	var o keyward.Org
	var created int64
	if err := row.Scan(&o.ID, &o.Slug, &o.Name, &created); err != nil {
		return nil, err
	}
	o.CreatedAt = fromMicros(created)
	return &o, nil
}

// FindOrgByID returns an org. Returns ENOTFOUND.
func (tx *tx) FindOrgByID(ctx context.Context, id string) (_ *keyward.Org, err error) {
	defer wrap(&err, "FindOrgByID(%q)", id)
	o, err := scanOrg(tx.tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("org")
	}
	return o, err
}

// FindOrgBySlug returns an org. Returns ENOTFOUND.
func (tx *tx) FindOrgBySlug(ctx context.Context, slug string) (_ *keyward.Org, err error) {
	defer wrap(&err, "FindOrgBySlug(%q)", slug)
	o, err := scanOrg(tx.tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE slug = $1`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("org")
	}
	return o, err
}

// CreateOrg stores a new org. Returns ECONFLICT if the id or slug is taken.
func (tx *tx) CreateOrg(ctx context.Context, o *keyward.Org) (err error) {
	defer wrap(&err, "CreateOrg(%q)", o.ID)
	res, err := tx.tx.ExecContext(ctx, `
		INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`,
		o.ID, o.Slug, o.Name, micros(o.CreatedAt))
	return insertedOne(res, err, "an org with the slug %q already exists", o.Slug)
}

// insertedOne turns an INSERT ... ON CONFLICT DO NOTHING that inserted
// nothing into ECONFLICT. Unlike a failed INSERT, it leaves a PostgreSQL
// transaction usable, so the caller may carry on after the conflict.
func insertedOne(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return keyward.Errorf(keyward.ECONFLICT, format, args...)
	}
	return nil
}
