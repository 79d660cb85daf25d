package api

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
)

// listMembers lists a page of the org's members, oldest first.
func (s *server) listMembers(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	limit, cursor, err := pageQuery(r.URL.Query())
	if err != nil {
		return err
	}
	ms, next, err := s.svc.FindMembers(r.Context(), c, cursor, limit)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, client.MemberList{Members: wire.MembersOut(ms), NextCursor: wire.CursorOut(next)})
	return nil
}

// addMember invites a person to the org: 201 with the invitation and its
// one-time link, the same fields whether or not the address has an
// account.
func (s *server) addMember(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	var req client.MemberRequest
	if err := decode(w, r, &req, bodyRequired); err != nil {
		return err
	}
	inv, err := s.svc.AddMember(r.Context(), c, service.MemberRequest{Email: req.Email, Name: req.Name, Role: keyward.Role(req.Role)})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/orgs/"+r.PathValue("org")+"/invitations/"+inv.ID)
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, r, http.StatusCreated, client.Invite{
		Invitation: wire.InvitationOut(inv.Invitation, s.svc.Now()),
		InviteURL:  s.publicURL(r) + "/invite/" + inv.Token,
	})
	return nil
}

// listInvitations lists a page of the org's pending invitations.
func (s *server) listInvitations(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	limit, cursor, err := pageQuery(r.URL.Query())
	if err != nil {
		return err
	}
	invs, next, err := s.svc.FindInvitations(r.Context(), c, cursor, limit)
	if err != nil {
		return err
	}
	now := s.svc.Now()
	out := client.InvitationList{Invitations: make([]client.Invitation, 0, len(invs)), NextCursor: wire.CursorOut(next)}
	for _, inv := range invs {
		out.Invitations = append(out.Invitations, wire.InvitationOut(inv, now))
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// cancelInvitation withdraws a pending invitation and answers it.
func (s *server) cancelInvitation(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	inv, err := s.svc.CancelInvitation(r.Context(), c, r.PathValue("invitation"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, wire.InvitationOut(inv, s.svc.Now()))
	return nil
}

// getMember shows one member, by user id or email.
func (s *server) getMember(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	m, err := s.svc.FindMember(r.Context(), c, r.PathValue("user"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, wire.MemberOut(m))
	return nil
}

// updateMember changes a member's role.
func (s *server) updateMember(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	var req client.MemberUpdate
	if err := decode(w, r, &req, bodyRequired); err != nil {
		return err
	}
	m, err := s.svc.UpdateMember(r.Context(), c, r.PathValue("user"), service.MemberUpdate{Role: keyward.Role(req.Role)})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, wire.MemberOut(m))
	return nil
}

// suspendMember suspends (suspend true) or unsuspends a member.
func (s *server) suspendMember(suspend bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		m, err := s.svc.SuspendMember(r.Context(), c, r.PathValue("user"), suspend)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, wire.MemberOut(m))
		return nil
	}
}

// removeMember removes a member and answers the tokens it revoked.
func (s *server) removeMember(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	m, revoked, err := s.svc.RemoveMember(r.Context(), c, r.PathValue("user"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, client.MemberRemoved{Member: wire.MemberOut(m), RevokedTokens: nonNil(revoked)})
	return nil
}

// publicURL is the URL this server is reached at: the configured base URL,
// or else the scheme and host of the request.
func (s *server) publicURL(r *http.Request) string {
	if s.baseURL != "" {
		return strings.TrimSuffix(s.baseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
