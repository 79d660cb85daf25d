package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// A form larger than 64 KiB is refused with 413 before anything is done:
// no token is minted.
func TestFormTooLarge(t *testing.T) {
	s := newSite(t, false)
	a := newAgent(t, s)
	a.signIn("owner@example.com", ownerPassword)
	before, _, _ := s.svc.FindTokens(context.Background(), s.owner(), service.Personal, keyward.TokenFilter{})
	a.get("/tokens/new")
	form := url.Values{"csrf": {a.field(csrfRE)}, "nonce": {a.field(nonceRE)}, "name": {"ci"}, "expiry": {"30d"},
		"description": {strings.Repeat("x", 65<<10)}}
	if resp := a.post("/tokens", form); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized form: got %d, want 413", resp.StatusCode)
	}
	if !strings.Contains(a.last, "larger than 64 KiB") {
		t.Error("the page does not say the form is too large")
	}
	after, _, _ := s.svc.FindTokens(context.Background(), s.owner(), service.Personal, keyward.TokenFilter{})
	if len(after) != len(before) {
		t.Errorf("tokens: %d before, %d after an oversized form", len(before), len(after))
	}
}
