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
// carry on meanwhile. The copy is created 0600 and synced to disk. dest
// must not exist.
func BackupFile(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// dest is created empty with mode 0600, which VACUUM INTO accepts;
	// O_EXCL refuses a file that exists, even one created meanwhile.
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sqlite: backup: %s already exists", dest)
	} else if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	out.Close()
	src, err := openPool(path, path+fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeoutMillis), 1)
	if err != nil {
		os.Remove(dest)
		return err
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, `VACUUM INTO $1`, dest); err != nil {
		os.Remove(dest)
		return fmt.Errorf("sqlite: backup of %s to %s: %w", path, dest, err)
	}
	// However SQLite wrote the copy, it stays the owner's alone.
	if err := os.Chmod(dest, fileMode); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
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
