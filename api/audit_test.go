package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/keyward/keyward/client"
)

// The audit log filters by action, actor, target and time, pages with
// cursors, and exports every matching event as JSON lines.
func TestAudit(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 30 {
		ids = append(ids, e.mint(e.owner, client.TokenRequest{Name: fmt.Sprintf("a%d", i)}).Token.ID)
		e.clock.Add(time.Minute)
	}
	var page client.AuditList
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?action=token.created&limit=10", nil).want(t, 200, &page)
	if len(page.Events) != 10 || page.NextCursor == nil {
		t.Fatalf("first page: got %d events, cursor %v", len(page.Events), page.NextCursor)
	}
	if page.Events[0].Target != ids[29] || page.Events[0].Actor != e.boot.User.ID || page.Events[0].ActorToken == nil || *page.Events[0].ActorToken != e.boot.Token.ID {
		t.Errorf("newest event: got %+v", page.Events[0])
	}
	seen := map[int64]bool{}
	q := url.Values{"action": {"token.created"}, "limit": {"10"}}
	for {
		var p client.AuditList
		e.as(e.owner, "GET", "/v1/orgs/acme/audit?"+q.Encode(), nil).want(t, 200, &p)
		for _, ev := range p.Events {
			if seen[ev.ID] {
				t.Errorf("event %d twice", ev.ID)
			}
			seen[ev.ID] = true
		}
		if p.NextCursor == nil {
			break
		}
		q.Set("cursor", *p.NextCursor)
	}
	if len(seen) != 31 { // and bootstrap's token
		t.Errorf("token.created events: got %d, want 31", len(seen))
	}
	var one client.AuditList
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?target="+ids[3], nil).want(t, 200, &one)
	if len(one.Events) != 1 || one.Events[0].Target != ids[3] {
		t.Errorf("target filter: got %+v", one.Events)
	}
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?actor="+e.boot.User.ID+"&action=token.created", nil).want(t, 200, &one)
	if len(one.Events) != 30 {
		t.Errorf("actor filter: got %d events, want 30", len(one.Events))
	}
	start := time.Date(2026, 11, 1, 12, 10, 0, 0, time.UTC)
	q = url.Values{"action": {"token.created"}, "since": {start.Format(time.RFC3339)}, "until": {start.Add(5 * time.Minute).Format(time.RFC3339)}}
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?"+q.Encode(), nil).want(t, 200, &one)
	if len(one.Events) != 5 {
		t.Errorf("since/until: got %d events, want 5", len(one.Events))
	}
	e.as(e.owner, "GET", "/v1/orgs/acme/audit?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", nil).wantError(t, 400, "invalid_request")

	// The export follows cursors to the end: 230 events is more than a page.
	for i := range 200 {
		e.mint(e.owner, client.TokenRequest{Name: fmt.Sprintf("b%d", i)})
	}
	for _, export := range []struct {
		path    string
		headers []header
	}{
		{"/v1/orgs/acme/audit?action=token.created&format=jsonl", []header{bearer(e.owner)}},
		{"/v1/orgs/acme/audit?action=token.created", []header{bearer(e.owner), {"Accept", "application/json;q=0.5, application/x-ndjson"}}},
	} {
		a := e.do("GET", export.path, nil, export.headers...)
		a.want(t, 200, nil)
		if got := a.header.Get("Content-Type"); got != "application/x-ndjson" {
			t.Errorf("export: got Content-Type %q", got)
		}
		n := 0
		ids := map[int64]bool{}
		sc := bufio.NewScanner(bytes.NewReader(a.body))
		for sc.Scan() {
			var ev client.AuditEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("export line %d: %v", n, err)
			}
			if ev.Action != "token.created" || ids[ev.ID] {
				t.Errorf("export line %d: got %+v", n, ev)
			}
			ids[ev.ID] = true
			n++
		}
		if n != 231 {
			t.Errorf("export: got %d events, want 231", n)
		}
	}
}
