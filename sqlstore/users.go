package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/keyward/keyward"
)

// emailKey is the form in which emails are compared: users.email_key holds
// it, with a unique index, so look-ups are case-insensitive on both
// backends without collations.
func emailKey(email string) string { return strings.ToLower(email) }

const userColumns = `id, email, name, password_hash, created_at`

func scanUser(row interface{ Scan(...any) error }) (*keyward.User, error) {
	var u keyward.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

// FindUserByID returns a user. Returns ENOTFOUND.
func (tx *tx) FindUserByID(ctx context.Context, id string) (_ *keyward.User, err error) {
	defer wrap(&err, "FindUserByID(%q)", id)
	u, err := scanUser(tx.tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("user")
	}
	return u, err
}

// FindUserByEmail returns a user by email, compared case-insensitively.
// Returns ENOTFOUND.
func (tx *tx) FindUserByEmail(ctx context.Context, email string) (_ *keyward.User, err error) {
	defer wrap(&err, "FindUserByEmail(%q)", email)
	u, err := scanUser(tx.tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = $1`, emailKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, keyward.ErrNotFound("user")
	}
	return u, err
}

// CreateUser stores a new user. Returns ECONFLICT if the id or the email,
// compared case-insensitively, is taken.
func (tx *tx) CreateUser(ctx context.Context, u *keyward.User) (err error) {
	defer wrap(&err, "CreateUser(%q)", u.ID)
	res, err := tx.tx.ExecContext(ctx, `
		INSERT INTO users (id, email, email_key, name, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING`,
		u.ID, u.Email, emailKey(u.Email), u.Name, u.PasswordHash, micros(u.CreatedAt))
	return insertedOne(res, err, "a user with the email %q already exists", u.Email)
}

// UpdateUser replaces a user's name, email and password hash. Returns
// ENOTFOUND, or ECONFLICT if the new email is another user's.
func (tx *tx) UpdateUser(ctx context.Context, u *keyward.User) (err error) {
	defer wrap(&err, "UpdateUser(%q)", u.ID)
	res, err := tx.tx.ExecContext(ctx, `
		UPDATE users SET email = $2, email_key = $3, name = $4, password_hash = $5
		WHERE id = $1`,
		u.ID, u.Email, emailKey(u.Email), u.Name, u.PasswordHash)
	if tx.d.uniqueViolation(err) {
		return keyward.Errorf(keyward.ECONFLICT, "a user with the email %q already exists", u.Email)
	}
	return affectedOne(res, err, "user")
}

// CountUsers returns how many users exist.
func (tx *tx) CountUsers(ctx context.Context) (n int, err error) {
	defer wrap(&err, "CountUsers")
	err = tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// affectedOne turns a statement that touched no row into ENOTFOUND.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return keyward.ErrNotFound(what)
	}
	return nil
}
