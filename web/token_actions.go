package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// tokenURL is the detail page of token id in the set.
func (ts *tokenSet) tokenURL(id string) string { return ts.base + "/" + url.PathEscape(id) }

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

// editToken renames a token or changes its description.
func (s *server) editToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id := r.PathValue("id")
		name, desc := r.PostForm.Get("name"), r.PostForm.Get("description")
		_, err := s.svc.UpdateToken(r.Context(), q.caller, ts.set, id, service.TokenUpdate{Name: &name, Description: &desc})
		return s.after(w, r, ts.tokenURL(id), "Saved.", err)
	}
}

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

// regenerateRequest reads the new validity of a regenerate or rotate
// form.
func regenerateRequest(r *http.Request) (service.RegenerateRequest, error) {
	in, at, none, err := expiryRequest(r.PostForm.Get("expiry"), r.PostForm.Get("expires_on"))
	return service.RegenerateRequest{ExpiresIn: in, ExpiresAt: at, NoExpiry: none}, err
}

// regenerateToken gives a token a new secret and validity, and shows the
// secret once.
func (s *server) regenerateToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id := r.PathValue("id")
		if err := s.svc.UseNonce(r.Context(), r.PostForm.Get("nonce")); err != nil {
			return s.alreadySent(w, q, ts, err)
		}
		req, err := regenerateRequest(r)
		if err != nil {
			return s.after(w, r, ts.tokenURL(id), "", err)
		}
		t, secret, err := s.svc.RegenerateToken(r.Context(), q.caller, ts.set, id, req)
		if err != nil {
			return s.after(w, r, ts.tokenURL(id), "", err)
		}
		return s.reveal(w, q, ts, t, secret, "regenerated")
	}
}

// rotateToken mints the token's successor, keeps the old one for the
// chosen overlap, and shows the new secret once.
func (s *server) rotateToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		id := r.PathValue("id")
		if err := s.svc.UseNonce(r.Context(), r.PostForm.Get("nonce")); err != nil {
			return s.alreadySent(w, q, ts, err)
		}
		var overlap time.Duration
		if v := r.PostForm.Get("overlap"); v != "" && v != "0" {
			d, err := keyward.ParseDuration(v)
			if err != nil {
				return s.after(w, r, ts.tokenURL(id), "", err)
			}
			overlap = d
		}
		t, secret, err := s.svc.RotateToken(r.Context(), q.caller, ts.set, id, overlap, service.RegenerateRequest{})
		if err != nil {
			return s.after(w, r, ts.tokenURL(id), "", err)
		}
		return s.reveal(w, q, ts, t, secret, "rotated")
	}
}

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
