package web

import (
	"net/http"

	"github.com/keyward/keyward/service"
)

// removeMemberPage asks before removing a member.
type removeMemberPage struct {
	Layout
	Member *service.Member
	Tokens int
}

// confirmRemoveMember shows what removing a member will revoke.
func (s *server) confirmRemoveMember(w http.ResponseWriter, r *http.Request, q *request) error {
	m, err := s.svc.FindMember(r.Context(), q.caller, r.PathValue("user"))
	if err != nil {
		return err
	}
	n, err := s.svc.CountMemberTokens(r.Context(), q.caller, m.UserID)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "member_remove", removeMemberPage{Layout: q.layout(w, "Remove "+m.User.Email, "members"), Member: m, Tokens: n})
}

// removeMember removes a member and revokes their tokens in this org.
func (s *server) removeMember(w http.ResponseWriter, r *http.Request, q *request) error {
	m, revoked, err := s.svc.RemoveMember(r.Context(), q.caller, r.PathValue("user"))
	msg := ""
	if err == nil {
		msg = "Removed " + m.User.Email + " and revoked " + plural(len(revoked), "token") + "."
	}
	return s.after(w, r, "/org/members", msg, err)
}

// removeForm is what the remove-member form shows, in a dialog of the
// members page or on its own page.
type removeForm struct {
	CSRF   string
	Member *service.Member
	Tokens int
}

func newRemoveForm(csrf string, m *service.Member, tokens int) removeForm {
	return removeForm{CSRF: csrf, Member: m, Tokens: tokens}
}
