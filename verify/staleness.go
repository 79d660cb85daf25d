package verify

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward"
)

// staleness bounds how far behind the change feed a following cache may
// answer: past the bound, a change made on another node (a revocation)
// may be one this node has not applied.
type staleness struct {
	// max is the bound in nanoseconds; 0 means none.
	max atomic.Int64
	// failOpen keeps answering from the cache past the bound.
	failOpen atomic.Bool
	// following is set once Follow has taken its position; caughtUp is
	// when it last read the feed to its end (monotonic nanoseconds since
	// epoch).
	following atomic.Bool
	caughtUp  atomic.Int64
	// stale is the last state logged.
	stale atomic.Bool
	log   atomic.Pointer[slog.Logger]
}

// epoch is the origin of caughtUp: time.Since(epoch) reads the monotonic
// clock.
var epoch = time.Now()

// SetMaxStaleness bounds how long a following cache may go without
// reading the change feed to its end: past max, Verify fails with
// EUNAVAILABLE rather than answer from a cache that may miss a
// revocation, unless failOpen, when it answers from the cache still. 0
// means no bound. Either way Staleness reports it.
func (c *Cache) SetMaxStaleness(max time.Duration, failOpen bool) {
	c.stale.max.Store(int64(max))
	c.stale.failOpen.Store(failOpen)
}

// Staleness returns how long ago Follow last read the change feed to its
// end, and whether that is past the bound of SetMaxStaleness. Before
// Follow, or without a bound, stale is false.
func (c *Cache) Staleness() (age time.Duration, stale bool) {
	if !c.stale.following.Load() {
		return 0, false
	}
	age = time.Since(epoch) - time.Duration(c.stale.caughtUp.Load())
	max := time.Duration(c.stale.max.Load())
	stale = max > 0 && age > max
	if stale && c.stale.stale.CompareAndSwap(false, true) {
		if log := c.stale.log.Load(); log != nil {
			log.Warn("this node is behind the change feed for longer than --max-staleness",
				"age", age.Round(time.Millisecond), "max_staleness", max, "fail_open", c.stale.failOpen.Load())
		}
	}
	return age, stale
}

// caughtUpNow notes that the feed was read to its end.
func (c *Cache) caughtUpNow() {
	c.stale.caughtUp.Store(int64(time.Since(epoch)))
	if c.stale.stale.CompareAndSwap(true, false) {
		if log := c.stale.log.Load(); log != nil {
			log.Info("this node has caught up with the change feed again")
		}
	}
}

// refuseStale returns the error of a verification that may not be
// answered from the cache, nil when it may.
func (c *Cache) refuseStale() error {
	if c.stale.max.Load() == 0 {
		return nil
	}
	// Fail-open reads the clock too, so that going stale is logged as
	// it happens.
	if age, stale := c.Staleness(); stale && !c.stale.failOpen.Load() {
		return &keyward.Error{
			Code:    keyward.EUNAVAILABLE,
			Message: "verification is unavailable: this node cannot reach the change feed",
			Detail:  fmt.Sprintf("last caught up %s ago, beyond the %s bound; try again in a few seconds", age.Round(time.Second), time.Duration(c.stale.max.Load())),
		}
	}
	return nil
}

// startFollowing marks the cache as following, caught up now.
func (c *Cache) startFollowing(ctx context.Context, log *slog.Logger) {
	c.stale.log.Store(log)
	c.caughtUpNow()
	c.stale.following.Store(true)
	context.AfterFunc(ctx, func() { c.stale.following.Store(false) })
}
