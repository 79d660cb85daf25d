package service

import (
	"context"
	"fmt"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

// The service reads what the verification cache needs (verify.Loader) and
// the change feed (verify.Feed) from its store.
var (
	_ verify.Loader = storeReader{}
	_ verify.Feed   = storeReader{}
)

// storeReader is the verification cache's view of the store.
type storeReader struct{ store Store }

// LoadToken reads, in one snapshot, the newest change-feed sequence
// number and a token by hash with its org, policy, owner and the owner's
// membership; a Record without a Token when no token has the hash.
func (r storeReader) LoadToken(ctx context.Context, h keyward.Hash) (*verify.Record, error) {
	var rec verify.Record
	err := r.store.View(ctx, func(tx Tx) error {
		var err error
		if rec.Seq, err = tx.LastChangeSeq(ctx); err != nil {
			return err
		}
		t, err := tx.FindTokenByHash(ctx, h)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		rec.Token = t
		if rec.Org, err = tx.FindOrgByID(ctx, t.OrgID); err != nil {
			return err
		}
		if rec.Policy, err = tx.FindPolicy(ctx, t.OrgID); err != nil {
			return err
		}
		if !t.Kind.Personal() {
			return nil
		}
		rec.Membership, err = tx.FindMembership(ctx, t.OrgID, t.UserID)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			rec.Membership, err = nil, nil
		}
		if err != nil {
			return err
		}
		if rec.User, err = tx.FindUserByID(ctx, t.UserID); keyward.ErrorCode(err) == keyward.ENOTFOUND {
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// LastSeq returns the newest change-feed sequence number.
func (r storeReader) LastSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := r.store.View(ctx, func(tx Tx) error {
		var err error
		seq, err = tx.LastChangeSeq(ctx)
		return err
	})
	return seq, err
}

// Changes returns the change-feed entries after seq, oldest first, or
// an error wrapping verify.ErrPruned if entries after seq were pruned.
// The pruned sequence number is read after the entries: a prune that
// deleted one of them before they were read has raised it by then, even
// where the read is no snapshot.
func (r storeReader) Changes(ctx context.Context, after int64, limit int) ([]*keyward.Change, error) {
	var out []*keyward.Change
	err := r.store.View(ctx, func(tx Tx) error {
		var err error
		if out, err = tx.FindChanges(ctx, after, limit); err != nil {
			return err
		}
		pruned, err := tx.PrunedChangeSeq(ctx)
		if err != nil {
			return err
		}
		if after < pruned {
			out = nil
			return fmt.Errorf("entries after %d pruned through %d: %w", after, pruned, verify.ErrPruned)
		}
		return nil
	})
	return out, err
}

// feedTx is a Tx that also keeps the change-feed entries appended through
// it, so that the node that made a change applies them to its own cache
// as soon as the transaction ends.
type feedTx struct {
	Tx
	appended *[]*keyward.Change
}

// AppendChange appends the entry and keeps it.
func (tx feedTx) AppendChange(ctx context.Context, c *keyward.Change) error {
	if err := tx.Tx.AppendChange(ctx, c); err != nil {
		return err
	}
	*tx.appended = append(*tx.appended, c)
	return nil
}

// update runs fn in a write transaction, then applies the change-feed
// entries it appended to this node's verification cache before returning:
// on the node that made a change, the change bites with no delay. The
// entries of attempts that did not commit (a retried or failed
// transaction) are applied too, as an eviction too many only costs a
// read, but without their sequence numbers, which no committed entry
// holds.
func (s *Service) update(ctx context.Context, fn func(tx Tx) error) error {
	var aborted, last []*keyward.Change
	err := s.store.Update(ctx, func(tx Tx) error {
		aborted, last = append(aborted, last...), nil
		return fn(feedTx{Tx: tx, appended: &last})
	})
	if err != nil {
		aborted, last = append(aborted, last...), nil
	}
	for _, c := range aborted {
		c.Seq = 0
		s.cache.Apply(c)
	}
	for _, c := range last {
		s.cache.Apply(c)
	}
	return err
}

// FollowOptions configure Follow.
type FollowOptions struct {
	// Wake, when set, signals that new change-feed entries may be there
	// (PostgreSQL's NOTIFY, and each reconnection of its listener).
	Wake <-chan struct{}
	// Poll is how often the feed is read without a wake-up; 0 means
	// 200 ms.
	Poll time.Duration
}

// Follow keeps this node's verification cache true to changes made by
// every node, by following the change feed until ctx ends. It returns
// once its position is taken (or with the error that prevented it); done
// is closed when it has stopped.
func (s *Service) Follow(ctx context.Context, opts FollowOptions) (done <-chan struct{}, err error) {
	return s.cache.Follow(ctx, storeReader{s.store}, verify.FollowOptions{Wake: opts.Wake, Poll: opts.Poll, Logger: s.log})
}

// VerifyStats returns the verification cache's counters: hits, misses,
// remembered misses, entries, and the change-feed position.
func (s *Service) VerifyStats() verify.Stats { return s.cache.Stats() }

// Verifier returns this node's verification cache, for a resource server's
// verification path that needs a verdict rather than a caller.
func (s *Service) Verifier() *verify.Cache { return s.cache }
