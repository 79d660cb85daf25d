package service

import (
	"context"
	"math/rand/v2"
	"time"
)

// Change-feed retention. Nodes follow the feed by sequence number, so an
// entry is needed only until every node has read it; a node cut off for
// longer than the retention finds the entries it missed pruned, and
// empties its verification cache rather than trusting it.
const (
	// DefaultChangeRetention is how long entries are kept when Options
	// sets no retention.
	DefaultChangeRetention = 24 * time.Hour
	// MinChangeRetention is the shortest retention New accepts: far
	// longer than a node following the feed takes to read an entry.
	MinChangeRetention = time.Minute
	// changePruneInterval is about how often each node prunes the feed,
	// give or take half of it.
	changePruneInterval = time.Minute
	// changePruneBatch bounds the entries one transaction deletes, so that
	// a large backlog never holds a lock for long.
	changePruneBatch = 1000
)

// PruneChanges deletes the change-feed entries written longer than the
// retention ago, oldest first, in transactions of at most a thousand
// entries, and returns how many it deleted. Every node runs it in the
// background (see Start); pruning from several nodes at once is safe.
func (s *Service) PruneChanges(ctx context.Context) (int64, error) {
	before := s.Now().Add(-s.changeRetention)
	var total int64
	for {
		var n int64
		err := s.store.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.PruneChanges(ctx, before, changePruneBatch)
			return err
		})
		total += n
		if err != nil || n < changePruneBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// pruneChanges runs PruneChanges about every changePruneInterval, with
// jitter so that nodes started together do not prune together, until ctx
// ends.
func (s *Service) pruneChanges(ctx context.Context) {
	for {
		wait := changePruneInterval/2 + rand.N(changePruneInterval)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		n, err := s.PruneChanges(ctx)
		if err != nil && ctx.Err() == nil {
			s.backgroundWarn(ctx, "pruning the change feed", err)
		} else if n > 0 {
			s.log.Debug("pruned the change feed", "entries", n, "retention", s.changeRetention)
		}
	}
}
