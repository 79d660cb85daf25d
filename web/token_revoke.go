package web

import "net/http"

// revokeToken revokes a token at once.
func (s *server) revokeToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id := r.PathValue("id")
		t, err := s.svc.RevokeToken(r.Context(), q.caller, ts.set, id, r.PostForm.Get("reason"))
		msg := ""
		if err == nil {
			msg = "Revoked “" + t.Name + "”. Anything still using the " + ts.noun + " ending in " + last4(t.Display) + " is refused from now on."
		}
		return s.after(w, r, ts.tokenURL(id), msg, err)
	}
}
