package verify

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/keyward/keyward"
)

// Feed is the change feed as a follower reads it. The service implements
// it over its store.
type Feed interface {
	// LastSeq returns the sequence number of the newest entry, 0 when
	// there is none.
	LastSeq(ctx context.Context) (int64, error)
	// Changes returns the entries after seq, oldest first, at most limit
	// of them. Entries become visible in the order of their sequence
	// numbers, so reading after the last one applied never skips one.
	// Returns an error wrapping ErrPruned if entries after seq may have
	// been pruned: the follower has missed them.
	Changes(ctx context.Context, after int64, limit int) ([]*keyward.Change, error)
}

// ErrPruned says that the change feed no longer holds entries a follower
// has not applied: it fell behind by more than the feed keeps.
var ErrPruned = errors.New("the change feed was pruned past this position")

// FollowOptions configure Follow.
type FollowOptions struct {
	// Wake, when set, tells the follower that new entries may be there
	// (PostgreSQL's NOTIFY, and each reconnection of its listener).
	Wake <-chan struct{}
	// Poll is how often the feed is read without a wake-up; 0 means
	// 200 ms. With Wake set, it is a safety net and may be longer.
	Poll time.Duration
	// Batch is the most entries read at once; 0 means 1000.
	Batch int
	// ReadTimeout bounds each catch-up; 0 means 10 s. A database that
	// stops answering without closing the connection (a partition that
	// drops packets) fails the read, and the follower retries, rather
	// than wait for TCP to give up.
	ReadTimeout time.Duration
	// Logger receives read failures; nil discards them.
	Logger *slog.Logger
}

// Follow keeps the cache true to the feed until ctx ends. It first takes
// the feed's newest sequence number as its position and empties the
// cache, so that nothing read before is trusted; then it returns, and a
// goroutine reads the entries after its position, at each wake-up and
// poll, and applies them in order. The position only moves past entries
// applied; a failed read is retried with a growing backoff (up to 5 s).
// When the feed says that entries after its position were pruned, it
// cannot know what they changed: it takes the feed's newest sequence
// number as its position and empties the cache, as at the start, and
// logs a warning.
// done is closed when the goroutine has stopped.
func (c *Cache) Follow(ctx context.Context, feed Feed, opts FollowOptions) (done <-chan struct{}, err error) {
	if opts.Poll <= 0 {
		opts.Poll = 200 * time.Millisecond
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	seq, err := feed.LastSeq(ctx)
	if err != nil {
		return nil, err
	}
	c.Reset()
	c.lastSeq.Store(seq)
	c.startFollowing(ctx, opts.Logger)
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		c.follow(ctx, feed, opts, seq)
	}()
	return ch, nil
}

func (c *Cache) follow(ctx context.Context, feed Feed, opts FollowOptions, seq int64) {
	const maxBackoff = 5 * time.Second
	backoff := time.Duration(0)
	tick := time.NewTicker(opts.Poll)
	defer tick.Stop()
	for {
		var err error
		rctx, cancel := context.WithTimeout(ctx, opts.ReadTimeout)
		seq, err = c.catchUp(rctx, feed, opts, seq)
		cancel()
		wait := (<-chan time.Time)(nil)
		if err != nil && ctx.Err() == nil {
			backoff = min(max(2*backoff, 50*time.Millisecond), maxBackoff)
			// An unreachable database is logged once, by the store.
			level := slog.LevelWarn
			if keyward.ErrorCode(err) == keyward.EUNAVAILABLE {
				level = slog.LevelDebug
			}
			opts.Logger.Log(ctx, level, "reading the change feed", "err", err, "retry_in", backoff)
			wait = time.After(backoff)
		} else if err == nil {
			backoff = 0
			c.caughtUpNow()
		}
		select {
		case <-ctx.Done():
			return
		case <-wait:
		case <-opts.Wake:
		case <-tick.C:
		}
	}
}

// catchUp applies every entry after seq and returns the new position.
func (c *Cache) catchUp(ctx context.Context, feed Feed, opts FollowOptions, seq int64) (int64, error) {
	reset := false
	for {
		changes, err := feed.Changes(ctx, seq, opts.Batch)
		// One reset a call: a feed that still says so from its newest
		// position is retried after a backoff rather than in a busy loop.
		if errors.Is(err, ErrPruned) && !reset {
			reset = true
			// The newest sequence number is read before the cache is
			// emptied, so that a read that begins after Reset sees every
			// entry up to the new position.
			last, lerr := feed.LastSeq(ctx)
			if lerr != nil {
				return seq, lerr
			}
			opts.Logger.Warn("missed change-feed entries that were pruned; emptying the verification cache",
				"err", err, "position", seq, "new_position", last)
			c.Reset()
			c.prunedResets.Add(1)
			seq = last
			c.lastSeq.Store(seq)
			continue
		}
		if err != nil {
			return seq, err
		}
		for _, ch := range changes {
			c.Apply(ch)
			seq = ch.Seq
			c.lastSeq.Store(seq)
			c.lastTime.Store(ch.Time.UnixMicro())
			c.lastLag.Store(int64(time.Since(ch.Time)))
		}
		if len(changes) < opts.Batch {
			return seq, nil
		}
	}
}
