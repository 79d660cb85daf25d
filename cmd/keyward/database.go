package main

import (
	"context"
	"errors"
	neturl "net/url"
	"strings"

	"github.com/keyward/keyward/service"
)

// defaultDatabaseURL is the database of a keyward that is given none.
const defaultDatabaseURL = "./keyward.db"

// errNoStorage is returned until the storage packages are wired in.
var errNoStorage = errors.New("storage is not built into this binary yet")

// openStore opens the database at url (a postgres:// URL, a sqlite://
// URL or a file path) and runs its migrations.
func openStore(ctx context.Context, url string) (service.Store, error) {
	return nil, errNoStorage
}

// migrateDatabase runs the migrations of the database at url.
func migrateDatabase(ctx context.Context, url string) error {
	return errNoStorage
}

// backupDatabase copies the SQLite database at url to dest while it may be
// in use.
func backupDatabase(ctx context.Context, url, dest string) error {
	return errNoStorage
}

// isPostgres reports whether url names a PostgreSQL database.
func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// redactURL hides a database URL's password for logs and messages.
func redactURL(s string) string {
	u, err := neturl.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
