package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// TokenSet calls the API of one set of credentials: the caller's own
// personal tokens (Client.Tokens, /v1/tokens) or an org's API keys, agent
// and probe tokens (Client.Keys, /v1/orgs/{org}/keys). Both have the same
// verbs.
type TokenSet struct {
	c    *Client
	base []string
	// orgKeys: pages name their list "keys" rather than "tokens".
	orgKeys bool
}

// Tokens returns the caller's own personal access tokens.
func (c *Client) Tokens() *TokenSet {
	return &TokenSet{c: c, base: []string{"/v1/tokens"}}
}

// Keys returns the API keys, agent and probe tokens of org (its id or
// slug).
func (c *Client) Keys(org string) *TokenSet {
	return &TokenSet{c: c, base: []string{"/v1/orgs", org, "keys"}, orgKeys: true}
}

func (s *TokenSet) path(more ...string) []string {
	return append(append([]string{}, s.base...), more...)
}

// ListOptions select one page of a list.
type ListOptions struct {
	// Status filters tokens: active, expired, revoked or all ("" is the
	// server's default).
	Status string
	// Kind filters org credentials: api_key, agent or probe.
	Kind string
	// Limit is the page size: the server's default (50) when 0, at most
	// 200.
	Limit int
	// Cursor is the previous page's NextCursor.
	Cursor string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Status != "" {
		q.Set("status", o.Status)
	}
	if o.Kind != "" {
		q.Set("kind", o.Kind)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	return q
}

// Create mints a credential and returns it with its secret, which the
// server never shows again.
func (s *TokenSet) Create(ctx context.Context, req TokenRequest) (*TokenSecret, error) {
	var out TokenSecret
	return &out, s.c.do(ctx, request{method: http.MethodPost, path: s.path(), body: req}, &out)
}

// List returns one page of credentials, newest first. For org keys the
// page's Tokens hold the answer's "keys".
func (s *TokenSet) List(ctx context.Context, opts ListOptions) (*TokenList, error) {
	var page struct {
		Tokens     []Token `json:"tokens"`
		Keys       []Token `json:"keys"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := s.c.do(ctx, request{method: http.MethodGet, path: s.path(), query: opts.query()}, &page); err != nil {
		return nil, err
	}
	out := &TokenList{Tokens: page.Tokens, NextCursor: page.NextCursor}
	if s.orgKeys && page.Keys != nil {
		out.Tokens = page.Keys
	}
	if out.Tokens == nil {
		out.Tokens = []Token{}
	}
	return out, nil
}

// Get returns one credential.
func (s *TokenSet) Get(ctx context.Context, id string) (*Token, error) {
	var out Token
	return &out, s.c.do(ctx, request{method: http.MethodGet, path: s.path(id)}, &out)
}

// Update renames a credential or changes its description.
func (s *TokenSet) Update(ctx context.Context, id string, upd TokenUpdate) (*Token, error) {
	var out Token
	return &out, s.c.do(ctx, request{method: http.MethodPatch, path: s.path(id), body: upd}, &out)
}

// Revoke revokes a credential at once; revoking a revoked one succeeds.
func (s *TokenSet) Revoke(ctx context.Context, id, reason string) (*Token, error) {
	var out Token
	return &out, s.c.do(ctx, request{method: http.MethodPost, path: s.path(id, "revoke"), body: RevokeRequest{Reason: reason}}, &out)
}

// Regenerate gives a credential a new secret and a new validity, keeping
// its id and settings; the old secret stops working at once.
func (s *TokenSet) Regenerate(ctx context.Context, id string, req RegenerateRequest) (*TokenSecret, error) {
	var out TokenSecret
	return &out, s.c.do(ctx, request{method: http.MethodPost, path: s.path(id, "regenerate"), body: req}, &out)
}

// Rotate mints a new credential with the same settings; the old one keeps
// working for req.Overlap, then expires.
func (s *TokenSet) Rotate(ctx context.Context, id string, req RotateRequest) (*TokenSecret, error) {
	var out TokenSecret
	return &out, s.c.do(ctx, request{method: http.MethodPost, path: s.path(id, "rotate"), body: req}, &out)
}

// Delete removes a credential from lists; the audit log keeps its history.
func (s *TokenSet) Delete(ctx context.Context, id string) error {
	return s.c.do(ctx, request{method: http.MethodDelete, path: s.path(id)}, nil)
}

// DeleteAll deletes every credential of the set and returns their ids.
func (s *TokenSet) DeleteAll(ctx context.Context) (*DeletedTokens, error) {
	var out DeletedTokens
	q := url.Values{"confirm": {"all"}}
	if err := s.c.do(ctx, request{method: http.MethodDelete, path: s.path(), query: q}, &out); err != nil {
		return nil, err
	}
	if out.Deleted == nil {
		out.Deleted = []string{}
	}
	return &out, nil
}

// AddScope adds a scope to a credential and returns the credential.
func (s *TokenSet) AddScope(ctx context.Context, id string, sc Scope) (*Token, error) {
	sc.ID = ""
	var out Token
	return &out, s.c.do(ctx, request{method: http.MethodPost, path: s.path(id, "scopes"), body: sc}, &out)
}

// RemoveScope removes one scope of a credential by the scope's id and
// returns the credential.
func (s *TokenSet) RemoveScope(ctx context.Context, id, scopeID string) (*Token, error) {
	var out Token
	return &out, s.c.do(ctx, request{method: http.MethodDelete, path: s.path(id, "scopes", scopeID)}, &out)
}

// ClearScopes removes every scope of a credential and returns the
// credential.
func (s *TokenSet) ClearScopes(ctx context.Context, id string) (*Token, error) {
	var out Token
	return &out, s.c.do(ctx, request{method: http.MethodDelete, path: s.path(id, "scopes")}, &out)
}
