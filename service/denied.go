package service

import (
	"context"
	"sync"
	"time"

	"github.com/keyward/keyward"
)

// Refused requests are audited as auth.denied, gathered in memory and
// written in aggregate, so that a flood of refusals costs no write on the
// refused request and cannot fill the audit log: at most one event for
// each org, actor, token, code and message a flush, with a count.

// DenialFlushInterval is how often gathered refusals are written.
const DenialFlushInterval = time.Minute

// maxPendingDenials bounds what is gathered between two flushes; refusals
// beyond it are counted as dropped in the next event written.
const maxPendingDenials = 10_000

type denialKey struct {
	org, actor, actorToken, code, message string
}

type denial struct {
	first, last   time.Time
	count         int
	ip, userAgent string
}

// denials gathers refusals between flushes.
type denials struct {
	mu      sync.Mutex
	pending map[denialKey]*denial
	dropped int
}

// refused records err, when it is a refusal by the authorization rule
// (EFORBIDDEN or EPOWER), as an auth.denied to be written by the next
// FlushDenials, and returns err unchanged.
func (s *Service) refused(c *Caller, err error) error {
	code := keyward.ErrorCode(err)
	if code != keyward.EFORBIDDEN && code != keyward.EPOWER || c.Operator {
		return err
	}
	k := denialKey{actor: c.actor(), actorToken: c.tokenID(), code: code, message: keyward.ErrorMessage(err)}
	if c.Org != nil {
		k.org = c.Org.ID
	}
	now := s.Now()
	d := &s.denials
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending == nil {
		d.pending = map[denialKey]*denial{}
	}
	e := d.pending[k]
	if e == nil {
		if len(d.pending) >= maxPendingDenials {
			d.dropped++
			return err
		}
		e = &denial{first: now}
		d.pending[k] = e
	}
	e.count++
	e.last, e.ip, e.userAgent = now, c.IP, c.UserAgent
	return err
}

// require is c.require with a refusal recorded.
func (s *Service) require(c *Caller, perm string) error {
	return s.refused(c, c.require(perm))
}

// FlushDenials writes the refusals gathered since the last flush as
// auth.denied audit events. Start calls it every DenialFlushInterval, and
// Close once more.
func (s *Service) FlushDenials(ctx context.Context) error {
	d := &s.denials
	d.mu.Lock()
	pending, dropped := d.pending, d.dropped
	d.pending, d.dropped = nil, 0
	d.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		for k, e := range pending {
			details := map[string]any{
				"code": k.code, "message": k.message, "count": e.count,
				"first": e.first, "last": e.last,
			}
			if dropped > 0 {
				details["dropped"] = dropped
			}
			ev := &keyward.AuditEvent{
				Time: e.last, OrgID: k.org, Action: keyward.ActionAuthDenied,
				Actor: k.actor, ActorToken: k.actorToken, IP: e.ip, UserAgent: e.userAgent,
			}
			if err := setDetails(ev, details); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Give the batch back to the next flush.
		d.mu.Lock()
		for k, e := range pending {
			if d.pending == nil {
				d.pending = map[denialKey]*denial{}
			}
			if cur := d.pending[k]; cur != nil {
				cur.count += e.count
				cur.first = e.first
			} else if len(d.pending) < maxPendingDenials {
				d.pending[k] = e
			}
		}
		d.dropped += dropped
		d.mu.Unlock()
	}
	return err
}

func (s *Service) runDenials(ctx context.Context) {
	tick := time.NewTicker(DenialFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.FlushDenials(ctx); err != nil && ctx.Err() == nil {
				s.backgroundError(ctx, "writing refused requests to the audit log", err)
			}
		}
	}
}
