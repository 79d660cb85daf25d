package service_test

import (
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// backends lists the stores the service's tests run on: every promise is
// checked on SQLite and on PostgreSQL (skipped, or failed under strict,
// without KEYWARD_TEST_POSTGRES_URL).
var backends = []struct {
	name string
	open func(t testing.TB) service.Store
}{
	{"sqlite", func(t testing.TB) service.Store {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"postgres", func(t testing.TB) service.Store {
		db, err := postgres.Open(t.Context(), testenv.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
}
