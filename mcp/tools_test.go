package mcp_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/mcp"
)

func TestToolsList(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	cs := e.session(e.owner)
	res, err := cs.ListTools(e.ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" || tool.InputSchema == nil || tool.OutputSchema == nil {
			t.Errorf("tool %s: got description %q, input schema %v, output schema %v; want all three", tool.Name, tool.Description, tool.InputSchema != nil, tool.OutputSchema != nil)
		}
	}
	slices.Sort(names)
	want := []string{"create_token", "list_audit", "list_tokens", "regenerate_token", "revoke_token", "whoami"}
	if !slices.Equal(names, want) {
		t.Fatalf("got tools %v, want %v", names, want)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "keyward" {
		t.Errorf("got server name %q, want keyward", got)
	}
}

// TestEachTool calls every tool as the owner, through the Go SDK's client
// with a PAT, and checks each result against the service's state.
func TestEachTool(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	cs := e.session(e.owner)

	var who client.Whoami
	call(t, cs, mcp.ToolWhoami, map[string]any{}, &who)
	if who.User == nil || who.User.Email != "owner@example.com" || who.Org.Slug != "acme" || who.Role == nil || *who.Role != "owner" {
		t.Fatalf("whoami: got %+v, want the owner of acme", who)
	}
	if who.Token == nil || who.Token.ID != e.boot.Token.ID || !slices.Contains(who.Permissions, keyward.PermAuditRead) {
		t.Fatalf("whoami: got token %v and permissions %v, want the bootstrap token and audit:read", who.Token, who.Permissions)
	}

	var minted client.TokenSecret
	call(t, cs, mcp.ToolCreateToken, map[string]any{
		"name": "ci", "description": "for CI", "expires_in": "30d",
		"permissions": []string{"tokens:read"},
		"scopes":      []map[string]any{{"entity_type": "monitor", "entity_id": "*", "operations": []string{"read"}}},
	}, &minted)
	if !strings.HasPrefix(minted.Secret, "kw_pat_") || minted.Token.Name != "ci" || minted.Token.Source != keyward.SourceAPI ||
		minted.Token.ExpiresAt == nil || !slices.Equal(minted.Token.Permissions, []string{"tokens:read"}) || len(minted.Token.Scopes) != 1 {
		t.Fatalf("create_token: got token %+v (secret with prefix kw_pat_: %v), want ci from api, expiring, narrowed and scoped",
			minted.Token, strings.HasPrefix(minted.Secret, "kw_pat_"))
	}
	if _, err := e.svc.Authenticate(e.ctx, minted.Secret, noIP, "test"); err != nil {
		t.Fatalf("the minted secret does not authenticate: %v", err)
	}

	var list client.TokenList
	call(t, cs, mcp.ToolListTokens, map[string]any{"status": "active"}, &list)
	if len(list.Tokens) != 2 || list.Tokens[0].ID != minted.Token.ID || list.NextCursor != nil {
		t.Fatalf("list_tokens: got %d tokens (first %v), want the new one first of 2", len(list.Tokens), list.Tokens)
	}
	var page client.TokenList
	call(t, cs, mcp.ToolListTokens, map[string]any{"limit": 1}, &page)
	if len(page.Tokens) != 1 || page.NextCursor == nil {
		t.Fatalf("list_tokens limit 1: got %d tokens and cursor %v, want 1 and a cursor", len(page.Tokens), page.NextCursor)
	}
	call(t, cs, mcp.ToolListTokens, map[string]any{"limit": 1, "cursor": *page.NextCursor}, &page)
	if len(page.Tokens) != 1 || page.Tokens[0].ID != e.boot.Token.ID {
		t.Fatalf("list_tokens page 2: got %v, want the bootstrap token", page.Tokens)
	}

	var regen client.TokenSecret
	call(t, cs, mcp.ToolRegenerateToken, map[string]any{"id": minted.Token.ID, "expires_in": "7d"}, &regen)
	if regen.Token.ID != minted.Token.ID || regen.Secret == minted.Secret || !strings.HasPrefix(regen.Secret, "kw_pat_") || regen.Token.Generation != 1 {
		t.Fatalf("regenerate_token: got token %s generation %d, want same id, generation 1 and a new secret", regen.Token.ID, regen.Token.Generation)
	}
	if _, err := e.svc.Authenticate(e.ctx, minted.Secret, noIP, "test"); keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
		t.Fatalf("the old secret after regenerate: got %v, want unauthorized", keyward.ErrorCode(err))
	}

	var revoked client.Token
	call(t, cs, mcp.ToolRevokeToken, map[string]any{"id": minted.Token.ID, "reason": "done"}, &revoked)
	if revoked.Status != "revoked" || revoked.RevokeReason == nil || *revoked.RevokeReason != "done" {
		t.Fatalf("revoke_token: got status %s reason %v, want revoked with reason", revoked.Status, revoked.RevokeReason)
	}
	if _, err := e.svc.Authenticate(e.ctx, regen.Secret, noIP, "test"); keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
		t.Fatalf("the regenerated secret after revoke: got %v, want unauthorized", keyward.ErrorCode(err))
	}
	call(t, cs, mcp.ToolRevokeToken, map[string]any{"id": minted.Token.ID}, &revoked)
	if revoked.Status != "revoked" {
		t.Fatalf("revoking again: got status %s, want revoked", revoked.Status)
	}

	var audit client.AuditList
	call(t, cs, mcp.ToolListAudit, map[string]any{"target": minted.Token.ID}, &audit)
	var actions []string
	for _, ev := range audit.Events {
		actions = append(actions, ev.Action)
		if ev.UserAgent == "" || ev.Actor != e.boot.User.ID {
			t.Errorf("audit event %s: got actor %q and user agent %q, want the owner and the client's user agent", ev.Action, ev.Actor, ev.UserAgent)
		}
	}
	want := []string{"token.revoked", "token.regenerated", "token.created"}
	if !slices.Equal(actions, want) {
		t.Fatalf("list_audit: got actions %v, want %v", actions, want)
	}
	call(t, cs, mcp.ToolListAudit, map[string]any{"action": "token.created", "limit": 1}, &audit)
	if len(audit.Events) != 1 || audit.Events[0].Action != "token.created" {
		t.Fatalf("list_audit by action: got %v, want one token.created", audit.Events)
	}

	secrets := []string{e.owner, minted.Secret, regen.Secret}

	// The answer holding a secret is never stored by a cache.
	r := e.post(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"create_token","arguments":{"name":"raw"}}}`,
		map[string]string{"Authorization": "Bearer " + e.owner})
	if r.status != 200 || !strings.Contains(r.header.Get("Cache-Control"), "no-store") || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("create_token over HTTP: got %d, Cache-Control %q, X-Content-Type-Options %q; want 200, no-store, nosniff",
			r.status, r.header.Get("Cache-Control"), r.header.Get("X-Content-Type-Options"))
	}
	var raw struct {
		Result struct {
			StructuredContent client.TokenSecret `json:"structuredContent"`
		} `json:"result"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, raw.Result.StructuredContent.Secret)

	// Secrets appear only in the results of create_token and
	// regenerate_token, and never in the logs.
	e.mu.Lock()
	responses := slices.Clone(e.responses)
	e.mu.Unlock()
	for _, r := range responses {
		for i, s := range secrets {
			if !strings.Contains(string(r.body), s) {
				continue
			}
			if ((i == 1 || i == 3) && r.tool == mcp.ToolCreateToken) || (i == 2 && r.tool == mcp.ToolRegenerateToken) {
				continue
			}
			t.Errorf("secret %d appears in the response to %q", i, r.tool)
		}
	}
	for i, s := range secrets {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("secret %d appears in the logs", i)
		}
	}
}

// TestBadArguments: bad input is a tool error with keyward's message, and
// changes nothing.
func TestBadArguments(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	cs := e.session(e.owner)
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{mcp.ToolCreateToken, map[string]any{"name": ""}, "invalid_request"},
		{mcp.ToolCreateToken, map[string]any{"name": "x", "expires_in": "soon"}, "invalid_request"},
		{mcp.ToolCreateToken, map[string]any{"name": "x", "permissions": []string{"nope:nope"}}, "unknown permission"},
		{mcp.ToolCreateToken, map[string]any{"name": "x", "surprise": true}, "surprise"},
		{mcp.ToolListTokens, map[string]any{"status": "gone"}, "invalid_request"},
		{mcp.ToolListTokens, map[string]any{"limit": 500}, "limit"},
		{mcp.ToolRevokeToken, map[string]any{"id": "tok_nope"}, "not_found: token not found"},
		{mcp.ToolRegenerateToken, map[string]any{"id": "tok_nope"}, "not_found: token not found"},
		{mcp.ToolListAudit, map[string]any{"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}, "until is before since"},
	} {
		res := call(t, cs, c.tool, c.args, nil)
		if got := toolError(t, c.tool, res); !strings.Contains(got, c.want) {
			t.Errorf("%s %v: got tool error %q, want it to contain %q", c.tool, c.args, got, c.want)
		}
	}
	var list client.TokenList
	call(t, cs, mcp.ToolListTokens, nil, &list)
	if len(list.Tokens) != 1 {
		t.Fatalf("after bad input: got %d tokens, want only the bootstrap token", len(list.Tokens))
	}
}
