package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Members returns one page of org's members (org is its id or slug),
// oldest first.
func (c *Client) Members(ctx context.Context, org string, opts ListOptions) (*MemberList, error) {
	q := url.Values{}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var out MemberList
	if err := c.do(ctx, request{method: http.MethodGet, path: []string{"/v1/orgs", org, "members"}, query: q}, &out); err != nil {
		return nil, err
	}
	if out.Members == nil {
		out.Members = []Member{}
	}
	return &out, nil
}

// Member returns one member of org; user is the user's id or email.
func (c *Client) Member(ctx context.Context, org, user string) (*Member, error) {
	var out Member
	return &out, c.do(ctx, request{method: http.MethodGet, path: []string{"/v1/orgs", org, "members", user}}, &out)
}

// AddMember adds a person to org; a new user gets a one-time link to set a
// password.
func (c *Client) AddMember(ctx context.Context, org string, req MemberRequest) (*Member, error) {
	var out Member
	return &out, c.do(ctx, request{method: http.MethodPost, path: []string{"/v1/orgs", org, "members"}, body: req}, &out)
}

// UpdateMember changes a member's role; it takes effect on their tokens'
// very next request.
func (c *Client) UpdateMember(ctx context.Context, org, user string, upd MemberUpdate) (*Member, error) {
	var out Member
	return &out, c.do(ctx, request{method: http.MethodPatch, path: []string{"/v1/orgs", org, "members", user}, body: upd}, &out)
}

// SuspendMember suspends a member in org: their tokens there are blocked
// until UnsuspendMember.
func (c *Client) SuspendMember(ctx context.Context, org, user string) (*Member, error) {
	var out Member
	return &out, c.do(ctx, request{method: http.MethodPost, path: []string{"/v1/orgs", org, "members", user, "suspend"}}, &out)
}

// UnsuspendMember lifts a member's suspension.
func (c *Client) UnsuspendMember(ctx context.Context, org, user string) (*Member, error) {
	var out Member
	return &out, c.do(ctx, request{method: http.MethodPost, path: []string{"/v1/orgs", org, "members", user, "unsuspend"}}, &out)
}

// RemoveMember removes a member from org, revoking their personal tokens
// there, and returns the member and the ids of the revoked tokens.
func (c *Client) RemoveMember(ctx context.Context, org, user string) (*MemberRemoved, error) {
	var out MemberRemoved
	if err := c.do(ctx, request{method: http.MethodDelete, path: []string{"/v1/orgs", org, "members", user}}, &out); err != nil {
		return nil, err
	}
	if out.RevokedTokens == nil {
		out.RevokedTokens = []string{}
	}
	return &out, nil
}
