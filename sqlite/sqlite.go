package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/keyward/keyward/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeoutMillis is how long a statement waits for another process's
// lock on the file before it fails with SQLITE_BUSY.
const busyTimeoutMillis = 10000

// readConns is the size of the pool of read-only connections.
const readConns = 8

// Open opens the SQLite database at path, creating the file if needed, and
// brings its schema up to date. The caller must Close it.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	write, err := openWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	read, err := openPool(path, readDSN(path), readConns)
	if err != nil {
		write.Close()
		return nil, err
	}
	return sqlstore.New(write, read, dialect), nil
}

// Migrate brings the schema of the SQLite database at path up to date,
// creating the file if needed, and closes it. It may run while a server
// uses the file.
func Migrate(ctx context.Context, path string) error {
	write, err := openWriter(ctx, path)
	if err != nil {
		return err
	}
	err = migrate(ctx, write)
	if cerr := write.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return nil
}

// MigrationStatus reports which embedded migrations the SQLite database
// at path has applied, without changing it; a file that does not exist
// yet has none (and is not created).
func MigrationStatus(ctx context.Context, path string) ([]sqlstore.MigrationState, []int64, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		states := make([]sqlstore.MigrationState, len(ms))
		for i, m := range ms {
			states[i] = sqlstore.MigrationState{Migration: m}
		}
		return states, nil, nil
	}
	db, err := openPool(path, readDSN(path), 1)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	states, unknown, err := sqlstore.MigrationStatus(ctx, db, dialect, ms)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return states, unknown, nil
}

// Migrations returns the embedded migrations, oldest first.
func Migrations() ([]sqlstore.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlstore.ReadMigrations(sub)
}

func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	_, err = sqlstore.Migrate(ctx, db, dialect, ms)
	return err
}

// writeDSN configures the one read-write connection. The journal mode is
// set once and stays in the file; the other settings hold per connection.
//
// synchronous=FULL syncs the WAL at every commit: an acknowledged write
// survives a killed process and a power cut. (NORMAL would survive a
// killed process too, but not a power cut, and is not needed to meet the
// minting budget.)
func writeDSN(path string) string {
	return path + fmt.Sprintf("?_txlock=immediate&_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)", busyTimeoutMillis)
}

// readDSN configures the read-only connections: query_only makes a write
// in View fail rather than slip past the writer's queue.
func readDSN(path string) string {
	return path + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=query_only(1)", busyTimeoutMillis)
}

func openWriter(ctx context.Context, path string) (*sql.DB, error) {
	db, err := openPool(path, writeDSN(path), 1)
	if err != nil {
		return nil, err
	}
	// The file is created 0600 before the driver opens it; SQLite gives
	// the -wal and -shm it creates the database file's mode.
	if err := prepareFile(path); err != nil {
		db.Close()
		return nil, err
	}
	// Connect now, so that a file that cannot be opened or put in WAL mode
	// fails here with its own error.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	// Whatever created the -wal and -shm, they end up 0600.
	if err := tighten(path); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openPool(path, dsn string, conns int) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: no database file given")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: the file name %q may not hold '?' or '#'", path)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}
