package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const (
	// shardCount spreads keys over independently locked maps, so that
	// concurrent requests for different keys rarely wait for each other.
	shardCount = 64
	// DefaultMaxKeys bounds a Memory that is given no MaxKeys: about 30
	// MB at worst.
	DefaultMaxKeys = 1 << 20
	// sweepEvery is how often a shard drops the keys that have their whole
	// budget back.
	sweepEvery = time.Minute
	// evictSample is how many keys a full shard looks at to evict the one
	// nearest to its whole budget.
	evictSample = 8
)

// Memory is a rate limiter for one process: a sharded map from key to
// its TAT. A key is held as its 64-bit hash under a seed drawn when the
// Memory is made (16 bytes a key, and nothing for the garbage collector
// to scan, so that a million tokens in use cost little): two keys share a
// budget only if their hashes collide, about one chance in 10^7 among a
// million keys, and no one who does not know the seed can choose keys
// that do. It holds at most MaxKeys keys: idle keys (those with their
// whole budget back) are swept every minute and whenever a shard is full;
// if a shard is still full, the key nearest to its whole budget among a
// few sampled is evicted, which can only give that key back some budget
// early. A check of a key already held allocates nothing.
type Memory struct {
	now    func() time.Time
	seed   maphash.Seed
	max    int // keys per shard
	shards [shardCount]shard
}

type shard struct {
	mu        sync.Mutex
	tats      map[uint64]int64 // key's hash → TAT in Unix nanoseconds
	nextSweep int64
	// Padding keeps two shards' locks off one cache line.
	_ [40]byte
}

// MemoryOptions configure a Memory.
type MemoryOptions struct {
	// Now returns the current time; nil means time.Now. Tests control the
	// clock with it.
	Now func() time.Time
	// MaxKeys bounds the keys held; 0 means DefaultMaxKeys.
	MaxKeys int
}

// NewMemory returns an empty in-process limiter.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{now: opts.Now, seed: maphash.MakeSeed(), max: opts.MaxKeys}
	if m.now == nil {
		m.now = time.Now
	}
	if m.max <= 0 {
		m.max = DefaultMaxKeys
	}
	m.max = max(m.max/shardCount, 1)
	for i := range m.shards {
		m.shards[i].tats = make(map[uint64]int64)
	}
	return m
}

// Allow counts one request for key against a budget of limit requests per
// window, if the budget allows it. It returns ErrInvalidLimit for a limit
// or window that is not positive, and no other error.
func (m *Memory) Allow(_ context.Context, key string, limit int, window time.Duration) (Result, error) {
	c, err := NewCell(limit, window, time.Nanosecond)
	if err != nil {
		return Result{}, err
	}
	now := m.now().UnixNano()
	k := maphash.String(m.seed, key)
	sh := &m.shards[k&(shardCount-1)]
	sh.mu.Lock()
	if now >= sh.nextSweep {
		sh.sweep(now)
	}
	tat, held := sh.tats[k]
	tat, allowed := c.Take(now, tat)
	if allowed {
		if !held && len(sh.tats) >= m.max {
			sh.sweep(now)
			if len(sh.tats) >= m.max {
				sh.evict()
			}
		}
		sh.tats[k] = tat
	}
	sh.mu.Unlock()
	return c.Result(limit, now, tat, allowed, time.Nanosecond), nil
}

// Withhold makes key's whole budget come back no sooner than d from now:
// its TAT becomes at least now+d, so that a budget of limit requests per
// window has at most limit - ⌈d / (window/limit)⌉ left. It never gives
// budget back, and d ≤ 0 does nothing. The Redis limiter keeps its
// fallback in step with what Redis last said of a key this way. Like
// Allow, it holds at most MaxKeys keys.
func (m *Memory) Withhold(key string, d time.Duration) {
	if d <= 0 {
		return
	}
	now := m.now().UnixNano()
	tat := now + int64(d)
	k := maphash.String(m.seed, key)
	sh := &m.shards[k&(shardCount-1)]
	sh.mu.Lock()
	if now >= sh.nextSweep {
		sh.sweep(now)
	}
	old, held := sh.tats[k]
	switch {
	case held && old >= tat:
	case !held && len(sh.tats) >= m.max:
		sh.sweep(now)
		if len(sh.tats) >= m.max {
			sh.evict()
		}
		fallthrough
	default:
		sh.tats[k] = tat
	}
	sh.mu.Unlock()
}

// sweep drops the keys whose whole budget is back at now: they are the
// same as keys never seen. The caller holds the lock.
func (sh *shard) sweep(now int64) {
	for k, tat := range sh.tats {
		if tat <= now {
			delete(sh.tats, k)
		}
	}
	sh.nextSweep = now + int64(sweepEvery)
}

// evict drops, among a few keys sampled by the map's random iteration
// order, the one with the earliest TAT. The caller holds the lock.
func (sh *shard) evict() {
	var victim uint64
	var earliest int64
	n := 0
	for k, tat := range sh.tats {
		if n == 0 || tat < earliest {
			victim, earliest = k, tat
		}
		if n++; n == evictSample {
			break
		}
	}
	if n > 0 {
		delete(sh.tats, victim)
	}
}

// Len returns the number of keys held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.tats)
		sh.mu.Unlock()
	}
	return n
}
