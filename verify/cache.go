package verify

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward"
	"golang.org/x/sync/singleflight"
)

// Loader reads what a verdict needs from storage. The service implements
// it over its store.
type Loader interface {
	// LoadToken reads, in one snapshot, the newest change-feed sequence
	// number, the token whose string hashes to h, its org and policy, and
	// for a personal token its owner and the owner's membership. When no
	// token hashes to h it returns a Record with a nil Token (or an
	// ENOTFOUND error, for a loader that does not know the sequence).
	LoadToken(ctx context.Context, h keyward.Hash) (*Record, error)
}

// Options configure a Cache.
type Options struct {
	// MaxEntries bounds the tokens held; 0 means 4,194,304, which is also
	// the most it may be. When a shard is full an arbitrary entry of it
	// makes room.
	MaxEntries int
	// MaxMissing bounds the well-formed strings remembered as missing; 0
	// means 65,536.
	MaxMissing int
	// MissingTTL is how long a string is remembered as missing; 0 means
	// 5 minutes. A token created on any node ends it at once through the
	// change feed; the TTL only bounds what a lost feed could cost.
	MissingTTL time.Duration
	// LoadTimeout bounds one storage read; 0 means 10 seconds.
	LoadTimeout time.Duration
}

// numShards spreads the cache over locks; a hash's first byte picks one.
const numShards = 256

// maxEntries is the most tokens a cache holds: half the states a table can
// number, which leaves room for the interned permission sets and for
// entries being attached or let go.
const maxEntries = maxRefs / 2

// shard is one part of the cache, padded so that shards do not share a
// cache line.
type shard struct {
	mu      sync.RWMutex
	tokens  table
	missing map[keyward.Hash]int64 // until when (µs) the hash is missing

	// evictedSeq is the newest sequence number of the feed entries that
	// evicted a hash of this shard.
	evictedSeq int64

	hits, misses, negHits atomic.Uint64
	_                     [32]byte
}

// Cache answers verifications from memory, reading storage on a miss.
// Its methods are safe for concurrent use.
type Cache struct {
	format *keyward.TokenFormat
	perms  *keyward.PermissionModel
	loader Loader
	opts   Options

	shards [numShards]shard
	group  singleflight.Group

	// A miss caches what it read only if no change it did not see was
	// applied while it read, so that a change is never undone by a read
	// that began before it: see fresh. gen counts the resets and the
	// changes without a sequence number, applied all changes; killedSeq
	// is the newest sequence number of the entries that invalidated an
	// org or a member (written under the states' lock).
	gen       atomic.Uint64
	applied   atomic.Uint64
	killedSeq atomic.Int64

	// states are what the cached entries share; a reset starts new ones.
	states atomic.Pointer[states]

	// The feed position: the newest entry applied from the feed.
	lastSeq atomic.Int64
	// lastLag is how long after it was written the newest entry that
	// Follow applied was applied, in nanoseconds.
	lastLag  atomic.Int64
	lastTime atomic.Int64 // µs
	// prunedResets counts the times Follow found entries it had not
	// applied pruned, and emptied the cache.
	prunedResets atomic.Uint64

	// stale bounds how far behind the feed the cache may answer.
	stale staleness
}

// New returns an empty cache for tokens of format, reading through loader.
func New(format *keyward.TokenFormat, perms *keyward.PermissionModel, loader Loader, opts Options) *Cache {
	if opts.MaxEntries <= 0 || opts.MaxEntries > maxEntries {
		opts.MaxEntries = maxEntries
	}
	if opts.MaxMissing <= 0 {
		opts.MaxMissing = 1 << 16
	}
	if opts.MissingTTL <= 0 {
		opts.MissingTTL = 5 * time.Minute
	}
	if opts.LoadTimeout <= 0 {
		opts.LoadTimeout = 10 * time.Second
	}
	c := &Cache{format: format, perms: perms, loader: loader, opts: opts}
	c.reset()
	return c
}

// Verify answers for the token string raw presented from ip (the zero
// Addr skips the allowlist) at now. The error is set only when the string
// is malformed (an EUNAUTHORIZED error that says what is wrong, with Code
// Malformed) or storage failed; every other outcome is in the verdict's
// Code.
//
// A cached token costs a SHA-256 and a map look-up, and allocates
// nothing: a string whose hash is cached is exactly a stored token's, so
// its form needs no check. Before any storage read, the string's prefix,
// length, alphabet and checksum are checked, so a mistyped or made-up
// keyward token costs no read; a string in no keyward form is looked up
// only if it may be an imported key (foreignKey). Only strings looked up
// are remembered as missing.
func (c *Cache) Verify(ctx context.Context, raw string, ip netip.Addr, now time.Time) (Verdict, error) {
	if len(raw) > MaxKeyLen {
		_, err := c.format.Parse(raw)
		return Verdict{Code: Malformed, Reason: keyward.ErrorMessage(err)}, err
	}
	if err := c.refuseStale(); err != nil {
		return Verdict{Code: NotFound}, err
	}
	v := Verdict{Hash: keyward.HashToken(raw)}
	us := now.UnixMicro()
	sh := &c.shards[v.Hash[0]]
	// The entry is copied under the lock: the slab's may change after.
	var missingUntil int64
	sh.mu.RLock()
	if e := sh.tokens.get(&v.Hash); e != nil {
		v.e = *e
		sh.tokens.resolve(e, &v.h)
		v.found = true
	} else {
		missingUntil = sh.missing[v.Hash]
	}
	sh.mu.RUnlock()
	switch {
	case v.found && v.h.live():
		sh.hits.Add(1)
		v.judge(us, ip)
		return v, nil
	case !v.found && missingUntil > us:
		sh.negHits.Add(1)
		v.Code = NotFound
		return v, nil
	}
	v.e, v.h, v.found = entry{}, held{}, false
	kind, err := c.format.Parse(raw)
	if err != nil && !foreignKey(c.format, raw) {
		return Verdict{Code: Malformed, Reason: keyward.ErrorMessage(err)}, err
	}
	v.Kind = kind
	sh.misses.Add(1)
	e, err := c.load(ctx, v.Hash, us)
	if err != nil {
		return Verdict{Code: NotFound, Kind: kind}, err
	}
	if e == nil {
		v.Code = NotFound
		return v, nil
	}
	v.e, v.h, v.found = e.e, e.h, true
	v.judge(us, ip)
	return v, nil
}

// MaxKeyLen is the longest string looked up: longer than any keyward
// token (a 16-character instance prefix, a kind, a secret and a
// checksum), and than the keys of other systems that an import brings in
// (Stripe's are about 110). Longer strings are not hashed.
const MaxKeyLen = 256

// MinForeignKeyLen is the shortest string in no keyward form that is
// looked up, as an imported key may be.
const MinForeignKeyLen = 16

// foreignKey reports whether raw, which is not a well-formed token of
// this installation, may be an imported key of another system's form and
// so is worth a look-up: it does not start with this installation's
// prefix (a keyward token mistyped costs no read), is MinForeignKeyLen to
// MaxKeyLen long and is printable ASCII without spaces. What it misses is
// remembered as missing, as for keyward's own.
func foreignKey(f *keyward.TokenFormat, raw string) bool {
	if len(raw) < MinForeignKeyLen || len(raw) > MaxKeyLen || f.Ours(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] <= ' ' || raw[i] > '~' {
			return false
		}
	}
	return true
}

// cached is an entry and what it holds, as a read returns them.
type cached struct {
	e entry
	h held
}

// load reads hash's token from storage, sharing the read with concurrent
// misses for the same hash, and caches what it read. It returns nil for a
// token that does not exist.
func (c *Cache) load(ctx context.Context, h keyward.Hash, now int64) (*cached, error) {
	// Misses share a read only if no change was applied between their
	// arrivals: a verification that begins after a change is applied
	// never takes the answer of a read that began before it.
	m := c.mark()
	var key [len(h) + 16]byte
	copy(key[:], h[:])
	binary.LittleEndian.PutUint64(key[len(h):], m.gen)
	binary.LittleEndian.PutUint64(key[len(h)+8:], m.applied)
	ch := c.group.DoChan(string(key[:]), func() (any, error) {
		// A miss that arrives as another's read ends finds its answer
		// cached.
		sh := &c.shards[h[0]]
		sh.mu.RLock()
		var hit *cached
		if e := sh.tokens.get(&h); e != nil {
			hit = &cached{e: *e}
			if sh.tokens.resolve(e, &hit.h); !hit.h.live() {
				hit = nil
			}
		}
		sh.mu.RUnlock()
		if hit != nil {
			return hit, nil
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LoadTimeout)
		defer cancel()
		r, err := c.loader.LoadToken(lctx, h)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			r, err = &Record{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("verify: reading a token: %w", err)
		}
		if r.Token == nil {
			c.remember(h, m, r.Seq, now)
			return (*cached)(nil), nil
		}
		return c.insert(h, r, m), nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*cached), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// mark is what a miss notes before it reads.
type mark struct{ gen, applied uint64 }

func (c *Cache) mark() mark { return mark{c.gen.Load(), c.applied.Load()} }

// fresh reports whether a read that began at m and saw the feed up to seq
// may be cached in shard sh: no reset, no change without a sequence
// number, and no change after seq touching sh or any org or member has
// been applied since. A read that does not know its seq (0) may be
// cached only if nothing at all was applied. The caller holds sh's lock.
func (c *Cache) fresh(sh *shard, m mark, seq int64) bool {
	if c.gen.Load() != m.gen {
		return false
	}
	if seq == 0 {
		return c.applied.Load() == m.applied
	}
	return sh.evictedSeq <= seq && c.killedSeq.Load() <= seq
}

// remember records h as missing, if the read that found nothing is
// fresh.
func (c *Cache) remember(h keyward.Hash, m mark, seq int64, now int64) {
	sh := &c.shards[h[0]]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !c.fresh(sh, m, seq) {
		return
	}
	if len(sh.missing) >= max(1, c.opts.MaxMissing/numShards) {
		for k, until := range sh.missing {
			delete(sh.missing, k)
			if until <= now {
				continue // an expired one: look for more to drop
			}
			break
		}
	}
	sh.missing[h] = now + c.opts.MissingTTL.Microseconds()
}

// insert builds the entry for r and caches it, attached to the states
// the cached entries share, if the read is fresh. It returns the entry
// either way.
func (c *Cache) insert(h keyward.Hash, r *Record, m mark) *cached {
	sh := &c.shards[h[0]]
	st := c.states.Load()
	intern := func(k keyward.Kind, role keyward.Role) (uint32, *permSet) { return st.internLocked(c.perms, k, role) }
	st.mu.Lock()
	e, hd := newEntry(h, r, c.perms, intern)
	// killedSeq only moves under the states' lock, so states attached
	// here were alive for this read: a later kill marks them dead.
	if c.gen.Load() != m.gen || (r.Seq == 0 && c.applied.Load() != m.applied) || c.killedSeq.Load() > r.Seq {
		st.mu.Unlock()
		return &cached{e, hd}
	}
	st.attachLocked(&e, &hd)
	st.mu.Unlock()

	sh.mu.Lock()
	defer sh.mu.Unlock()
	if !c.fresh(sh, m, r.Seq) || sh.tokens.st != st {
		st.release(&e)
		return &cached{e, hd}
	}
	if sh.tokens.n >= max(1, c.opts.MaxEntries/numShards) && sh.tokens.get(&h) == nil {
		sh.tokens.evictOne(int(h[20]) | int(h[21])<<8 | int(h[22])<<16)
	}
	sh.tokens.put(&e, hd.text)
	delete(sh.missing, h)
	return &cached{e, hd}
}

// Apply makes one change-feed entry true in the cache: it evicts the token
// an entry names by hash (and ends a remembered miss of it), or every
// cached token of the member or org the entry names. An entry of an
// unknown kind empties the cache. Applying an entry twice is harmless.
func (c *Cache) Apply(ch *keyward.Change) {
	c.applied.Add(1)
	if ch.Seq == 0 {
		c.gen.Add(1)
	}
	switch {
	case ch.Kind == keyward.ChangeToken && len(ch.Hash) == len(keyward.Hash{}):
		h := keyward.Hash(ch.Hash)
		sh := &c.shards[h[0]]
		sh.mu.Lock()
		sh.evictedSeq = max(sh.evictedSeq, ch.Seq)
		sh.tokens.del(&h)
		delete(sh.missing, h)
		sh.mu.Unlock()
	case (ch.Kind == keyward.ChangeToken || ch.Kind == keyward.ChangeMember) && ch.UserID != "":
		// A token entry without a hash names its owner: every token of
		// theirs in the org is read again.
		st := c.states.Load()
		st.mu.Lock()
		c.killedSeq.Store(max(c.killedSeq.Load(), ch.Seq))
		key := memberKey(ch.OrgID, ch.UserID)
		if i, ok := st.memberKeys[key]; ok {
			st.members.get(i).dead.Store(true)
			delete(st.memberKeys, key)
		}
		st.mu.Unlock()
	case ch.Kind == keyward.ChangePolicy || ch.Kind == keyward.ChangeToken && ch.OrgID != "":
		st := c.states.Load()
		st.mu.Lock()
		c.killedSeq.Store(max(c.killedSeq.Load(), ch.Seq))
		if i, ok := st.orgIDs[ch.OrgID]; ok {
			st.orgs.get(i).dead.Store(true)
			delete(st.orgIDs, ch.OrgID)
		}
		st.mu.Unlock()
	default:
		c.Reset()
	}
}

// Reset empties the cache.
func (c *Cache) Reset() {
	c.gen.Add(1)
	c.reset()
}

// reset starts new states, and an empty table over them in each shard.
// An entry of the old states, copied before or cached by a read that
// began before, is a miss: every old org and member is dead, and an
// insert that attached to the old states does not cache.
func (c *Cache) reset() {
	fresh := newStates()
	if old := c.states.Swap(fresh); old != nil {
		old.mu.Lock()
		old.killAllLocked()
		old.mu.Unlock()
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.tokens, sh.missing = table{st: fresh}, map[keyward.Hash]int64{}
		sh.mu.Unlock()
	}
}

// Stats are the cache's counters since it was made, for metrics.
type Stats struct {
	// Hits are verifications answered from a cached token; NegativeHits
	// from a remembered miss; Misses read storage.
	Hits, Misses, NegativeHits uint64
	// Entries is how many tokens are cached; Missing how many strings are
	// remembered as missing.
	Entries, Missing int
	// LastSeq is the sequence number of the newest change-feed entry
	// applied by Follow (0 before the first), LastChange that entry's time.
	LastSeq    int64
	LastChange time.Time
	// LastLag is how long after it was written that entry was applied.
	LastLag time.Duration
	// PrunedResets counts the times Follow found entries it had not
	// applied pruned from the feed, and emptied the cache.
	PrunedResets uint64
	// FeedAge is how long ago Follow last read the feed to its end (0
	// before Follow); Stale says it is past the bound of SetMaxStaleness.
	FeedAge time.Duration
	Stale   bool
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	var s Stats
	for i := range c.shards {
		sh := &c.shards[i]
		s.Hits += sh.hits.Load()
		s.Misses += sh.misses.Load()
		s.NegativeHits += sh.negHits.Load()
		sh.mu.RLock()
		s.Entries += sh.tokens.n
		s.Missing += len(sh.missing)
		sh.mu.RUnlock()
	}
	s.LastSeq = c.lastSeq.Load()
	s.LastLag = time.Duration(c.lastLag.Load())
	s.PrunedResets = c.prunedResets.Load()
	s.FeedAge, s.Stale = c.Staleness()
	if us := c.lastTime.Load(); us != 0 {
		s.LastChange = time.UnixMicro(us).UTC()
	}
	return s
}
