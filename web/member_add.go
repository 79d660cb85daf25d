package web

import (
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// addMember invites a person; the invitation's one-time link is shown in
// this answer only, the same whether or not the address has an account.
func (s *server) addMember(w http.ResponseWriter, r *http.Request, q *request) error {
	form := memberForm{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Role: r.PostForm.Get("role")}
	inv, err := s.svc.AddMember(r.Context(), q.caller, service.MemberRequest{Email: form.Email, Name: form.Name, Role: keyward.Role(form.Role)})
	if err != nil {
		if keyward.ErrorCode(err) == keyward.EINTERNAL {
			return err
		}
		return s.showMembers(w, r, q, statusOf(keyward.ErrorCode(err)), membersPage{Form: form, Error: formMessage(err)})
	}
	noStore(w)
	page := membersPage{Invited: inv.Invitation, InviteLink: s.publicURL(r) + "/invite/" + inv.Token, Form: memberForm{Role: string(keyward.RoleMember)}}
	return s.showMembers(w, r, q, http.StatusOK, page)
}
