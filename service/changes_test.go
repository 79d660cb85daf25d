package service_test

import (
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// Change-feed entries are kept for the retention, then pruned.
func TestPruneChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		prune := func() int64 {
			t.Helper()
			n, err := e.svc.PruneChanges(e.ctx)
			if err != nil {
				t.Fatalf("PruneChanges: %v", err)
			}
			return n
		}
		if n := prune(); n != 0 {
			t.Fatalf("PruneChanges of fresh entries: got %d deleted, want 0", n)
		}
		e.clock.Add(service.DefaultChangeRetention - time.Minute)
		if n := prune(); n != 0 {
			t.Fatalf("PruneChanges within the retention: got %d deleted, want 0", n)
		}
		owner := e.auth(e.boot.Secret)
		if _, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "later"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(2 * time.Minute)
		if n := prune(); n == 0 {
			t.Fatal("PruneChanges past the retention: got 0 deleted, want the bootstrap's entries")
		}
		if n := prune(); n != 0 {
			t.Fatalf("PruneChanges again: got %d deleted, want 0 (the newer entry is kept)", n)
		}
	})
}

func TestChangeRetentionTooShort(t *testing.T) {
	_, err := service.New(backends[0].open(t), service.Options{ChangeRetention: 30 * time.Second})
	if got := keyward.ErrorCode(err); got != keyward.EINVALID {
		t.Fatalf("New with a 30s retention: got %v, want an invalid error", err)
	}
}
