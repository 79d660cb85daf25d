package web

import (
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// addMember adds a member; a new person gets a one-time set-password
// link, shown in this answer only.
func (s *server) addMember(w http.ResponseWriter, r *http.Request, q *request) error {
	form := memberForm{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Role: r.PostForm.Get("role")}
	m, err := s.svc.AddMember(r.Context(), q.caller, service.MemberRequest{Email: form.Email, Name: form.Name, Role: keyward.Role(form.Role)})
	if err != nil {
		if keyward.ErrorCode(err) == keyward.EINTERNAL {
			return err
		}
		return s.showMembers(w, r, q, statusOf[keyward.ErrorCode(err)], membersPage{Form: form, Error: formMessage(err)})
	}
	page := membersPage{Added: m, Form: memberForm{Role: string(keyward.RoleMember)}}
	if m.SetPasswordToken != "" {
		noStore(w)
		page.AddLink = s.publicURL(r) + "/set-password/" + m.SetPasswordToken
	}
	return s.showMembers(w, r, q, http.StatusOK, page)
}
