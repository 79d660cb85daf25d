package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/keyward/keyward/sqlstore"
)

// Backup writes a consistent copy of the open SQLite database db to the
// new file dest, while the database stays in use. dest must not exist.
func Backup(ctx context.Context, db *sqlstore.DB, dest string) error {
	if db.Dialect().Name != dialect.Name {
		return errors.New("sqlite: backup of a database that is not SQLite")
	}
	// The pool's connections are query-only, which VACUUM INTO refuses;
	// the copy is made on a connection of its own to the same file.
	var seq int
	var schema, path string
	if err := db.Reader().QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &schema, &path); err != nil {
		return fmt.Errorf("sqlite: backup: finding the database file: %w", err)
	}
	return BackupFile(ctx, path, dest)
}

// BackupFile writes a consistent copy of the SQLite database file at path
// to the new file dest, without migrating or otherwise changing it, while
// a server may be using it: VACUUM INTO reads one snapshot, so writers
// carry on meanwhile. The copy is synced to disk. dest must not exist.
func BackupFile(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("sqlite: backup: %s already exists", dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	src, err := openPool(path, path+fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeoutMillis), 1)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, `VACUUM INTO $1`, dest); err != nil {
		return fmt.Errorf("sqlite: backup of %s to %s: %w", path, dest, err)
	}
	f, err := os.Open(dest)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sqlite: backup: syncing %s: %w", dest, err)
	}
	return nil
}
