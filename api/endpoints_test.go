package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/keyward/keyward/client"
)

// Every operation of openapi.json answers with a success whose body
// matches its schema (env.do checks each answer against the document).
func TestEveryOperationMatchesSchema(t *testing.T) {
	e := newEnv(t)
	e.oa = loadOpenAPI(t) // its own record of what was seen
	o := e.owner

	e.do("GET", "/healthz", nil).want(t, 200, nil)
	e.do("GET", "/readyz", nil).want(t, 200, nil)
	e.do("GET", "/openapi.json", nil).want(t, 200, nil)
	e.as(o, "GET", "/v1/whoami", nil).want(t, 200, nil)

	for _, base := range []string{"/v1/tokens", "/v1/orgs/acme/keys"} {
		req := client.TokenRequest{Name: "full", Description: "every field", ExpiresIn: "30d",
			Permissions: []string{"tokens:read"}, AllowedCIDRs: []string{"127.0.0.0/8"}, RateLimit: 10,
			Scopes: []client.Scope{{EntityType: "monitor", EntityID: "*", Operations: []string{"read"}}}}
		if strings.Contains(base, "keys") {
			req.Role = "viewer"
			req.Permissions = nil
		}
		var tok client.TokenSecret
		e.as(o, "POST", base, req).want(t, 201, &tok)
		id := base + "/" + tok.Token.ID
		e.as(o, "GET", base+"?status=all", nil).want(t, 200, nil)
		e.as(o, "GET", id, nil).want(t, 200, nil)
		e.as(o, "PATCH", id, client.TokenUpdate{Description: ptr("edited")}).want(t, 200, nil)
		var scoped client.Token
		e.as(o, "POST", id+"/scopes", client.Scope{EntityType: "page", EntityID: "p1", Operations: []string{"read", "update"}}).want(t, 200, &scoped)
		e.as(o, "DELETE", id+"/scopes/"+scoped.Scopes[1].ID, nil).want(t, 200, nil)
		e.as(o, "DELETE", id+"/scopes", nil).want(t, 200, nil)
		var rot client.TokenSecret
		e.as(o, "POST", id+"/rotate", client.RotateRequest{Overlap: "1h"}).want(t, 200, &rot)
		e.as(o, "POST", id+"/revoke", client.RevokeRequest{Reason: "test"}).want(t, 200, nil)
		e.as(o, "POST", id+"/regenerate", client.RegenerateRequest{ExpiresIn: "1d"}).wantError(t, 409, "conflict")
		e.as(rot.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
		e.as(o, "POST", base+"/"+rot.Token.ID+"/regenerate", client.RegenerateRequest{ExpiresIn: "1d"}).want(t, 200, nil)
		e.as(o, "DELETE", id, nil).want(t, 204, nil)
		if base == "/v1/orgs/acme/keys" {
			e.as(o, "DELETE", base+"?confirm=all", nil).want(t, 200, nil)
		}
	}
	base := "/v1/orgs/acme/members"
	e.as(o, "POST", base, client.MemberRequest{Email: "gone@example.com", Role: "member"}).want(t, 201, nil)
	var invs client.InvitationList
	e.as(o, "GET", "/v1/orgs/acme/invitations", nil).want(t, 200, &invs)
	e.as(o, "DELETE", "/v1/orgs/acme/invitations/"+invs.Invitations[0].ID, nil).want(t, 200, nil)
	e.join(t, "kim@example.com", "member")
	e.as(o, "GET", base, nil).want(t, 200, nil)
	e.as(o, "GET", base+"/kim@example.com", nil).want(t, 200, nil)
	e.as(o, "PATCH", base+"/kim@example.com", client.MemberUpdate{Role: "viewer"}).want(t, 200, nil)
	e.as(o, "POST", base+"/kim@example.com/suspend", nil).want(t, 200, nil)
	e.as(o, "POST", base+"/kim@example.com/unsuspend", nil).want(t, 200, nil)
	e.as(o, "DELETE", base+"/kim@example.com", nil).want(t, 200, nil)
	// The owner's own token does not expire: a policy with a cap blocks it,
	// so the policy is set with an expiring one.
	o = e.mint(o, client.TokenRequest{Name: "policy", ExpiresIn: "30d"}).Secret
	e.as(o, "PUT", "/v1/orgs/acme/policy", client.Policy{MaxLifetime: ptr("365d"), AllowedKinds: []string{"pat", "api_key"}}).want(t, 200, nil)
	e.as(o, "PUT", "/v1/orgs/acme/policy", `{}`).want(t, 200, nil)
	e.as(o, "GET", "/v1/orgs/acme/policy", nil).want(t, 200, nil)
	e.as(o, "GET", "/v1/orgs/acme/audit", nil).want(t, 200, nil)
	e.as(o, "GET", "/v1/orgs/acme/audit?format=jsonl", nil).want(t, 200, nil)
	var verifier client.TokenSecret
	e.as(o, "POST", "/v1/orgs/acme/keys", client.TokenRequest{Name: "verifier", Role: "admin", ExpiresIn: "1d"}).want(t, 201, &verifier)
	e.as(verifier.Secret, "POST", "/v1/verify", client.VerifyRequest{Token: o, Permission: "monitors:read"}).want(t, 200, nil)
	e.as(o, "GET", "/v1/auth", nil).want(t, 200, nil)
	e.do("GET", "/metrics", nil).want(t, 200, nil)
	e.as(o, "DELETE", "/v1/tokens?confirm=all", nil).want(t, 200, nil)

	if *updateExamples {
		writeExamples(t, e)
	}
	for _, op := range e.oa.operations() {
		ok := false
		for seen := range e.oa.seen {
			if strings.HasPrefix(seen, op+" 2") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: no success answer was checked against its schema", op)
		}
	}
}

// The Go client of package client works against the server.
func TestGoClient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := client.New(e.srv.URL, e.owner, client.WithUserAgent("keyward-cli/test"))
	who, err := c.Whoami(ctx)
	if err != nil || who.Org.Slug != "acme" {
		t.Fatalf("Whoami: got %+v, %v", who, err)
	}
	minted, err := c.Tokens().Create(ctx, client.TokenRequest{Name: "from the client", ExpiresIn: "1d"})
	if err != nil || minted.Token.Source != "cli" {
		t.Fatalf("Create: got %+v, %v", minted, err)
	}
	list, err := c.Tokens().List(ctx, client.ListOptions{Status: "all"})
	if err != nil || len(list.Tokens) != 2 {
		t.Fatalf("List: got %+v, %v", list, err)
	}
	if _, err := c.Tokens().Revoke(ctx, minted.Token.ID, "done"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := c.Tokens().Get(ctx, "tok_missing"); client.ErrorCode(err) != "not_found" {
		t.Fatalf("Get missing: got %v, want not_found", err)
	}
	key, err := c.Keys("acme").Create(ctx, client.TokenRequest{Name: "k", Role: "viewer"})
	if err != nil {
		t.Fatalf("Keys.Create: %v", err)
	}
	keys, err := c.Keys("acme").List(ctx, client.ListOptions{})
	if err != nil || len(keys.Tokens) != 1 || keys.Tokens[0].ID != key.Token.ID {
		t.Fatalf("Keys.List: got %+v, %v", keys, err)
	}
	var sb strings.Builder
	n, err := c.ExportAudit(ctx, "acme", client.AuditFilter{}, &sb)
	if err != nil || n == 0 {
		t.Fatalf("ExportAudit: got %d, %v", n, err)
	}
	if strings.Contains(sb.String(), minted.Secret) || strings.Contains(sb.String(), key.Secret) {
		t.Fatal("the audit export holds a secret")
	}
}
