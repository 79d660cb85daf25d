package mcp_test

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"testing"

	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/mcp"
	"github.com/keyward/keyward/ratelimit"
)

// Failed authentication on /mcp counts against the client's address
// (through a trusted proxy, the address it names); once the budget is
// spent, the next failure is 429 with Retry-After, and a valid token still
// works.
func TestFailedAuthenticationRateLimited(t *testing.T) {
	const n = 3
	limiter := httplimit.NewAddressLimiter(httplimit.Options{Limiter: ratelimit.NewMemory(ratelimit.MemoryOptions{}), IP: n},
		[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, nil)
	e := newEnv(t, mcp.Options{RateLimit: limiter})
	fromClient := map[string]string{"Authorization": "Bearer kw_pat_nonsense", "X-Forwarded-For": "203.0.113.7"}
	for i := range n {
		if r := e.post(listTools, fromClient); r.status != 401 {
			t.Fatalf("failure %d: got %d %s, want 401", i+1, r.status, r.body)
		}
	}
	r := e.post(listTools, fromClient)
	var body struct {
		Error struct {
			Data struct {
				Code string `json:"code"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 429 || body.Error.Data.Code != "rate_limited" {
		t.Fatalf("failure %d: got %d %s, want 429 rate_limited", n+1, r.status, r.body)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After: got %q, want whole seconds", r.header.Get("Retry-After"))
	}

	// A valid token from that address is not refused.
	if r := e.post(listTools, map[string]string{"Authorization": "Bearer " + e.owner, "X-Forwarded-For": "203.0.113.7"}); r.status != 200 {
		t.Fatalf("valid token from the limited address: got %d %s, want 200", r.status, r.body)
	}
	// Another client behind the same proxy has a budget of its own.
	if r := e.post(listTools, map[string]string{"X-Forwarded-For": "203.0.113.8"}); r.status != 401 {
		t.Fatalf("another address: got %d %s, want 401", r.status, r.body)
	}
}
