package mcp_test

import (
	"testing"

	"github.com/keyward/keyward/mcp"
)

// TestDNSRebinding: a request naming another host, or coming from another
// origin, is refused before its token is even looked at.
func TestDNSRebinding(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	auth := "Bearer " + e.owner
	for _, c := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"loopback host", map[string]string{}, 200},
		{"localhost host and origin", map[string]string{"Host": "localhost:1234", "Origin": "http://localhost:5173"}, 200},
		{"IPv6 loopback origin", map[string]string{"Origin": "http://[::1]:6274"}, 200},
		{"rebound host", map[string]string{"Host": "evil.example.com"}, 403},
		{"rebound host and origin", map[string]string{"Host": "evil.example.com", "Origin": "http://evil.example.com"}, 403},
		{"foreign origin", map[string]string{"Origin": "https://evil.example.com"}, 403},
		{"null origin", map[string]string{"Origin": "null"}, 403},
	} {
		c.headers["Authorization"] = auth
		if r := e.post(listTools, c.headers); r.status != c.status {
			t.Errorf("%s: got %d, want %d; body %s", c.name, r.status, c.status, r.body)
		}
	}
	// Without a token, a rebound request is refused all the same.
	if r := e.post(listTools, map[string]string{"Host": "evil.example.com"}); r.status != 403 {
		t.Errorf("rebound host without a token: got %d, want 403", r.status)
	}

	pub := newEnv(t, mcp.Options{PublicURL: "https://keys.example.com"})
	auth = "Bearer " + pub.owner
	for _, c := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"public host", map[string]string{"Host": "keys.example.com"}, 200},
		{"public host and origin", map[string]string{"Host": "keys.example.com", "Origin": "https://keys.example.com"}, 200},
		{"public host, http origin", map[string]string{"Host": "keys.example.com", "Origin": "http://keys.example.com"}, 403},
		{"other host", map[string]string{"Host": "other.example.com"}, 403},
		{"public host, foreign origin", map[string]string{"Host": "keys.example.com", "Origin": "https://evil.example.com"}, 403},
	} {
		c.headers["Authorization"] = auth
		if r := pub.post(listTools, c.headers); r.status != c.status {
			t.Errorf("public URL, %s: got %d, want %d; body %s", c.name, r.status, c.status, r.body)
		}
	}
}
