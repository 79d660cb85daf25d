package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/keyward/keyward"
)

// AppendAudit appends an event and sets its ID. Details, when present,
// must be valid JSON; they are stored as given.
func (tx *tx) AppendAudit(ctx context.Context, e *keyward.AuditEvent) (err error) {
	defer wrap(&err, "AppendAudit(%q)", e.Action)
	var details any
	if len(e.Details) > 0 {
		if !json.Valid(e.Details) {
			return errors.New("details are not valid JSON")
		}
		details = string(e.Details)
	}
	return tx.tx.QueryRowContext(ctx, `
		INSERT INTO audit_events (time, org_id, action, actor, actor_token, target, ip, user_agent, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING id`,
		micros(e.Time), e.OrgID, e.Action, e.Actor, e.ActorToken, e.Target, e.IP, e.UserAgent, details).
		Scan(&e.ID)
}

// FindAudit lists events matching f, newest first (by id), one page of
// f.Limit (DefaultPageSize when 0, at most MaxPageSize) after f.Cursor,
// and the next page's cursor ("" on the last page). f.Since is inclusive,
// f.Until exclusive. Returns EINVALID for a malformed cursor.
func (tx *tx) FindAudit(ctx context.Context, f keyward.AuditFilter) (_ []*keyward.AuditEvent, _ string, err error) {
	defer wrap(&err, "FindAudit")
	var q query
	if f.OrgID != "" {
		q.add("org_id = ?", f.OrgID)
	}
	if f.Action != "" {
		q.add("action = ?", f.Action)
	}
	if f.Actor != "" {
		q.add("actor = ?", f.Actor)
	}
	if f.Target != "" {
		q.add("target = ?", f.Target)
	}
	if !f.Since.IsZero() {
		q.add("time >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		q.add("time < ?", micros(f.Until))
	}
	if f.Cursor != "" {
		id, err := parseAuditCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q.add("id < ?", id)
	}
	limit := keyward.PageSize(f.Limit)
	rows, err := tx.tx.QueryContext(ctx, `
		SELECT id, time, org_id, action, actor, actor_token, target, ip, user_agent, details
		FROM audit_events`+q.clause()+` ORDER BY id DESC LIMIT `+q.arg(limit+1), q.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	events := []*keyward.AuditEvent{}
	for rows.Next() {
		var e keyward.AuditEvent
		var at int64
		var details sql.NullString
		if err := rows.Scan(&e.ID, &at, &e.OrgID, &e.Action, &e.Actor, &e.ActorToken, &e.Target, &e.IP, &e.UserAgent, &details); err != nil {
			return nil, "", err
		}
		e.Time = fromMicros(at)
		if details.Valid {
			e.Details = json.RawMessage(details.String)
		}
		events = append(events, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var next string
	if len(events) > limit {
		events = events[:limit]
		next = auditCursor(events[limit-1].ID)
	}
	return events, next, nil
}
