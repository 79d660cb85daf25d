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

// AddMember invites a person to org. The answer's one-time link is for the
// person to accept while signed in, or to choose a password when their
// address has no account yet; they are a member once they accept.
func (c *Client) AddMember(ctx context.Context, org string, req MemberRequest) (*Invite, error) {
	var out Invite
	return &out, c.do(ctx, request{method: http.MethodPost, path: []string{"/v1/orgs", org, "members"}, body: req}, &out)
}

// Invitations returns one page of org's pending invitations, oldest first.
func (c *Client) Invitations(ctx context.Context, org string, opts ListOptions) (*InvitationList, error) {
	q := url.Values{}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var out InvitationList
	if err := c.do(ctx, request{method: http.MethodGet, path: []string{"/v1/orgs", org, "invitations"}, query: q}, &out); err != nil {
		return nil, err
	}
	if out.Invitations == nil {
		out.Invitations = []Invitation{}
	}
	return &out, nil
}

// CancelInvitation withdraws a pending invitation of org; its link stops
// working.
func (c *Client) CancelInvitation(ctx context.Context, org, id string) (*Invitation, error) {
	var out Invitation
	return &out, c.do(ctx, request{method: http.MethodDelete, path: []string{"/v1/orgs", org, "invitations", id}}, &out)
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
