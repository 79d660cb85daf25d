// Package redislimit is a rate limiter whose budgets every node shares
// through one Redis: the GCRA of package ratelimit, run as one atomic
// script per check.
package redislimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keyward/keyward/ratelimit"
)

//go:embed gcra.lua
var gcraSource string

// gcraScript runs by EVALSHA, loading itself with EVAL the first time a
// server does not know it.
var gcraScript = redis.NewScript(gcraSource)

// DefaultPrefix starts every key keyward keeps in Redis for rate limits.
const DefaultPrefix = "keyward:ratelimit:"

// defaultPause is how long a Redis limiter leaves Redis alone after a
// failure before it tries again.
const defaultPause = time.Second

// Limiter is a rate limiter shared by every node that uses the same Redis
// and prefix: each check is one atomic script in one round trip, on
// Redis's own clock unless Now is set.
//
// When Redis cannot be reached, the Limiter fails over to a per-node
// ratelimit.Memory: it logs a warning, counts the failure (Failures), and for a pause of a
// second answers from the Memory without trying Redis, so a Redis outage
// neither stops the API nor slows every request by a timeout.
//
// While Redis is down, each node takes only its share of a budget, so
// that an outage cannot multiply a limit by the number of nodes. With L
// the limit of a key per window W, N the expected nodes (Options.Nodes)
// and s = ⌈L/N⌉ the share:
//
//   - A node checks the key against a budget of its own of s requests
//     per W (the GCRA: s at once, then one more every W/s), and the
//     X-RateLimit headers it gives say so: Limit s, Remaining and Reset
//     of that share.
//   - A node that had an answer from Redis about the key starts the
//     outage with less: of R remaining, Redis's last word to it, its
//     share is ⌊R/N⌋, given back at one every W/s since (that answer is
//     kept in the fallback Memory, so only for keys seen until their
//     share is whole again, within the Memory's MaxKeys).
//
// So N nodes that fail over together admit, in an outage of length T, at
// most N·s + N·⌊T/(W/s)⌋ requests of a key, beyond what Redis admitted
// before it: in a short outage N·s, which is L when N divides L and less
// than L+N otherwise, and never more than N·s per window after that. If
// every node had heard the key's current R from Redis, the short outage
// admits at most N·⌊R/N⌋ ≤ R: the budget Redis had left, and no more.
// Nodes beyond N add s each; fewer nodes than N just enforce less than L
// while Redis is down. A node's share of what it counted during the
// outage stays spent when Redis is back; Redis's count goes on from where
// it was, so budgets are shared again from the first answer.
type Limiter struct {
	client   redis.Scripter
	closer   func() error
	prefix   string
	now      func() time.Time
	fallback *ratelimit.Memory
	log      *slog.Logger
	pause    time.Duration
	nodes    int

	failures  atomic.Uint64
	downUntil atomic.Int64 // Unix nanoseconds; Redis is not tried before
}

// Options configure a Redis limiter.
type Options struct {
	// Prefix starts every key; "" means DefaultPrefix. Nodes share budgets
	// only when they share the prefix.
	Prefix string
	// Now returns the current time; nil means Redis's own clock (the TIME
	// command inside the script), which keeps the nodes' budgets in step
	// whatever their clocks say. Tests control the clock with it.
	Now func() time.Time
	// Fallback answers while Redis cannot be reached; nil means a new
	// Memory with default options (and Now).
	Fallback *ratelimit.Memory
	// Logger receives the warnings of failing over and back; nil discards.
	Logger *slog.Logger
	// Pause is how long Redis is left alone after a failure; 0 means one
	// second.
	Pause time.Duration
	// Nodes is how many nodes are expected to share the budgets; while
	// Redis is down each takes ⌈limit/Nodes⌉ of a budget (see Limiter). 0
	// means 1: a single node goes on from Redis's count with the whole
	// budget.
	Nodes int
}

// New returns a limiter over client, which the caller keeps and
// closes.
func New(client redis.Scripter, opts Options) *Limiter {
	r := &Limiter{client: client, prefix: opts.Prefix, now: opts.Now, fallback: opts.Fallback, log: opts.Logger, pause: opts.Pause, nodes: max(opts.Nodes, 1)}
	if r.prefix == "" {
		r.prefix = DefaultPrefix
	}
	if r.fallback == nil {
		r.fallback = ratelimit.NewMemory(ratelimit.MemoryOptions{Now: opts.Now})
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.pause <= 0 {
		r.pause = defaultPause
	}
	return r
}

// Open connects to the Redis at rawURL (redis://[user:password@]host:port/db,
// or rediss:// for TLS, with go-redis's query options) and returns a
// limiter over it that Close closes. Timeouts the URL does not set are
// short, since a check sits on the path of every request: one dial
// attempt of at most a second, reads and writes of half a second, one
// retry. It does not wait for Redis: use Ping for that.
func Open(rawURL string, opts Options) (*Limiter, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		// go-redis errors may quote the URL, and with it a password.
		return nil, errors.New("redislimit: invalid Redis URL: want redis://[user:password@]host:port/db")
	}
	q := url.Values{}
	if u, err := url.Parse(rawURL); err == nil {
		q = u.Query()
	}
	if !q.Has("dial_timeout") {
		o.DialTimeout = time.Second
	}
	if !q.Has("read_timeout") {
		o.ReadTimeout = 500 * time.Millisecond
	}
	if !q.Has("write_timeout") {
		o.WriteTimeout = 500 * time.Millisecond
	}
	if !q.Has("max_retries") {
		o.MaxRetries = 1
	}
	// One dial attempt per connection: a failed check falls back at once.
	o.DialerRetries = 1
	c := redis.NewClient(o)
	r := New(c, opts)
	r.closer = c.Close
	return r, nil
}

// Ping checks that Redis answers.
func (r *Limiter) Ping(ctx context.Context) error {
	p, ok := r.client.(interface {
		Ping(context.Context) *redis.StatusCmd
	})
	if !ok {
		return nil
	}
	if err := p.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redislimit: Redis ping: %w", err)
	}
	return nil
}

// Close closes the connections Open made; a limiter from New
// leaves its client to the caller.
func (r *Limiter) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer()
}

// Nodes returns the number of nodes expected to share the budgets.
func (r *Limiter) Nodes() int { return r.nodes }

// Failures returns how many checks Redis failed since the start (each
// answered by the fallback), for metrics.
func (r *Limiter) Failures() uint64 { return r.failures.Load() }

// Allow counts one request for key against a budget of limit requests per
// window, if the budget allows it, in one round trip to Redis. It returns
// ratelimit.ErrInvalidLimit for a limit or window that is not positive and the
// context's error when ctx ends; a Redis failure is answered by the
// fallback, not returned.
func (r *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (ratelimit.Result, error) {
	c, err := ratelimit.NewCell(limit, window, time.Microsecond)
	if err != nil {
		return ratelimit.Result{}, err
	}
	share := (limit + r.nodes - 1) / r.nodes
	if time.Now().UnixNano() < r.downUntil.Load() {
		return r.fallback.Allow(ctx, key, share, window)
	}
	now := int64(-1)
	if r.now != nil {
		now = r.now().UnixMicro()
	}
	v, err := gcraScript.Run(ctx, r.client, []string{r.prefix + key}, c.Interval, c.Burst, now).Int64Slice()
	if err == nil && len(v) != 3 {
		err = fmt.Errorf("script answered %d values, want 3", len(v))
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ratelimit.Result{}, ctxErr
		}
		r.fail(err)
		return r.fallback.Allow(ctx, key, share, window)
	}
	if r.downUntil.Load() != 0 && r.downUntil.Swap(0) != 0 {
		r.log.Warn("rate limits: Redis is back; budgets are shared again")
	}
	res := c.Result(limit, v[2], v[1], v[0] == 1, time.Microsecond)
	r.remember(key, share, window, res.Remaining)
	return res, nil
}

// remember keeps the fallback at this node's share of what Redis says
// remains of key's budget, ⌊remaining/N⌋ of a share of share per
// window, for when Redis fails: it withholds the rest of the share.
func (r *Limiter) remember(key string, share int, window time.Duration, remaining int) {
	fc, err := ratelimit.NewCell(share, window, time.Nanosecond)
	if err != nil {
		return
	}
	r.fallback.Withhold(key, time.Duration(int64(share-remaining/r.nodes)*fc.Interval))
}

// fail records a Redis failure and leaves Redis alone for the pause.
func (r *Limiter) fail(err error) {
	r.failures.Add(1)
	r.downUntil.Store(time.Now().Add(r.pause).UnixNano())
	r.log.Warn("rate limits: Redis failed; this node enforces its share of each budget until it answers",
		slog.String("err", err.Error()), slog.Duration("retry_in", r.pause), slog.Int("nodes", r.nodes))
}
