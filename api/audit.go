package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
)

// ndjson is the media type of the audit log's JSON lines export.
const ndjson = "application/x-ndjson"

// auditFilter reads the audit filters of the query: ?action=, ?actor=,
// ?target=, ?since= and ?until= (RFC 3339), ?limit= and ?cursor=.
func auditFilter(r *http.Request) (keyward.AuditFilter, error) {
	q := r.URL.Query()
	limit, cursor, err := pageQuery(q)
	if err != nil {
		return keyward.AuditFilter{}, err
	}
	f := keyward.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"), Target: q.Get("target"), Cursor: cursor, Limit: limit}
	if f.Since, err = timeQuery(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = timeQuery(q, "until"); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, keyward.Errorf(keyward.EINVALID, "until is before since")
	}
	return f, nil
}

// wantsJSONLines reports whether the caller asks for the JSON lines export:
// ?format=jsonl or an Accept header naming application/x-ndjson.
func wantsJSONLines(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "jsonl", "ndjson":
		return true, nil
	case "", "json":
	default:
		return false, keyward.Errorf(keyward.EINVALID, "unknown format: want json or jsonl")
	}
	for _, accept := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(accept, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == ndjson {
				return true, nil
			}
		}
	}
	return false, nil
}

// listAudit answers a page of the org's audit log, newest first, or with
// JSON lines every matching event, following cursors to the end.
func (s *server) listAudit(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	lines, err := wantsJSONLines(r)
	if err != nil {
		return err
	}
	if lines {
		f.Limit = keyward.MaxPageSize
	}
	events, next, err := s.svc.FindAudit(r.Context(), c, f)
	if err != nil {
		return err
	}
	if !lines {
		s.writeJSON(w, r, http.StatusOK, client.AuditList{Events: wire.AuditsOut(events), NextCursor: wire.CursorOut(next)})
		return nil
	}
	// From here the status is sent: a later failure can only cut the
	// stream short, and is logged.
	w.Header().Set("Content-Type", ndjson)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	for {
		for _, e := range events {
			if err := enc.Encode(wire.AuditOut(e)); err != nil {
				return nil // the client went away
			}
		}
		_ = rc.Flush()
		if next == "" {
			return nil
		}
		f.Cursor = next
		if events, next, err = s.svc.FindAudit(r.Context(), c, f); err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelError, "audit export cut short",
				slog.String("request_id", requestIDFrom(r.Context())),
				slog.String("err", fmt.Errorf("find audit: %w", err).Error()))
			return nil
		}
	}
}
