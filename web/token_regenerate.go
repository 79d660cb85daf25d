package web

import (
	"net/http"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

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
