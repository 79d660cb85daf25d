package oauth_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/oauth"
	"github.com/keyward/keyward/ratelimit"
)

// withAddressLimit gives the authorization server a budget of n requests
// an hour per client address and endpoint.
func withAddressLimit(n int) func(*oauth.Options) {
	return func(o *oauth.Options) {
		o.RateLimit = httplimit.NewAddressLimiter(httplimit.Options{Limiter: ratelimit.NewMemory(ratelimit.MemoryOptions{}), IP: n}, nil, nil)
	}
}

// countClients counts the registered clients in the database.
func (e *env) countClients() int {
	e.t.Helper()
	var n int
	if err := e.store.Reader().QueryRowContext(e.ctx, `SELECT count(*) FROM oauth_clients`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// The registration endpoint answers the (n+1)th registration from one
// address in an hour with 429, Retry-After and an RFC 6749 error body, and
// stores nothing for it; the token endpoint and the authorization
// endpoint count on budgets of their own.
func TestRateLimitedEndpoints(t *testing.T) {
	const n = 3
	e := newEnv(t, withAddressLimit(n))
	before := e.countClients()
	reg := map[string]any{"client_name": "Cursor", "redirect_uris": []string{callback}}
	for i := range n {
		if status, body := e.postJSON("/oauth/register", reg); status != http.StatusCreated {
			t.Fatalf("registration %d: got %d %v, want 201", i+1, status, body)
		}
	}
	// X-Forwarded-For from a peer that is no trusted proxy changes nothing.
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/register", strings.NewReader(`{"client_name":"Cursor","redirect_uris":["`+callback+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := decode(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || body["error"] != "slow_down" || !strings.Contains(body["error_description"].(string), "retry after") {
		t.Fatalf("registration %d: got %d %v, want 429 slow_down", n+1, resp.StatusCode, body)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After: got %q, want whole seconds", resp.Header.Get("Retry-After"))
	}
	if got := resp.Header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("X-RateLimit-Remaining: got %q, want 0", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control: got %q, want no-store", got)
	}
	if got := e.countClients(); got != before+n {
		t.Errorf("clients stored: got %d, want %d (none for the refused registration)", got, before+n)
	}

	// The token endpoint has a budget of its own.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"nonsense"}, "client_id": {"dcr_nonsense"}}
	for i := range n {
		if status, _, body := e.postForm("/oauth/token", form); status != http.StatusBadRequest && status != http.StatusUnauthorized {
			t.Fatalf("token request %d: got %d %v, want a 4xx of RFC 6749", i+1, status, body)
		}
	}
	status, h, tbody := e.postForm("/oauth/token", form)
	if status != http.StatusTooManyRequests || tbody["error"] != "slow_down" || h.Get("Retry-After") == "" {
		t.Fatalf("token request %d: got %d %v, want 429 slow_down with Retry-After", n+1, status, tbody)
	}

	// The authorization endpoint answers a person's browser with a page.
	for i := range n {
		resp, err := http.Get(e.srv.URL + "/oauth/authorize?client_id=dcr_nonsense")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("authorization request %d: got 429, want its own budget", i+1)
		}
	}
	resp, err = http.Get(e.srv.URL + "/oauth/authorize?client_id=dcr_nonsense")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "rate limit exceeded") {
		t.Fatalf("authorization request %d: got %d %q, want 429 with the error page", n+1, resp.StatusCode, page)
	}
}
