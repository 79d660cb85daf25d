package service

import (
	"context"
	"hash/maphash"
	"iter"
	"net/netip"
	"sync"
	"time"

	"github.com/keyward/keyward"
)

// usageTracker gathers token use in memory so that authentication does no
// synchronous database write; flush writes hourly use counts in one
// batch, last-used times and addresses (a token's at most every
// lastUseEvery, unless its address changed), and the token.used audit
// events: on first use, then at most one aggregated event per token per
// hour.
type usageTracker struct {
	s *Service
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
func (b *usageBatch) get(u *usageTracker, id string) *pendingUse {
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

func newUsageTracker(s *Service) *usageTracker {
	u := &usageTracker{s: s, seed: maphash.MakeSeed()}
	for i := range u.shards {
		u.shards[i].pending = map[string]*pendingUse{}
	}
	return u
}

// shardOf returns the index of the shard that gathers token id's use.
func (u *usageTracker) shardOf(id string) int {
	return int(maphash.String(u.seed, id) & (usageShards - 1))
}

// record notes one use of token id (of org and user) at now from ip.
// neverUsed says the token had no use recorded when it was read; a use
// this node has already written is no first use, however old that read.
func (u *usageTracker) record(id, orgID, userID string, neverUsed bool, now time.Time, ip netip.Addr) {
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

func (u *usageTracker) run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := u.s.FlushUsage(ctx); err != nil && ctx.Err() == nil {
				u.s.backgroundError(ctx, "writing token usage", err)
			}
		}
	}
}

// FlushUsage writes the usage gathered since the last flush: last-used
// times and IPs, hourly use counts, and the token.used audit events that
// are due. Once an hour it also deletes counts older than the usage window.
func (s *Service) FlushUsage(ctx context.Context) error {
	u := s.usage
	var batch usageBatch
	n := 0
	u.mu.Lock()
	for i := range u.shards {
		sh := &u.shards[i]
		sh.mu.Lock()
		// An empty shard keeps its map, and the batch takes none of it: the
		// flush reads its batch without the shards' locks.
		if len(sh.pending) > 0 {
			batch[i], sh.pending = sh.pending, map[string]*pendingUse{}
		}
		sh.mu.Unlock()
		n += len(batch[i])
	}
	u.writing = n
	u.mu.Unlock()
	if n == 0 {
		return nil
	}
	defer func() {
		u.mu.Lock()
		u.writing = 0
		u.mu.Unlock()
	}()
	now := s.Now()
	uses := make([]keyward.TokenUse, 0, n)
	var counts []keyward.UsageCount
	var events []usedEvent
	u.mu.Lock()
	for id, p := range batch.all() {
		k := keyOf(id)
		a, w, seen := u.written.get(k)
		p.first = p.first || (p.neverUsed && !seen)
		if ip := ipHash(p.ip); !seen || now.Unix()-int64(w.at) >= int64(lastUseEvery/time.Second) || ip != w.ipHash {
			uses = append(uses, keyward.TokenUse{TokenID: id, At: p.at, IP: addrString(p.ip), Count: p.count})
			w = writtenUse{at: uint32(now.Unix()), ipHash: ip}
		}
		for h, n := range p.hours() {
			counts = append(counts, keyward.UsageCount{TokenID: id, Hour: h, Count: n})
		}
		count := a.count() + uint32(min(p.count, 1<<31))
		if p.first || !seen || now.Unix()-a.at() >= int64(time.Hour/time.Second) {
			events = append(events, usedEvent{id: id, p: p, count: int(count)})
			a = audited(now.Unix(), 0)
		} else {
			a = audited(a.at(), count)
		}
		u.written.set(k, a, w)
	}
	prune := now.Sub(u.pruned) >= time.Hour
	if prune {
		u.pruned = now
	}
	u.mu.Unlock()
	uses, counts, events, err := s.writeUsage(ctx, uses, counts, events)
	if err != nil {
		u.requeue(&batch, uses, counts, events)
		return err
	}
	if prune {
		// A day of margin beyond the window, for nodes whose clocks differ.
		return s.store.Update(ctx, func(tx Tx) error {
			_, err := tx.PruneTokenUsage(ctx, keyward.UsageWindowStart(now).AddDate(0, 0, -1))
			return err
		})
	}
	return nil
}

// usedEvent is a token.used audit event a flush writes: count uses of
// token id since its last one.
type usedEvent struct {
	id    string
	p     *pendingUse
	count int
}

// writeUsage writes a flush's last uses, hourly counts and token.used
// events, in transactions of at most flushChunk rows, so that a large
// batch never holds SQLite's one writer (or many of PostgreSQL's rows) for
// long: a revocation waits for one chunk at most. When a transaction
// fails it returns the error with the rows that were not written.
func (s *Service) writeUsage(ctx context.Context, uses []keyward.TokenUse, counts []keyward.UsageCount, events []usedEvent) ([]keyward.TokenUse, []keyward.UsageCount, []usedEvent, error) {
	update := func(f func(tx Tx) error) error { return s.store.Update(ctx, f) }
	for len(uses) > 0 {
		part := uses[:min(len(uses), flushChunk)]
		if err := update(func(tx Tx) error { return tx.TouchTokens(ctx, part) }); err != nil {
			return uses, counts, events, err
		}
		uses = uses[len(part):]
	}
	for len(counts) > 0 {
		part := counts[:min(len(counts), flushChunk)]
		if err := update(func(tx Tx) error { return tx.AddTokenUsage(ctx, part) }); err != nil {
			return nil, counts, events, err
		}
		counts = counts[len(part):]
	}
	for len(events) > 0 {
		part := events[:min(len(events), flushChunk)]
		err := update(func(tx Tx) error {
			for _, e := range part {
				c := &Caller{IP: addrString(e.p.ip), Token: &keyward.Token{ID: e.id}}
				if e.p.userID != "" {
					c.User = &keyward.User{ID: e.p.userID}
				}
				details := map[string]any{"count": e.count, "first_use": e.p.first, "last_used_at": e.p.at}
				if err := s.audit(ctx, tx, c, e.p.orgID, keyward.ActionTokenUsed, e.id, details); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, events, err
		}
		events = events[len(part):]
	}
	return nil, nil, nil, nil
}

// requeue gives back to the next flush what a failed one did not write
// (a failed transaction writes nothing, so nothing is written twice): a
// last use is written whatever lastUseEvery says, counts are added to the
// uses gathered since, and an event is due at once, with its count and
// whether it is the first use. batch is the failed flush's gathered use.
func (u *usageTracker) requeue(batch *usageBatch, uses []keyward.TokenUse, counts []keyward.UsageCount, events []usedEvent) {
	u.mu.Lock()
	defer u.mu.Unlock()
	// back gives f token id's pending use, under its shard's lock.
	back := func(id string, f func(q *pendingUse)) {
		sh := &u.shards[u.shardOf(id)]
		sh.mu.Lock()
		defer sh.mu.Unlock()
		q := sh.pending[id]
		if q == nil {
			p := batch.get(u, id)
			q = &pendingUse{orgID: p.orgID, userID: p.userID, at: p.at, ip: p.ip}
			sh.pending[id] = q
		}
		f(q)
	}
	for _, x := range uses {
		back(x.TokenID, func(*pendingUse) {})
		k := keyOf(x.TokenID)
		a, w, _ := u.written.get(k)
		w.at = 0
		u.written.set(k, a, w)
	}
	for _, c := range counts {
		back(c.TokenID, func(q *pendingUse) { q.addUses(c.Hour, c.Count) })
	}
	for _, e := range events {
		back(e.id, func(q *pendingUse) { q.first = q.first || e.p.first })
		k := keyOf(e.id)
		_, w, _ := u.written.get(k)
		u.written.set(k, audited(0, uint32(e.count)), w)
	}
}

// all yields every token id and pending use of the batch.
func (b *usageBatch) all() iter.Seq2[string, *pendingUse] {
	return func(yield func(string, *pendingUse) bool) {
		for _, m := range b {
			for id, p := range m {
				if !yield(id, p) {
					return
				}
			}
		}
	}
}

// UnwrittenUsage returns how many tokens' use this node has gathered and
// not yet written: those waiting for the next flush and those the flush
// under way is writing. A figure that stays high means the usage writer
// is falling behind.
func (s *Service) UnwrittenUsage() int {
	u := s.usage
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

// lastUseEvery is how often a token's last use is written while it is in
// use from one address: a last-use write rewrites the token's row, a page
// of the database for each token, where its hourly count is a small row.
// GitLab writes a token's last use at most every 10 minutes too. A use
// from another address is written at the next flush.
const lastUseEvery = 10 * time.Minute

// ipHash is a 32-bit FNV-1a hash of an address, to tell whether a token's
// address changed since its last use was written.
func ipHash(ip netip.Addr) uint32 {
	b := ip.As16()
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

// flushChunk bounds the rows (last uses, hourly counts, audit events) one
// transaction of a usage flush writes. A variable for the tests.
var flushChunk = 5000

// fillUsage sets the daily usage of tokens, with one query for all of them.
func (s *Service) fillUsage(ctx context.Context, tx Tx, tokens []*keyward.Token, now time.Time) error {
	if len(tokens) == 0 {
		return nil
	}
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		ids[i] = t.ID
	}
	counts, err := tx.FindTokenUsage(ctx, ids, keyward.UsageWindowStart(now))
	if err != nil {
		return err
	}
	byToken := map[string][]keyward.UsageCount{}
	for _, c := range counts {
		byToken[c.TokenID] = append(byToken[c.TokenID], c)
	}
	for _, t := range tokens {
		t.Usage = keyward.DailyUsage(byToken[t.ID], now)
	}
	return nil
}
