package web

import (
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// changeRole changes a member's role.
func (s *server) changeRole(w http.ResponseWriter, r *http.Request, q *request) error {
	m, err := s.svc.UpdateMember(r.Context(), q.caller, r.PathValue("user"), service.MemberUpdate{Role: keyward.Role(r.PostForm.Get("role"))})
	msg := ""
	if err == nil {
		msg = m.User.Email + " is now " + string(m.Role) + "."
	}
	return s.after(w, r, "/org/members", msg, err)
}

// suspend suspends or unsuspends a member.
func (s *server) suspend(on bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		m, err := s.svc.SuspendMember(r.Context(), q.caller, r.PathValue("user"), on)
		msg := ""
		switch {
		case err != nil:
		case on:
			msg = m.User.Email + " is suspended: their tokens are blocked until you unsuspend them."
		default:
			msg = m.User.Email + " is active again."
		}
		return s.after(w, r, "/org/members", msg, err)
	}
}
