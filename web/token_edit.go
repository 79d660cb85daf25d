package web

import (
	"net/http"

	"github.com/keyward/keyward/service"
)

// editToken renames a token or changes its description.
func (s *server) editToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id := r.PathValue("id")
		name, desc := r.PostForm.Get("name"), r.PostForm.Get("description")
		_, err := s.svc.UpdateToken(r.Context(), q.caller, ts.set, id, service.TokenUpdate{Name: &name, Description: &desc})
		return s.after(w, r, ts.tokenURL(id), "Saved.", err)
	}
}
