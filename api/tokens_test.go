package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
)

// Paging through ~120 tokens with limit=50 sees each exactly once, newest
// first, and ends with a null cursor.
func TestTokenPagination(t *testing.T) {
	e := newEnv(t)
	want := []string{e.boot.Token.ID}
	for i := range 120 {
		tok, _, err := e.svc.AdminCreateToken(e.ctx, "owner@example.com", "acme", service.TokenRequest{Name: fmt.Sprintf("t%03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, tok.ID)
	}
	var got []string
	cursor := ""
	pages := 0
	for {
		q := url.Values{"limit": {"50"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page client.TokenList
		e.as(e.owner, "GET", "/v1/tokens?"+q.Encode(), nil).want(t, 200, &page)
		pages++
		if len(page.Tokens) > 50 {
			t.Fatalf("page %d: got %d tokens, want at most 50", pages, len(page.Tokens))
		}
		for i, tok := range page.Tokens {
			if i > 0 && page.Tokens[i-1].CreatedAt.Before(tok.CreatedAt) {
				t.Errorf("page %d: not newest first at %d", pages, i)
			}
			got = append(got, tok.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		if pages > 10 {
			t.Fatal("the cursor never ends")
		}
	}
	if pages != 3 {
		t.Errorf("got %d pages, want 3", pages)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("token %s listed twice", id)
		}
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Errorf("token %s never listed", id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d tokens, want %d", len(got), len(want))
	}
	for _, bad := range []string{"0", "201", "-1", "x", "1.5"} {
		e.as(e.owner, "GET", "/v1/tokens?limit="+bad, nil).wantError(t, 400, "invalid_request")
	}
	var full client.TokenList
	e.as(e.owner, "GET", "/v1/tokens?limit=200", nil).want(t, 200, &full)
	if len(full.Tokens) != 121 || full.NextCursor != nil {
		t.Errorf("limit=200: got %d tokens and cursor %v, want 121 and null", len(full.Tokens), full.NextCursor)
	}
	var def client.TokenList
	e.as(e.owner, "GET", "/v1/tokens", nil).want(t, 200, &def)
	if len(def.Tokens) != 50 || def.NextCursor == nil {
		t.Errorf("default page: got %d tokens, want 50 and a cursor", len(def.Tokens))
	}
}

// DELETE /v1/tokens needs ?confirm=all, then deletes every token of mine
// and no one else's.
func TestDeleteAllTokens(t *testing.T) {
	e := newEnv(t)
	other := e.member("hal@example.com", "acme", "member")
	a := e.mint(e.owner, client.TokenRequest{Name: "a"})
	b := e.mint(e.owner, client.TokenRequest{Name: "b"})
	for _, q := range []string{"", "?confirm=yes", "?confirm=ALL"} {
		body := e.as(a.Secret, "DELETE", "/v1/tokens"+q, nil).wantError(t, 400, "invalid_request")
		if body.Message != "deleting every token needs ?confirm=all" {
			t.Errorf("DELETE /v1/tokens%s: got message %q", q, body.Message)
		}
	}
	var list client.TokenList
	e.as(a.Secret, "GET", "/v1/tokens", nil).want(t, 200, &list)
	if len(list.Tokens) != 3 {
		t.Fatalf("after refused deletes: got %d tokens, want 3", len(list.Tokens))
	}
	var del client.DeletedTokens
	e.as(a.Secret, "DELETE", "/v1/tokens?confirm=all", nil).want(t, 200, &del)
	slices.Sort(del.Deleted)
	want := []string{e.boot.Token.ID, a.Token.ID, b.Token.ID}
	slices.Sort(want)
	if !slices.Equal(del.Deleted, want) {
		t.Errorf("deleted: got %v, want %v", del.Deleted, want)
	}
	e.as(a.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	e.as(other, "GET", "/v1/whoami", nil).want(t, 200, nil)
}

// Scopes: add, remove one, remove all; and PATCH renames.
func TestScopesAndUpdate(t *testing.T) {
	e := newEnv(t)
	tok := e.mint(e.owner, client.TokenRequest{Name: "scoped"})
	if tok.Token.Scopes == nil || len(tok.Token.Scopes) != 0 || tok.Token.AllowedCIDRs == nil || tok.Token.Permissions != nil {
		t.Errorf("fresh token: got scopes %v, cidrs %v, permissions %v; want [], [] and null", tok.Token.Scopes, tok.Token.AllowedCIDRs, tok.Token.Permissions)
	}
	path := "/v1/tokens/" + tok.Token.ID
	var got client.Token
	e.as(e.owner, "POST", path+"/scopes", client.Scope{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}).want(t, 200, &got)
	e.as(e.owner, "POST", path+"/scopes", client.Scope{EntityType: "monitor", EntityID: "*", Operations: []string{"list"}}).want(t, 200, &got)
	if len(got.Scopes) != 2 || got.Scopes[0].ID == "" {
		t.Fatalf("scopes: got %+v", got.Scopes)
	}
	e.as(e.owner, "POST", path+"/scopes", client.Scope{EntityType: "monitor", EntityID: "m1", Operations: []string{"fly"}}).wantError(t, 400, "invalid_request")
	e.as(e.owner, "DELETE", path+"/scopes/"+got.Scopes[0].ID, nil).want(t, 200, &got)
	if len(got.Scopes) != 1 || got.Scopes[0].EntityID != "*" {
		t.Errorf("after removing one: got %+v", got.Scopes)
	}
	e.as(e.owner, "DELETE", path+"/scopes/scp_nope", nil).wantError(t, 404, "not_found")
	e.as(e.owner, "DELETE", path+"/scopes", nil).want(t, 200, &got)
	if got.Scopes == nil || len(got.Scopes) != 0 {
		t.Errorf("after removing all: got %v, want []", got.Scopes)
	}

	e.as(e.owner, "PATCH", path, client.TokenUpdate{Name: ptr("renamed"), Description: ptr("new words")}).want(t, 200, &got)
	if got.Name != "renamed" || got.Description != "new words" {
		t.Errorf("PATCH: got %q %q", got.Name, got.Description)
	}
	e.as(e.owner, "PATCH", path, `{"description": "only this"}`).want(t, 200, &got)
	if got.Name != "renamed" || got.Description != "only this" {
		t.Errorf("PATCH description: got %q %q", got.Name, got.Description)
	}
	e.as(e.owner, "PATCH", path, client.TokenUpdate{Name: ptr("  ")}).wantError(t, 400, "invalid_request")
}

// The org keys have the same verbs as personal tokens.
func TestOrgKeysLifecycle(t *testing.T) {
	e := newEnv(t)
	base := "/v1/orgs/acme/keys"
	var k client.TokenSecret
	a := e.as(e.owner, "POST", base, client.TokenRequest{Name: "svc", Role: "member", ExpiresIn: "90d", AllowedCIDRs: []string{"127.0.0.1", "10.0.0.0/8"}})
	a.want(t, 201, &k)
	if got := a.header.Get("Location"); got != base+"/"+k.Token.ID {
		t.Errorf("Location: got %q, want %s/%s", got, base, k.Token.ID)
	}
	if !slices.Equal(k.Token.AllowedCIDRs, []string{"127.0.0.1/32", "10.0.0.0/8"}) {
		t.Errorf("allowed_cidrs: got %v", k.Token.AllowedCIDRs)
	}
	e.as(k.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
	var list client.KeyList
	e.as(e.owner, "GET", base+"?kind=api_key", nil).want(t, 200, &list)
	if len(list.Keys) != 1 || list.Keys[0].ID != k.Token.ID || list.NextCursor != nil {
		t.Errorf("keys: got %+v", list)
	}
	var tokens client.TokenList
	e.as(e.owner, "GET", "/v1/tokens", nil).want(t, 200, &tokens)
	for _, tok := range tokens.Tokens {
		if tok.ID == k.Token.ID {
			t.Error("an org key is listed among personal tokens")
		}
	}
	e.as(e.owner, "GET", base+"/"+k.Token.ID, nil).want(t, 200, nil)
	e.as(e.owner, "PATCH", base+"/"+k.Token.ID, client.TokenUpdate{Name: ptr("svc2")}).want(t, 200, nil)
	var regen, rot client.TokenSecret
	e.as(e.owner, "POST", base+"/"+k.Token.ID+"/regenerate", nil).want(t, 200, &regen)
	e.as(e.owner, "POST", base+"/"+k.Token.ID+"/rotate", client.RotateRequest{Overlap: "7d"}).want(t, 200, &rot)
	e.as(regen.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
	e.as(e.owner, "POST", base+"/"+rot.Token.ID+"/scopes", client.Scope{EntityType: "monitor", EntityID: "*", Operations: []string{"read"}}).want(t, 200, nil)
	e.as(e.owner, "DELETE", base+"/"+rot.Token.ID+"/scopes", nil).want(t, 200, nil)
	e.as(e.owner, "POST", base+"/"+rot.Token.ID+"/revoke", client.RevokeRequest{Reason: "r"}).want(t, 200, nil)
	e.as(rot.Secret, "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	e.as(e.owner, "DELETE", base+"/"+rot.Token.ID, nil).want(t, 204, nil)
	e.as(e.owner, "DELETE", base, nil).wantError(t, 400, "invalid_request")
	var del client.DeletedTokens
	e.as(e.owner, "DELETE", base+"?confirm=all", nil).want(t, 200, &del)
	if len(del.Deleted) != 1 || del.Deleted[0] != k.Token.ID {
		t.Errorf("deleted: got %v, want [%s]", del.Deleted, k.Token.ID)
	}
	e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil)
}
