package mcp_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/mcp"
	"github.com/keyward/keyward/service"
)

// noIP is an unknown client address.
var noIP netip.Addr

// TestViewerCannotReadAudit: a tool call needing a permission the caller
// lacks is refused with 403 insufficient_scope, naming the permission.
func TestViewerCannotReadAudit(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	viewer := e.member("viewer@example.com", keyward.RoleViewer)

	r := e.post(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_audit","arguments":{}}}`,
		map[string]string{"Authorization": "Bearer " + viewer})
	if r.status != 403 {
		t.Fatalf("viewer list_audit: got status %d, want 403; body %s", r.status, r.body)
	}
	challenge := r.header.Get("WWW-Authenticate")
	for _, want := range []string{`Bearer error="insufficient_scope"`, `scope="audit:read"`, `resource_metadata="` + e.srv.URL + `/.well-known/oauth-protected-resource/mcp"`} {
		if !strings.Contains(challenge, want) {
			t.Errorf("got WWW-Authenticate %q, want it to contain %s", challenge, want)
		}
	}
	if !strings.Contains(string(r.body), `"id":7`) || !strings.Contains(string(r.body), "missing permission audit:read") {
		t.Errorf("got body %s, want a JSON-RPC error for id 7 naming audit:read", r.body)
	}

	// In a batch, beside a malformed message, the call is refused all the
	// same.
	r = e.post(`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_audit"}},{"params":[1]}]`,
		map[string]string{"Authorization": "Bearer " + viewer})
	if r.status != 403 || !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="audit:read"`) {
		t.Fatalf("viewer list_audit in a batch: got %d %q, want 403 insufficient_scope", r.status, r.header.Get("WWW-Authenticate"))
	}

	// Through the Go SDK's client the call fails, and the viewer's other
	// tools work.
	cs := e.session(viewer)
	if _, err := cs.CallTool(e.ctx, toolCall(mcp.ToolListAudit)); err == nil || !strings.Contains(err.Error(), "missing permission audit:read") {
		t.Fatalf("viewer list_audit through the client: got %v, want the missing permission", err)
	}
	var who client.Whoami
	call(t, cs, mcp.ToolWhoami, nil, &who)
	if who.Role == nil || *who.Role != "viewer" {
		t.Fatalf("viewer whoami: got role %v, want viewer", who.Role)
	}

	// A PAT narrowed to tokens:read cannot create a token, though its owner
	// could.
	_, narrowed, err := e.svc.AdminCreateToken(e.ctx, "owner@example.com", "acme", service.TokenRequest{Name: "ro", Permissions: []string{"tokens:read"}})
	if err != nil {
		t.Fatal(err)
	}
	r = e.post(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"create_token","arguments":{"name":"x"}}}`,
		map[string]string{"Authorization": "Bearer " + narrowed})
	if r.status != 403 || !strings.Contains(r.header.Get("WWW-Authenticate"), `scope="tokens:write"`) {
		t.Fatalf("narrowed create_token: got %d %q, want 403 with scope tokens:write", r.status, r.header.Get("WWW-Authenticate"))
	}
}

// TestMemberSeesOnlyOwnTokens: a member lists only their tokens, and
// another user's token answers "not found" as a missing one does.
func TestMemberSeesOnlyOwnTokens(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	member := e.member("member@example.com", keyward.RoleMember)
	cs := e.session(member)

	var list client.TokenList
	call(t, cs, mcp.ToolListTokens, nil, &list)
	if len(list.Tokens) != 1 || list.Tokens[0].ID == e.boot.Token.ID {
		t.Fatalf("member list_tokens: got %d tokens, want only their own", len(list.Tokens))
	}
	others := toolError(t, mcp.ToolRevokeToken, call(t, cs, mcp.ToolRevokeToken, map[string]any{"id": e.boot.Token.ID}, nil))
	missing := toolError(t, mcp.ToolRevokeToken, call(t, cs, mcp.ToolRevokeToken, map[string]any{"id": "tok_doesnotexist"}, nil))
	if others != missing || !strings.Contains(others, "not found") {
		t.Fatalf("revoking another's token: got %q, want exactly the answer for a missing token %q", others, missing)
	}
	regen := toolError(t, mcp.ToolRegenerateToken, call(t, cs, mcp.ToolRegenerateToken, map[string]any{"id": e.boot.Token.ID}, nil))
	if regen != missing {
		t.Fatalf("regenerating another's token: got %q, want %q", regen, missing)
	}
	if _, err := e.svc.Authenticate(context.Background(), e.owner, noIP, "test"); err != nil {
		t.Fatalf("the owner's token after the member's attempts: %v", err)
	}
	// Asking for more than one holds is a refusal inside the call: a tool
	// error, not a scope challenge.
	beyond := toolError(t, mcp.ToolCreateToken, call(t, cs, mcp.ToolCreateToken, map[string]any{"name": "more", "permissions": []string{"audit:read"}}, nil))
	if !strings.HasPrefix(beyond, "forbidden: ") || !strings.Contains(beyond, "audit:read") {
		t.Fatalf("member create_token with audit:read: got %q, want a forbidden tool error naming audit:read", beyond)
	}
	// A member can mint for themselves.
	var minted client.TokenSecret
	call(t, cs, mcp.ToolCreateToken, map[string]any{"name": "mine"}, &minted)
	if minted.Token.UserID == nil || *minted.Token.UserID == e.boot.User.ID {
		t.Fatalf("member create_token: got owner %v, want the member", minted.Token.UserID)
	}
}
