package client

import (
	"context"
	"net/http"
)

// Policy returns org's token policy.
func (c *Client) Policy(ctx context.Context, org string) (*Policy, error) {
	var out Policy
	return &out, c.do(ctx, request{method: http.MethodGet, path: []string{"/v1/orgs", org, "policy"}}, &out)
}

// SetPolicy replaces org's token policy and returns it as saved. Tokens
// that break the new policy are blocked, not revoked.
func (c *Client) SetPolicy(ctx context.Context, org string, p Policy) (*Policy, error) {
	var out Policy
	return &out, c.do(ctx, request{method: http.MethodPut, path: []string{"/v1/orgs", org, "policy"}, body: p}, &out)
}
