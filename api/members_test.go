package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/client"
)

// Members: add, show by email and id, list with pages, change role,
// suspend and unsuspend, and the rules about owners.
func TestMembers(t *testing.T) {
	e := newEnv(t)
	base := "/v1/orgs/acme/members"
	var m client.Member
	a := e.as(e.owner, "POST", base, client.MemberRequest{Email: "Ivy@Example.com", Name: "Ivy", Role: "admin"})
	a.want(t, 201, &m)
	if m.User.Email != "ivy@example.com" || m.Role != "admin" || m.Suspended || m.OrgID != e.boot.Org.ID {
		t.Errorf("added: got %+v", m)
	}
	if got := a.header.Get("Location"); got != base+"/"+m.User.ID {
		t.Errorf("Location: got %q", got)
	}
	// A new user gets a one-time set-password link, in this answer only.
	if !strings.Contains(m.SetPasswordURL, "/set-password/") {
		t.Errorf("adding a new user: set_password_url %q, want a set-password link", m.SetPasswordURL)
	}
	var shown client.Member
	e.as(e.owner, "GET", base+"/"+m.User.ID, nil).want(t, 200, &shown)
	if shown.SetPasswordURL != "" {
		t.Error("the set-password link is shown again")
	}
	e.as(e.owner, "POST", base, client.MemberRequest{Email: "not an email"}).wantError(t, 400, "invalid_request")
	e.as(e.owner, "POST", base, client.MemberRequest{Email: "x@example.com", Role: "emperor"}).wantError(t, 400, "invalid_request")
	var byID, byEmail client.Member
	e.as(e.owner, "GET", base+"/"+m.User.ID, nil).want(t, 200, &byID)
	e.as(e.owner, "GET", base+"/ivy@example.com", nil).want(t, 200, &byEmail)
	if byID.User.ID != byEmail.User.ID {
		t.Errorf("by id and by email: got %s and %s", byID.User.ID, byEmail.User.ID)
	}
	e.as(e.owner, "GET", base+"/nobody@example.com", nil).wantError(t, 404, "not_found")

	for _, email := range []string{"j1@example.com", "j2@example.com", "j3@example.com"} {
		e.as(e.owner, "POST", base, client.MemberRequest{Email: email}).want(t, 201, nil)
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
