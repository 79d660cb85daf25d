package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keyward/keyward"
)

var inviteRE = regexp.MustCompile(`value="http[^"]*/invite/([^"]+)"`)

// An invitation for an address that has an account is accepted only by
// that account, signed in; the link never sets its password.
func TestInvitationPages(t *testing.T) {
	s := newSite(t, false)
	ctx := context.Background()
	const pw = "gina's long password"
	globex, err := s.svc.AdminCreateOrg(ctx, "Globex", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.AdminCreateUser(ctx, "gina@example.com", "Gina", pw, globex.Slug, keyward.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.AdminCreateUser(ctx, "mal@example.com", "", pw, "", ""); err != nil {
		t.Fatal(err)
	}

	owner := newAgent(t, s)
	owner.signIn("owner@example.com", ownerPassword)
	owner.get("/org/members")
	owner.post("/org/members", url.Values{"csrf": {owner.field(csrfRE)}, "email": {"gina@example.com"}, "role": {"admin"}})
	token := owner.field(inviteRE)
	if strings.Contains(owner.last, "Gina") {
		t.Error("the answer to an invitation shows the account's name")
	}

	// Signed out: both ways are offered; a password for the existing
	// account is refused.
	anon := newAgent(t, s)
	anon.get("/invite/" + token)
	if !strings.Contains(anon.last, "Sign in to accept") || !strings.Contains(anon.last, `action="/invite/account"`) {
		t.Fatal("the signed-out invitation page offers no way to accept")
	}
	resp := anon.post("/invite/account", url.Values{"csrf": {anon.field(csrfRE)}, "token": {token}, "password": {pw + "!"}, "confirm": {pw + "!"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(anon.last, "account with this address exists") {
		t.Errorf("a password for an existing account: %d", resp.StatusCode)
	}

	// Another account, signed in, is refused.
	mal := newAgent(t, s)
	mal.signIn("mal@example.com", pw)
	mal.get("/invite/" + token)
	if strings.Contains(mal.last, `action="/invite/accept"`) || !strings.Contains(mal.last, "signed in as <strong>mal@example.com") {
		t.Error("another account is offered to accept")
	}
	if resp := mal.post("/invite/accept", url.Values{"csrf": {mal.field(csrfRE)}, "token": {token}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another account accepts: %d, want 403", resp.StatusCode)
	}

	// The invited account accepts, signed in, and lands in the org.
	gina := newAgent(t, s)
	gina.signIn("gina@example.com", pw)
	gina.get("/invite/" + token)
	if !strings.Contains(gina.last, `action="/invite/accept"`) {
		t.Fatal("the invited account is not offered to accept")
	}
	if resp := gina.post("/invite/accept", url.Values{"token": {token}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("accept without the form's CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp := gina.post("/invite/accept", url.Values{"csrf": {gina.field(csrfRE)}, "token": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the invited account accepts: %d", resp.StatusCode)
	}
	m, err := s.svc.FindMember(ctx, s.owner(), "gina@example.com")
	if err != nil || m.Role != keyward.RoleAdmin {
		t.Fatalf("after acceptance: %+v, %v", m, err)
	}
	gina.get("/org/members")
	if !strings.Contains(gina.last, "owner@example.com") {
		t.Error("after acceptance the session does not act in the org")
	}
	if resp := gina.get("/invite/" + token); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a used link: %d, want 404", resp.StatusCode)
	}

	// Cancel from the members page.
	owner.get("/org/members")
	owner.post("/org/members", url.Values{"csrf": {owner.field(csrfRE)}, "email": {"late@example.com"}, "role": {"viewer"}})
	late := owner.field(inviteRE)
	owner.get("/org/members")
	cancel := regexp.MustCompile(`action="(/org/invitations/[^"]+/cancel)"`).FindStringSubmatch(owner.last)
	if cancel == nil {
		t.Fatal("no cancel form for the pending invitation")
	}
	if resp := owner.post(cancel[1], url.Values{"csrf": {owner.field(csrfRE)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if resp := anon.get("/invite/" + late); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a cancelled link: %d, want 404", resp.StatusCode)
	}
}
