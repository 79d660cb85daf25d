// Package feed prunes the change feed: it deletes the entries written
// longer than the retention ago, in small transactions, and runs that in
// the background on every node. It knows the store only through Store.
package feed

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/keyward/keyward"
)

// Store deletes change-feed entries.
type Store interface {
	// PruneChanges deletes, in one transaction of its own, the oldest
	// entries, at most limit of them, up to the first one written at or
	// after before, and returns how many it deleted.
	PruneChanges(ctx context.Context, before time.Time, limit int) (int64, error)
}

const (
	// pruneInterval is about how often each node prunes the feed, give or
	// take half of it.
	pruneInterval = time.Minute
	// pruneBatch bounds the entries one transaction deletes, so that a
	// large backlog never holds a lock for long.
	pruneBatch = 1000
)

// Pruner deletes the change-feed entries older than its retention.
type Pruner struct {
	store     Store
	now       func() time.Time
	retention time.Duration
	log       *slog.Logger
}

// NewPruner returns a Pruner that deletes, with store, the entries written
// longer than retention before now. A nil log discards.
func NewPruner(store Store, retention time.Duration, now func() time.Time, log *slog.Logger) *Pruner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pruner{store: store, now: now, retention: retention, log: log}
}

// Prune deletes the change-feed entries written longer than the
// retention ago, oldest first, in transactions of at most a thousand
// entries, and returns how many it deleted. Pruning from several nodes at
// once is safe.
func (p *Pruner) Prune(ctx context.Context) (int64, error) {
	before := p.now().Add(-p.retention)
	var total int64
	for {
		n, err := p.store.PruneChanges(ctx, before, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// Run runs Prune about every pruneInterval, with jitter so that nodes
// started together do not prune together, until ctx ends.
func (p *Pruner) Run(ctx context.Context) {
	for {
		wait := pruneInterval/2 + rand.N(pruneInterval)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		n, err := p.Prune(ctx)
		if err != nil && ctx.Err() == nil {
			// An unavailable database is logged once, by the store, as
			// the outage starts; the next tick tries again.
			level := slog.LevelWarn
			if keyward.ErrorCode(err) == keyward.EUNAVAILABLE {
				level = slog.LevelDebug
			}
			p.log.Log(ctx, level, "pruning the change feed", "err", err)
		} else if n > 0 {
			p.log.Debug("pruned the change feed", "entries", n, "retention", p.retention)
		}
	}
}
