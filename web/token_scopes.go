package web

import (
	"net/http"

	"github.com/keyward/keyward/service"
)

// addScope adds one scope to a token.
func (s *server) addScope(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id := r.PathValue("id")
		req := service.ScopeRequest{
			EntityType: r.PostForm.Get("entity_type"), EntityID: r.PostForm.Get("entity_id"),
			Operations: r.PostForm["op"],
		}
		_, err := s.svc.AddScope(r.Context(), q.caller, ts.set, id, req)
		return s.after(w, r, ts.tokenURL(id)+"#scopes", "Scope added.", err)
	}
}

// removeScope removes one scope, or every scope when the route names none.
func (s *server) removeScope(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id, scope := r.PathValue("id"), r.PathValue("scope")
		_, err := s.svc.RemoveScope(r.Context(), q.caller, ts.set, id, scope)
		msg := "Scope removed."
		if scope == "" {
			msg = "Every scope removed: the " + ts.noun + " may now do all that its permissions allow."
		}
		return s.after(w, r, ts.tokenURL(id)+"#scopes", msg, err)
	}
}
