package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuditFilter selects audit events. Zero fields do not filter.
type AuditFilter struct {
	Action string
	Actor  string
	Target string
	// Since and Until bound the events' time.
	Since time.Time
	Until time.Time
	// Limit is the page size; Cursor the previous page's NextCursor.
	Limit  int
	Cursor string
}

func (f AuditFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"action": f.Action, "actor": f.Actor, "target": f.Target, "cursor": f.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// Audit returns one page of org's audit events matching f, newest first.
func (c *Client) Audit(ctx context.Context, org string, f AuditFilter) (*AuditList, error) {
	var out AuditList
	if err := c.do(ctx, request{method: http.MethodGet, path: []string{"/v1/orgs", org, "audit"}, query: f.query()}, &out); err != nil {
		return nil, err
	}
	if out.Events == nil {
		out.Events = []AuditEvent{}
	}
	return &out, nil
}

// ExportAudit writes every event of org matching f to w as JSON lines, one
// event a line, newest first, following the cursor from page to page. It
// starts at f.Cursor and returns how many events it wrote.
func (c *Client) ExportAudit(ctx context.Context, org string, f AuditFilter, w io.Writer) (int, error) {
	if f.Limit == 0 {
		f.Limit = 200
	}
	enc := json.NewEncoder(w)
	n := 0
	for {
		page, err := c.Audit(ctx, org, f)
		if err != nil {
			return n, err
		}
		for _, e := range page.Events {
			if err := enc.Encode(e); err != nil {
				return n, fmt.Errorf("writing the audit export: %w", err)
			}
			n++
		}
		if page.NextCursor == nil || *page.NextCursor == "" || len(page.Events) == 0 {
			return n, nil
		}
		f.Cursor = *page.NextCursor
	}
}
