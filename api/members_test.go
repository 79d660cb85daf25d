package api_test

import (
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/keyward/keyward/client"
)

// join invites email into acme with role through the API, as the owner,
// and accepts the invitation as a new account would from the dashboard.
func (e *env) join(t *testing.T, email, role string) client.Member {
	t.Helper()
	var inv client.Invite
	e.as(e.owner, "POST", "/v1/orgs/acme/members", client.MemberRequest{Email: email, Role: role}).want(t, 201, &inv)
	_, token, ok := strings.Cut(inv.InviteURL, "/invite/")
	if !ok {
		t.Fatalf("invite_url %q has no /invite/ link", inv.InviteURL)
	}
	m, err := e.svc.AcceptInvitationNewAccount(e.ctx, token, "", "a long enough password", "", "")
	if err != nil {
		t.Fatalf("accepting the invitation of %s: %v", email, err)
	}
	return client.Member{User: client.User{ID: m.User.ID, Email: m.User.Email}, Role: string(m.Role)}
}

// Rule 3: the answer to "add this email" has the same fields for an
// address with an account (here in another org, with a name and a
// password) as for a new one, and shows nothing of the account.
func TestInviteShowsNoAccount(t *testing.T) {
	e := newEnv(t)
	u, err := e.svc.AdminCreateUser(e.ctx, "secret.person@example.com", "Secret Person", "a long enough password", "", "")
	if err != nil {
		t.Fatal(err)
	}
	fields := func(email string) (map[string]any, string) {
		a := e.as(e.owner, "POST", "/v1/orgs/acme/members", client.MemberRequest{Email: email})
		var out map[string]any
		a.want(t, 201, &out)
		inv := out["invitation"].(map[string]any)
		keys := []string{}
		for k := range out {
			keys = append(keys, k)
		}
		for k := range inv {
			keys = append(keys, "invitation."+k)
		}
		sort.Strings(keys)
		return map[string]any{"keys": strings.Join(keys, " ")}, string(a.body)
	}
	existing, body := fields("secret.person@example.com")
	fresh, _ := fields("fresh@example.com")
	if existing["keys"] != fresh["keys"] {
		t.Errorf("fields for an existing account %v, for a new address %v", existing["keys"], fresh["keys"])
	}
	for _, leak := range []string{u.ID, "Secret Person", "set-password"} {
		if strings.Contains(body, leak) {
			t.Errorf("the answer for an existing account shows %q", leak)
		}
	}
}

// Members: invite, list the pending invitations, cancel one, show by
// email and id, list with pages, change role, suspend and unsuspend, and
// the rules about owners.
func TestMembers(t *testing.T) {
	e := newEnv(t)
	base := "/v1/orgs/acme/members"
	var inv client.Invite
	a := e.as(e.owner, "POST", base, client.MemberRequest{Email: "Ivy@Example.com", Name: "Ivy", Role: "admin"})
	a.want(t, 201, &inv)
	if inv.Invitation.Email != "ivy@example.com" || inv.Invitation.Role != "admin" || inv.Invitation.State != "pending" || !strings.Contains(inv.InviteURL, "/invite/") {
		t.Errorf("invited: got %+v", inv)
	}
	if got := a.header.Get("Location"); got != "/v1/orgs/acme/invitations/"+inv.Invitation.ID {
		t.Errorf("Location: got %q", got)
	}
	// Pending, not a member; the link is not shown again.
	e.as(e.owner, "GET", base+"/ivy@example.com", nil).wantError(t, 404, "not_found")
	var pending client.InvitationList
	e.as(e.owner, "GET", "/v1/orgs/acme/invitations", nil).want(t, 200, &pending)
	if len(pending.Invitations) != 1 || pending.Invitations[0].ID != inv.Invitation.ID {
		t.Errorf("pending invitations: got %+v", pending)
	}
	if strings.Contains(string(e.as(e.owner, "GET", "/v1/orgs/acme/invitations", nil).body), "/invite/") {
		t.Error("the invitation link is shown again")
	}
	var cancelled client.Invitation
	e.as(e.owner, "DELETE", "/v1/orgs/acme/invitations/"+inv.Invitation.ID, nil).want(t, 200, &cancelled)
	e.as(e.owner, "DELETE", "/v1/orgs/acme/invitations/"+inv.Invitation.ID, nil).wantError(t, 404, "not_found")
	m := e.join(t, "ivy@example.com", "admin")

	e.as(e.owner, "POST", base, client.MemberRequest{Email: "not an email"}).wantError(t, 400, "invalid_request")
	e.as(e.owner, "POST", base, client.MemberRequest{Email: "x@example.com", Role: "emperor"}).wantError(t, 400, "invalid_request")
	var byID, byEmail client.Member
	e.as(e.owner, "GET", base+"/"+m.User.ID, nil).want(t, 200, &byID)
	e.as(e.owner, "GET", base+"/ivy@example.com", nil).want(t, 200, &byEmail)
	if byID.User.ID != byEmail.User.ID || byID.Role != "admin" {
		t.Errorf("by id and by email: got %+v and %+v", byID, byEmail)
	}
	e.as(e.owner, "GET", base+"/nobody@example.com", nil).wantError(t, 404, "not_found")

	for _, email := range []string{"j1@example.com", "j2@example.com", "j3@example.com"} {
		e.join(t, email, "member")
	}
	seen := map[string]bool{}
	cursor := ""
	for range 10 {
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page client.MemberList
		e.as(e.owner, "GET", base+"?"+q.Encode(), nil).want(t, 200, &page)
		for _, mm := range page.Members {
			if seen[mm.User.ID] {
				t.Errorf("member %s listed twice", mm.User.Email)
			}
			seen[mm.User.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(seen) != 5 {
		t.Errorf("listed %d members, want 5", len(seen))
	}

	// An admin may not touch an owner nor make one.
	ivy := e.pat("ivy@example.com", "acme")
	e.as(ivy, "PATCH", base+"/owner@example.com", client.MemberUpdate{Role: "member"}).wantError(t, 403, "forbidden")
	e.as(ivy, "PATCH", base+"/j1@example.com", client.MemberUpdate{Role: "owner"}).wantError(t, 403, "forbidden")
	e.as(ivy, "PATCH", base+"/j1@example.com", client.MemberUpdate{Role: "viewer"}).want(t, 200, &m)
	e.as(ivy, "POST", base, client.MemberRequest{Email: "o2@example.com", Role: "owner"}).wantError(t, 403, "forbidden")
	if m.Role != "viewer" {
		t.Errorf("role: got %s, want viewer", m.Role)
	}
	e.as(ivy, "PATCH", base+"/j1@example.com", client.MemberUpdate{}).wantError(t, 400, "invalid_request")
	e.as(ivy, "POST", base+"/j2@example.com/suspend", nil).want(t, 200, &m)
	if !m.Suspended {
		t.Error("suspend: got not suspended")
	}
	e.as(ivy, "POST", base+"/j2@example.com/unsuspend", nil).want(t, 200, &m)
	if m.Suspended {
		t.Error("unsuspend: got suspended")
	}
	e.as(ivy, "POST", base+"/ivy@example.com/suspend", nil).wantError(t, 409, "conflict")
	var removed client.MemberRemoved
	e.as(ivy, "DELETE", base+"/j3@example.com", nil).want(t, 200, &removed)
	if removed.RevokedTokens == nil || len(removed.RevokedTokens) != 0 {
		t.Errorf("revoked_tokens of a member without tokens: got %v, want []", removed.RevokedTokens)
	}
}
