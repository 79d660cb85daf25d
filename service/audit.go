package service

import (
	"context"
	"encoding/json"

	"github.com/keyward/keyward"
)

// audit appends an event by c in tx. details is marshalled to JSON; it
// must never hold a secret.
func (s *Service) audit(ctx context.Context, tx Tx, c *Caller, orgID, action, target string, details any) error {
	e := &keyward.AuditEvent{
		Time:       s.Now(),
		OrgID:      orgID,
		Action:     action,
		Actor:      c.actor(),
		ActorToken: c.tokenID(),
		Target:     target,
		IP:         c.IP,
		UserAgent:  c.UserAgent,
	}
	if err := setDetails(e, details); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, e)
}

// setDetails sets e's details to details as JSON; nil leaves them empty.
func setDetails(e *keyward.AuditEvent, details any) error {
	if details == nil {
		return nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	e.Details = b
	return nil
}

// change appends a change-feed entry in tx.
func (s *Service) change(ctx context.Context, tx Tx, kind, orgID, tokenID, userID string, hash []byte) error {
	return tx.AppendChange(ctx, &keyward.Change{
		Time: s.Now(), Kind: kind, OrgID: orgID, TokenID: tokenID, UserID: userID, Hash: hash,
	})
}

// FindAudit lists the caller's org's audit events matching f, newest
// first, and the next page's cursor. Returns EFORBIDDEN without
// audit:read.
func (s *Service) FindAudit(ctx context.Context, c *Caller, f keyward.AuditFilter) ([]*keyward.AuditEvent, string, error) {
	if err := s.require(c, keyward.PermAuditRead); err != nil {
		return nil, "", err
	}
	f.OrgID = c.Org.ID
	f.Limit = keyward.PageSize(f.Limit)
	var events []*keyward.AuditEvent
	var next string
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		events, next, err = tx.FindAudit(ctx, f)
		return err
	})
	return events, next, err
}
