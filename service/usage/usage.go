// Package usage gathers token use in memory, in shards, so that
// authentication does no synchronous database write, and writes it to the
// store in batches: last-used times and addresses, hourly use counts, and
// the token.used audit events. It knows the store only through Writer.
package usage

import (
	"context"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/keyward/keyward"
)

// Writer writes what a flush gathered; each call is one transaction of its
// own, which writes all of its rows or none.
type Writer interface {
	// TouchTokens writes tokens' last uses.
	TouchTokens(ctx context.Context, uses []keyward.TokenUse) error
	// AddTokenUsage adds hourly use counts.
	AddTokenUsage(ctx context.Context, counts []keyward.UsageCount) error
	// AuditUses appends a token.used audit event for each of events.
	AuditUses(ctx context.Context, events []Event) error
	// PruneTokenUsage deletes the counts of hours before before.
	PruneTokenUsage(ctx context.Context, before time.Time) error
}

// Event is a token.used audit event a flush writes: Count uses of token
// TokenID (of org OrgID and user UserID, "" for an org's key) since its
// last one, the latest at At from IP; First says it holds the token's
// first use.
type Event struct {
	TokenID, OrgID, UserID string
	IP                     netip.Addr
	At                     time.Time
	Count                  int
	First                  bool
}

// Options configure a Gatherer.
type Options struct {
	// Now returns the current time, as the store keeps it.
	Now func() time.Time
	// Logger receives the errors of the flushes Run makes.
	Logger *slog.Logger
	// FlushChunk bounds the rows (last uses, hourly counts, audit events)
	// one transaction of a flush writes; 0 means DefaultFlushChunk.
	FlushChunk int
}

// DefaultFlushChunk is the rows one transaction of a flush writes when
// Options sets no bound.
const DefaultFlushChunk = 5000

// Gatherer gathers token use in memory so that authentication does no
// synchronous database write; Flush writes hourly use counts in one
// batch, last-used times and addresses (a token's at most every
// lastUseEvery, unless its address changed), and the token.used audit
// events: on first use, then at most one aggregated event per token per
// hour.
type Gatherer struct {
	w     Writer
	now   func() time.Time
	log   *slog.Logger
	chunk int
	// shards gather the use of tokens not yet flushed, each token's in the
	// shard its id hashes to, so that a node's cores record uses of
	// different tokens without waiting for one lock.
	shards [usageShards]usageShard
	seed   maphash.Seed

	// mu guards what follows; a flush holds it while it reads and moves on
	// the written states. It is taken before a shard's lock, never after.
	mu sync.Mutex
	// writing is how many tokens' use the flush under way is writing.
	writing int
	// pruned is when counts older than the usage window were last deleted.
	pruned time.Time
	// written remembers, per token, when its last token.used event was
	// written and how many uses have gathered since, and when and from
	// which address its last use was last written.
	written usageStates
}

// usageShards is how many locks gather token use; a power of two.
const usageShards = 32

// usageShard gathers the use of the tokens whose ids hash to it.
type usageShard struct {
	mu      sync.Mutex
	pending map[string]*pendingUse
	// Shards' locks on separate cache lines: each is taken on every
	// verification.
	_ [48]byte
}

// usageBatch is the use a flush takes from the shards, shard by shard.
type usageBatch [usageShards]map[string]*pendingUse

// get returns the pending use of token id in the batch, nil if none.
func (b *usageBatch) get(u *Gatherer, id string) *pendingUse {
	return b[u.shardOf(id)][id]
}

type pendingUse struct {
	orgID, userID string
	at            time.Time
	ip            netip.Addr // made a string only when written
	count         int
	// neverUsed: the token had no use recorded when it was read. first: it
	// is the token's first use, decided by the flush (a token of which
	// this node has written a use is not on its first use), or given back
	// by a flush that failed to write it.
	neverUsed, first bool
	// hour and hourCount count the uses of the latest hour (its start);
	// earlier hours holds those of the hours before it in this batch. A
	// batch rarely spans two hours, so earlier is made only when it does,
	// and recording a use allocates nothing once the token is pending.
	hour      time.Time
	hourCount int
	earlier   map[time.Time]int
}

// addUses counts n uses in the hour that starts at hour.
func (p *pendingUse) addUses(hour time.Time, n int) {
	if !hour.Equal(p.hour) {
		if p.hourCount > 0 {
			if p.earlier == nil {
				p.earlier = map[time.Time]int{}
			}
			p.earlier[p.hour] += p.hourCount
		}
		p.hour, p.hourCount = hour, p.earlier[hour]
		delete(p.earlier, hour)
	}
	p.hourCount += n
}

// hours returns the counts per hour of the batch.
func (p *pendingUse) hours() map[time.Time]int {
	out := make(map[time.Time]int, len(p.earlier)+1)
	for h, n := range p.earlier {
		out[h] = n
	}
	if p.hourCount > 0 {
		out[p.hour] += p.hourCount
	}
	return out
}

// auditedUse is when a token's last token.used event was written (Unix
// seconds, the high 32 bits) and how many uses have gathered since (the
// low 32).
type auditedUse uint64

func (a auditedUse) at() int64     { return int64(a >> 32) }
func (a auditedUse) count() uint32 { return uint32(a) }

func audited(at int64, count uint32) auditedUse {
	return auditedUse(uint64(uint32(at))<<32 | uint64(count))
}

// idKey is a token id as a key of 8 bytes (FNV-1a): the table of every
// token a node has seen used (a million, for a large product) then holds
// 24 bytes a slot and no pointer for the garbage collector to scan. Two
// ids of one key (about one chance in 10^7 among a million tokens) would
// share their hourly token.used events and the schedule of their last-use
// writes (one's could wait up to lastUseEvery); their use counts stay
// their own.
type idKey uint64

func keyOf(id string) idKey {
	h := uint64(14695981039346656037) // FNV-1a's offset basis and prime
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	return idKey(h)
}

// New returns a Gatherer that writes with w.
func New(w Writer, opts Options) *Gatherer {
	u := &Gatherer{w: w, now: opts.Now, log: opts.Logger, chunk: opts.FlushChunk, seed: maphash.MakeSeed()}
	if u.now == nil {
		u.now = func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.chunk <= 0 {
		u.chunk = DefaultFlushChunk
	}
	for i := range u.shards {
		u.shards[i].pending = map[string]*pendingUse{}
	}
	return u
}

// shardOf returns the index of the shard that gathers token id's use.
func (u *Gatherer) shardOf(id string) int {
	return int(maphash.String(u.seed, id) & (usageShards - 1))
}

// Record notes one use of token id (of org and user) at now from ip.
// neverUsed says the token had no use recorded when it was read; a use
// this node has already written is no first use, however old that read.
func (u *Gatherer) Record(id, orgID, userID string, neverUsed bool, now time.Time, ip netip.Addr) {
	sh := &u.shards[u.shardOf(id)]
	sh.mu.Lock()
	p := sh.pending[id]
	if p == nil {
		p = &pendingUse{orgID: orgID, userID: userID, neverUsed: neverUsed}
		sh.pending[id] = p
	}
	p.at, p.ip = now, ip
	p.count++
	p.addUses(keyward.HourOf(now), 1)
	sh.mu.Unlock()
}

// Unwritten returns how many tokens' use this node has gathered and
// not yet written: those waiting for the next flush and those the flush
// under way is writing. A figure that stays high means the usage writer
// is falling behind.
func (u *Gatherer) Unwritten() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := u.writing
	for i := range u.shards {
		sh := &u.shards[i]
		sh.mu.Lock()
		n += len(sh.pending)
		sh.mu.Unlock()
	}
	return n
}
