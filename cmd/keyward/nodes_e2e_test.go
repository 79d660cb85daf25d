package main

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyward/keyward/client"
)

// Two `keyward serve` processes on one database: a token revoked through
// the first is refused by the second on a later request, within a bounded
// wait, because the second follows the change feed.

func TestTwoServersPostgres(t *testing.T) {
	testTwoServers(t, postgresURL(t))
}

func TestTwoServersSQLite(t *testing.T) {
	testTwoServers(t, filepath.Join(t.TempDir(), "k.db"))
}

func testTwoServers(t *testing.T, dbURL string) {
	first, second := newHarness(t, dbURL), newHarness(t, dbURL)
	first.ok("", "migrate", "--database-url", dbURL)
	first.start()
	second.start()

	var boot struct {
		Secret string `json:"secret"`
	}
	first.okJSON(&boot, "", "bootstrap", "--database-url", dbURL, "--email", "owner@example.com", "--org", "Acme")
	var tok client.TokenSecret
	first.okJSON(&tok, boot.Secret, "token", "create", "--name", "ci")

	if got := whoamiStatus(t, second.url, tok.Secret); got != http.StatusOK {
		t.Fatalf("second server, before the revocation: got %d, want 200", got)
	}
	first.ok(boot.Secret, "token", "revoke", tok.Token.ID)
	if got := whoamiStatus(t, first.url, tok.Secret); got != http.StatusUnauthorized {
		t.Fatalf("first server, right after the revocation: got %d, want 401", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := whoamiStatus(t, second.url, tok.Secret)
		if got == http.StatusUnauthorized {
			break
		}
		if got != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("second server after the revocation: got %d, want 401 within 5s", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The owner's token still works on both.
	for _, h := range []*harness{first, second} {
		if got := whoamiStatus(t, h.url, boot.Secret); got != http.StatusOK {
			t.Fatalf("owner on %s: got %d, want 200", h.url, got)
		}
	}
	first.stop()
	second.stop()
}

// whoamiStatus asks the server at url who the bearer of token is and
// returns the HTTP status.
func whoamiStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/v1/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/whoami: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
