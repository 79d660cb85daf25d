package postgres_test

import (
	"sync"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/storetest"
)

// open returns a store on a fresh database, dropped when the test ends.
func open(t *testing.T) service.Store {
	t.Helper()
	db, err := postgres.Open(t.Context(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}

// TestConcurrentOpen starts nodes together on a fresh database: the
// advisory lock lets one migrate while the others wait, and all succeed.
func TestConcurrentOpen(t *testing.T) {
	url := testenv.PostgresURL(t)
	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), url)
			if err == nil {
				err = db.Ping(t.Context())
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: postgres.Open: %v", i, err)
		}
	}
	if err := postgres.Migrate(t.Context(), url); err != nil {
		t.Errorf("Migrate on a migrated database: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) service.Store {
		db, err := postgres.Open(b.Context(), testenv.PostgresURL(b))
		if err != nil {
			b.Fatalf("postgres.Open: %v", err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	})
}
