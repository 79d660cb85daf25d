package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migration is one numbered change of the schema, read from a file named
// NNNN_name.sql.
type Migration struct {
	// Version is the file's number; migrations apply in its order.
	Version int64
	// Name is the file name, recorded with the version.
	Name string
	// SQL is the file's statements, run in one transaction.
	SQL string
}

// ReadMigrations reads the migrations in the top directory of fsys: the
// files named NNNN_name.sql, in the order of their numbers. Two files with
// one number are an error.
func ReadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		if e.IsDir() || !ok {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a positive number", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s have the same number", ms[i-1].Name, ms[i].Name)
		}
	}
	return ms, nil
}

// Migrate applies the migrations that db has not recorded in its
// schema_migrations table, each in a transaction of its own that also
// records it. Where the dialect has a migration lock, it is held on one
// connection for the whole run, so that nodes starting together migrate
// one at a time; elsewhere each migration's write transaction checks and
// records its version, which serialises them as well. It returns the
// versions it applied.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, ms []Migration) (applied []int64, err error) {
	defer wrap(&err, "migrate")
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if d.LockMigrations != nil {
		unlock, err := d.LockMigrations(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("taking the migration lock: %w", err)
		}
		defer func() {
			if uerr := unlock(); uerr != nil {
				err = errors.Join(err, fmt.Errorf("releasing the migration lock: %w", uerr))
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("creating schema_migrations: %w", err)
	}
	for _, m := range ms {
		done, err := migrateOne(ctx, conn, m)
		if err != nil {
			return applied, fmt.Errorf("%s: %w", m.Name, err)
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// migrateOne applies m unless it is recorded, and reports whether it did.
func migrateOne(ctx context.Context, conn *sql.Conn, m Migration) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.Version, m.Name, micros(time.Now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// MigrationState is one migration and whether the database has it.
type MigrationState struct {
	Migration
	// AppliedAt is when it was applied; nil while it is pending.
	AppliedAt *time.Time
}

// MigrationStatus reads, without changing anything, which of ms the
// database has applied, and the versions it has applied that ms does not
// know (a newer keyward migrated it).
func MigrationStatus(ctx context.Context, db *sql.DB, d Dialect, ms []Migration) (states []MigrationState, unknown []int64, err error) {
	defer wrap(&err, "migration status")
	applied := map[int64]time.Time{}
	var n int
	if err := db.QueryRowContext(ctx, d.HasTable, "schema_migrations").Scan(&n); err != nil {
		return nil, nil, err
	}
	if n > 0 {
		rows, err := db.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var v, at int64
			if err := rows.Scan(&v, &at); err != nil {
				return nil, nil, err
			}
			applied[v] = time.UnixMicro(at).UTC()
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range ms {
		st := MigrationState{Migration: m}
		if at, ok := applied[m.Version]; ok {
			st.AppliedAt = &at
			delete(applied, m.Version)
		}
		states = append(states, st)
	}
	for v := range applied {
		unknown = append(unknown, v)
	}
	slices.Sort(unknown)
	return states, unknown, nil
}
