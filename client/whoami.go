package client

import (
	"context"
	"net/http"
)

// Whoami describes the caller: its user, org, role in force, token and
// effective permissions.
func (c *Client) Whoami(ctx context.Context) (*Whoami, error) {
	var out Whoami
	return &out, c.do(ctx, request{method: http.MethodGet, path: []string{"/v1/whoami"}}, &out)
}

// Health asks /healthz whether the server is alive; it sends no token.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var out Health
	return &out, c.do(ctx, request{method: http.MethodGet, path: []string{"/healthz"}, noAuth: true}, &out)
}

// Ready asks GET /readyz, which needs no token: nil when the server can
// serve, its database answering; an *Error with status 503 otherwise.
func (c *Client) Ready(ctx context.Context) (*Health, error) {
	var out Health
	return &out, c.do(ctx, request{method: http.MethodGet, path: []string{"/readyz"}, noAuth: true}, &out)
}
