package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/client"
)

// seen is one request as the fake server received it.
type seen struct {
	Method, Path, RawQuery, Auth, UserAgent, ContentType string
	Body                                                 map[string]any
}

// fakeServer answers every request with status and body, and records what
// it received.
func fakeServer(t *testing.T, status int, body string) (*client.Client, *[]seen) {
	t.Helper()
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), UserAgent: r.Header.Get("User-Agent"),
			ContentType: r.Header.Get("Content-Type")}
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			if err := json.Unmarshal(b, &s.Body); err != nil {
				t.Errorf("request body is not JSON: %q", b)
			}
		}
		got = append(got, s)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return client.New(srv.URL+"/", "kw_pat_test", client.WithUserAgent("keyward-cli/test")), &got
}

const tokenJSON = `{"id":"tok_1","kind":"pat","org_id":"org_1","user_id":"usr_1","name":"ci","description":"","display":"kw_pat_abc...wxyz","status":"active","source":"cli","created_at":"2025-01-02T03:04:05Z","expires_at":null,"last_used_at":null,"last_used_ip":null,"revoked_at":null,"generation":0,"permissions":null,"scopes":[],"allowed_cidrs":null}`

func TestRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		answer   string
		call     func(c *client.Client) error
		method   string
		path     string
		query    string
		wantBody map[string]any
	}{
		{"whoami", `{"org":{"id":"org_1"}}`, func(c *client.Client) error { _, err := c.Whoami(ctx); return err },
			"GET", "/v1/whoami", "", nil},
		{"create", `{"token":` + tokenJSON + `,"secret":"kw_pat_x"}`, func(c *client.Client) error {
			_, err := c.Tokens().Create(ctx, client.TokenRequest{Name: "ci", ExpiresIn: "90d", Scopes: []client.Scope{{EntityType: "monitor", EntityID: "*", Operations: []string{"read"}}}})
			return err
		}, "POST", "/v1/tokens", "", map[string]any{"name": "ci", "expires_in": "90d",
			"scopes": []any{map[string]any{"entity_type": "monitor", "entity_id": "*", "operations": []any{"read"}}}}},
		{"list", `{"tokens":[` + tokenJSON + `],"next_cursor":"c2"}`, func(c *client.Client) error {
			_, err := c.Tokens().List(ctx, client.ListOptions{Status: "all", Limit: 10, Cursor: "c1"})
			return err
		}, "GET", "/v1/tokens", "cursor=c1&limit=10&status=all", nil},
		{"get", tokenJSON, func(c *client.Client) error { _, err := c.Tokens().Get(ctx, "tok_1"); return err },
			"GET", "/v1/tokens/tok_1", "", nil},
		{"update", tokenJSON, func(c *client.Client) error {
			name := "new"
			_, err := c.Tokens().Update(ctx, "tok_1", client.TokenUpdate{Name: &name})
			return err
		}, "PATCH", "/v1/tokens/tok_1", "", map[string]any{"name": "new"}},
		{"revoke", tokenJSON, func(c *client.Client) error { _, err := c.Tokens().Revoke(ctx, "tok_1", "leaked"); return err },
			"POST", "/v1/tokens/tok_1/revoke", "", map[string]any{"reason": "leaked"}},
		{"regenerate", `{"token":` + tokenJSON + `,"secret":"kw_pat_x"}`, func(c *client.Client) error {
			_, err := c.Tokens().Regenerate(ctx, "tok_1", client.RegenerateRequest{ExpiresIn: "30d"})
			return err
		}, "POST", "/v1/tokens/tok_1/regenerate", "", map[string]any{"expires_in": "30d"}},
		{"rotate", `{"token":` + tokenJSON + `,"secret":"kw_pat_x"}`, func(c *client.Client) error {
			_, err := c.Tokens().Rotate(ctx, "tok_1", client.RotateRequest{Overlap: "1d"})
			return err
		}, "POST", "/v1/tokens/tok_1/rotate", "", map[string]any{"overlap": "1d"}},
		{"delete", ``, func(c *client.Client) error { return c.Tokens().Delete(ctx, "tok_1") },
			"DELETE", "/v1/tokens/tok_1", "", nil},
		{"delete all", `{"deleted":["tok_1"]}`, func(c *client.Client) error { _, err := c.Tokens().DeleteAll(ctx); return err },
			"DELETE", "/v1/tokens", "confirm=all", nil},
		{"add scope", tokenJSON, func(c *client.Client) error {
			_, err := c.Tokens().AddScope(ctx, "tok_1", client.Scope{EntityType: "project", EntityID: "p1", Operations: []string{"read", "list"}})
			return err
		}, "POST", "/v1/tokens/tok_1/scopes", "", map[string]any{"entity_type": "project", "entity_id": "p1", "operations": []any{"read", "list"}}},
		{"remove scope", tokenJSON, func(c *client.Client) error { _, err := c.Tokens().RemoveScope(ctx, "tok_1", "scp_1"); return err },
			"DELETE", "/v1/tokens/tok_1/scopes/scp_1", "", nil},
		{"clear scopes", tokenJSON, func(c *client.Client) error { _, err := c.Tokens().ClearScopes(ctx, "tok_1"); return err },
			"DELETE", "/v1/tokens/tok_1/scopes", "", nil},
		{"key create", `{"token":` + tokenJSON + `,"secret":"kw_key_x"}`, func(c *client.Client) error {
			_, err := c.Keys("acme").Create(ctx, client.TokenRequest{Kind: "agent", Name: "a", AgentID: "agent-7"})
			return err
		}, "POST", "/v1/orgs/acme/keys", "", map[string]any{"kind": "agent", "name": "a", "agent_id": "agent-7"}},
		{"key list", `{"keys":[],"next_cursor":null}`, func(c *client.Client) error {
			_, err := c.Keys("acme").List(ctx, client.ListOptions{Kind: "probe"})
			return err
		}, "GET", "/v1/orgs/acme/keys", "kind=probe", nil},
		{"key revoke", tokenJSON, func(c *client.Client) error { _, err := c.Keys("org_1").Revoke(ctx, "tok_2", ""); return err },
			"POST", "/v1/orgs/org_1/keys/tok_2/revoke", "", map[string]any{}},
		{"members", `{"members":[],"next_cursor":null}`, func(c *client.Client) error {
			_, err := c.Members(ctx, "acme", client.ListOptions{Limit: 5})
			return err
		},
			"GET", "/v1/orgs/acme/members", "limit=5", nil},
		{"member", `{}`, func(c *client.Client) error { _, err := c.Member(ctx, "acme", "a@example.com"); return err },
			"GET", "/v1/orgs/acme/members/a@example.com", "", nil},
		{"add member", `{}`, func(c *client.Client) error {
			_, err := c.AddMember(ctx, "acme", client.MemberRequest{Email: "b@example.com", Role: "viewer"})
			return err
		}, "POST", "/v1/orgs/acme/members", "", map[string]any{"email": "b@example.com", "role": "viewer"}},
		{"member role", `{}`, func(c *client.Client) error {
			_, err := c.UpdateMember(ctx, "acme", "usr_2", client.MemberUpdate{Role: "admin"})
			return err
		}, "PATCH", "/v1/orgs/acme/members/usr_2", "", map[string]any{"role": "admin"}},
		{"suspend", `{}`, func(c *client.Client) error { _, err := c.SuspendMember(ctx, "acme", "usr_2"); return err },
			"POST", "/v1/orgs/acme/members/usr_2/suspend", "", nil},
		{"unsuspend", `{}`, func(c *client.Client) error { _, err := c.UnsuspendMember(ctx, "acme", "usr_2"); return err },
			"POST", "/v1/orgs/acme/members/usr_2/unsuspend", "", nil},
		{"remove member", `{"member":{},"revoked_tokens":["tok_9"]}`, func(c *client.Client) error { _, err := c.RemoveMember(ctx, "acme", "usr_2"); return err },
			"DELETE", "/v1/orgs/acme/members/usr_2", "", nil},
		{"policy", `{"require_expiry":false,"max_lifetime":null,"allowed_kinds":[]}`, func(c *client.Client) error { _, err := c.Policy(ctx, "acme"); return err },
			"GET", "/v1/orgs/acme/policy", "", nil},
		{"set policy", `{"require_expiry":true,"max_lifetime":"90d","allowed_kinds":["pat"]}`, func(c *client.Client) error {
			max := "90d"
			_, err := c.SetPolicy(ctx, "acme", client.Policy{RequireExpiry: true, MaxLifetime: &max, AllowedKinds: []string{"pat"}})
			return err
		}, "PUT", "/v1/orgs/acme/policy", "", map[string]any{"require_expiry": true, "max_lifetime": "90d", "allowed_kinds": []any{"pat"}}},
		{"audit", `{"events":[],"next_cursor":null}`, func(c *client.Client) error {
			_, err := c.Audit(ctx, "acme", client.AuditFilter{Action: "token.revoked", Since: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 3})
			return err
		}, "GET", "/v1/orgs/acme/audit", "action=token.revoked&limit=3&since=2025-01-01T00%3A00%3A00Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, got := fakeServer(t, http.StatusOK, tt.answer)
			if err := tt.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			if len(*got) != 1 {
				t.Fatalf("got %d requests, want 1", len(*got))
			}
			r := (*got)[0]
			if r.Method != tt.method || r.Path != tt.path || r.RawQuery != tt.query {
				t.Errorf("got %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, tt.method, tt.path, tt.query)
			}
			if r.Auth != "Bearer kw_pat_test" {
				t.Errorf("got Authorization %q, want the Bearer token", r.Auth)
			}
			if r.UserAgent != "keyward-cli/test" {
				t.Errorf("got User-Agent %q, want keyward-cli/test", r.UserAgent)
			}
			if tt.wantBody != nil {
				if r.ContentType != "application/json" {
					t.Errorf("got Content-Type %q, want application/json", r.ContentType)
				}
				gb, _ := json.Marshal(r.Body)
				wb, _ := json.Marshal(tt.wantBody)
				if !bytes.Equal(gb, wb) {
					t.Errorf("got body %s, want %s", gb, wb)
				}
			}
		})
	}
}

func TestDecodesAnswers(t *testing.T) {
	ctx := context.Background()
	c, _ := fakeServer(t, http.StatusCreated, `{"token":`+tokenJSON+`,"secret":"kw_pat_secret"}`)
	ts, err := c.Tokens().Create(ctx, client.TokenRequest{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if ts.Secret != "kw_pat_secret" || ts.Token.ID != "tok_1" || ts.Token.UserID == nil || *ts.Token.UserID != "usr_1" {
		t.Errorf("got %+v, want the decoded token and secret", ts)
	}
	if want := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC); !ts.Token.CreatedAt.Equal(want) {
		t.Errorf("got created_at %v, want %v", ts.Token.CreatedAt, want)
	}

	c, _ = fakeServer(t, http.StatusOK, `{"keys":[`+tokenJSON+`],"next_cursor":"n"}`)
	page, err := c.Keys("acme").List(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tokens) != 1 || page.NextCursor == nil || *page.NextCursor != "n" {
		t.Errorf("got %+v, want one key and cursor n", page)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, body string
		status     int
		want       client.Error
		text       string
	}{
		{"api error", `{"error":true,"message":"token not found","code":"not_found","status":404}`, 404,
			client.Error{Status: 404, Code: "not_found", Message: "token not found"}, "token not found (not_found)"},
		{"detail", `{"error":true,"message":"token is blocked","code":"forbidden","status":403,"detail":"owner suspended"}`, 403,
			client.Error{Status: 403, Code: "forbidden", Message: "token is blocked", Detail: "owner suspended"}, "token is blocked: owner suspended (forbidden)"},
		{"not json", `<html>bad gateway</html>`, 502,
			client.Error{Status: 502, Message: "server answered 502 bad gateway"}, "server answered 502 bad gateway (HTTP 502)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := fakeServer(t, tt.status, tt.body)
			_, err := c.Tokens().Get(ctx, "tok_x")
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a *client.Error", err)
			}
			if *e != tt.want {
				t.Errorf("got %+v, want %+v", *e, tt.want)
			}
			if e.Error() != tt.text {
				t.Errorf("got text %q, want %q", e.Error(), tt.text)
			}
			if strings.Contains(e.Error(), "kw_pat_test") {
				t.Error("error text holds the token")
			}
		})
	}
}

func TestNoTokenAndBadURL(t *testing.T) {
	ctx := context.Background()
	if _, err := client.New("http://127.0.0.1:1", "").Whoami(ctx); !errors.Is(err, client.ErrNoToken) {
		t.Errorf("got %v, want ErrNoToken", err)
	}
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://h/?a=b"} {
		if _, err := client.New(u, "t").Whoami(ctx); err == nil {
			t.Errorf("New(%q).Whoami: got no error, want an invalid URL error", u)
		}
	}
	// A base URL with a path keeps it.
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		io.WriteString(w, `{"status":"ok"}`)
	}))
	defer srv.Close()
	if _, err := client.New(srv.URL+"/keyward/", "").Health(ctx); err != nil {
		t.Fatal(err)
	}
	if path != "/keyward/healthz" {
		t.Errorf("got path %q, want /keyward/healthz", path)
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	c, got := fakeServer(t, http.StatusOK, tokenJSON)
	if _, err := c.Tokens().Get(context.Background(), "../orgs/x"); err != nil {
		t.Fatal(err)
	}
	if p := (*got)[0].Path; p != "/v1/tokens/..%2Forgs%2Fx" {
		t.Errorf("got path %q, want the id escaped as one segment", p)
	}
}

func TestExportAudit(t *testing.T) {
	pages := map[string]string{
		"":   `{"events":[{"id":3,"action":"token.revoked"},{"id":2,"action":"token.created"}],"next_cursor":"c2"}`,
		"c2": `{"events":[{"id":1,"action":"org.created"}],"next_cursor":null}`,
	}
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		io.WriteString(w, pages[r.URL.Query().Get("cursor")])
	}))
	defer srv.Close()
	var buf bytes.Buffer
	n, err := client.New(srv.URL, "t").ExportAudit(context.Background(), "acme", client.AuditFilter{Actor: "usr_1"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if n != 3 || len(lines) != 3 {
		t.Fatalf("got %d events in %d lines, want 3", n, len(lines))
	}
	for i, want := range []int64{3, 2, 1} {
		var e client.AuditEvent
		if err := json.Unmarshal([]byte(lines[i]), &e); err != nil || e.ID != want {
			t.Errorf("line %d: got id %d (%v), want %d", i, e.ID, err, want)
		}
	}
	if len(queries) != 2 || !strings.Contains(queries[1], "cursor=c2") || !strings.Contains(queries[1], "actor=usr_1") {
		t.Errorf("got queries %q, want two pages keeping the filter", queries)
	}
}
