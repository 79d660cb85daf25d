package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/wire"
)

// exportAudit answers every event matching the filters as JSON lines (the
// API's export format) or CSV, as a download.
func (s *server) exportAudit(w http.ResponseWriter, r *http.Request, q *request) error {
	_, f, err := s.readAuditFilter(q)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "jsonl" {
		return keyward.Errorf(keyward.EINVALID, "format must be jsonl or csv")
	}
	f.Limit = keyward.MaxPageSize
	events, next, err := s.svc.FindAudit(r.Context(), q.caller, f)
	if err != nil {
		return err
	}
	name := "keyward-audit-" + q.caller.Org.Slug + "-" + s.svc.Now().Format("20060102-150405")
	var cw *csv.Writer
	var enc *json.Encoder
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		cw = csv.NewWriter(w)
		_ = cw.Write([]string{"id", "time", "org_id", "action", "actor", "actor_token", "target", "ip", "user_agent", "details"})
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		enc = json.NewEncoder(w)
	}
	// From here the status is sent: a failure can only cut the file short.
	for {
		for _, e := range events {
			if cw != nil {
				_ = cw.Write(csvRow(e))
			} else if err := enc.Encode(wire.AuditOut(e)); err != nil {
				return nil
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
		if events, next, err = s.svc.FindAudit(r.Context(), q.caller, f); err != nil {
			s.log.ErrorContext(r.Context(), "audit export cut short", "err", err)
			break
		}
	}
	if cw != nil {
		cw.Flush()
	}
	return nil
}

// csvRow is one event as CSV cells. A cell that a spreadsheet would run
// as a formula is prefixed with a quote.
func csvRow(e *keyward.AuditEvent) []string {
	details := ""
	if len(e.Details) > 0 {
		details = string(e.Details)
	}
	row := []string{strconv.FormatInt(e.ID, 10), e.Time.UTC().Format(time.RFC3339Nano), e.OrgID, e.Action, e.Actor, e.ActorToken, e.Target, e.IP, e.UserAgent, details}
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			row[i] = "'" + c
		}
	}
	return row
}
