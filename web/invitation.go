package web

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// invitationPage is what an invitation's link shows: the org and role,
// and either the accept button (signed in as the invited address), a note
// that another account is signed in, or the ways to accept (sign in, or
// choose a password when the address has no account).
type invitationPage struct {
	Layout
	Open *service.OpenInvitation
	// Token is the link's token, sent back with the forms (in their body).
	Token string
	// SignedInAs is the signed-in person's address, "" when signed out.
	SignedInAs string
	// Mine: the signed-in person is the invited address.
	Mine bool
	// SessionCSRF is the CSRF token of the signed-in person's forms.
	SessionCSRF string
	SignInURL   string
	Name        string
	Error       string
	Min         int
}

// invitationPage shows an invitation's link.
func (s *server) invitationPage(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.showInvitation(w, r, q, r.PathValue("token"), http.StatusOK, "")
}

func (s *server) showInvitation(w http.ResponseWriter, r *http.Request, q *request, token string, status int, msg string) error {
	open, err := s.svc.Invitation(r.Context(), token)
	if err != nil {
		return err
	}
	noStore(w)
	page := invitationPage{
		Layout: q.layout(w, "Join "+open.Org.Name, ""), Open: open, Token: token, Error: msg, Min: minPassword,
		SignInURL: "/signin?next=" + "/invite/" + token, Name: r.PostForm.Get("name"),
	}
	if q.sessionID != "" {
		if st, err := s.svc.SessionCaller(r.Context(), q.sessionID, s.ip.String(r), r.UserAgent()); err == nil {
			page.SignedInAs = st.User.Email
			page.Mine = strings.EqualFold(st.User.Email, open.Invitation.Email)
			page.SessionCSRF = csrfToken(q.sessionID)
		}
	}
	return s.render(w, status, "invite", page)
}

// acceptInvitation makes the signed-in person a member by an invitation
// and takes them to the org.
func (s *server) acceptInvitation(w http.ResponseWriter, r *http.Request, q *request) error {
	token := r.PostForm.Get("token")
	m, err := s.svc.AcceptInvitation(r.Context(), token, q.state.User, s.ip.String(r), r.UserAgent())
	if err != nil {
		return err
	}
	if err := s.svc.SwitchOrg(r.Context(), q.sessionID, m.OrgID); err != nil {
		return err
	}
	s.setFlash(w, r, false, "You joined as "+string(m.Role)+".")
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	return nil
}

// acceptWithAccount accepts an invitation for an address with no account:
// it makes the account with the chosen password and signs the person in.
func (s *server) acceptWithAccount(w http.ResponseWriter, r *http.Request, q *request) error {
	token, pw := r.PostForm.Get("token"), r.PostForm.Get("password")
	if pw != r.PostForm.Get("confirm") {
		return s.showInvitation(w, r, q, token, http.StatusBadRequest, "The two passwords differ.")
	}
	m, err := s.svc.AcceptInvitationNewAccount(r.Context(), token, r.PostForm.Get("name"), pw, s.ip.String(r), r.UserAgent())
	if err != nil {
		if c := keyward.ErrorCode(err); c == keyward.EINVALID || c == keyward.ECONFLICT {
			return s.showInvitation(w, r, q, token, statusOf(c), formMessage(err))
		}
		return err
	}
	id, err := s.svc.SignIn(r.Context(), service.SignInRequest{
		Email: m.User.Email, Password: pw, IP: s.ip.String(r), UserAgent: r.UserAgent(), OldSession: q.sessionID,
	})
	if err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, id, int(service.SessionMaxAge.Seconds()))
	s.setFlash(w, r, false, "Welcome. You joined as "+string(m.Role)+".")
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	return nil
}

// cancelInvitation withdraws a pending invitation from the members page.
func (s *server) cancelInvitation(w http.ResponseWriter, r *http.Request, q *request) error {
	inv, err := s.svc.CancelInvitation(r.Context(), q.caller, r.PathValue("id"))
	if err != nil {
		if keyward.ErrorCode(err) == keyward.EINTERNAL {
			return err
		}
		return s.showMembers(w, r, q, statusOf(keyward.ErrorCode(err)), membersPage{Form: memberForm{Role: string(keyward.RoleMember)}, Error: formMessage(err)})
	}
	s.setFlash(w, r, false, "The invitation for "+inv.Email+" is cancelled; its link no longer works.")
	http.Redirect(w, r, "/org/members", http.StatusSeeOther)
	return nil
}
