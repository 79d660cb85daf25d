package web

import "net/http"

// deleteToken deletes a token; the audit log keeps its history.
func (s *server) deleteToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id := r.PathValue("id")
		t, err := s.svc.FindTokenByID(r.Context(), q.caller, ts.set, id)
		if err != nil {
			return s.after(w, r, ts.base, "", err)
		}
		if err := s.svc.DeleteToken(r.Context(), q.caller, ts.set, id); err != nil {
			return s.after(w, r, ts.tokenURL(id), "", err)
		}
		return s.after(w, r, ts.base, "Deleted “"+t.Name+"”. Its history stays in the audit log.", nil)
	}
}
