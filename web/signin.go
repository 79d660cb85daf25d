package web

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// signInPage is the sign-in form.
type signInPage struct {
	Layout
	Email string
	Next  string
	Error string
}

// signInPage shows the sign-in form, or sends a signed-in person on.
func (s *server) signInPage(w http.ResponseWriter, r *http.Request, q *request) error {
	next := localPath(r.URL.Query().Get("next"))
	if q.sessionID != "" {
		if _, err := s.svc.SessionCaller(r.Context(), q.sessionID, s.ip.String(r), r.UserAgent()); err == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return nil
		}
	}
	return s.render(w, http.StatusOK, "signin", signInPage{Layout: q.layout(w, "Sign in", ""), Next: next})
}

// signIn checks the email and password and starts a fresh session.
func (s *server) signIn(w http.ResponseWriter, r *http.Request, q *request) error {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	next := localPath(r.PostForm.Get("next"))
	id, err := s.svc.SignIn(r.Context(), service.SignInRequest{
		Email: email, Password: r.PostForm.Get("password"),
		IP: s.ip.String(r), UserAgent: r.UserAgent(), OldSession: q.sessionID,
	})
	if err != nil {
		code := keyward.ErrorCode(err)
		if code != keyward.EUNAUTHORIZED && code != keyward.ERATELIMITED {
			return err
		}
		msg := "Wrong email or password."
		if code == keyward.ERATELIMITED {
			msg = "Too many failed sign-ins. Wait 15 minutes and try again."
		}
		return s.render(w, statusOf(code), "signin", signInPage{Layout: q.layout(w, "Sign in", ""), Email: email, Next: next, Error: msg})
	}
	s.setCookie(w, r, sessionCookie, id, int(service.SessionMaxAge.Seconds()))
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// signOut ends the session and forgets its cookie.
func (s *server) signOut(w http.ResponseWriter, r *http.Request, q *request) error {
	if err := s.svc.SignOut(r.Context(), q.sessionID); err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	s.setFlash(w, r, false, "You are signed out.")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
