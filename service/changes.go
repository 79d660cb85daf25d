package service

import (
	"context"
	"time"
)

// Change-feed retention. Nodes follow the feed by sequence number, so an
// entry is needed only until every node has read it; a node cut off for
// longer than the retention finds the entries it missed pruned, and
// empties its verification cache rather than trusting it. The pruning
// itself, batched and run in the background, is service/feed's.
const (
	// DefaultChangeRetention is how long entries are kept when Options
	// sets no retention.
	DefaultChangeRetention = 24 * time.Hour
	// MinChangeRetention is the shortest retention New accepts: far
	// longer than a node following the feed takes to read an entry.
	MinChangeRetention = time.Minute
)

// PruneChanges deletes the change-feed entries written longer than the
// retention ago, oldest first, in transactions of at most a thousand
// entries, and returns how many it deleted. Every node runs it in the
// background (see Start); pruning from several nodes at once is safe.
func (s *Service) PruneChanges(ctx context.Context) (int64, error) { return s.pruner.Prune(ctx) }

// changeStore prunes the change feed for feed.Pruner, each call in a
// transaction of the store.
type changeStore struct{ store Store }

func (c changeStore) PruneChanges(ctx context.Context, before time.Time, limit int) (int64, error) {
	var n int64
	err := c.store.Update(ctx, func(tx Tx) error {
		var err error
		n, err = tx.PruneChanges(ctx, before, limit)
		return err
	})
	return n, err
}
