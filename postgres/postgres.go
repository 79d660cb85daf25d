package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/keyward/keyward/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// defaultMaxConns is the size of a node's connection pool unless the URL's
// pool_max_conns parameter says otherwise.
const defaultMaxConns = 16

// Open connects to the PostgreSQL database at connString (a postgres:// URL
// or a key=value string, as pgx reads them) and brings its schema up to
// date. A URL may set pool_max_conns (default 16). The caller must Close
// it.
func Open(ctx context.Context, connString string) (*sqlstore.DB, error) {
	db, err := connect(ctx, connString)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(db, db, dialect), nil
}

// Migrate brings the schema of the PostgreSQL database at connString up to
// date and disconnects. It may run while servers use the database, and
// beside other nodes starting up: migrations run one node at a time.
func Migrate(ctx context.Context, connString string) error {
	db, err := connect(ctx, connString)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrate(ctx, db); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// MigrationStatus reports which embedded migrations the PostgreSQL
// database at connString has applied, without changing it.
func MigrationStatus(ctx context.Context, connString string) ([]sqlstore.MigrationState, []int64, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, nil, err
	}
	db, err := connect(ctx, connString)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	states, unknown, err := sqlstore.MigrationStatus(ctx, db, dialect, ms)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
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

func connect(ctx context.Context, connString string) (*sql.DB, error) {
	connString, maxConns, err := poolSize(connString)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		// pgx's message may quote the connection string with its password.
		return nil, fmt.Errorf("postgres: invalid connection string")
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting to %s: %w", describe(cfg), err)
	}
	return db, nil
}

// poolSize takes the pool_max_conns parameter, which is keyward's and not
// the server's, out of a URL.
func poolSize(connString string) (string, int, error) {
	if !strings.HasPrefix(connString, "postgres://") && !strings.HasPrefix(connString, "postgresql://") {
		return connString, defaultMaxConns, nil
	}
	u, err := url.Parse(connString)
	if err != nil {
		return "", 0, fmt.Errorf("postgres: invalid URL")
	}
	q := u.Query()
	v := q.Get("pool_max_conns")
	if v == "" {
		return connString, defaultMaxConns, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("postgres: pool_max_conns=%q: want a number above 0", v)
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// describe names a database for messages, without its password.
func describe(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
