package service

import (
	"context"
	"sync"
	"time"

	"github.com/keyward/keyward"
)

// usageTracker gathers token use in memory so that authentication does no
// synchronous database write; flush writes last-used times in one batch
// and the token.used audit events: on first use, then at most one
// aggregated event per token per hour.
type usageTracker struct {
	s *Service

	mu      sync.Mutex
	pending map[string]*pendingUse
	// audited remembers, per token, when its last token.used event was
	// written and how many uses have gathered since.
	audited map[string]*auditedUse
}

type pendingUse struct {
	orgID, userID string
	at            time.Time
	ip            string
	count         int
	first         bool
}

type auditedUse struct {
	at    time.Time
	count int
}

func newUsageTracker(s *Service) *usageTracker {
	return &usageTracker{s: s, pending: map[string]*pendingUse{}, audited: map[string]*auditedUse{}}
}

// record notes one use of token id (of org and user) at now from ip.
// neverUsed says the token had no use recorded when it was read; a use
// this node has already gathered is no first use, however old that read.
func (u *usageTracker) record(id, orgID, userID string, neverUsed bool, now time.Time, ip string) {
	u.mu.Lock()
	p := u.pending[id]
	if p == nil {
		p = &pendingUse{orgID: orgID, userID: userID, first: neverUsed && u.audited[id] == nil}
		u.pending[id] = p
	}
	p.at, p.ip = now, ip
	p.count++
	u.mu.Unlock()
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
				u.s.log.Error("writing token usage", "err", err)
			}
		}
	}
}

// FlushUsage writes the usage gathered since the last flush: last-used
// times and IPs, and the token.used audit events that are due.
func (s *Service) FlushUsage(ctx context.Context) error {
	u := s.usage
	u.mu.Lock()
	batch := u.pending
	u.pending = map[string]*pendingUse{}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	now := s.Now()
	uses := make([]keyward.TokenUse, 0, len(batch))
	type event struct {
		id    string
		p     *pendingUse
		count int
	}
	var events []event
	u.mu.Lock()
	for id, p := range batch {
		uses = append(uses, keyward.TokenUse{TokenID: id, At: p.at, IP: p.ip, Count: p.count})
		a := u.audited[id]
		if a == nil {
			a = &auditedUse{}
			u.audited[id] = a
		}
		a.count += p.count
		if p.first || a.at.IsZero() || now.Sub(a.at) >= time.Hour {
			events = append(events, event{id: id, p: p, count: a.count})
			a.at, a.count = now, 0
		}
	}
	u.mu.Unlock()
	return s.store.Update(ctx, func(tx Tx) error {
		if err := tx.TouchTokens(ctx, uses); err != nil {
			return err
		}
		for _, e := range events {
			c := &Caller{IP: e.p.ip}
			if e.p.userID != "" {
				c.User = &keyward.User{ID: e.p.userID}
			} else {
				c.Token = &keyward.Token{ID: e.id}
			}
			c.Token = &keyward.Token{ID: e.id}
			details := map[string]any{"count": e.count, "first_use": e.p.first, "last_used_at": e.p.at}
			if err := s.audit(ctx, tx, c, e.p.orgID, keyward.ActionTokenUsed, e.id, details); err != nil {
				return err
			}
		}
		return nil
	})
}
