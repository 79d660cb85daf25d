package main

import (
	"context"
	neturl "net/url"

	"github.com/keyward/keyward/database"
	"github.com/keyward/keyward/service"
)

// defaultDatabaseURL is the database of a keyward that is given none.
const defaultDatabaseURL = "./keyward.db"

// openStore opens the database at url (a postgres:// URL, a sqlite://
// URL or a file path) and runs its migrations.
func openStore(ctx context.Context, url string) (service.Store, error) {
	return database.Open(ctx, url)
}

// migrateDatabase runs the migrations of the database at url.
func migrateDatabase(ctx context.Context, url string) error {
	return database.Migrate(ctx, url)
}

// backupDatabase copies the SQLite database at url to dest while it may be
// in use.
func backupDatabase(ctx context.Context, url, dest string) error {
	return database.Backup(ctx, url, dest)
}

// isPostgres reports whether url names a PostgreSQL database.
func isPostgres(url string) bool { return database.IsPostgres(url) }

// redactURL hides a database URL's password for logs and messages.
func redactURL(s string) string {
	u, err := neturl.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
