package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/client"
)

// Every error answer has the error body, JSON, and the status of its code.
func TestErrorBodies(t *testing.T) {
	e := newEnv(t)
	long := `{"name": "` + strings.Repeat("x", 70<<10) + `"}`
	tests := []struct {
		name         string
		method, path string
		body         any
		headers      []header
		status       int
		code         string
		msg          string
	}{
		{"unknown route", "GET", "/v1/nope", nil, []header{bearer(e.owner)}, 404, "not_found", "no such endpoint"},
		{"unknown route unauthenticated", "GET", "/nope", nil, nil, 404, "not_found", "no such endpoint"},
		{"wrong method", "PUT", "/v1/tokens", nil, []header{bearer(e.owner)}, 405, "method_not_allowed", "PUT"},
		{"wrong method on item", "POST", "/v1/tokens/tok_x", nil, []header{bearer(e.owner)}, 405, "method_not_allowed", "allowed"},
		{"unauthenticated", "GET", "/v1/tokens", nil, nil, 401, "unauthorized", "missing credential"},
		{"not found", "GET", "/v1/tokens/tok_nope", nil, []header{bearer(e.owner)}, 404, "not_found", "token not found"},
		{"syntax", "POST", "/v1/tokens", `{"name": `, []header{bearer(e.owner)}, 400, "invalid_request", "invalid JSON"},
		{"bad syntax", "POST", "/v1/tokens", `{"name" "x"}`, []header{bearer(e.owner)}, 400, "invalid_request", "invalid JSON: syntax error"},
		{"unknown field", "POST", "/v1/tokens", `{"name": "x", "nmae": "y"}`, []header{bearer(e.owner)}, 400, "invalid_request", `unknown field","code":"invalid_request","status":400,"detail":"the fields are: kind, name`},
		{"wrong type", "POST", "/v1/tokens", `{"name": 5}`, []header{bearer(e.owner)}, 400, "invalid_request", `field \"name\" must be a string`},
		{"not an object", "POST", "/v1/tokens", `["x"]`, []header{bearer(e.owner)}, 400, "invalid_request", "invalid JSON"},
		{"two values", "POST", "/v1/tokens", `{"name": "x"} {}`, []header{bearer(e.owner)}, 400, "invalid_request", "more than one value"},
		{"empty body", "POST", "/v1/tokens", "", []header{bearer(e.owner)}, 400, "invalid_request", "request body is required"},
		{"bad time", "POST", "/v1/tokens", `{"name": "x", "expires_at": "tomorrow"}`, []header{bearer(e.owner)}, 400, "invalid_request", "RFC 3339"},
		{"too large", "POST", "/v1/tokens", long, []header{bearer(e.owner)}, 413, "request_too_large", "larger than 64 KiB"},
		{"missing name", "POST", "/v1/tokens", `{}`, []header{bearer(e.owner)}, 400, "invalid_request", "name is required"},
		{"bad expiry", "POST", "/v1/tokens", client.TokenRequest{Name: "x", ExpiresIn: "forever"}, []header{bearer(e.owner)}, 400, "invalid_request", "invalid duration"},
		{"unknown permission", "POST", "/v1/tokens", client.TokenRequest{Name: "x", Permissions: []string{"rockets:launch"}}, []header{bearer(e.owner)}, 400, "invalid_request", "unknown permission"},
		{"bad since", "GET", "/v1/orgs/acme/audit?since=yesterday", nil, []header{bearer(e.owner)}, 400, "invalid_request", "since must be an RFC 3339 time"},
		{"bad format", "GET", "/v1/orgs/acme/audit?format=xml", nil, []header{bearer(e.owner)}, 400, "invalid_request", "unknown format"},
		{"conflict", "POST", "/v1/orgs/acme/members", client.MemberRequest{Email: "owner@example.com"}, []header{bearer(e.owner)}, 409, "conflict", "already a member"},
		{"last owner", "DELETE", "/v1/orgs/acme/members/owner@example.com", nil, []header{bearer(e.owner)}, 409, "conflict", "last owner"},
		{"token in URL", "GET", "/v1/tokens?token=x", nil, nil, 400, "token_in_url", "never accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(tt.method, tt.path, tt.body, tt.headers...)
			b := a.wantError(t, tt.status, tt.code)
			if !strings.Contains(string(a.body), tt.msg) {
				t.Errorf("got body %s, want it to say %q", a.body, tt.msg)
			}
			if tt.status == 405 && a.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			_ = b
		})
	}
}

// A 500 never shows internal text: with the database closed, the answer
// is "internal error" and the log has the real error with the request id.
func TestInternalErrorHidesText(t *testing.T) {
	e := newEnv(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	a := e.do("GET", "/v1/whoami", nil, bearer(e.owner), header{"X-Request-ID", "req-500-test"})
	b := a.wantError(t, 500, "internal")
	if b.Message != "internal error" || b.Detail != "" {
		t.Errorf("got message %q detail %q, want \"internal error\" and none", b.Message, b.Detail)
	}
	for _, leak := range []string{"sql", "closed", "database", "sqlite"} {
		if strings.Contains(strings.ToLower(string(a.body)), leak) {
			t.Errorf("the 500 body says %q: %s", leak, a.body)
		}
	}
	if got := a.header.Get("X-Request-ID"); got != "req-500-test" {
		t.Errorf("got X-Request-ID %q, want req-500-test", got)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "req-500-test") || !strings.Contains(logs, "internal error") {
		t.Errorf("the log does not hold the internal error with its request id:\n%s", logs)
	}
	// Readiness fails with 503 unavailable; liveness does not.
	r := e.do("GET", "/readyz", nil)
	rb := r.wantError(t, 503, "unavailable")
	if strings.Contains(strings.ToLower(rb.Message), "closed") {
		t.Errorf("readyz shows internal text: %q", rb.Message)
	}
	e.do("GET", "/healthz", nil).want(t, 200, nil)
}

// Every answer is JSON with the security headers, and nothing is cached.
func TestHeaders(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		method, path string
		headers      []header
		status       int
	}{
		{"GET", "/healthz", nil, 200},
		{"GET", "/readyz", nil, 200},
		{"GET", "/openapi.json", nil, 200},
		{"GET", "/v1/whoami", []header{bearer(e.owner)}, 200},
		{"POST", "/v1/tokens", []header{bearer(e.owner)}, 201},
		{"GET", "/v1/whoami", nil, 401},
		{"GET", "/v1/nothing", nil, 404},
	} {
		var body any
		if tt.method == "POST" {
			body = client.TokenRequest{Name: "h"}
		}
		a := e.do(tt.method, tt.path, body, tt.headers...)
		a.want(t, tt.status, nil)
		for name, want := range map[string]string{
			"Content-Type":           "application/json",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
		} {
			if got := a.header.Get(name); got != want {
				t.Errorf("%s %s: got %s %q, want %q", tt.method, tt.path, name, got, want)
			}
		}
		if a.header.Get("X-Request-ID") == "" {
			t.Errorf("%s %s: no X-Request-ID", tt.method, tt.path)
		}
	}
	var h client.Health
	e.do("GET", "/healthz", nil).want(t, 200, &h)
	if h.Status != "ok" {
		t.Errorf("healthz: got %q, want ok", h.Status)
	}
	var doc map[string]any
	e.do("GET", "/openapi.json", nil).want(t, 200, &doc)
	if servers, _ := doc["servers"].([]any); len(servers) != 1 || servers[0].(map[string]any)["url"] != "https://keys.example.com" {
		t.Errorf("openapi servers: got %v, want the base URL", doc["servers"])
	}
	// A delete answers 204 with no body.
	tok := e.mint(e.owner, client.TokenRequest{Name: "gone"})
	a := e.as(e.owner, http.MethodDelete, "/v1/tokens/"+tok.Token.ID, nil)
	a.want(t, 204, nil)
	if len(a.body) != 0 {
		t.Errorf("204 with a body: %s", a.body)
	}
}

// The request log names method, path, status and request id, and never a
// token: not from the headers, not from a path.
func TestLogsNeverHoldTokens(t *testing.T) {
	e := newEnv(t)
	e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil)
	e.do("GET", "/v1/whoami", nil, header{"X-API-Key", e.owner}).want(t, 200, nil)
	e.as(e.owner, "GET", "/v1/tokens/"+e.owner, nil).wantError(t, 404, "not_found")
	e.do("GET", "/v1/whoami", nil, header{"Authorization", "Bearer  " + e.owner}).wantError(t, 401, "unauthorized")
	e.as(e.owner, "GET", "/v1/tokens?cursor=abc", nil)
	logs := e.logs.String()
	if strings.Contains(logs, e.owner) || strings.Contains(logs, e.owner[7:]) {
		t.Fatalf("the log holds the token:\n%s", logs)
	}
	if strings.Contains(logs, "cursor=abc") {
		t.Error("the log holds the query string")
	}
	for _, want := range []string{"method=GET", "path=/v1/whoami", "status=200", "request_id=", "duration=", "path=/v1/tokens/[redacted]"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}

// The mux's own answers carry no HTML: an unclean path is redirected
// without a body.
func TestUncleanPathRedirects(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1//whoami", nil)
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "/v1/whoami" || len(b) != 0 {
		t.Errorf("got %d Location %q body %q, want 307 to /v1/whoami with no body", resp.StatusCode, resp.Header.Get("Location"), b)
	}
}
