package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
	"github.com/keyward/keyward/storetest"
)

// open returns a store on a new file in the test's temporary directory.
func open(t *testing.T) service.Store {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) service.Store {
		db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "keyward.db"))
		if err != nil {
			b.Fatalf("sqlite.Open: %v", err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	})
}
