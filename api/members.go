package api

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
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
	s.writeJSON(w, r, http.StatusOK, client.MemberList{Members: membersOut(ms), NextCursor: cursorOut(next)})
	return nil
}

// addMember adds a member, creating the user when the email is new: 201.
func (s *server) addMember(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	var req client.MemberRequest
	if err := decode(w, r, &req, bodyRequired); err != nil {
		return err
	}
	m, err := s.svc.AddMember(r.Context(), c, service.MemberRequest{Email: req.Email, Name: req.Name, Role: keyward.Role(req.Role)})
	if err != nil {
		return err
	}
	out := memberOut(m)
	if m.SetPasswordToken != "" {
		out.SetPasswordURL = s.publicURL(r) + "/set-password/" + m.SetPasswordToken
	}
	w.Header().Set("Location", "/v1/orgs/"+r.PathValue("org")+"/members/"+m.UserID)
	s.writeJSON(w, r, http.StatusCreated, out)
	return nil
}

// getMember shows one member, by user id or email.
func (s *server) getMember(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	m, err := s.svc.FindMember(r.Context(), c, r.PathValue("user"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, memberOut(m))
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
	s.writeJSON(w, r, http.StatusOK, memberOut(m))
	return nil
}

// suspendMember suspends (suspend true) or unsuspends a member.
func (s *server) suspendMember(suspend bool) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		m, err := s.svc.SuspendMember(r.Context(), c, r.PathValue("user"), suspend)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, memberOut(m))
		return nil
	}
}

// removeMember removes a member and answers the tokens it revoked.
func (s *server) removeMember(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	m, revoked, err := s.svc.RemoveMember(r.Context(), c, r.PathValue("user"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, client.MemberRemoved{Member: memberOut(m), RevokedTokens: nonNil(revoked)})
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
