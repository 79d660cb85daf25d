package service

import (
	"context"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service/usage"
)

// FlushUsage writes the usage gathered since the last flush: last-used
// times and IPs, hourly use counts, and the token.used audit events that
// are due. Once an hour it also deletes counts older than the usage window.
func (s *Service) FlushUsage(ctx context.Context) error { return s.usage.Flush(ctx) }

// UnwrittenUsage returns how many tokens' use this node has gathered and
// not yet written: those waiting for the next flush and those the flush
// under way is writing. A figure that stays high means the usage writer
// is falling behind.
func (s *Service) UnwrittenUsage() int { return s.usage.Unwritten() }

// flushChunk bounds the rows (last uses, hourly counts, audit events) one
// transaction of a usage flush writes. A variable for the tests.
var flushChunk = usage.DefaultFlushChunk

// usageWriter writes the usage gatherer's batches, each call in a
// transaction of the store.
type usageWriter struct{ s *Service }

func (w usageWriter) TouchTokens(ctx context.Context, uses []keyward.TokenUse) error {
	return w.s.store.Update(ctx, func(tx Tx) error { return tx.TouchTokens(ctx, uses) })
}

func (w usageWriter) AddTokenUsage(ctx context.Context, counts []keyward.UsageCount) error {
	return w.s.store.Update(ctx, func(tx Tx) error { return tx.AddTokenUsage(ctx, counts) })
}

func (w usageWriter) AuditUses(ctx context.Context, events []usage.Event) error {
	return w.s.store.Update(ctx, func(tx Tx) error {
		for _, e := range events {
			c := &Caller{IP: addrString(e.IP), Token: &keyward.Token{ID: e.TokenID}}
			if e.UserID != "" {
				c.User = &keyward.User{ID: e.UserID}
			}
			details := map[string]any{"count": e.Count, "first_use": e.First, "last_used_at": e.At}
			if err := w.s.audit(ctx, tx, c, e.OrgID, keyward.ActionTokenUsed, e.TokenID, details); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w usageWriter) PruneTokenUsage(ctx context.Context, before time.Time) error {
	return w.s.store.Update(ctx, func(tx Tx) error {
		_, err := tx.PruneTokenUsage(ctx, before)
		return err
	})
}

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
