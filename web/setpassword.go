package web

import (
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// minPassword is the shortest password the form asks for.
const minPassword = service.MinPasswordLen

// setPasswordPage is the form of a one-time set-password link.
type setPasswordPage struct {
	Layout
	Email string
	// Token is the link's token, sent back with the form (in its body, not
	// its URL).
	Token string
	Error string
	Min   int
}

// setPasswordPage shows the form of a set-password link.
func (s *server) setPasswordPage(w http.ResponseWriter, r *http.Request, q *request) error {
	token := r.PathValue("token")
	u, err := s.svc.PasswordLinkUser(r.Context(), token)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "setpassword", setPasswordPage{
		Layout: q.layout(w, "Set your password", ""), Email: u.Email, Token: token, Min: minPassword,
	})
}

// setPassword sets the password and uses up the link.
func (s *server) setPassword(w http.ResponseWriter, r *http.Request, q *request) error {
	token, pw := r.PostForm.Get("token"), r.PostForm.Get("password")
	page := setPasswordPage{Layout: q.layout(w, "Set your password", ""), Token: token, Min: minPassword}
	u, err := s.svc.PasswordLinkUser(r.Context(), token)
	if err != nil {
		return err
	}
	page.Email = u.Email
	if pw != r.PostForm.Get("confirm") {
		page.Error = "The two passwords differ."
		return s.render(w, http.StatusBadRequest, "setpassword", page)
	}
	if _, err := s.svc.SetPassword(r.Context(), token, pw); err != nil {
		if keyward.ErrorCode(err) != keyward.EINVALID {
			return err
		}
		page.Error = capitalize(keyward.ErrorMessage(err)) + "."
		return s.render(w, http.StatusBadRequest, "setpassword", page)
	}
	s.setFlash(w, r, false, "Your password is set. Sign in with it.")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
