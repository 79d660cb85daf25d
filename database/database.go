// Package database opens keyward's database from the URL an operator
// gives (--database-url), choosing the backend by its form:
//
//   - postgres://... or postgresql://...: PostgreSQL (package postgres);
//   - sqlite:///abs/path.db, sqlite://rel/path.db or sqlite:path.db: the
//     SQLite file at that path (package sqlite);
//   - anything else without "://": a SQLite file path, such as the
//     default ./keyward.db.
//
// Open runs the migrations before it returns, as `keyward serve` wants;
// Migrate runs them alone, for `keyward migrate`; Backup copies a SQLite
// database for `keyward backup`.
package database

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/sqlite"
	"github.com/keyward/keyward/sqlstore"
)

// Backends.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Parse returns the backend that url names (SQLite or Postgres) and what
// that backend opens: a file path for SQLite, the URL itself for
// PostgreSQL. Its errors never quote a URL, which may hold a password.
func Parse(url string) (backend, target string, err error) {
	switch {
	case url == "":
		return "", "", errors.New("no database URL given")
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return Postgres, url, nil
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return "", "", errors.New("the sqlite: URL names no file: want sqlite:///path/to/keyward.db")
		}
		return SQLite, path, nil
	case strings.Contains(url, "://"):
		scheme, _, _ := strings.Cut(url, "://")
		return "", "", fmt.Errorf("unsupported database URL scheme %q: want postgres://, sqlite:// or a file path", scheme)
	}
	return SQLite, url, nil
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	backend, _, err := Parse(url)
	return err == nil && backend == Postgres
}

// Open opens the database that url names and brings its schema up to
// date. The caller must Close it.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	backend, target, err := Parse(url)
	if err != nil {
		return nil, err
	}
	if backend == Postgres {
		return postgres.Open(ctx, target)
	}
	return sqlite.Open(ctx, target)
}

// Migrate brings the schema of the database that url names up to date.
// It is safe beside running servers and other migrations.
func Migrate(ctx context.Context, url string) error {
	backend, target, err := Parse(url)
	if err != nil {
		return err
	}
	if backend == Postgres {
		return postgres.Migrate(ctx, target)
	}
	return sqlite.Migrate(ctx, target)
}

// MigrationStatus reports which migrations the database that url names
// has applied, and the versions it has that this keyward does not know,
// without changing it.
func MigrationStatus(ctx context.Context, url string) ([]sqlstore.MigrationState, []int64, error) {
	backend, target, err := Parse(url)
	if err != nil {
		return nil, nil, err
	}
	if backend == Postgres {
		return postgres.MigrationStatus(ctx, target)
	}
	return sqlite.MigrationStatus(ctx, target)
}

// Backup copies the SQLite database that url names to the new file dest,
// while servers may use it, without changing it. PostgreSQL databases are
// backed up with pg_dump instead.
func Backup(ctx context.Context, url, dest string) error {
	backend, target, err := Parse(url)
	if err != nil {
		return err
	}
	if backend == Postgres {
		return errors.New("backup copies SQLite databases only; back up PostgreSQL with pg_dump")
	}
	return sqlite.BackupFile(ctx, target, dest)
}
