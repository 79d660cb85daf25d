package usage

import (
	"context"
	"iter"
	"log/slog"
	"net/netip"
	"time"

	"github.com/keyward/keyward"
)

// Run flushes every interval until ctx ends, logging the errors.
func (u *Gatherer) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := u.Flush(ctx); err != nil && ctx.Err() == nil {
				// An unavailable database is logged once, by the store,
				// as the outage starts; the next tick tries again.
				level := slog.LevelError
				if keyward.ErrorCode(err) == keyward.EUNAVAILABLE {
					level = slog.LevelDebug
				}
				u.log.Log(ctx, level, "writing token usage", "err", err)
			}
		}
	}
}

// Flush writes the usage gathered since the last flush: last-used
// times and IPs, hourly use counts, and the token.used audit events that
// are due. Once an hour it also deletes counts older than the usage window.
func (u *Gatherer) Flush(ctx context.Context) error {
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
	now := u.now()
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
	uses, counts, events, err := u.write(ctx, uses, counts, events)
	if err != nil {
		u.requeue(&batch, uses, counts, events)
		return err
	}
	if prune {
		// A day of margin beyond the window, for nodes whose clocks differ.
		return u.w.PruneTokenUsage(ctx, keyward.UsageWindowStart(now).AddDate(0, 0, -1))
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

// write writes a flush's last uses, hourly counts and token.used
// events, in transactions of at most u.chunk rows, so that a large
// batch never holds SQLite's one writer (or many of PostgreSQL's rows) for
// long: a revocation waits for one chunk at most. When a transaction
// fails it returns the error with the rows that were not written.
func (u *Gatherer) write(ctx context.Context, uses []keyward.TokenUse, counts []keyward.UsageCount, events []usedEvent) ([]keyward.TokenUse, []keyward.UsageCount, []usedEvent, error) {
	for len(uses) > 0 {
		part := uses[:min(len(uses), u.chunk)]
		if err := u.w.TouchTokens(ctx, part); err != nil {
			return uses, counts, events, err
		}
		uses = uses[len(part):]
	}
	for len(counts) > 0 {
		part := counts[:min(len(counts), u.chunk)]
		if err := u.w.AddTokenUsage(ctx, part); err != nil {
			return nil, counts, events, err
		}
		counts = counts[len(part):]
	}
	for len(events) > 0 {
		part := events[:min(len(events), u.chunk)]
		out := make([]Event, len(part))
		for i, e := range part {
			out[i] = Event{TokenID: e.id, OrgID: e.p.orgID, UserID: e.p.userID, IP: e.p.ip, At: e.p.at, Count: e.count, First: e.p.first}
		}
		if err := u.w.AuditUses(ctx, out); err != nil {
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
func (u *Gatherer) requeue(batch *usageBatch, uses []keyward.TokenUse, counts []keyward.UsageCount, events []usedEvent) {
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

// addrString is ip as the store keeps it: "" when there is none.
func addrString(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	return ip.Unmap().String()
}
