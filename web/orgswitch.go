package web

import "net/http"

// switchOrg makes the session act in another of the person's orgs.
func (s *server) switchOrg(w http.ResponseWriter, r *http.Request, q *request) error {
	err := s.svc.SwitchOrg(r.Context(), q.sessionID, r.PostForm.Get("org"))
	if err != nil {
		return s.after(w, r, "/tokens", "", err)
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	return nil
}
