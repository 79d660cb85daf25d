package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Tool names.
const (
	ToolWhoami          = "whoami"
	ToolListTokens      = "list_tokens"
	ToolCreateToken     = "create_token"
	ToolRevokeToken     = "revoke_token"
	ToolRegenerateToken = "regenerate_token"
	ToolListAudit       = "list_audit"
)

// toolPermissions is the permission each tool needs, checked before the
// call reaches the SDK (403 insufficient_scope) and again by the service.
var toolPermissions = map[string]string{
	ToolWhoami:          "",
	ToolListTokens:      keyward.PermTokensRead,
	ToolCreateToken:     keyward.PermTokensWrite,
	ToolRevokeToken:     keyward.PermTokensWrite,
	ToolRegenerateToken: keyward.PermTokensWrite,
	ToolListAudit:       keyward.PermAuditRead,
}

// toolPermission returns the permission tool needs; "" for none or an
// unknown tool.
func toolPermission(tool string) string { return toolPermissions[tool] }

// newServer returns the MCP server with keyward's tools.
func newServer(h *handler) *mcpsdk.Server {
	s := mcpsdk.NewServer(&mcpsdk.Implementation{Name: "keyward", Title: "keyward", Version: h.version}, &mcpsdk.ServerOptions{
		Instructions: "keyward manages your personal access tokens in one org: see who you are, list, create, revoke and regenerate your tokens, and read the org's audit log (admins). A token's secret is shown once, in the result of create_token or regenerate_token; keep it, it cannot be shown again.",
		Logger:       quiet(h.log),
		// Tools that never change. Prompts and resources are declared,
		// and listed empty, so that a client asking for them gets an
		// honest empty list (with caching hints) rather than a capability
		// the server answers without declaring.
		Capabilities: &mcpsdk.ServerCapabilities{
			Tools:     &mcpsdk.ToolCapabilities{ListChanged: false},
			Prompts:   &mcpsdk.PromptCapabilities{ListChanged: false},
			Resources: &mcpsdk.ResourceCapabilities{ListChanged: false},
		},
	})
	yes, no := true, false
	addTool(h, s, &mcpsdk.Tool{
		Name:        ToolWhoami,
		Title:       "Who am I",
		Description: "The caller: user, org, role, the token presented, and the permissions in force now.",
		Annotations: &mcpsdk.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &no},
	}, h.whoami)
	addTool(h, s, &mcpsdk.Tool{
		Name:        ToolListTokens,
		Title:       "List my tokens",
		Description: "A page of your personal access tokens and OAuth tokens in this org, newest first, with their status. Never shows a secret.",
		Annotations: &mcpsdk.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &no},
	}, h.listTokens)
	addTool(h, s, &mcpsdk.Tool{
		Name:        ToolCreateToken,
		Title:       "Create a token",
		Description: "Mint a personal access token in this org. The result holds its secret, shown this once and never again.",
		Annotations: &mcpsdk.ToolAnnotations{DestructiveHint: &no, OpenWorldHint: &no},
	}, h.createToken)
	addTool(h, s, &mcpsdk.Tool{
		Name:        ToolRevokeToken,
		Title:       "Revoke a token",
		Description: "Revoke one of your tokens at once: the next request bearing it is refused. Revoking a revoked token succeeds and changes nothing.",
		Annotations: &mcpsdk.ToolAnnotations{DestructiveHint: &yes, IdempotentHint: true, OpenWorldHint: &no},
	}, h.revokeToken)
	addTool(h, s, &mcpsdk.Tool{
		Name:        ToolRegenerateToken,
		Title:       "Regenerate a token",
		Description: "Give one of your tokens a new secret and a new validity, keeping its id, name, permissions and scopes; the old secret stops working at once. The result holds the new secret, shown this once.",
		Annotations: &mcpsdk.ToolAnnotations{DestructiveHint: &yes, OpenWorldHint: &no},
	}, h.regenerateToken)
	addTool(h, s, &mcpsdk.Tool{
		Name:        ToolListAudit,
		Title:       "Read the audit log",
		Description: "A page of the org's audit log, newest first, filtered by action, actor, target and time. Needs audit:read (owners and admins).",
		Annotations: &mcpsdk.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &no},
	}, h.listAudit)
	return s
}

// schemaOptions infer the tools' schemas: an audit event's details are an
// object or null.
var schemaOptions = &jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[json.RawMessage](): {AnyOf: []*jsonschema.Schema{{Type: "object"}, {Type: "null"}}},
}}

// portable rewrites each nullable type of s (a "type" array such as
// ["null", "string"], as inferred for pointers and slices) into anyOf
// branches of one type each, which every client's schema mapping reads.
func portable(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	for _, p := range s.Properties {
		portable(p)
	}
	portable(s.Items)
	for _, a := range s.AnyOf {
		portable(a)
	}
	if len(s.Types) != 2 || !slices.Contains(s.Types, "null") {
		return
	}
	inner := s.CloneSchemas()
	inner.Types, inner.Type, inner.Description = nil, s.Types[0], ""
	if inner.Type == "null" {
		inner.Type = s.Types[1]
	}
	*s = jsonschema.Schema{Description: s.Description, AnyOf: []*jsonschema.Schema{inner, {Type: "null"}}}
}

// addTool adds a tool whose handler fn runs for the caller that serveMCP
// authenticated, and whose errors become tool errors with keyward's
// message, never internal text.
func addTool[In, Out any](h *handler, s *mcpsdk.Server, t *mcpsdk.Tool, fn func(ctx context.Context, c *service.Caller, in In) (Out, error)) {
	in, err := jsonschema.For[In](schemaOptions)
	if err != nil {
		panic(fmt.Sprintf("mcp: input schema of %s: %v", t.Name, err))
	}
	in.AdditionalProperties = &jsonschema.Schema{Not: &jsonschema.Schema{}}
	out, err := jsonschema.For[Out](schemaOptions)
	if err != nil {
		panic(fmt.Sprintf("mcp: output schema of %s: %v", t.Name, err))
	}
	portable(in)
	portable(out)
	t.InputSchema, t.OutputSchema = in, out
	mcpsdk.AddTool(s, t, func(ctx context.Context, req *mcpsdk.CallToolRequest, args In) (*mcpsdk.CallToolResult, Out, error) {
		var zero Out
		c, ok := callerFrom(req.Extra.TokenInfo)
		if !ok {
			return nil, zero, h.toolError(ctx, t.Name, keyward.Errorf(keyward.EUNAUTHORIZED, "no authenticated caller"))
		}
		res, err := fn(ctx, c, args)
		if err != nil {
			return nil, zero, h.toolError(ctx, t.Name, err)
		}
		return nil, res, nil
	})
}

// toolError is the error a tool call answers: "code: message (detail)"
// for keyward's errors, and "internal: internal error" for any other,
// which is logged instead.
func (h *handler) toolError(ctx context.Context, tool string, err error) error {
	var ke *keyward.Error
	if errors.As(err, &ke) {
		return ke
	}
	h.log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("tool", tool), slog.String("err", err.Error()))
	return &keyward.Error{Code: keyward.EINTERNAL, Message: "internal error"}
}

// noInput is the input of a tool without arguments.
type noInput struct{}

func (h *handler) whoami(_ context.Context, c *service.Caller, _ noInput) (client.Whoami, error) {
	return wire.WhoamiOut(c), nil
}

// listTokensInput are list_tokens' arguments.
type listTokensInput struct {
	Status string `json:"status,omitempty" jsonschema:"active, expired, revoked or all (the default)"`
	Limit  int    `json:"limit,omitempty" jsonschema:"page size, 1 to 200 (default 50)"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
}

func (h *handler) listTokens(ctx context.Context, c *service.Caller, in listTokensInput) (client.TokenList, error) {
	if err := checkLimit(in.Limit); err != nil {
		return client.TokenList{}, err
	}
	tokens, next, err := h.svc.FindTokens(ctx, c, service.Personal, keyward.TokenFilter{
		Status: keyward.Status(in.Status), Limit: in.Limit, Cursor: in.Cursor,
	})
	if err != nil {
		return client.TokenList{}, err
	}
	return client.TokenList{Tokens: wire.TokensOut(tokens), NextCursor: wire.CursorOut(next)}, nil
}

// scopeInput is a scope to give a new token.
type scopeInput struct {
	EntityType string   `json:"entity_type" jsonschema:"the type of entity, such as monitor"`
	EntityID   string   `json:"entity_id" jsonschema:"one entity's id, or * for all"`
	Operations []string `json:"operations" jsonschema:"from create read list update delete share unshare publish subscribe"`
}

// createTokenInput are create_token's arguments.
type createTokenInput struct {
	Name         string       `json:"name" jsonschema:"what the token is for, up to 100 characters"`
	Description  string       `json:"description,omitempty" jsonschema:"a longer note, up to 1000 characters"`
	ExpiresIn    string       `json:"expires_in,omitempty" jsonschema:"lifetime such as 90d, 12h or 30m; with neither expires_in nor expires_at the token does not expire, where org policy allows"`
	ExpiresAt    *time.Time   `json:"expires_at,omitempty" jsonschema:"expiry time, RFC 3339"`
	Permissions  []string     `json:"permissions,omitempty" jsonschema:"narrow the token to these permissions, each one you hold"`
	Scopes       []scopeInput `json:"scopes,omitempty" jsonschema:"narrow the token to operations on entities"`
	AllowedCIDRs []string     `json:"allowed_cidrs,omitempty" jsonschema:"addresses the token may be used from, as CIDR prefixes"`
}

func (h *handler) createToken(ctx context.Context, c *service.Caller, in createTokenInput) (client.TokenSecret, error) {
	req := service.TokenRequest{
		Kind:         keyward.KindPAT,
		Name:         in.Name,
		Description:  in.Description,
		ExpiresIn:    in.ExpiresIn,
		ExpiresAt:    in.ExpiresAt,
		Permissions:  in.Permissions,
		AllowedCIDRs: in.AllowedCIDRs,
	}
	for _, sc := range in.Scopes {
		req.Scopes = append(req.Scopes, service.ScopeRequest{EntityType: sc.EntityType, EntityID: sc.EntityID, Operations: sc.Operations})
	}
	t, secret, err := h.svc.CreateToken(ctx, c, service.Personal, req)
	if err != nil {
		return client.TokenSecret{}, err
	}
	return client.TokenSecret{Token: wire.TokenOut(t), Secret: secret}, nil
}

// revokeTokenInput are revoke_token's arguments.
type revokeTokenInput struct {
	ID     string `json:"id" jsonschema:"the token's id (tok_...)"`
	Reason string `json:"reason,omitempty" jsonschema:"why, for the audit log"`
}

func (h *handler) revokeToken(ctx context.Context, c *service.Caller, in revokeTokenInput) (client.Token, error) {
	t, err := h.svc.RevokeToken(ctx, c, service.Personal, in.ID, in.Reason)
	if err != nil {
		return client.Token{}, err
	}
	return wire.TokenOut(t), nil
}

// regenerateTokenInput are regenerate_token's arguments.
type regenerateTokenInput struct {
	ID        string     `json:"id" jsonschema:"the token's id (tok_...)"`
	ExpiresIn string     `json:"expires_in,omitempty" jsonschema:"new lifetime such as 90d; with none of expires_in, expires_at and no_expiry the token keeps its former lifetime"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" jsonschema:"new expiry time, RFC 3339"`
	NoExpiry  bool       `json:"no_expiry,omitempty" jsonschema:"the regenerated token does not expire, where org policy allows"`
}

func (h *handler) regenerateToken(ctx context.Context, c *service.Caller, in regenerateTokenInput) (client.TokenSecret, error) {
	t, secret, err := h.svc.RegenerateToken(ctx, c, service.Personal, in.ID, service.RegenerateRequest{
		ExpiresIn: in.ExpiresIn, ExpiresAt: in.ExpiresAt, NoExpiry: in.NoExpiry,
	})
	if err != nil {
		return client.TokenSecret{}, err
	}
	return client.TokenSecret{Token: wire.TokenOut(t), Secret: secret}, nil
}

// listAuditInput are list_audit's arguments.
type listAuditInput struct {
	Action string     `json:"action,omitempty" jsonschema:"only events of this action, such as token.created"`
	Actor  string     `json:"actor,omitempty" jsonschema:"only events by this actor (a user or token id)"`
	Target string     `json:"target,omitempty" jsonschema:"only events about this target (such as a token id)"`
	Since  *time.Time `json:"since,omitempty" jsonschema:"only events at or after this time, RFC 3339"`
	Until  *time.Time `json:"until,omitempty" jsonschema:"only events before this time, RFC 3339"`
	Limit  int        `json:"limit,omitempty" jsonschema:"page size, 1 to 200 (default 50)"`
	Cursor string     `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
}

func (h *handler) listAudit(ctx context.Context, c *service.Caller, in listAuditInput) (client.AuditList, error) {
	if err := checkLimit(in.Limit); err != nil {
		return client.AuditList{}, err
	}
	f := keyward.AuditFilter{Action: in.Action, Actor: in.Actor, Target: in.Target, Limit: in.Limit, Cursor: in.Cursor}
	if in.Since != nil {
		f.Since = *in.Since
	}
	if in.Until != nil {
		f.Until = *in.Until
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return client.AuditList{}, keyward.Errorf(keyward.EINVALID, "until is before since")
	}
	events, next, err := h.svc.FindAudit(ctx, c, f)
	if err != nil {
		return client.AuditList{}, err
	}
	return client.AuditList{Events: wire.AuditsOut(events), NextCursor: wire.CursorOut(next)}, nil
}

// checkLimit refuses a page size outside 0 (the default) to the largest.
func checkLimit(limit int) error {
	if limit < 0 || limit > keyward.MaxPageSize {
		return keyward.Errorf(keyward.EINVALID, "limit must be between 1 and %d", keyward.MaxPageSize)
	}
	return nil
}
