package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

func countUsers(t *testing.T, s service.Store) int {
	t.Helper()
	var n int
	if err := s.View(t.Context(), func(tx service.Tx) (err error) {
		n, err = tx.CountUsers(t.Context())
		return err
	}); err != nil {
		t.Fatalf("CountUsers: %v", err)
	}
	return n
}

// TestBackupWhileWriting copies a database while a writer keeps adding to
// it: the copy opens, holds at least what was committed before the backup
// began, and the writer never waits on an error.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "keyward.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()

	var written atomic.Int64
	write := func(ctx context.Context) error {
		i := written.Load()
		err := db.Update(ctx, func(tx service.Tx) error {
			return tx.CreateUser(ctx, &keyward.User{ID: fmt.Sprintf("usr_%d", i), Email: fmt.Sprintf("u%d@example.com", i), CreatedAt: time.Now()})
		})
		if err == nil {
			written.Add(1)
		}
		return err
	}
	for range 100 {
		if err := write(t.Context()); err != nil {
			t.Fatalf("Update: %v", err)
		}
	}

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var writeErr error
	wg.Go(func() {
		for ctx.Err() == nil {
			if err := write(ctx); err != nil && ctx.Err() == nil {
				writeErr = err
				return
			}
		}
	})
	before := written.Load()
	dest := filepath.Join(dir, "backup.db")
	err = sqlite.Backup(t.Context(), db, dest)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if writeErr != nil {
		t.Errorf("writing during the backup: %v", writeErr)
	}
	if err := sqlite.Backup(t.Context(), db, dest); err == nil {
		t.Errorf("Backup onto an existing file: got no error, want one")
	}

	backup, err := sqlite.Open(t.Context(), dest)
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	defer backup.Close()
	if got := countUsers(t, backup); int64(got) < before || int64(got) > written.Load() {
		t.Errorf("backup holds %d users, want between %d and %d", got, before, written.Load())
	}
}
